"""Codebooks of colours (skvq._vector_codebook): k-means++, the smoothed
Lloyd iterations, the variance split and the pooled atoms, and the colour
codebooks they give."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image

from skvq import ImageVectorQuantizer
from skvq._vector_codebook import (
    _grid_cells,
    _pooled_atoms,
    _variance_split_boxes,
    smoothed_lloyd,
    weighted_kmeans_plusplus,
)


def test_kmeans_plusplus_picks_distinct_points_of_positive_weight():
    rng = np.random.RandomState(0)
    points = rng.uniform(size=(200, 3))
    weight = np.where(np.arange(200) % 2 == 0, 1.0, 0.0)
    centres = weighted_kmeans_plusplus(points, weight, 50, rng)
    rows = [np.flatnonzero((points == c).all(axis=1))[0] for c in centres]
    assert len(set(rows)) == 50
    assert np.all(weight[rows] > 0)


def test_smoothed_lloyd_without_spread_is_lloyd():
    # Independent reference: scikit-learn's weighted Lloyd iterations from the
    # same initial centres.
    rng = np.random.RandomState(1)
    points = rng.uniform(size=(500, 3))
    weight = rng.uniform(0.5, 2.0, size=500)
    init = points[:8].copy()
    centres, labels, _ = smoothed_lloyd(
        points, weight, points * weight[:, None], np.zeros(500), init, 300, 0.0
    )
    reference = KMeans(8, init=init, n_init=1, max_iter=300, tol=0.0).fit(
        points, sample_weight=weight
    )
    assert_allclose(centres, reference.cluster_centers_, rtol=1e-10)
    assert_array_equal(labels, reference.labels_)


@pytest.mark.parametrize("relaxation", [1.0, 1.8])
@pytest.mark.parametrize("n_candidates", [1, 2, 4])
def test_lloyd_ends_at_a_fixed_point_with_nearest_labels(relaxation, n_candidates):
    # Whatever the search and the over-relaxation, converged centres (tol=0)
    # are the weighted means of the atoms nearest to them, and the labels
    # are those nearest centres (brute force).
    rng = np.random.RandomState(2)
    points = np.vstack([rng.normal(c, 0.3, size=(100, 2)) for c in range(6)])
    weight = rng.uniform(0.5, 2.0, size=points.shape[0])
    centres, labels, n_iter = smoothed_lloyd(
        points,
        weight,
        points * weight[:, None],
        np.zeros(points.shape[0]),
        points[::61][:9],
        300,
        0.0,
        relaxation=relaxation,
        n_candidates=n_candidates,
    )
    assert n_iter < 300
    distance = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2)
    assert_array_equal(labels, np.argmin(distance, axis=1))
    for j in np.unique(labels):
        members = labels == j
        assert_allclose(
            centres[j], np.average(points[members], axis=0, weights=weight[members])
        )


def test_smoothed_lloyd_splits_an_atom_at_the_boundary():
    # One atom, a Gaussian of standard deviation 2 centred on the boundary
    # between two centres: each gets half of it, whose mean is at
    # 2 * sqrt(2 / pi) from the boundary (the half-normal mean).
    points = np.zeros((1, 3))
    init = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    centres, _, _ = smoothed_lloyd(
        points, np.array([4.0]), points.copy(), np.array([2.0]), init, 1, 0.0
    )
    half_normal_mean = 2 * np.sqrt(2 / np.pi)
    # The normal distribution is tabulated: within 1e-6.
    assert_allclose(
        centres, [[-half_normal_mean, 0, 0], [half_normal_mean, 0, 0]], atol=1e-6
    )


def test_smoothed_lloyd_moves_the_gaussian_share_beyond_the_plane():
    # An atom of spread 1 at distance 0.5 from the plane between two
    # centres: the far centre gets the share Phi(-0.5) of its weight, whose
    # mean is phi(0.5) / Phi(-0.5) from the atom's (a truncated normal).
    from scipy.stats import norm

    points = np.array([[-0.5, 0.0, 0.0]])
    init = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    centres, _, _ = smoothed_lloyd(
        points, np.array([1.0]), points.copy(), np.array([1.0]), init, 1, 0.0
    )
    far_mean = -0.5 + norm.pdf(0.5) / norm.sf(0.5)
    near_mean = -0.5 - norm.pdf(0.5) / norm.cdf(0.5)
    assert_allclose(centres[:, 0], [near_mean, far_mean], atol=1e-6)


@pytest.fixture(scope="module")
def china():
    return load_sample_image("china.jpg").reshape(-1, 3)


def _mse(pixels, codebook, codes):
    return np.mean((codebook[codes.ravel()] - pixels) ** 2)


def test_colour_kmeans_matches_full_data_kmeans(china):
    # The quality target: 64 colours within 1% of the MSE of
    # KMeans(n_init=1) on every pixel. KMeans' result spreads by about 1%
    # from seed to seed, so it is averaged over seeds.
    pixels = china.astype(np.float64)
    reference = []
    for seed in range(4):
        kmeans = KMeans(n_clusters=64, n_init=1, random_state=seed).fit(pixels)
        reference.append(_mse(pixels, kmeans.cluster_centers_, kmeans.labels_))
    quantizer = ImageVectorQuantizer(64, n_channels=3, random_state=0).fit(china)
    mse = _mse(pixels, quantizer.codebook_, quantizer.transform(china))
    assert quantizer.n_bins_ == 64
    assert mse <= 1.01 * np.mean(reference)


def test_colour_kmeans_is_deterministic(china):
    first = ImageVectorQuantizer(64, n_channels=3, random_state=7).fit(china)
    second = ImageVectorQuantizer(64, n_channels=3, random_state=7).fit(china)
    assert_array_equal(first.codebook_, second.codebook_)


def test_every_codeword_has_pixels():
    # Few distinct colours, many of them rare: still one cluster per codeword,
    # none empty (an empty cluster would make a NaN centroid).
    rng = np.random.default_rng(0)
    common = rng.integers(0, 256, size=(20, 3))
    rare = rng.integers(0, 256, size=(60, 3))
    pixels = np.concatenate([np.repeat(common, 500, axis=0), rare]).astype(np.uint8)
    quantizer = ImageVectorQuantizer(64, n_channels=3, random_state=0).fit(pixels)
    codes = quantizer.transform(pixels)
    assert np.all(np.isfinite(quantizer.codebook_))
    assert np.unique(codes).size == 64


def test_atoms_pooled_below_n_bins_give_one_codeword_each(china):
    # max_atoms=64 pools china's colours into the cells of the coarsest
    # power-of-two grid with at most 64 of them, counted here from the
    # pixels: one codeword per cell, each the mean of its pixels, and a
    # warning.
    pixels = china.reshape(-1, 3)
    cell_exponent = 1
    while np.unique(pixels >> cell_exponent, axis=0).shape[0] > 64:
        cell_exponent += 1
    cells, cell = np.unique(pixels >> cell_exponent, axis=0, return_inverse=True)
    n_cells = cells.shape[0]
    assert n_cells < 64  # else no warning is due
    with pytest.warns(UserWarning, match=f"pooled into {n_cells} atoms"):
        quantizer = ImageVectorQuantizer(
            64, n_channels=3, max_atoms=64, random_state=0
        ).fit(china)
    assert quantizer.n_bins_ == n_cells
    codes = quantizer.transform(china).ravel()
    assert np.unique(codes).size == n_cells
    cell = cell.reshape(-1)
    means = np.stack([np.bincount(cell, weights=c) for c in pixels.T], axis=1)
    means /= np.bincount(cell)[:, None]
    # The codewords are the cells' means (in some order).
    codebook = quantizer.codebook_
    assert_allclose(
        codebook[np.lexsort(codebook.T[::-1])],
        means[np.lexsort(means.T[::-1])],
        rtol=1e-12,
    )


def test_few_pooled_atoms_above_n_bins_leave_no_codeword_empty(china):
    quantizer = ImageVectorQuantizer(
        64, n_channels=3, max_atoms=200, random_state=0
    ).fit(china)
    assert quantizer.n_bins_ == 64
    assert np.all(np.isfinite(quantizer.codebook_))


def test_kmeans_plusplus_completes_boxes_that_cannot_be_cut():
    # Two tight groups of 50 distinct values: the variance split cuts
    # between the groups only (its thresholds are 1/256 of the range apart),
    # so k-means++ must pick the other eight initial centres.
    offsets = 1e-3 * np.arange(50)
    values = np.concatenate([offsets, 1000 + offsets])
    X = np.column_stack([values, values])
    quantizer = ImageVectorQuantizer(10, n_channels=2, random_state=0).fit(X)
    assert quantizer.n_bins_ == 10
    assert np.unique(quantizer.transform(X)).size == 10
    assert -quantizer.score(X) < 1e-3


@pytest.mark.parametrize("strategy", ["kmeans", "uniform", "quantile"])
def test_colour_centroids_of_tiny_weights_are_their_means(strategy):
    # Issue 18: codewords were the atoms' weighted sums over their weights,
    # and a weight 1e-300 times the heaviest of values 1e-300 underflows:
    # the codeword of 1e-300 and 2e-300 came out as 0.
    X = np.repeat([[1e-300], [2e-300], [0.5]], 3, axis=1)
    weight = np.array([1e-300, 1e-300, 1.0])
    quantizer = ImageVectorQuantizer(2, n_channels=3, strategy=strategy)
    codebook = quantizer.fit(X, sample_weight=weight).codebook_
    assert_array_equal(codebook, [[1.5e-300] * 3, [0.5] * 3])


def test_variance_split_makes_the_best_first_cut():
    # Reference: every threshold of every channel, by brute force.
    rng = np.random.default_rng(5)
    points = rng.normal(size=(300, 3)) * [1.0, 3.0, 0.5]
    weight = rng.uniform(0.5, 2.0, size=300)
    centres, labels = _variance_split_boxes(points, weight, 2, n_steps=16)
    low, high = points.min(axis=0), points.max(axis=0)
    steps = np.minimum((points - low) / ((high - low) / 16), 15).astype(int)

    def error(members):
        mean = np.average(points[members], axis=0, weights=weight[members])
        return np.sum(weight[members] * np.sum((points[members] - mean) ** 2, axis=1))

    best = min(
        (error(steps[:, c] <= t) + error(steps[:, c] > t), c, t)
        for c in range(3)
        for t in range(15)
        if 0 < np.sum(steps[:, c] <= t) < 300
    )
    below = steps[:, best[1]] <= best[2]
    assert_array_equal(labels, np.where(below, 0, 1))
    assert_allclose(
        centres[0], np.average(points[below], axis=0, weights=weight[below])
    )


@pytest.mark.parametrize("n_channels", [1, 2, 3, 5])
@pytest.mark.parametrize("max_cells", [1, 7, 300])
def test_grid_cells_are_the_finest_grid_within_max_cells(n_channels, max_cells):
    rng = np.random.default_rng(n_channels)
    # Clustered points with repeats, so that several grids are tried.
    points = np.round(rng.normal(size=(3000, n_channels)) * 9) / 9
    points[::3] = points[1::3]
    cell, width = _grid_cells(points, max_cells)
    low = points.min(axis=0)
    _, reference = np.unique(
        np.floor((points - low) / width), axis=0, return_inverse=True
    )
    assert_array_equal(cell, reference.reshape(-1))
    assert cell.max() < max_cells
    # The next finer grid has too many cells, unless this is the finest
    # tried (about 64 cells along the widest channel).
    finest = 2.0 ** (np.frexp(np.max(points.max(axis=0) - low))[1] - 6)
    finer = np.unique(np.floor((points - low) / (width / 2)), axis=0)
    assert finer.shape[0] > max_cells or width == finest


def test_pooled_atoms_are_the_weighted_moments_of_their_cells():
    rng = np.random.default_rng(6)
    points = rng.uniform(size=(2000, 3))
    weight = rng.uniform(0.5, 2.0, size=2000)
    spread = rng.uniform(0, 0.01, size=2000)
    cell, width = _grid_cells(points, 100)
    keys = np.floor((points - points.min(axis=0)) / width).astype(int)
    # Cells of side ``width``, numbered in the order of their coordinates.
    _, reference = np.unique(keys, axis=0, return_inverse=True)
    assert_array_equal(cell, reference.reshape(-1))
    assert cell.max() < 100
    # The next finer grid has too many cells.
    finer = np.floor((points - points.min(axis=0)) / (width / 2)).astype(int)
    assert np.unique(finer, axis=0).shape[0] > 100
    means, pooled_weight, sums, pooled_spread = _pooled_atoms(
        points, weight, spread, cell, width
    )
    for j in [0, 17, int(cell.max())]:
        members = cell == j
        w = weight[members]
        assert_allclose(pooled_weight[j], w.sum())
        assert_allclose(sums[j], w @ points[members])
        mean = sums[j] / w.sum()
        assert_allclose(means[j], mean)
        # Per-channel variance of the pixels: their atoms' spreads plus the
        # scatter of the atoms' means.
        scatter = w @ (
            3 * spread[members] ** 2 + np.sum((points[members] - mean) ** 2, 1)
        )
        assert_allclose(
            pooled_spread[j], min(np.sqrt(scatter / w.sum() / 3), width / 2)
        )


def test_colour_fits_on_several_threads_give_the_serial_results(china):
    # The kernels release the GIL and touch no thread pool.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = threadpoolctl.threadpool_info()

    def run(seed):
        quantizer = ImageVectorQuantizer(64, n_channels=3, random_state=seed)
        return quantizer.fit(china).codebook_, quantizer.transform(china)

    serial = [run(seed) for seed in range(4)]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(run, range(4)))
    for (codebook, codes), (codebook_t, codes_t) in zip(serial, threaded, strict=True):
        assert_array_equal(codebook_t, codebook)
        assert_array_equal(codes_t, codes)
    assert threadpoolctl.threadpool_info() == before


def test_codewords_of_many_channels_are_the_means_of_their_pixels():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (40, 70 * 5)).astype(float)
    quantizer = ImageVectorQuantizer(n_bins=4, n_channels=70, random_state=0).fit(X)
    pixels = X.reshape(-1, 70)
    codes = quantizer.transform(X).reshape(-1)
    for code in np.unique(codes):
        assert_allclose(quantizer.codebook_[code], pixels[codes == code].mean(axis=0))
