"""Weighted means of cells (skvq._scalar_codebook.weighted_means), the
centroids of every codebook, against exact fractions."""

from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skvq._scalar_codebook import weighted_means


def _exact_means(values, weight, labels, n_cells):
    """Means of each cell in fractions (None for a cell without weight)."""
    means = []
    for cell in range(n_cells):
        members = np.flatnonzero(labels == cell)
        total = sum(Fraction(float(weight[i])) for i in members)
        if total == 0:
            means.append(None)
            continue
        means.append(
            sum(
                Fraction(float(weight[i])) * Fraction(float(values[i])) for i in members
            )
            / total
        )
    return means


def _hard_columns(rng, n):
    """Columns of values where naive weighted sums go wrong: wide ranges,
    values one unit of rounding apart at 2**52, subnormals, and a far value
    of tiny weight."""
    return np.stack(
        [
            rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, n),
            2.0**52 + rng.integers(0, 4, n),
            rng.choice([5e-324, 1e-310, -1e-320, 0.0], n),
            rng.integers(0, 256, n).astype(float),
        ],
        axis=1,
    )


@pytest.mark.parametrize("seed", range(4))
def test_weighted_means_of_several_channels_are_the_exact_means_rounded(seed):
    rng = np.random.default_rng(seed)
    n, n_cells = 40, 5
    values = _hard_columns(rng, n)
    weight = rng.choice([0.0, 1.0, 3.0, 1e-300, 5e-324, 1e300], n)
    weight[:n_cells] = 1.0
    labels = rng.integers(0, n_cells, n)
    labels[labels == 2] = 1  # an empty cell
    means = weighted_means(values, weight, labels, n_cells)
    assert means.shape == (n_cells, values.shape[1])
    for c in range(values.shape[1]):
        exact = _exact_means(values[:, c], weight, labels, n_cells)
        for cell, mean in enumerate(exact):
            if mean is None:
                assert np.isnan(means[cell, c])
                continue
            # Within rounding of the mean and a few units of rounding of
            # the cell's spread (here of at most 2**-1074 for subnormals).
            members = labels == cell
            spread = np.max(np.abs(values[members, c] - float(mean)))
            allowed = np.spacing(abs(float(mean))) + 4 * n * np.spacing(spread)
            assert abs(Fraction(float(means[cell, c])) - mean) <= Fraction(allowed)
        # Each channel is the mean of that channel alone, bit for bit.
        assert_array_equal(
            means[:, c], weighted_means(values[:, c], weight, labels, n_cells)
        )


def test_weighted_means_keep_their_inputs():
    rng = np.random.default_rng(0)
    values = _hard_columns(rng, 30)
    weight = rng.uniform(0, 2, 30)
    labels = rng.integers(0, 3, 30)
    copies = values.copy(), weight.copy(), labels.copy()
    weighted_means(values, weight, labels, 3)
    for array, copy in zip((values, weight, labels), copies, strict=True):
        assert_array_equal(array, copy)


def test_weighted_means_of_no_values_are_nan():
    means = weighted_means(np.empty((0, 3)), np.empty(0), np.empty(0, int), 2)
    assert means.shape == (2, 3)
    assert np.isnan(means).all()
    assert np.isnan(weighted_means(np.empty(0), np.empty(0), np.empty(0, int), 1)).all()


def test_weighted_means_of_many_channels_are_each_channels_means():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(50, 70)) * 10.0 ** rng.integers(-200, 200, 70)
    weight = rng.uniform(0, 3, 50)
    labels = rng.integers(0, 4, 50)
    means = weighted_means(values, weight, labels, 4)
    for c in range(70):
        assert_array_equal(means[:, c], weighted_means(values[:, c], weight, labels, 4))
