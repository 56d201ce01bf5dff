"""Summaries of pixels (skvq._summary): value histograms of gray levels
(skvq._histogram through skvq._summary._value_counts) and the atoms of
colours (skvq._colour_kernels through skvq._summary.summarize), against
NumPy's unique or plain Python counts as the reference."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skvq._summary import _value_counts, summarize

INTEGER_DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8"]


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


def _summary_by_dicts(pixels, weight, max_atoms):
    """Reference, in plain Python on the raw pixels: the grid of the
    smallest cell exponent (none: the colours themselves) with at most
    ``max_atoms`` cells, and each cell's total weight, weighted sum and
    weighted sum of squared norms, in exact integers."""
    rows = [tuple(int(v) for v in pixel) for pixel in pixels.tolist()]
    weights = [1] * len(rows) if weight is None else [int(w) for w in weight]
    present = [(row, w) for row, w in zip(rows, weights, strict=True) if w > 0]
    cell_exponent = None
    if len({row for row, _ in present}) > max_atoms:
        cell_exponent = 1
        while len({tuple(v >> cell_exponent for v in row) for row, _ in present}) > (
            max_atoms
        ):
            cell_exponent += 1
    atoms = {}
    for row, w in present:
        key = row if cell_exponent is None else tuple(v >> cell_exponent for v in row)
        total, sums, squares = atoms.get(key, (0, [0] * len(row), 0))
        sums = [s + w * v for s, v in zip(sums, row, strict=True)]
        atoms[key] = (total + w, sums, squares + w * sum(v * v for v in row))
    keys = sorted(atoms)
    return {
        "cell_exponent": cell_exponent,
        "key": np.array(keys, dtype=np.float64),
        "weight": np.array([atoms[k][0] for k in keys], dtype=np.float64),
        "sum": np.array([atoms[k][1] for k in keys], dtype=np.float64),
        "sumsq": np.array([atoms[k][2] for k in keys], dtype=np.float64),
        "low": np.array([min(r[c] for r, _ in present) for c in range(len(rows[0]))]),
        "high": np.array([max(r[c] for r, _ in present) for c in range(len(rows[0]))]),
    }


@pytest.mark.parametrize("n_channels", [2, 3])
@pytest.mark.parametrize("max_atoms", [2, 50, 1000, 65536])
@pytest.mark.parametrize("weighted", [False, True])
def test_colour_summary_is_that_of_the_distinct_colours(
    n_channels, max_atoms, weighted
):
    # uint8 colours are counted through a bitmap of every colour, and pooled
    # into grid cells straight from the counts: the summary of the distinct
    # colours, or of the coarsest-needed grid's cells, as plain Python
    # counts them. Integer weights keep every sum exact.
    rng = np.random.default_rng(n_channels + max_atoms)
    pixels = rng.integers(0, 256, size=(5000, n_channels)).astype(np.uint8)
    pixels[:2000] = pixels[:2000] // 16 * 16  # repeated colours
    weight = rng.integers(0, 4, size=5000).astype(np.float64) if weighted else None
    summary = summarize(pixels, weight, max_atoms=max_atoms)
    reference = _summary_by_dicts(pixels, weight, max_atoms)
    assert summary.cell_exponent == reference["cell_exponent"]
    # Sums are stored in units of powers of two of the values and weights.
    assert np.all(np.abs(summary.high) <= 2.0**summary.value_exponent)
    value_unit = summary.value_exponent
    weight_unit = summary.weight_exponent
    assert_array_equal(summary.key, reference["key"])
    assert_array_equal(np.ldexp(summary.weight, weight_unit), reference["weight"])
    assert_array_equal(
        np.ldexp(summary.sum, value_unit + weight_unit), reference["sum"]
    )
    assert_array_equal(
        np.ldexp(summary.sumsq, 2 * value_unit + weight_unit), reference["sumsq"]
    )
    assert_array_equal(summary.low, reference["low"])
    assert_array_equal(summary.high, reference["high"])


def test_colour_summary_of_pixels_without_weight_is_empty():
    pixels = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    summary = summarize(pixels, np.zeros(2), max_atoms=16)
    assert summary.n_atoms == 0
