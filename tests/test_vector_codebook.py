"""k-means codebooks of colours and the nearest-codeword search."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image

from skvq import ImageVectorQuantizer
from skvq._encode import nearest_codeword
from skvq._vector_codebook import smoothed_lloyd, weighted_kmeans_plusplus


def _nearest_by_differences(pixels, codebook):
    """Reference: squared distances as |x - c|^2, first of equal minima."""
    difference = pixels[:, None, :].astype(np.float64) - codebook[None, :, :]
    return np.argmin(np.sum(difference**2, axis=2), axis=1)


@pytest.mark.parametrize("n_channels", [1, 2, 3])
@pytest.mark.parametrize("n_codes", [2, 64, 300])
def test_colour_table_codes_are_the_nearest_codewords(n_channels, n_codes):
    # All but 3 channels with 2 codewords take the colour table path.
    rng = np.random.default_rng(n_channels * 1000 + n_codes)
    pixels = rng.integers(0, 256, size=(70_000, n_channels), dtype=np.uint8)
    codebook = rng.uniform(-20, 275, size=(n_codes, n_channels))
    dtype = np.uint8 if n_codes <= 256 else np.uint16
    codes = nearest_codeword(pixels, codebook, dtype)
    assert codes.dtype == dtype
    assert_array_equal(codes, _nearest_by_differences(pixels, codebook))


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
    centres, _ = smoothed_lloyd(
        points, weight, points * weight[:, None], np.zeros(500), init, 300, 0.0
    )
    reference = KMeans(8, init=init, n_init=1, max_iter=300, tol=0.0).fit(
        points, sample_weight=weight
    )
    assert_allclose(centres, reference.cluster_centers_, rtol=1e-10)


def test_smoothed_lloyd_splits_an_atom_at_the_boundary():
    # One atom, a Gaussian of standard deviation 2 centred on the boundary
    # between two centres: each gets half of it, whose mean is at
    # 2 * sqrt(2 / pi) from the boundary (the half-normal mean).
    points = np.zeros((1, 3))
    init = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    centres, _ = smoothed_lloyd(
        points, np.array([4.0]), points.copy(), np.array([2.0]), init, 1, 0.0
    )
    half_normal_mean = 2 * np.sqrt(2 / np.pi)
    assert_allclose(centres, [[-half_normal_mean, 0, 0], [half_normal_mean, 0, 0]])


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
    # max_atoms=64 pools china's colours into 37 grid cells: one codeword
    # per cell, each the mean of its pixels, and a warning.
    with pytest.warns(UserWarning, match="pooled into 37 atoms"):
        quantizer = ImageVectorQuantizer(
            64, n_channels=3, max_atoms=64, random_state=0
        ).fit(china)
    assert quantizer.n_bins_ == 37
    codes = quantizer.transform(china).ravel()
    assert np.all(np.isfinite(quantizer.codebook_))
    assert np.unique(codes).size == 37


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
