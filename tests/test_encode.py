"""The gray-level kernels: value histograms (skvq._histogram through
skvq._summary._value_counts) and scalar encoding (skvq._binning through
skvq._encode.encode_scalar), on odd shapes, dtypes and values, against
NumPy (or exact integer arithmetic) as the reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal
from skvq._binning import count_edges_at_or_below, lookup_codes, search_edges

from skvq._encode import encode_scalar
from skvq._summary import _value_counts, summarize

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


# Value histograms.


def _reference_counts(values, weight):
    """Distinct values with positive total weight, by np.unique."""
    distinct, inverse = np.unique(values, return_inverse=True)
    if weight is None:
        counts = np.bincount(inverse, minlength=distinct.size).astype(np.float64)
    else:
        counts = np.bincount(inverse, weights=weight, minlength=distinct.size)
    keep = counts > 0
    return distinct[keep], counts[keep]


def _integer_samples(dtype, rng):
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype)
    small = rng.integers(-3, 4, 1000) + (0 if dtype.kind == "i" else 3)
    samples = {
        "small range": small.astype(dtype),
        "whole range": rng.integers(
            info.min, info.max, 5000, endpoint=True, dtype=dtype
        ),
        "extremes": np.array([info.min, info.max, info.min, 0], dtype=dtype),
        "one value": np.full(7, info.max, dtype=dtype),
        "empty": np.empty(0, dtype=dtype),
    }
    if dtype.itemsize >= 4:
        # A range a little wider than the number of values (histogram) and
        # far wider (sort), near the top of the dtype.
        samples["near the top"] = (
            info.max - rng.integers(0, 70_000, 70_000).astype(np.uint64)
        ).astype(dtype)
        samples["sparse near the top"] = (
            info.max - rng.integers(0, 2**31, 1000).astype(np.uint64)
        ).astype(dtype)
    return samples


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_value_counts_match_unique(dtype, weighted):
    rng = np.random.default_rng(3)
    for name, values in _integer_samples(dtype, rng).items():
        weight = None
        if weighted:
            # Zero weights too: their values drop out unless weighed elsewhere.
            weight = rng.choice([0.0, 0.5, 1.0, 3.25], values.shape[0])
        expected = _reference_counts(values, weight)
        for variant in (values, values.astype(values.dtype.newbyteorder("S"))):
            distinct, counts = _value_counts(variant, weight)
            assert distinct.dtype == values.dtype.newbyteorder("="), name
            assert_array_equal(distinct, expected[0], err_msg=name)
            assert_array_equal(counts, expected[1], err_msg=name)
            assert counts.dtype == np.float64


def test_value_counts_of_a_strided_column():
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (500, 3)).astype(np.uint8)
    distinct, counts = _value_counts(pixels[:, 1], None)
    expected = _reference_counts(pixels[:, 1], None)
    assert_array_equal(distinct, expected[0])
    assert_array_equal(counts, expected[1])


def test_uint8_runs_and_lengths_not_a_multiple_of_four():
    # Long runs of one value (flat image regions) and every remainder of the
    # four-way unrolled count.
    for n in range(0, 11):
        values = np.concatenate(
            [np.full(1001, 7, np.uint8), np.arange(n, dtype=np.uint8)]
        )
        distinct, counts = _value_counts(values, None)
        expected = _reference_counts(values, None)
        assert_array_equal(distinct, expected[0])
        assert_array_equal(counts, expected[1])


def test_summary_of_int64_beyond_2_53_has_strictly_ascending_atoms():
    # 2**60 and 2**60 + 1 are one float64: one atom of their total weight.
    values = np.array([[2**60], [2**60 + 1], [2**60 + 1], [-(2**60)], [3]], np.int64)
    summary = summarize(values, max_atoms=256)
    assert_array_equal(summary.key[:, 0], [-(2.0**60), 3.0, 2.0**60])
    assert_array_equal(summary.weight, [1.0, 1.0, 3.0])


def test_summary_of_zero_weights_is_empty():
    values = np.array([[1], [2]], np.uint8)
    summary = summarize(values, np.zeros(2), max_atoms=256)
    assert summary.n_atoms == 0
