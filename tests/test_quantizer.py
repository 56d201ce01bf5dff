"""Behaviour of ImageVectorQuantizer (skvq._quantizer) that users rely on,
streaming with partial_fit included."""

import itertools
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, load_sample_image
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer

from skvq import ImageVectorQuantizer

STRATEGIES = ["kmeans", "uniform", "quantile"]
RECONSTRUCTIONS = ["centroid", "midpoint", "median"]


def optimal_sse_by_quadratic_dp(values, counts, n_bins):
    """Reference optimum of 1-D k-means over a histogram, by the textbook
    O(n_bins * m**2) dynamic programme (independent of skvq's code)."""
    w = np.concatenate([[0.0], np.cumsum(counts)])
    s = np.concatenate([[0.0], np.cumsum(counts * values)])
    q = np.concatenate([[0.0], np.cumsum(counts * values**2)])
    i, j = np.meshgrid(np.arange(len(w)), np.arange(len(w)), indexing="ij")
    with np.errstate(divide="ignore", invalid="ignore"):
        # cost[i, j]: squared error of values i..j-1 around their mean.
        cost = np.where(i < j, q[j] - q[i] - (s[j] - s[i]) ** 2 / (w[j] - w[i]), np.inf)
    best = cost[0]
    for _ in range(1, n_bins):
        best = np.min(best[:, None] + cost, axis=0)
    return best[-1]


def test_raccoon_codes_are_as_small_as_the_image(face_gray):
    # The seed study's surprise: KBinsDiscretizer's codes are float64, 8x the
    # image. skvq's codes take exactly the image's 786,432 bytes.
    assert face_gray.shape == (768, 1024)
    assert face_gray.dtype == np.uint8
    codes = ImageVectorQuantizer(n_bins=8).fit_transform(face_gray)
    assert codes.shape == (768, 1024)
    assert codes.dtype == np.uint8
    assert codes.nbytes == 786_432 == face_gray.nbytes
    kbins_codes = KBinsDiscretizer(
        n_bins=8, encode="ordinal", strategy="uniform"
    ).fit_transform(face_gray.reshape(-1, 1))
    assert kbins_codes.nbytes == 8 * face_gray.nbytes


def test_raccoon_uniform_midpoints_are_the_seed_studys_bin_centres(face_gray):
    quantizer = ImageVectorQuantizer(
        n_bins=8, strategy="uniform", reconstruction="midpoint"
    ).fit(face_gray)
    # The bin centres printed by scikit-learn's raccoon-face example.
    assert_allclose(
        quantizer.codebook_.ravel(),
        [15.625, 46.875, 78.125, 109.375, 140.625, 171.875, 203.125, 234.375],
    )


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_midpoint_reconstruction_reproduces_kbinsdiscretizer(face_gray, strategy):
    pixels = face_gray.reshape(-1, 1)
    kbins = KBinsDiscretizer(
        n_bins=8, encode="ordinal", strategy=strategy, subsample=None
    ).fit(pixels)
    quantizer = ImageVectorQuantizer(
        n_bins=8, strategy=strategy, reconstruction="midpoint"
    ).fit(pixels)
    assert_allclose(quantizer.bin_edges_, kbins.bin_edges_[0])
    codes = quantizer.transform(pixels)
    assert_array_equal(codes, kbins.transform(pixels))
    assert_allclose(quantizer.inverse_transform(codes), kbins.inverse_transform(codes))


def test_raccoon_kmeans_reaches_the_exact_optimum(face_gray):
    values, counts = np.unique(face_gray, return_counts=True)
    optimum = optimal_sse_by_quadratic_dp(values.astype(float), counts, 8)
    quantizer = ImageVectorQuantizer(n_bins=8, strategy="kmeans").fit(face_gray)
    mse = -quantizer.score(face_gray)
    assert mse == pytest.approx(optimum / face_gray.size, rel=1e-12)
    assert mse == pytest.approx(63.32, abs=0.005)  # the figure in the issue
    kbins = KBinsDiscretizer(
        n_bins=8, encode="ordinal", strategy="kmeans", subsample=None
    ).fit(face_gray.reshape(-1, 1))
    kbins_mse = np.mean(
        (
            kbins.inverse_transform(kbins.transform(face_gray.reshape(-1, 1)))
            - face_gray.reshape(-1, 1)
        )
        ** 2
    )
    assert mse < kbins_mse


@pytest.mark.parametrize("n_bins", [2, 3, 5, 16])
def test_kmeans_is_optimal_on_a_16_bit_image(n_bins):
    rng = np.random.default_rng(0)
    image = (rng.gamma(2.0, 200.0, size=(60, 80))).astype(np.uint16)
    values, counts = np.unique(image, return_counts=True)
    assert len(values) > 512  # exercises the divide-and-conquer layers
    optimum = optimal_sse_by_quadratic_dp(values.astype(float), counts, n_bins)
    quantizer = ImageVectorQuantizer(n_bins=n_bins).fit(image)
    assert -quantizer.score(image) * image.size == pytest.approx(optimum, rel=1e-9)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_centroid_codewords_are_the_mean_of_their_cell(face_gray, strategy):
    quantizer = ImageVectorQuantizer(n_bins=8, strategy=strategy).fit(face_gray)
    codes = quantizer.transform(face_gray)
    for code in range(quantizer.n_bins_):
        members = face_gray[codes == code]
        assert quantizer.codebook_[code, 0] == pytest.approx(members.mean())


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_median_codewords_are_a_median_of_their_cell(face_gray, strategy):
    quantizer = ImageVectorQuantizer(
        n_bins=8, strategy=strategy, reconstruction="median"
    ).fit(face_gray)
    codes = quantizer.transform(face_gray)
    for code in range(quantizer.n_bins_):
        members = face_gray[codes == code]
        below = np.mean(members < quantizer.codebook_[code, 0])
        above = np.mean(members > quantizer.codebook_[code, 0])
        assert below <= 0.5 and above <= 0.5


def test_score_is_negative_mean_squared_error(face_gray):
    quantizer = ImageVectorQuantizer(n_bins=4).fit(face_gray)
    restored = quantizer.inverse_transform(quantizer.transform(face_gray))
    assert quantizer.score(face_gray) == pytest.approx(
        -np.mean((restored - face_gray) ** 2)
    )


def test_image_shape_does_not_change_the_codebook(face_gray):
    whole = ImageVectorQuantizer(n_bins=8).fit(face_gray)
    column = ImageVectorQuantizer(n_bins=8).fit(face_gray.reshape(-1, 1))
    assert_array_equal(whole.codebook_, column.codebook_)
    assert_array_equal(
        whole.transform(face_gray).ravel(),
        column.transform(face_gray.reshape(-1, 1)).ravel(),
    )


def test_colour_pixels_rows_and_columns():
    china = load_sample_image("china.jpg")
    rows = china.reshape(china.shape[0], -1)
    quantizer = ImageVectorQuantizer(n_bins=16, n_channels=3, random_state=0)
    codes = quantizer.fit_transform(rows)
    assert codes.shape == (427, 640)
    assert codes.dtype == np.uint8
    assert quantizer.codebook_.shape == (16, 3)
    assert quantizer.inverse_transform(codes).shape == rows.shape
    per_pixel = clone(quantizer).fit(china.reshape(-1, 3))
    assert_allclose(per_pixel.codebook_, quantizer.codebook_)
    assert_array_equal(per_pixel.transform(china.reshape(-1, 3)).ravel(), codes.ravel())


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("reconstruction", RECONSTRUCTIONS)
def test_colour_codes_are_the_nearest_codeword(strategy, reconstruction):
    china = load_sample_image("china.jpg")[::4, ::4].reshape(-1, 3)
    quantizer = ImageVectorQuantizer(
        n_bins=27,
        n_channels=3,
        strategy=strategy,
        reconstruction=reconstruction,
        random_state=0,
    ).fit(china)
    codes = quantizer.transform(china)
    distances = ((china[:, None, :] - quantizer.codebook_[None]) ** 2).sum(-1)
    assert_allclose(
        distances[np.arange(len(codes)), codes.ravel()], distances.min(axis=1)
    )
    assert codes.max() < quantizer.n_bins_


def test_uniform_colour_grid_midpoints():
    china = load_sample_image("china.jpg").reshape(-1, 3)
    quantizer = ImageVectorQuantizer(
        n_bins=8, n_channels=3, strategy="uniform", reconstruction="midpoint"
    ).fit(china)
    low, high = china.min(axis=0).astype(float), china.max(axis=0).astype(float)
    corners = np.stack(
        np.meshgrid(
            *[
                [lo + (hi - lo) / 4, lo + 3 * (hi - lo) / 4]
                for lo, hi in zip(low, high, strict=True)
            ],
            indexing="ij",
        ),
        axis=-1,
    ).reshape(-1, 3)
    assert_allclose(quantizer.codebook_, corners)


def test_median_cut_splits_the_weight_evenly():
    china = load_sample_image("china.jpg").reshape(-1, 3)
    quantizer = ImageVectorQuantizer(n_bins=2, n_channels=3, strategy="quantile")
    codes = quantizer.fit_transform(china)
    share = np.bincount(codes.ravel()) / codes.size
    assert_allclose(share, [0.5, 0.5], atol=0.05)


def test_digits_share_one_gray_codebook():
    digits = load_digits().data
    quantizer = ImageVectorQuantizer(n_bins=4).fit(digits)
    assert quantizer.codebook_.shape == (4, 1)
    assert quantizer.transform(digits).shape == digits.shape


def test_codes_use_uint16_beyond_256_bins():
    image = np.arange(1000, dtype=np.uint16).reshape(10, 100)
    quantizer = ImageVectorQuantizer(n_bins=300, strategy="uniform").fit(image)
    codes = quantizer.transform(image)
    assert codes.dtype == np.uint16
    assert quantizer.n_bins_ == 300
    assert quantizer.n_bits_ == 9
    assert codes.max() == 299


@pytest.mark.parametrize(
    ("n_bins", "n_bits"), [(2, 1), (3, 2), (8, 3), (9, 4), (256, 8)]
)
def test_n_bits(n_bins, n_bits):
    image = np.arange(512, dtype=np.uint16).reshape(8, 64)
    assert ImageVectorQuantizer(n_bins=n_bins).fit(image).n_bits_ == n_bits


def test_inverse_dtype_rounds_and_clips(face_gray):
    quantizer = ImageVectorQuantizer(n_bins=8, inverse_dtype=np.uint8).fit(face_gray)
    restored = quantizer.inverse_transform(quantizer.transform(face_gray))
    assert restored.dtype == np.uint8
    assert_array_equal(
        np.unique(restored), np.rint(quantizer.codebook_.ravel()).astype(np.uint8)
    )


def test_sample_weight_equals_repetition():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 50, size=(20, 6))
    weight = rng.integers(0, 4, size=20)
    for strategy in STRATEGIES:
        weighted = ImageVectorQuantizer(n_bins=5, strategy=strategy).fit(
            X, sample_weight=weight
        )
        repeated = ImageVectorQuantizer(n_bins=5, strategy=strategy).fit(
            np.repeat(X, weight, axis=0)
        )
        assert_allclose(weighted.codebook_, repeated.codebook_)
        assert_allclose(weighted.bin_edges_, repeated.bin_edges_)


def test_feature_names_out():
    X = np.arange(24).reshape(4, 6)
    gray = ImageVectorQuantizer(n_bins=3).fit(X)
    assert list(gray.get_feature_names_out()) == [f"x{i}" for i in range(6)]
    colour = ImageVectorQuantizer(n_bins=3, n_channels=3).fit(X)
    assert list(colour.get_feature_names_out()) == [
        "imagevectorquantizer0",
        "imagevectorquantizer1",
    ]


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.arange(24).reshape(4, 6), columns=list("abcdef"))
    quantizer = ImageVectorQuantizer(n_bins=3).set_output(transform="pandas")
    codes = quantizer.fit_transform(frame)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == list("abcdef")
    assert (codes.dtypes == np.uint8).all()


def test_pipeline_grid_search_over_n_bins():
    X, y = load_digits(return_X_y=True)
    pipeline = make_pipeline(ImageVectorQuantizer(), RidgeClassifier())
    search = GridSearchCV(
        pipeline, {"imagevectorquantizer__n_bins": [2, 4, 16]}, cv=3, n_jobs=2
    ).fit(X, y)
    assert search.best_params_["imagevectorquantizer__n_bins"] in (4, 16)
    assert search.best_score_ > 0.85
    assert set(search.cv_results_["param_imagevectorquantizer__n_bins"]) == {2, 4, 16}


def test_clone_pickle_and_html_repr(face_gray):
    quantizer = ImageVectorQuantizer(n_bins=5, strategy="quantile").fit(face_gray)
    restored = pickle.loads(pickle.dumps(quantizer))
    assert_array_equal(restored.transform(face_gray), quantizer.transform(face_gray))
    fresh = clone(quantizer)
    assert fresh.get_params() == quantizer.get_params()
    assert not hasattr(fresh, "codebook_")
    assert "ImageVectorQuantizer" in quantizer._repr_html_()


def test_sample_weight_is_routed_through_a_pipeline():
    X = np.array([[0, 0, 10, 10], [100, 100, 90, 90]])
    with config_context(enable_metadata_routing=True):
        pipeline = make_pipeline(
            ImageVectorQuantizer(n_bins=2, strategy="uniform").set_fit_request(
                sample_weight=True
            )
        )
        pipeline.fit(X, sample_weight=np.array([1.0, 0.0]))
    # With the second image weighted zero, only 0 and 10 were seen.
    assert_allclose(pipeline[0].codebook_.ravel(), [0.0, 10.0])


def test_bools_are_ints_as_in_scikit_learn():
    # scikit-learn's Interval(Integral) constraints take True for 1 (KMeans
    # accepts max_iter=True); skvq follows them and then behaves as with 1.
    X = np.random.default_rng(0).integers(0, 256, size=(20, 12)).astype(np.uint8)
    KMeans(n_clusters=2, max_iter=True, n_init=1).fit(X)
    as_bool = ImageVectorQuantizer(n_channels=True).fit(X)
    as_int = ImageVectorQuantizer(n_channels=1).fit(X)
    assert_array_equal(as_bool.codebook_, as_int.codebook_)
    assert_array_equal(as_bool.transform(X), as_int.transform(X))
    assert as_bool.score(X) == as_int.score(X)
    as_bool = ImageVectorQuantizer(n_channels=3, max_iter=True, random_state=0)
    as_int = ImageVectorQuantizer(n_channels=3, max_iter=1, random_state=0)
    assert_array_equal(as_bool.fit(X).codebook_, as_int.fit(X).codebook_)


@pytest.mark.parametrize(
    "inverse_dtype, expected",
    [
        (np.uint8, np.uint8),
        ("uint8", np.uint8),
        (np.dtype(">u2"), np.dtype(">u2")),
        ("float32", np.float32),
        (np.float16, np.float16),
        (int, np.dtype(int)),
        (float, np.float64),
        (bool, np.bool_),
    ],
)
def test_inverse_dtype_takes_any_spelling_of_a_numeric_dtype(inverse_dtype, expected):
    X = np.array([[0, 10, 200, 250]], dtype=np.uint8)
    quantizer = ImageVectorQuantizer(n_bins=2, inverse_dtype=inverse_dtype).fit(X)
    restored = quantizer.inverse_transform(quantizer.transform(X))
    assert restored.dtype == expected
    assert_array_equal(restored, np.array([[5, 5, 225, 225]]).astype(expected))


def test_a_partial_fit_batch_of_zero_weight_adds_nothing():
    # Whatever scikit-learn's version (>= 1.7 refuses all-zero weights in
    # one call), only the total weight of all batches must be positive.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(10, 6))
    quantizer = ImageVectorQuantizer(n_bins=4).partial_fit(X[:5])
    quantizer.partial_fit(X[5:], sample_weight=np.zeros(5))
    expected = ImageVectorQuantizer(n_bins=4).fit(X[:5])
    assert_array_equal(quantizer.codebook_, expected.codebook_)
    assert_array_equal(quantizer.bin_edges_, expected.bin_edges_)


def test_fixed_codewords_are_validated_in_fit_and_kept_in_order():
    X = np.arange(60, dtype=np.uint8).reshape(3, 20) * 4
    fixed = [[250.0], [0.25]]
    quantizer = ImageVectorQuantizer(4, fixed_codewords=fixed)
    assert quantizer.get_params()["fixed_codewords"] is fixed  # stored unchanged
    quantizer.fit(X)
    assert quantizer.codebook_[:2].tobytes() == np.array(fixed).tobytes()
    assert not hasattr(quantizer, "bin_edges_")
    codes = quantizer.transform(X).ravel()
    distances = (X.reshape(-1, 1) - quantizer.codebook_.T) ** 2
    assert_array_equal(codes, np.argmin(distances, axis=1))
    with pytest.raises(ValueError, match="1 to n_bins=4 codewords, got 5"):
        ImageVectorQuantizer(4, fixed_codewords=np.zeros((5, 1))).fit(X)
    with pytest.raises(ValueError, match="n_channels=3"):
        ImageVectorQuantizer(4, n_channels=3, fixed_codewords=[[1.0]]).fit(
            np.zeros((2, 6))
        )


# Streaming: partial_fit over any split of the rows gives fit's codebook.
#
# For integer images every statistic is a sum of integers (times an exact
# power of two), so the order and grouping of the additions cannot change it
# and the codebooks must be equal bit for bit. For float images the atoms (the
# distinct values or grid cells, and their pixel counts) are still the same
# whatever the split, but the per-atom sums of values are added in another
# order, so the codewords may differ by rounding; ``FLOAT_RTOL`` is the bound
# the documentation states.
#
# Relative bound on the difference between the codewords of partial_fit and of
# fit for float data (away from exact ties between two partitions).
FLOAT_RTOL = 1e-12


def _image(dtype, n_channels, n_rows=24, n_columns=20, seed=0):
    """A smooth random image with noise, so that values repeat unevenly and
    span much of the dtype's range, as in photographs."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    rows = np.linspace(0, 1, n_rows)[:, None, None]
    columns = np.linspace(0, 1, n_columns)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, n_channels)
    smooth = 0.5 + 0.4 * np.sin(3 * rows + 5 * columns + phase)
    noisy = smooth + rng.normal(0, 0.05, (n_rows, n_columns, n_channels))
    image = np.clip(np.rint(noisy * top), 0, top).astype(dtype)
    return image.reshape(n_rows, n_columns * n_channels)


def _splits(n_rows, kind, seed=0):
    """Row boundaries of the parts of a split, shuffled into a random order."""
    rng = np.random.default_rng(seed)
    if kind == "one-row":
        bounds = np.arange(n_rows + 1)
    elif kind == "two-uneven":
        bounds = np.array([0, 1, n_rows])
    else:
        cuts = rng.choice(np.arange(1, n_rows), size=5, replace=False)
        bounds = np.concatenate([[0], np.sort(cuts), [n_rows]])
    parts = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    return [parts[i] for i in rng.permutation(len(parts))]


def _assert_same_codebook(streamed, whole):
    assert_array_equal(streamed.codebook_, whole.codebook_)
    assert streamed.n_bins_ == whole.n_bins_
    assert streamed.n_bits_ == whole.n_bits_
    if whole.n_channels == 1:
        assert_array_equal(streamed.bin_edges_, whole.bin_edges_)


def _stream(quantizer, X, parts, sample_weight=None):
    for rows in parts:
        weight = None if sample_weight is None else sample_weight[rows]
        quantizer.partial_fit(X[rows], sample_weight=weight)
    return quantizer


@pytest.mark.parametrize("split", ["random", "two-uneven", "one-row"])
@pytest.mark.parametrize("reconstruction", RECONSTRUCTIONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_partial_fit_over_any_split_equals_fit(
    dtype, n_channels, strategy, reconstruction, split
):
    # Fewer rows when each is a call, to keep the number of refits small.
    X = _image(dtype, n_channels, n_rows=10 if split == "one-row" else 24)
    params = dict(
        n_bins=6,
        n_channels=n_channels,
        strategy=strategy,
        reconstruction=reconstruction,
        random_state=0,
    )
    whole = ImageVectorQuantizer(**params).fit(X)
    streamed = _stream(ImageVectorQuantizer(**params), X, _splits(X.shape[0], split))
    _assert_same_codebook(streamed, whole)


@pytest.mark.parametrize("split", ["random", "one-row"])
@pytest.mark.parametrize("reconstruction", RECONSTRUCTIONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    "dtype, n_channels", [(np.uint8, 3), (np.uint16, 3), (np.uint16, 1)]
)
def test_partial_fit_equals_fit_beyond_max_atoms(
    dtype, n_channels, strategy, reconstruction, split
):
    # More distinct pixel values than max_atoms: the statistics move to a
    # power-of-two grid, whose cell side must not depend on the split either.
    X = _image(dtype, n_channels, seed=1)
    n_distinct = np.unique(X.reshape(-1, n_channels), axis=0).shape[0]
    params = dict(
        n_bins=5,
        n_channels=n_channels,
        strategy=strategy,
        reconstruction=reconstruction,
        max_atoms=16,
        random_state=0,
    )
    assert n_distinct > 10 * params["max_atoms"]
    whole = ImageVectorQuantizer(**params).fit(X)
    assert whole._summary.cell_exponent is not None
    streamed = _stream(ImageVectorQuantizer(**params), X, _splits(X.shape[0], split))
    _assert_same_codebook(streamed, whole)


@pytest.mark.parametrize("max_atoms", [65536, 16])
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_integer_sample_weight_equals_repeating_rows(n_channels, strategy, max_atoms):
    X = _image(np.uint8, n_channels, seed=2)
    weight = np.random.default_rng(2).integers(0, 4, X.shape[0])
    params = dict(
        n_bins=4,
        n_channels=n_channels,
        strategy=strategy,
        max_atoms=max_atoms,
        random_state=0,
    )
    repeated = ImageVectorQuantizer(**params).fit(np.repeat(X, weight, axis=0))
    weighted = ImageVectorQuantizer(**params).fit(X, sample_weight=weight)
    _assert_same_codebook(weighted, repeated)
    streamed = _stream(
        ImageVectorQuantizer(**params), X, _splits(X.shape[0], "random"), weight
    )
    _assert_same_codebook(streamed, repeated)


def test_partial_fit_after_fit_adds_to_it():
    X = _image(np.uint8, 1)
    first = ImageVectorQuantizer(n_bins=4).fit(X[:10])
    first.partial_fit(X[10:])
    assert_array_equal(first.codebook_, ImageVectorQuantizer(n_bins=4).fit(X).codebook_)


def test_fit_forgets_what_partial_fit_saw():
    X = _image(np.uint8, 1)
    quantizer = ImageVectorQuantizer(n_bins=4).partial_fit(X[:10])
    quantizer.fit(X[10:])
    expected = ImageVectorQuantizer(n_bins=4).fit(X[10:])
    _assert_same_codebook(quantizer, expected)


@pytest.mark.parametrize("max_atoms", [65536, 16])
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n_channels", [1, 3])
def test_float_partial_fit_within_stated_tolerance(n_channels, strategy, max_atoms):
    rng = np.random.default_rng(3)
    X = rng.gamma(2.0, 30.0, (24, 20 * n_channels))
    params = dict(
        n_bins=5,
        n_channels=n_channels,
        strategy=strategy,
        max_atoms=max_atoms,
        random_state=0,
    )
    whole = ImageVectorQuantizer(**params).fit(X)
    streamed = _stream(ImageVectorQuantizer(**params), X, _splits(X.shape[0], "random"))
    assert streamed.n_bins_ == whole.n_bins_
    assert_allclose(streamed.codebook_, whole.codebook_, rtol=FLOAT_RTOL, atol=0)
    if n_channels == 1:
        assert_allclose(streamed.bin_edges_, whole.bin_edges_, rtol=FLOAT_RTOL, atol=0)


def test_partial_fit_rejects_a_change_of_width():
    X = _image(np.uint8, 1)
    quantizer = ImageVectorQuantizer().partial_fit(X)
    with pytest.raises(ValueError, match="X has 10 features, but"):
        quantizer.partial_fit(X[:, :10])


def test_partial_fit_rejects_a_change_of_n_channels():
    X = _image(np.uint8, 3)
    quantizer = ImageVectorQuantizer(n_channels=3).partial_fit(X)
    quantizer.set_params(n_channels=1)
    with pytest.raises(ValueError, match="n_channels changed from 3 to 1"):
        quantizer.partial_fit(X)
