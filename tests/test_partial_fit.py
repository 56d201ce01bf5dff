"""Streaming: partial_fit over any split of the rows gives fit's codebook.

For integer images every statistic is a sum of integers (times an exact power
of two), so the order and grouping of the additions cannot change it and the
codebooks must be equal bit for bit. For float images the atoms (the distinct
values or grid cells, and their pixel counts) are still the same whatever the
split, but the per-atom sums of values are added in another order, so the
codewords may differ by rounding; ``FLOAT_RTOL`` is the bound the
documentation states.
"""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skvq import ImageVectorQuantizer

STRATEGIES = ["kmeans", "uniform", "quantile"]
RECONSTRUCTIONS = ["centroid", "midpoint", "median"]

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
