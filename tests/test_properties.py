"""Properties of ImageVectorQuantizer's public methods that hold for every
input, checked on random arrays, dtypes and parameters with hypothesis
(kept apart from test_quantizer.py: the estimator's behaviour end to end,
not that of one module).

Floats are drawn within +-1e300: values whose differences overflow float64
are the edge cases of test_edge_cases.py.
"""

import itertools
import warnings
from fractions import Fraction

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from skvq import ImageVectorQuantizer

SETTINGS = settings(max_examples=100, deadline=None)
STRATEGIES = ["kmeans", "uniform", "quantile"]
RECONSTRUCTIONS = ["centroid", "midpoint", "median"]
DTYPES = [np.bool_, np.uint8, np.uint16, np.int8, np.int16, np.int32, np.int64,
          np.float16, np.float32, np.float64]  # fmt: skip


def _elements(dtype, bound=1e300):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        bound = min(bound, float(np.finfo(dtype).max))
        return st.floats(-bound, bound, width=8 * dtype.itemsize)
    return None


@st.composite
def images(draw, n_channels=None, dtypes=DTYPES, max_pixels=10, bound=1e300):
    """A 2-D array of pixels and its number of channels."""
    if n_channels is None:
        n_channels = draw(st.sampled_from([1, 2, 3]))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    n_rows = draw(st.integers(1, 6))
    n_pixels = draw(st.integers(1, max_pixels))
    X = draw(
        hnp.arrays(
            dtype, (n_rows, n_pixels * n_channels), elements=_elements(dtype, bound)
        )
    )
    return X, n_channels


def _fit(X, **params):
    with warnings.catch_warnings():
        # Fewer distinct values than bins, or collapsed quantiles: expected.
        warnings.simplefilter("ignore", UserWarning)
        return ImageVectorQuantizer(**params).fit(X)


@SETTINGS
@given(
    data=images(),
    n_bins=st.integers(2, 300),
    strategy=st.sampled_from(STRATEGIES),
    reconstruction=st.sampled_from(RECONSTRUCTIONS),
)
def test_codes_are_in_range_in_the_smallest_dtype(
    data, n_bins, strategy, reconstruction
):
    X, n_channels = data
    quantizer = _fit(
        X, n_bins=n_bins, n_channels=n_channels, strategy=strategy,
        reconstruction=reconstruction, random_state=0,
    )  # fmt: skip
    codes = quantizer.transform(X)
    assert codes.shape == (X.shape[0], X.shape[1] // n_channels)
    assert 1 <= quantizer.n_bins_ <= n_bins
    assert codes.min() >= 0
    assert codes.max() < quantizer.n_bins_
    assert codes.dtype == (np.uint8 if quantizer.n_bins_ <= 256 else np.uint16)
    assert quantizer.codebook_.shape == (quantizer.n_bins_, n_channels)
    assert np.isfinite(quantizer.codebook_).all()


@SETTINGS
@given(
    data=images(),
    n_bins=st.integers(2, 20),
    strategy=st.sampled_from(STRATEGIES),
    reconstruction=st.sampled_from(RECONSTRUCTIONS),
    inverse_dtype=st.sampled_from([None, np.float32, np.uint8, np.int16]),
)
def test_inverse_transform_is_the_codebook_lookup(
    data, n_bins, strategy, reconstruction, inverse_dtype
):
    X, n_channels = data
    quantizer = _fit(
        X, n_bins=n_bins, n_channels=n_channels, strategy=strategy,
        reconstruction=reconstruction, random_state=0,
    )  # fmt: skip
    codes = quantizer.transform(X)
    lookup = np.stack([quantizer.codebook_[row] for row in codes]).reshape(X.shape)
    assert_array_equal(quantizer.inverse_transform(codes), lookup)
    quantizer.set_params(inverse_dtype=inverse_dtype)
    decoded = quantizer.inverse_transform(codes)
    if inverse_dtype is None:
        assert decoded.dtype == np.float64
    else:
        assert decoded.dtype == inverse_dtype
        # Rounded and clipped to the dtype's range, never overflowing.
        if np.dtype(inverse_dtype).kind in "iu":
            info = np.iinfo(inverse_dtype)
            lookup = np.clip(np.rint(lookup), info.min, info.max)
        else:
            info = np.finfo(inverse_dtype)
            lookup = np.clip(lookup, float(info.min), float(info.max))
        assert_array_equal(decoded, lookup.astype(inverse_dtype))


@SETTINGS
@given(
    data=images(dtypes=[np.uint8, np.int16, np.float32, np.float64]),
    n_bins=st.integers(2, 12),
    strategy=st.sampled_from(STRATEGIES),
    reconstruction=st.sampled_from(RECONSTRUCTIONS),
)
def test_codes_of_kmeans_and_of_colours_are_the_nearest_codeword(
    data, n_bins, strategy, reconstruction
):
    """One channel with "kmeans" cuts halfway between codewords, and several
    channels always take the nearest codeword."""
    X, n_channels = data
    if n_channels == 1 and strategy != "kmeans":
        strategy = "kmeans"
    if n_channels == 1:
        reconstruction = "centroid"
    quantizer = _fit(
        X, n_bins=n_bins, n_channels=n_channels, strategy=strategy,
        reconstruction=reconstruction, random_state=0,
    )  # fmt: skip
    pixels = X.reshape(-1, n_channels).astype(np.float64)
    codes = quantizer.transform(X).ravel()
    codebook = quantizer.codebook_
    # Differences first, then squares: no cancellation, unlike the expanded
    # form; errors are scaled by the data's magnitude to avoid overflow.
    scale = max(np.abs(pixels).max(), np.abs(codebook).max(), 1.0)
    distance = (((pixels[:, None, :] - codebook[None]) / scale) ** 2).sum(axis=2)
    chosen = distance[np.arange(codes.size), codes]
    assert np.all(chosen <= distance.min(axis=1) * (1 + 1e-9) + 1e-24)


def _weighted_sse(values, weights):
    mean = np.sum(weights * values) / np.sum(weights)
    return float(np.sum(weights * (values - mean) ** 2))


def _brute_force_optimum(values, weights, n_clusters):
    """Least weighted SSE over every partition of sorted distinct values into
    ``n_clusters`` contiguous runs."""
    m = values.size
    best = np.inf
    for cuts in itertools.combinations(range(1, m), n_clusters - 1):
        bounds = (0, *cuts, m)
        sse = sum(
            _weighted_sse(values[a:b], weights[a:b])
            for a, b in itertools.pairwise(bounds)
        )
        best = min(best, sse)
    return best


@SETTINGS
@given(
    X=hnp.arrays(
        np.int16, st.tuples(st.integers(1, 3), st.integers(1, 4)),
        elements=st.one_of(st.integers(-5, 5), st.integers(-1000, 1000)),
    ),
    n_bins=st.integers(2, 6),
    weights=st.lists(st.integers(0, 3), min_size=4, max_size=4),
)  # fmt: skip
def test_kmeans_reaches_the_brute_force_optimum(X, n_bins, weights):
    weights = np.array(weights[: X.shape[0]], dtype=np.float64)
    if not weights.sum() > 0:
        weights[0] = 1.0
    pixel_weight = np.repeat(weights, X.shape[1])
    values, inverse = np.unique(X.ravel(), return_inverse=True)
    value_weight = np.bincount(inverse.ravel(), weights=pixel_weight)
    keep = value_weight > 0
    values, value_weight = values[keep].astype(np.float64), value_weight[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        quantizer = ImageVectorQuantizer(n_bins=n_bins, strategy="kmeans")
        quantizer.fit(X, sample_weight=weights)
    n_clusters = min(n_bins, values.size)
    optimum = _brute_force_optimum(values, value_weight, n_clusters)
    # score is the weighted mean over samples of the per-sample mean
    # squared error; turn it back into the weighted sum over pixels.
    sse = -quantizer.score(X, sample_weight=weights) * weights.sum() * X.shape[1]
    assert_allclose(sse, optimum, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(
    data=images(n_channels=1, dtypes=[np.uint8, np.int16, np.float32, np.float64],
                max_pixels=40, bound=1e150),
    n_bins=st.integers(2, 16),
)  # fmt: skip
def test_kmeans_error_never_exceeds_the_other_strategies(data, n_bins):
    X, _ = data
    kmeans_error = -_fit(X, n_bins=n_bins).score(X)
    # Centroids are rounded sums divided by weights: allow rounding errors
    # relative to the data's magnitude.
    slack = 1e-12 * float(np.max(np.abs(X), initial=1.0)) ** 2
    for strategy, reconstruction in itertools.product(
        ["uniform", "quantile"], RECONSTRUCTIONS
    ):
        other = _fit(X, n_bins=n_bins, strategy=strategy, reconstruction=reconstruction)
        other_error = -other.score(X)
        assert kmeans_error <= other_error * (1 + 1e-9) + slack


@SETTINGS
@given(
    data=images(dtypes=[np.uint8, np.uint16, np.float32, np.float64], max_pixels=30),
    n_bins=st.integers(2, 12),
    strategy=st.sampled_from(STRATEGIES),
    seed=st.integers(0, 2**32 - 1),
)
def test_refitting_with_the_same_random_state_is_deterministic(
    data, n_bins, strategy, seed
):
    X, n_channels = data
    params = dict(n_bins=n_bins, n_channels=n_channels, strategy=strategy)
    first = _fit(X, random_state=seed, **params)
    second = _fit(X, random_state=seed, **params)
    assert_array_equal(first.codebook_, second.codebook_)
    assert_array_equal(first.transform(X), second.transform(X))
    # A RandomState instance seeded alike gives the same codebook too.
    third = _fit(X, random_state=np.random.RandomState(seed), **params)
    assert_array_equal(first.codebook_, third.codebook_)


@SETTINGS
@given(
    data=images(dtypes=[np.bool_, np.uint8, np.uint16, np.int16, np.int32],
                max_pixels=12),
    n_bins=st.integers(2, 12),
    strategy=st.sampled_from(STRATEGIES),
    reconstruction=st.sampled_from(RECONSTRUCTIONS),
    split=st.lists(st.integers(0, 6), max_size=4),
)  # fmt: skip
def test_partial_fit_over_any_split_equals_fit_for_integer_data(
    data, n_bins, strategy, reconstruction, split
):
    X, n_channels = data
    params = dict(
        n_bins=n_bins, n_channels=n_channels, strategy=strategy,
        reconstruction=reconstruction, random_state=0,
    )  # fmt: skip
    whole = _fit(X, **params)
    cuts = sorted({min(c, X.shape[0]) for c in split} - {0, X.shape[0]})
    streamed = ImageVectorQuantizer(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for part in np.split(X, cuts):
            streamed.partial_fit(part)
    assert_array_equal(streamed.codebook_, whole.codebook_)
    if n_channels == 1:
        assert_array_equal(streamed.bin_edges_, whole.bin_edges_)
    assert_array_equal(streamed.transform(X), whole.transform(X))


@SETTINGS
@example(
    # 47 times 1e14 + 0.5 add up to a sum whose quotient is off by 1/64.
    data=(np.where(np.arange(48).reshape(3, 16) == 0, 0, 1), 1),
    scale=1e14 + 0.5,
    strategy="kmeans",
    reconstruction="centroid",
)
@given(
    data=images(dtypes=[np.uint8, np.int16], max_pixels=8),
    # Pixels of comparable magnitudes: colours whose channels differ by a
    # factor beyond 1e150 have squared differences below float64's range.
    scale=st.sampled_from([1.0, 0.1, 1e-3, 1e10, 1e14 + 0.5, 2.0**-1000]),
    strategy=st.sampled_from(STRATEGIES),
    reconstruction=st.sampled_from(["centroid", "median"]),
)
def test_no_more_distinct_values_than_bins_is_lossless(
    data, scale, strategy, reconstruction
):
    X, n_channels = data
    X = X * scale if scale != 1.0 else X
    n_distinct = np.unique(X.reshape(-1, n_channels), axis=0).shape[0]
    quantizer = _fit(
        X, n_bins=max(n_distinct, 2), n_channels=n_channels, strategy=strategy,
        reconstruction=reconstruction, random_state=0,
    )  # fmt: skip
    assert quantizer.n_bins_ == n_distinct
    assert_array_equal(quantizer.inverse_transform(quantizer.transform(X)), X)


@SETTINGS
@given(
    data=images(n_channels=1, dtypes=[np.uint8, np.int16], max_pixels=20),
    n_bins=st.integers(2, 10),
    offset_exponent=st.integers(0, 40),
)
def test_kmeans_error_does_not_depend_on_an_offset(data, n_bins, offset_exponent):
    """The optimum of shifted data is the shifted optimum: the same error."""
    X, _ = data
    offset = 2.0**offset_exponent  # exact: X + offset is representable
    shifted = X.astype(np.float64) + offset
    error = -_fit(X, n_bins=n_bins).score(X)
    shifted_error = -_fit(shifted, n_bins=n_bins).score(shifted)
    assert_allclose(shifted_error, error, rtol=1e-6, atol=1e-9)


def _exact_mean_squared_error(X, codewords, weights):
    """The weighted mean of the squared errors in exact rational arithmetic,
    with an allowance for halving subnormal values."""
    total = weight_total = slack = Fraction(0)
    for row, decoded, w in zip(X.tolist(), codewords.tolist(), weights, strict=True):
        w = Fraction(float(w))
        for x, c in zip(row, decoded, strict=True):
            error = Fraction(float(x)) - Fraction(c)
            total += w * error**2
            slack += w * (abs(error) * Fraction(2) ** -1072 + Fraction(2) ** -2144)
            weight_total += w
    return total / weight_total, slack / weight_total


@SETTINGS
@given(data=images(), n_bins=st.integers(2, 6), choice=st.data())
def test_score_is_the_exact_mean_squared_error_rounded(data, n_bins, choice):
    # Each value's squared error is rounded a few times, their sum is
    # exact: the score is within a few float64 roundings of the exact mean.
    X, n_channels = data
    weights = choice.draw(
        st.one_of(
            st.none(),
            st.lists(
                st.floats(1e-300, 1e300), min_size=X.shape[0], max_size=X.shape[0]
            ),
        )
    )
    weights = None if weights is None else np.array(weights)
    quantizer = _fit(X, n_bins=n_bins, n_channels=n_channels, random_state=0)
    codes = quantizer.transform(X)
    codewords = quantizer.codebook_[codes].reshape(X.shape)
    exact, slack = _exact_mean_squared_error(
        X, codewords, np.ones(X.shape[0]) if weights is None else weights
    )
    score = quantizer.score(X, sample_weight=weights)
    if exact > Fraction(float(np.finfo(np.float64).max)):
        assert score == -np.inf
        return
    # The last term: rounding a mean below float64's smallest number.
    allowed = exact * Fraction(8, 2**53) + slack + Fraction(2) ** -1075
    assert abs(Fraction(-score) - exact) <= allowed
