"""Codes of pixels (skvq._encode): scalar encoding of gray levels
(skvq._binning through skvq._encode.encode_scalar) and the nearest codeword
of colours (skvq._nearest_codeword through skvq._encode.nearest_codeword),
on odd shapes, dtypes and values, against NumPy or exact arithmetic as the
reference."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal
from skvq._binning import (
    LOOKUP_U8_PATHS,
    count_edges_at_or_below,
    lookup_codes,
    lookup_u8_path_supported,
    lookup_u8_with,
    search_edges,
)

from skvq._encode import encode_scalar, nearest_codeword

INTEGER_DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8"]
FLOAT_DTYPES = ["f2", "f4", "f8"]


def _reference_codes(X, bin_edges):
    """Number of inner edges at or below each value, in float64."""
    return np.searchsorted(bin_edges[1:-1], X.astype(np.float64), side="right")


def _exact_codes(X, bin_edges):
    """Number of inner edges at or below each value, in exact arithmetic:
    Python integers compared with float64 edges (Python compares an int and
    a float exactly)."""
    inner = [float(edge) for edge in bin_edges[1:-1]]
    codes = [sum(edge <= int(x) for edge in inner) for x in X.ravel().tolist()]
    return np.array(codes, dtype=np.int64).reshape(X.shape)


def _edges(inner):
    inner = np.sort(np.asarray(inner, dtype=np.float64))
    low = inner[0] - 1 if inner.size else 0.0
    high = inner[-1] + 1 if inner.size else 1.0
    return np.concatenate([[low], inner, [high]])


def _code_dtype(bin_edges):
    return np.uint8 if bin_edges.size - 1 <= 256 else np.uint16


def _values_of(dtype, n, rng):
    """``n`` values spread over the range of ``dtype`` (within +-1e6 for
    wide types, so that edges fall among them)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.normal(0, 300, n).astype(dtype)
    info = np.iinfo(dtype)
    low, high = max(info.min, -(10**6)), min(info.max, 10**6)
    return rng.integers(low, high, n, endpoint=True).astype(dtype)


# Inner edge counts: none (one bin), one, the default 8 bins, both sides of
# the switch from counting edges to a binary search, and uint16 codes.
@pytest.mark.parametrize("n_inner", [0, 1, 7, 11, 12, 63, 64, 255, 300])
@pytest.mark.parametrize("dtype", INTEGER_DTYPES + FLOAT_DTYPES)
def test_codes_count_the_edges_at_or_below_each_value(dtype, n_inner):
    rng = np.random.default_rng(n_inner)
    # Both sides of the lookup-table threshold of 16-bit integers.
    for n_pixels in (37, 40_000):
        X = _values_of(dtype, n_pixels, rng).reshape(-1, 1)
        inner = rng.choice(X.ravel().astype(np.float64), n_inner) + rng.choice(
            [0.0, 0.5, -0.25], n_inner
        )
        bin_edges = _edges(inner)
        codes = encode_scalar(X, bin_edges, _code_dtype(bin_edges))
        assert codes.dtype == _code_dtype(bin_edges)
        assert codes.shape == X.shape and codes.flags.c_contiguous
        assert_array_equal(codes, _reference_codes(X, bin_edges))


@pytest.mark.parametrize("dtype", ["u1", "u2", "i4", "f4", "f8"])
@pytest.mark.parametrize(
    "shape", [(0, 5), (5, 0), (0, 0), (1, 1), (1, 700), (700, 1), (3, 17)]
)
def test_odd_shapes(dtype, shape):
    rng = np.random.default_rng(0)
    X = _values_of(dtype, int(np.prod(shape)), rng).reshape(shape)
    bin_edges = _edges([-3.5, 0.0, 2.0, 40.0, 41.0])
    codes = encode_scalar(X, bin_edges, np.uint8)
    assert codes.shape == shape and codes.dtype == np.uint8
    assert_array_equal(codes, _reference_codes(X, bin_edges))


@pytest.mark.parametrize("dtype", ["u1", "i2", "u2", "i4", "f4", "f8", "i8"])
@pytest.mark.parametrize("n_inner", [3, 40])
def test_fortran_order_views_and_byte_order(dtype, n_inner):
    rng = np.random.default_rng(1)
    X = _values_of(dtype, 300 * 250, rng).reshape(300, 250)
    bin_edges = _edges(rng.choice(X.ravel().astype(np.float64), n_inner))
    expected = _reference_codes(X, bin_edges)
    variants = {
        "fortran": np.asfortranarray(X),
        "transposed": X.T.copy().T,
        "strided columns": np.repeat(X, 2, axis=1)[:, ::2],
        "reversed rows": X[::-1][::-1],
        "swapped bytes": X.astype(X.dtype.newbyteorder("S")),
        "fortran, swapped bytes": np.asfortranarray(
            X.astype(X.dtype.newbyteorder("S"))
        ),
    }
    for name, variant in variants.items():
        original = variant.copy()
        codes = encode_scalar(variant, bin_edges, np.uint8)
        assert codes.flags.c_contiguous, name
        assert_array_equal(codes, expected, err_msg=name)
        assert_array_equal(variant, original, err_msg=name)


def test_read_only_input():
    X = np.arange(-50, 50, dtype=np.int16).reshape(10, 10)
    X.setflags(write=False)
    bin_edges = _edges([-7.5, 0.0, 3.0])
    assert_array_equal(
        encode_scalar(X, bin_edges, np.uint8), _reference_codes(X, bin_edges)
    )


@pytest.mark.parametrize("dtype", ["u1", "i1", "<u2", ">u2", "<i2", ">i2"])
@pytest.mark.parametrize("n_inner", [9, 300])
def test_every_value_of_small_integers_through_the_table(dtype, n_inner):
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype)
    # Every value of the dtype, several times: the lookup-table path.
    X = np.tile(np.arange(info.min, info.max + 1), 4).astype(dtype).reshape(4, -1)
    # Edges beyond the dtype's range, at its limits, between integers.
    special = [-1e300, info.min - 0.5, info.min, -0.5, 0.0, 99.5, info.max]
    special += [info.max + 0.5, 1e300]
    rng = np.random.default_rng(n_inner)
    inner = np.concatenate(
        [special, rng.uniform(info.min, info.max, n_inner - len(special))]
    )
    bin_edges = _edges(inner)
    codes = encode_scalar(X, bin_edges, _code_dtype(bin_edges))
    assert_array_equal(codes, _reference_codes(X, bin_edges))


@pytest.mark.parametrize("dtype", ["f2", "f4", "f8"])
def test_floats_on_and_one_ulp_around_edges(dtype):
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(2)
    # Edges that are values of the dtype and, for narrow floats, edges
    # halfway between two of its values (which float64 holds exactly).
    on = rng.normal(0, 100, 5).astype(dtype)
    inner = [on.astype(np.float64), [0.0]]
    if dtype != np.float64:
        above = np.nextafter(on, dtype.type(np.inf))
        inner.append((on.astype(np.float64) + above.astype(np.float64)) / 2)
    inner = np.unique(np.concatenate(inner))
    at = inner.astype(dtype)
    X = np.concatenate(
        [
            at,
            np.nextafter(at, dtype.type(np.inf)),
            np.nextafter(at, dtype.type(-np.inf)),
            np.array([0.0, -0.0], dtype=dtype),
        ]
    ).reshape(1, -1)
    bin_edges = _edges(inner)
    assert_array_equal(
        encode_scalar(X, bin_edges, np.uint8), _reference_codes(X, bin_edges)
    )


def test_negative_zero_is_at_an_edge_of_zero():
    for dtype in (np.float32, np.float64):
        tiny = np.finfo(dtype).smallest_subnormal
        X = np.array([[-0.0, 0.0, -tiny, tiny]], dtype=dtype)
        for edge in (0.0, -0.0):
            bin_edges = np.array([-1.0, edge, 1.0])
            assert_array_equal(encode_scalar(X, bin_edges, np.uint8), [[1, 1, 0, 1]])


def test_float32_compares_as_float64_near_its_limits():
    big = float(np.finfo(np.float32).max)
    tiny = float(np.finfo(np.float32).smallest_subnormal)
    # Edges beyond float32's range, at its limits, and between subnormals.
    inner = np.array(
        [-1e300, -big * 1.5, -big, -tiny / 2, 0.0, tiny / 2, tiny * 1.5, big, 1e39]
    )
    bin_edges = _edges(inner)
    X = np.array(
        [[-big, -big / 2, -tiny, -0.0, 0.0, tiny, 2 * tiny, big / 2, big]],
        dtype=np.float32,
    )
    X = np.concatenate([X, np.nextafter(X, np.float32(0.0))])
    assert_array_equal(
        encode_scalar(X, bin_edges, np.uint8), _reference_codes(X, bin_edges)
    )


@pytest.mark.parametrize("dtype", ["i8", "u8"])
def test_64_bit_integers_compare_exactly(dtype):
    info = np.iinfo(dtype)
    top = info.max
    # Integers beyond 2**53, which float64 cannot all hold, around edges
    # that are float64 values there.
    X = np.array(
        [top, top - 1, top - 1024, top - 1025, 2**60, 2**60 + 1, 2**60 - 1, 5, 0],
        dtype=dtype,
    ).reshape(1, -1)
    if dtype == "i8":
        X = np.concatenate([X, -X - 1])
    inner = np.unique(
        [-(2.0**63), -(2.0**60), 0.5, 2.0**60, float(top - 1024), 2.0**63, 2.0**64]
    )
    for n_inner in (len(inner), 40):
        edges = np.unique(np.concatenate([inner, np.arange(n_inner - len(inner))]))
        bin_edges = _edges(edges)
        assert_array_equal(
            encode_scalar(X, bin_edges, np.uint8), _exact_codes(X, bin_edges)
        )


@settings(max_examples=300, deadline=None)
@given(
    X=hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        st.tuples(st.integers(1, 4), st.integers(1, 40)),
        elements={"allow_nan": False, "allow_infinity": False},
    ),
    inner=st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.floats(allow_nan=False, allow_infinity=False, width=32),
        ),
        max_size=40,
    ),
)
def test_random_floats_and_edges(X, inner):
    # Only the inner edges matter for the codes.
    bin_edges = np.concatenate([[0.0], np.sort(inner), [0.0]])
    assert_array_equal(
        encode_scalar(X, bin_edges, np.uint8), _reference_codes(X, bin_edges)
    )


def test_kernels_on_empty_and_one_value():
    for values, edges in [
        (np.empty(0, np.float32), np.array([1.0], np.float32)),
        (np.array([2.0]), np.array([1.0, 2.0, 3.0])),
        (np.array([2], np.int32), np.empty(0, np.int32)),
    ]:
        expected = np.searchsorted(edges, values, side="right").astype(np.uint8)
        for kernel in (count_edges_at_or_below, search_edges):
            codes = np.full(values.shape, 99, dtype=np.uint8)
            kernel(values, edges, codes)
            assert_array_equal(codes, expected)
    codes = np.empty(0, np.uint16)
    lookup_codes(np.empty(0, np.uint16), np.zeros(1 << 16, np.uint16), codes)
    codes = np.empty(1, np.uint8)
    lookup_codes(
        np.array([7], np.uint8), np.arange(256, dtype=np.uint8)[::-1].copy(), codes
    )
    assert codes[0] == 248


@pytest.mark.parametrize("path", range(len(LOOKUP_U8_PATHS)))
def test_every_uint8_lookup_path_gives_the_table_entry(path):
    # Each path this processor runs (the widest is the one lookup_codes
    # takes), on lengths around its vector widths (32 and 64 values) and
    # word width (8), so that the tails are covered too.
    if not lookup_u8_path_supported(path):
        pytest.skip(f"this processor has no {LOOKUP_U8_PATHS[path]}")
    rng = np.random.default_rng(path)
    table = rng.integers(0, 256, 256).astype(np.uint8)
    for n_values in [0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 129, 5003]:
        index = rng.integers(0, 256, n_values).astype(np.uint8)
        index[: min(n_values, 256)] = np.arange(256)[: min(n_values, 256)]
        codes = np.full(n_values, 7, np.uint8)
        lookup_u8_with(path, index, table, codes)
        assert_array_equal(codes, table[index], err_msg=f"{n_values} values")
    index = np.arange(256, dtype=np.uint8).repeat(3)
    codes = np.empty_like(index)
    lookup_u8_with(path, index, table, codes)
    assert_array_equal(codes, table[index])


# Nearest codewords of colours (skvq._nearest_codeword through
# skvq._encode.nearest_codeword).


def _nearest_by_differences(pixels, codebook):
    """Reference: squared distances as |x - c|^2, first of equal minima."""
    difference = pixels[:, None, :].astype(np.float64) - codebook[None, :, :]
    return np.argmin(np.sum(difference**2, axis=2), axis=1)


def _nearest_exactly(pixels, codebook):
    """Reference: squared distances in exact rational arithmetic, first of
    equal minima (small inputs only)."""
    codes = []
    for pixel in pixels.tolist():
        distance = [
            sum(
                (Fraction(x) - Fraction(c)) ** 2
                for x, c in zip(pixel, row, strict=True)
            )
            for row in codebook.tolist()
        ]
        codes.append(distance.index(min(distance)))
    return np.array(codes)


@pytest.mark.parametrize("n_channels", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n_codes", [1, 2, 7, 64, 300])
@pytest.mark.parametrize(
    "dtype", [np.uint8, bool, np.uint16, np.int16, np.float32, np.float64]
)
def test_codes_are_the_nearest_codewords(n_channels, n_codes, dtype):
    # Codewords on a half-integer grid: squares are exact in float64, so
    # the reference is exact, and ties (first codeword wins) are common.
    rng = np.random.default_rng(n_channels * 1000 + n_codes)
    high = 2 if dtype is bool else 256
    pixels = rng.integers(0, high, size=(3000, n_channels)).astype(dtype)
    if dtype is np.int16:
        pixels = pixels.astype(np.int16) - 128
    codebook = rng.integers(-40, 2 * high + 40, size=(n_codes, n_channels)) / 2
    out_dtype = np.uint8 if n_codes <= 256 else np.uint16
    codes = nearest_codeword(pixels, codebook, out_dtype)
    assert codes.dtype == out_dtype
    assert_array_equal(codes, _nearest_by_differences(pixels, codebook))


@pytest.mark.parametrize("n_codes", [2, 64, 300])
def test_codes_of_every_colour_are_the_nearest_codewords(n_codes):
    # Every colour of a 64-level cube against dense codebooks: cells of
    # pixel space with many candidates and colours on the planes between
    # codewords (half-integer codewords).
    levels = np.arange(0, 256, 4, dtype=np.uint8)
    pixels = np.stack(np.meshgrid(levels, levels, levels), axis=-1).reshape(-1, 3)
    rng = np.random.default_rng(n_codes)
    codebook = rng.integers(0, 511, size=(n_codes, 3)) / 2
    out_dtype = np.uint8 if n_codes <= 256 else np.uint16
    codes = nearest_codeword(pixels, codebook, out_dtype)
    assert_array_equal(codes, _nearest_by_differences(pixels, codebook))


@pytest.mark.parametrize("n_channels", [2, 3])
@pytest.mark.parametrize(
    "n_pixels, n_codes",
    [
        (70_000, 128),  # once per distinct colour from 128 codewords
        (70_000, 300),
        (1 << 21, 64),  # and from 64 on large images
        (70_000, 64),  # pixel by pixel
    ],
)
def test_codes_through_distinct_colours_are_the_nearest_codewords(
    n_channels, n_pixels, n_codes
):
    # Many pixels of few colours are coded once per distinct colour and the
    # codes spread by the colours' ranks; half-integer codewords make ties.
    # Reference: the nearest codeword of each distinct colour (np.unique).
    rng = np.random.default_rng(n_channels + n_codes)
    palette = rng.integers(0, 256, size=(5000, n_channels)).astype(np.uint8)
    pixels = palette[rng.integers(0, palette.shape[0], n_pixels)]
    codebook = rng.integers(0, 511, size=(n_codes, n_channels)) / 2
    out_dtype = np.uint8 if n_codes <= 256 else np.uint16
    codes = nearest_codeword(pixels, codebook, out_dtype)
    distinct, inverse = np.unique(pixels, axis=0, return_inverse=True)
    expected = _nearest_by_differences(distinct, codebook)[inverse.reshape(-1)]
    assert codes.dtype == out_dtype
    assert_array_equal(codes, expected)


@pytest.mark.parametrize(
    "pixels, codebook",
    [
        # One pixel, one codeword.
        ([[3.0, 4.0]], [[0.0, 0.0]]),
        # Equally near: the first.
        ([[1.0, 1.0], [2.0, 0.0]], [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0], [4.0, 0.0]]),
        # Values near the float64 limits, both signs.
        (
            [[1.7e308, -1.7e308], [-1.79e308, 1.79e308], [1e308, 1e308], [0.0, 0.0]],
            [[1.6e308, -1.6e308], [-1.7e308, 1.7e308], [0.0, 0.0], [1.7e308, 0.0]],
        ),
        # Huge values and tiny differences between codewords.
        (
            [[1e308, 1.0], [1e308, -1.0], [-1e308, 0.0]],
            [[1e308, 0.5], [1e308, -0.5], [-1e308, 1e300]],
        ),
        # Distances too close for |c|^2 / 2 - x.c (ulp-adjacent codewords).
        (
            [[1.0 + 2**-52, 0.0], [1.0, 0.0]],
            [[1.0, 0.0], [1.0 + 2**-51, 0.0]],
        ),
        # Subnormal values.
        ([[5e-324, 0.0], [2e-323, 0.0]], [[0.0, 0.0], [1.5e-323, 0.0]]),
    ],
)
def test_codes_are_exact_on_extreme_values(pixels, codebook):
    pixels, codebook = np.array(pixels), np.array(codebook)
    for dtype in (np.float64, np.float32):
        if dtype is np.float32 and np.any(np.abs(pixels) > 3e38):
            continue
        typed = pixels.astype(dtype)
        assert_array_equal(
            nearest_codeword(typed, codebook, np.uint8),
            _nearest_exactly(typed.astype(np.float64), codebook),
        )


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_codes_among_equal_and_nearly_equal_codewords_are_exact(dtype):
    # Hundreds of codewords within 1e-12 of each other, and repeated ones:
    # squared distances round alike, so the reference is exact arithmetic.
    rng = np.random.default_rng(8)
    near = 100 + rng.uniform(0, 1e-12, size=(300, 3))
    codebook = np.vstack([near, near[:50], rng.uniform(0, 255, size=(20, 3))])
    pixels = rng.integers(0, 256, size=(60, 3)).astype(dtype)
    assert_array_equal(
        nearest_codeword(pixels, codebook, np.uint16),
        _nearest_exactly(pixels.astype(np.float64), codebook),
    )


def test_no_pixels_give_no_codes():
    codes = nearest_codeword(np.empty((0, 3), np.uint8), np.ones((4, 3)), np.uint8)
    assert codes.shape == (0,)
    assert codes.dtype == np.uint8


@pytest.mark.parametrize("n_pixels", [10, 70_000])
def test_equally_near_codewords_give_the_first(n_pixels):
    # 70,000 pixels against 64 codewords take the colour table path.
    near = np.array([[10.0, 10.0, 10.0], [30.0, 10.0, 10.0], [10.0, 10.0, 10.0]])
    codebook = np.vstack([near, np.full((61, 3), 250.0)])
    pixels = np.tile(
        np.array([[20, 10, 10], [5, 10, 10]], dtype=np.uint8), (n_pixels // 2, 1)
    )
    codes = nearest_codeword(pixels, codebook, np.uint8)
    assert_array_equal(codes, np.tile([0, 0], n_pixels // 2))


def test_nearly_equal_distances_are_resolved_exactly():
    # |c|^2 / 2 - x.c loses the difference between these distances to
    # rounding; the pixel is nearer to the second codeword by 4e-7.
    codebook = np.array([[1e8, 0.0], [1e8 + 2.0, 0.0]])
    pixels = np.array([[1e8 + 1.0 + 1e-7, 0.0], [1e8 + 1.0 - 1e-7, 0.0]])
    assert_array_equal(nearest_codeword(pixels, codebook, np.uint8), [1, 0])


def test_colour_table_leaves_the_input_unchanged():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(70_000, 3), dtype=np.uint8)
    before = pixels.copy()
    nearest_codeword(pixels, rng.uniform(0, 255, size=(64, 3)), np.uint8)
    assert_array_equal(pixels, before)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("n_inner", [3, 40])  # counted, and searched
@pytest.mark.parametrize(
    ("bad", "message"),
    [(np.nan, "contains NaN"), (np.inf, "infinity"), (-np.inf, "infinity")],
)
def test_non_finite_values_are_refused_as_they_are_coded(dtype, n_inner, bad, message):
    edges = np.linspace(0.0, 100.0, n_inner + 2)
    # Large enough for several threads, the bad value in the last chunk.
    X = np.linspace(0, 100, 1 << 20).astype(dtype).reshape(256, -1)
    X[-1, -1] = bad
    before = X.copy()
    with pytest.raises(ValueError, match=message):
        encode_scalar(X, edges, np.uint8)
    assert_array_equal(X, before)
    X[-1, -1] = 1.0
    assert encode_scalar(X, edges, np.uint8)[-1, -1] == np.searchsorted(
        edges[1:-1], 1.0, side="right"
    )
