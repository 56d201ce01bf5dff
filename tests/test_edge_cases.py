"""Edge cases of ImageVectorQuantizer that must be right, not just not crash:
the estimator's public behaviour on extreme values, few distinct values,
read-only, memory-mapped, strided and big-endian inputs, other dtypes, and
one fitted estimator shared by threads. (The score's exact sums are tested
in test_codec.py.)

The test configuration turns every RuntimeWarning (overflow, invalid value)
into an error, so each test here also asserts that none is raised.
"""

import itertools
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skvq import ImageVectorQuantizer

STRATEGIES = ["kmeans", "uniform", "quantile"]
RECONSTRUCTIONS = ["centroid", "midpoint", "median"]
BIGGEST = np.finfo(np.float64).max


def _all_params(n_channels_options=(1, 3)):
    return itertools.product(n_channels_options, STRATEGIES, RECONSTRUCTIONS)


def _roundtrip(quantizer, X):
    return quantizer.inverse_transform(quantizer.transform(X))


@pytest.mark.parametrize("n_channels, strategy, reconstruction", list(_all_params()))
def test_fewer_distinct_values_than_bins_warn_and_are_lossless(
    n_channels, strategy, reconstruction
):
    rng = np.random.default_rng(0)
    palette = np.array([[-5.0, 0.5, 3.0], [2.0, 2.0, 2.0], [9.25, -1.0, 0.0]])
    pixels = palette[rng.integers(0, 3, size=40), :n_channels]
    X = pixels.reshape(5, -1)
    quantizer = ImageVectorQuantizer(
        n_bins=8,
        n_channels=n_channels,
        strategy=strategy,
        reconstruction=reconstruction,
        random_state=0,
    )
    with pytest.warns(UserWarning, match=r"X has 3 distinct .*fewer than n_bins=8"):
        quantizer.fit(X)
    assert quantizer.n_bins_ == 3
    assert_array_equal(_roundtrip(quantizer, X), X)


@pytest.mark.parametrize("n_channels, strategy, reconstruction", list(_all_params()))
def test_constant_image_reconstructs_exactly(n_channels, strategy, reconstruction):
    X = np.tile([7.3, -2.0, 1e-300][:n_channels], (6, 4))
    quantizer = ImageVectorQuantizer(
        n_channels=n_channels, strategy=strategy, reconstruction=reconstruction
    )
    with pytest.warns(UserWarning, match="X has 1 distinct"):
        quantizer.fit(X)
    assert quantizer.n_bins_ == 1
    assert quantizer.n_bits_ == 1
    assert_array_equal(quantizer.transform(X), 0)
    assert_array_equal(_roundtrip(quantizer, X), X)
    assert quantizer.score(X) == 0.0


@pytest.mark.parametrize("n_channels, strategy, reconstruction", list(_all_params()))
def test_values_near_the_float_limits(n_channels, strategy, reconstruction):
    # Three clusters spanning the whole float64 range, with its two ends.
    rng = np.random.default_rng(1)
    centres = np.array([-1.5e308, 0.0, 1.5e308])
    label = rng.integers(0, 3, size=30 * n_channels)
    values = centres[label] * (1 + rng.uniform(-1e-3, 1e-3, size=label.shape))
    label[:2] = [0, 2]
    values[:2] = [-BIGGEST, BIGGEST]
    X = values.reshape(10, -1)
    quantizer = ImageVectorQuantizer(
        n_bins=3,
        n_channels=n_channels,
        strategy=strategy,
        reconstruction=reconstruction,
        random_state=0,
    ).fit(X)
    assert np.isfinite(quantizer.codebook_).all()
    assert quantizer.codebook_.min() >= -BIGGEST
    codes = quantizer.transform(X)
    assert codes.max() < quantizer.n_bins_
    decoded = quantizer.inverse_transform(codes)
    assert np.isfinite(decoded).all()
    score = quantizer.score(X)
    assert score <= 0  # -inf when the mean squared error exceeds float64
    if n_channels == 1:
        assert quantizer.n_bins_ == 3
        codebook = quantizer.codebook_[:, 0]
        assert np.all(codebook[1:] > codebook[:-1])
        assert np.isfinite(quantizer.bin_edges_).all()
        # The extremes fall in the outer cells.
        assert codes.ravel()[0] == 0
        assert codes.ravel()[1] == 2
    if (strategy, reconstruction, n_channels) == ("kmeans", "centroid", 1):
        # Each cluster is one cell, its codeword the cluster's mean.
        # (Scaled by a power of two so that the sums do not overflow.)
        expected = [
            np.ldexp(np.ldexp(values[label == k], -8).mean(), 8) for k in range(3)
        ]
        assert_allclose(quantizer.codebook_[:, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_values_outside_the_fitted_range_get_the_end_codes(strategy):
    rng = np.random.default_rng(2)
    X = rng.integers(10, 20, size=(5, 10)).astype(np.uint8)
    quantizer = ImageVectorQuantizer(n_bins=4, strategy=strategy).fit(X)
    last = quantizer.n_bins_ - 1
    below_above = np.array([[0, 9, 20, 255]], dtype=np.uint8)
    assert_array_equal(
        quantizer.transform(np.tile(below_above, (1, 3))[:, :10]),
        [[0, 0, last, last, 0, 0, last, last, 0, 0]],
    )
    floats = np.array(
        [
            [
                -1e300,
                -np.finfo(float).tiny,
                9.999,
                19.001,
                1e300,
                -BIGGEST,
                BIGGEST,
                10.0,
                19.0,
                15.0,
            ]
        ]
    )
    codes = quantizer.transform(floats)
    assert_array_equal(codes[0, :7], [0, 0, 0, last, last, 0, last])
    assert codes[0, 7] == 0
    assert codes[0, 8] == last


def test_a_colour_far_outside_the_range_gets_the_nearest_codeword():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, size=(20, 6)).astype(np.uint8)
    quantizer = ImageVectorQuantizer(n_bins=6, n_channels=3, random_state=0).fit(X)
    far = np.array([[1e308, 1e308, 1e308, -1e308, -1e308, -1e308]])
    codes = quantizer.transform(far)
    # Far away along a direction, the nearest codeword is the one furthest
    # along it.
    brightest = np.argmax(quantizer.codebook_.sum(axis=1))
    darkest = np.argmin(quantizer.codebook_.sum(axis=1))
    assert_array_equal(codes, [[brightest, darkest]])


@pytest.mark.parametrize(
    "strategy, reconstruction", list(itertools.product(STRATEGIES, RECONSTRUCTIONS))
)
def test_boolean_images_are_binary_and_lossless(strategy, reconstruction):
    rng = np.random.default_rng(4)
    X = rng.random((8, 12)) > 0.5
    quantizer = ImageVectorQuantizer(strategy=strategy, reconstruction=reconstruction)
    with pytest.warns(UserWarning, match="X has 2 distinct"):
        quantizer.fit(X)
    assert quantizer.n_bins_ == 2
    assert_array_equal(quantizer.codebook_, [[0.0], [1.0]])
    assert_array_equal(quantizer.transform(X), X)
    assert_array_equal(_roundtrip(quantizer, X), X)


def _gray_and_colour():
    rng = np.random.default_rng(5)
    gray = rng.integers(0, 256, size=(16, 24)).astype(np.uint8)
    colour = rng.normal(100, 40, size=(16, 24 * 3))
    return [(gray, 1), (colour, 3)]


def _results(quantizer, X):
    codes = quantizer.transform(X)
    return codes, quantizer.inverse_transform(codes), quantizer.score(X)


def _assert_same_results(first, second):
    assert_array_equal(first[0], second[0])
    assert first[0].dtype == second[0].dtype
    assert_array_equal(first[1], second[1])
    assert first[2] == second[2]


@pytest.mark.parametrize("X, n_channels", _gray_and_colour())
def test_read_only_inputs(X, n_channels):
    expected_model = ImageVectorQuantizer(n_channels=n_channels, random_state=0)
    expected_model.fit(X)
    expected = _results(expected_model, X)
    read_only = X.copy()
    read_only.setflags(write=False)
    weight = np.ones(X.shape[0])
    weight.setflags(write=False)
    quantizer = ImageVectorQuantizer(n_channels=n_channels, random_state=0)
    quantizer.fit(read_only, sample_weight=weight)
    assert_array_equal(quantizer.codebook_, expected_model.codebook_)
    codes = quantizer.transform(read_only)
    codes.setflags(write=False)
    assert_array_equal(quantizer.inverse_transform(codes), expected[1])
    _assert_same_results(_results(quantizer, read_only), expected)
    quantizer.partial_fit(read_only, sample_weight=weight)


@pytest.mark.parametrize("X, n_channels", _gray_and_colour())
@pytest.mark.parametrize("mode", ["r", "c"])
def test_memory_mapped_inputs(tmp_path, X, n_channels, mode):
    path = tmp_path / "pixels.dat"
    X.tofile(path)
    original_bytes = path.read_bytes()
    mapped = np.memmap(path, dtype=X.dtype, mode=mode, shape=X.shape)
    expected_model = ImageVectorQuantizer(n_channels=n_channels, random_state=0)
    expected = _results(expected_model.fit(X), X)
    quantizer = ImageVectorQuantizer(n_channels=n_channels, random_state=0)
    quantizer.fit(mapped)
    assert_array_equal(quantizer.codebook_, expected_model.codebook_)
    _assert_same_results(_results(quantizer, mapped), expected)
    del mapped
    assert path.read_bytes() == original_bytes


def _views():
    rng = np.random.default_rng(6)
    base = rng.integers(0, 1000, size=(20, 36)).astype(np.uint16)
    floats = rng.normal(size=(20, 36))
    return [
        pytest.param(base[::2], 1, id="every other row"),
        pytest.param(base[:, ::3], 1, id="every third column"),
        pytest.param(base[::-1, ::-1], 1, id="reversed"),
        pytest.param(np.asfortranarray(base), 1, id="Fortran order"),
        pytest.param(base.T, 1, id="transposed"),
        pytest.param(floats[1::3, 2:], 1, id="float slice"),
        pytest.param(base[::2, 3:33], 3, id="colour rows and pixels"),
        pytest.param(np.asfortranarray(floats), 3, id="colour Fortran order"),
        pytest.param(floats[::-1], 3, id="colour reversed rows"),
    ]


@pytest.mark.parametrize("view, n_channels", _views())
def test_non_contiguous_views_give_the_results_of_a_copy(view, n_channels):
    copy = np.ascontiguousarray(view)
    expected_model = ImageVectorQuantizer(n_channels=n_channels, random_state=0)
    expected = _results(expected_model.fit(copy), copy)
    quantizer = ImageVectorQuantizer(n_channels=n_channels, random_state=0)
    quantizer.fit(view)
    assert_array_equal(quantizer.codebook_, expected_model.codebook_)
    _assert_same_results(_results(quantizer, view), expected)


@pytest.mark.parametrize("dtype", [">u2", ">f8", ">i2", ">i4", ">f4", ">u8"])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_big_endian_arrays_give_the_results_of_native_ones(dtype, n_channels):
    rng = np.random.default_rng(7)
    native = rng.integers(0, 3000, size=(12, 18)).astype(
        np.dtype(dtype).newbyteorder("=")
    )
    swapped = native.astype(dtype)
    assert swapped.dtype.byteorder == ">"
    expected_model = ImageVectorQuantizer(
        n_bins=5, n_channels=n_channels, random_state=0
    )
    expected = _results(expected_model.fit(native), native)
    quantizer = ImageVectorQuantizer(n_bins=5, n_channels=n_channels, random_state=0)
    quantizer.fit(swapped)
    assert_array_equal(quantizer.codebook_, expected_model.codebook_)
    _assert_same_results(_results(quantizer, swapped), expected)
    # A model fitted on native data encodes big-endian data alike.
    _assert_same_results(_results(expected_model, swapped), expected)


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.uint16, np.int32, np.float32, np.float64, bool]
)
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_fit_transform_score_never_modify_their_inputs(dtype, n_channels, strategy):
    rng = np.random.default_rng(8)
    X = (rng.integers(0, 200, size=(10, 15)) - (dtype is np.int32) * 100).astype(dtype)
    weight = rng.uniform(0.5, 2.0, size=10)
    X_before, weight_before = X.copy(), weight.copy()
    quantizer = ImageVectorQuantizer(
        n_bins=4, n_channels=n_channels, strategy=strategy, random_state=0
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "X has .* distinct", UserWarning)
        quantizer.fit(X, sample_weight=weight)
        quantizer.partial_fit(X, sample_weight=weight)
        codes = quantizer.transform(X)
        codes_before = codes.copy()
        quantizer.inverse_transform(codes)
        quantizer.score(X, sample_weight=weight)
        quantizer.fit_transform(X)
    assert_array_equal(X, X_before)
    assert X.dtype == X_before.dtype
    assert_array_equal(weight, weight_before)
    assert_array_equal(codes, codes_before)


def test_one_fitted_estimator_shared_by_many_threads():
    rng = np.random.default_rng(9)
    # Large enough that transform itself works in several blocks.
    gray = rng.integers(0, 256, size=(1200, 2000)).astype(np.uint8)
    gray16 = rng.integers(0, 4096, size=(300, 2000)).astype(np.uint16)
    colour = rng.integers(0, 256, size=(400, 2400)).astype(np.uint8)
    models = [
        (ImageVectorQuantizer(n_bins=16).fit(gray), gray),
        (ImageVectorQuantizer(n_bins=300, strategy="quantile").fit(gray16), gray16),
        (
            ImageVectorQuantizer(n_bins=32, n_channels=3, random_state=0).fit(colour),
            colour,
        ),
    ]
    tasks = []
    for model, X in models:
        for start in range(4):
            tasks.append((model, X[start::4]))
    expected = [_results(model, X) for model, X in tasks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(2):
            results = list(pool.map(lambda task: _results(*task), tasks * 2))
            for result, wanted in zip(results, expected * 2, strict=True):
                _assert_same_results(result, wanted)


@pytest.mark.parametrize(
    "dtype",
    [np.int8, np.int16, np.int32, np.int64, np.uint16, np.float16, np.float32],
)
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_integer_and_float_dtypes_give_the_float64_results(dtype, n_channels, strategy):
    rng = np.random.default_rng(10)
    low = (
        -100
        if np.issubdtype(dtype, np.signedinteger) or dtype in (np.float16, np.float32)
        else 0
    )
    # Values every dtype holds exactly.
    values = rng.integers(low, 120, size=(9, 24))
    X = values.astype(dtype)
    X64 = values.astype(np.float64)
    expected_model = ImageVectorQuantizer(
        n_bins=6, n_channels=n_channels, strategy=strategy, random_state=0
    )
    expected = _results(expected_model.fit(X64), X64)
    quantizer = ImageVectorQuantizer(
        n_bins=6, n_channels=n_channels, strategy=strategy, random_state=0
    ).fit(X)
    assert_array_equal(quantizer.codebook_, expected_model.codebook_)
    _assert_same_results(_results(quantizer, X), expected)


def test_uint64_values_beyond_the_int64_range():
    values = np.array([2**63, 2**63 + 2**20, 2**63 + 2**21], dtype=np.uint64)
    X = values.reshape(1, -1)
    quantizer = ImageVectorQuantizer(n_bins=3).fit(X)
    assert_array_equal(quantizer.codebook_[:, 0], values.astype(np.float64))
    assert_array_equal(quantizer.transform(X), [[0, 1, 2]])


def test_colour_kmeans_far_from_zero_keeps_all_codewords():
    # Variances and distances computed around zero would cancel here.
    rng = np.random.default_rng(11)
    steps = rng.integers(0, 4, size=(50, 3)).astype(np.float64)
    near_zero = 1e-9 * steps
    far = 1e6 + near_zero
    reference = ImageVectorQuantizer(n_bins=4, n_channels=3, random_state=0)
    reference.fit(near_zero)
    quantizer = ImageVectorQuantizer(n_bins=4, n_channels=3, random_state=0).fit(far)
    assert quantizer.n_bins_ == reference.n_bins_ == 4
    assert_allclose(quantizer.score(far), reference.score(near_zero), rtol=0.05)


def test_colour_channels_of_very_different_magnitudes():
    # Three distinct colours: one far along the first channel, one a tiny
    # step along the second, and black.
    X = np.array([[1.8014398509481984e16, 0.0, 0.0, 1.76405012e-305, 0.0, 0.0]])
    quantizer = ImageVectorQuantizer(n_bins=2, n_channels=2, random_state=0).fit(X)
    assert quantizer.n_bins_ == 2
    assert np.isfinite(quantizer.codebook_).all()
    codes = quantizer.transform(X)
    # The far colour has a codeword of its own.
    assert codes[0, 0] != codes[0, 1]
    assert codes[0, 1] == codes[0, 2]
