"""Scalar codebooks (one channel): cells on the real line and their codes.

Each function takes a :class:`~skvq._summary.PixelSummary` of one channel and
returns arrays; no estimator state is involved. A scalar quantizer is a set of
``n + 1`` increasing *bin edges* (cell ``i`` is ``[edges[i], edges[i + 1])``,
the outer edges being the data's minimum and maximum) and one codeword per
cell.
"""

import warnings

import numpy as np

from ._kmeans1d import optimal_partition_1d
from ._summary import one_atom_per_codeword


def _halfway(a, b):
    """``(a + b) / 2`` without overflow near the float64 limits."""
    return a / 2 + b / 2


def uniform_edges(low, high, n_bins):
    """``n_bins + 1`` equally spaced edges from ``low`` to ``high``, as
    :func:`numpy.linspace` gives; near the float64 limits, where the span
    and the steps overflow, on values divided by four (exactly)."""
    if max(abs(low), abs(high)) < 2.0**1000:
        return np.linspace(low, high, n_bins + 1)
    return 4 * np.linspace(low / 4, high / 4, n_bins + 1)


def weighted_quantiles(values, weight, q):
    """Averaged inverted-CDF quantiles of sorted weighted values.

    For unit weights this is ``numpy.percentile(..., method=
    "averaged_inverted_cdf")`` of the expanded data, the method
    :class:`~sklearn.preprocessing.KBinsDiscretizer` uses by default.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._scalar_codebook import weighted_quantiles
    >>> weighted_quantiles(np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 2.0]),
    ...                    np.array([0.0, 0.5, 1.0]))
    array([1., 3., 4.])
    """
    cumulative = np.cumsum(weight)
    target = q * cumulative[-1]
    last = values.shape[0] - 1
    first = np.minimum(np.searchsorted(cumulative, target, side="left"), last)
    after = np.minimum(np.searchsorted(cumulative, target, side="right"), last)
    on_step = cumulative[first] == target
    return np.where(on_step, _halfway(values[first], values[after]), values[first])


def _cell_statistics(summary, cell, n_cells):
    """Weight and weighted mean of the atoms in each cell (NaN if empty)."""
    weight = np.bincount(cell, weights=summary.weight, minlength=n_cells)
    total = np.bincount(cell, weights=summary.sum[:, 0], minlength=n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.ldexp(total / weight, summary.exponent)
    return weight, mean


def weighted_median(values, weight, cell, n_cells):
    """Lower weighted median of the (sorted) values in each cell."""
    cell_weight = np.bincount(cell, weights=weight, minlength=n_cells)
    before = np.concatenate([[0.0], np.cumsum(cell_weight)[:-1]])
    cumulative = np.cumsum(weight) - before[cell]
    median = np.full(n_cells, np.nan)
    reached = cumulative >= cell_weight[cell] / 2
    # The first atom of each cell reaching half the cell's weight.
    first = np.flatnonzero(
        reached & np.r_[True, (cell[1:] != cell[:-1]) | ~reached[:-1]]
    )
    median[cell[first]] = values[first]
    return median


def scalar_codebook(summary, n_bins, strategy, reconstruction):
    """Bin edges and codewords of a scalar quantizer learned from a summary.

    Parameters
    ----------
    summary : PixelSummary
        Summary of one-channel pixels with positive total weight.
    n_bins : int
        Number of cells wanted.
    strategy : {"kmeans", "uniform", "quantile"}
        How cells are chosen: the exact minimum-MSE partition, equal widths,
        or equal weights.
    reconstruction : {"centroid", "midpoint", "median"}
        The codeword of a cell: the weighted mean of its values, the middle of
        its edges, or the weighted median of its values. Empty cells get
        their midpoint.

    Returns
    -------
    bin_edges : ndarray of shape (n_bins_ + 1,)
    codebook : ndarray of shape (n_bins_,)

    Notes
    -----
    With no more distinct values than ``n_bins``, every strategy gives each
    value its own cell (with a warning when there are fewer) whose codeword
    is that value, whatever the reconstruction: decoding is lossless.
    """
    values = summary.mean[:, 0]
    low, high = summary.low[0], summary.high[0]
    n_atoms = summary.n_atoms
    one_per_value = one_atom_per_codeword(summary, n_bins)
    if one_per_value:
        edges = np.concatenate([[low], _halfway(values[1:], values[:-1]), [high]])
        cell = np.arange(n_atoms)
    elif strategy == "kmeans":
        # The summary's scatter is in units of 2**(2 * exponent): scale the
        # values alike (exactly, by a power of two) rather than risk overflow.
        starts = optimal_partition_1d(
            summary.weight,
            np.ldexp(values, -summary.exponent),
            summary.scatter,
            n_bins,
        )
        cell = np.repeat(np.arange(n_bins), np.diff(np.append(starts, n_atoms)))
        _, centroid = _cell_statistics(summary, cell, n_bins)
        edges = np.concatenate([[low], _halfway(centroid[1:], centroid[:-1]), [high]])
    else:
        if strategy == "uniform":
            edges = uniform_edges(low, high, n_bins)
        else:
            q = np.arange(n_bins + 1) / n_bins
            edges = weighted_quantiles(values, summary.weight, q)
            edges[0], edges[-1] = low, high
            distinct = np.concatenate([[True], edges[1:] > edges[:-1]])
            if not distinct.all():
                edges = edges[distinct]
                warnings.warn(
                    "Quantile bins of zero width were removed: "
                    f"{n_bins - len(edges) + 1} bin(s) of n_bins={n_bins} hold "
                    "no value of their own. "
                    "Consider decreasing n_bins.",
                    UserWarning,
                )
        cell = np.searchsorted(edges[1:-1], values, side="right")
    n_cells = edges.shape[0] - 1
    midpoint = _halfway(edges[1:], edges[:-1])
    if one_per_value:
        # A cell holding one value: its mean, median and the middle of its
        # data are all that value, and decoding is lossless.
        codebook = values.copy()
    elif reconstruction == "midpoint":
        codebook = midpoint
    elif reconstruction == "centroid":
        _, codebook = _cell_statistics(summary, cell, n_cells)
        if summary.level is None:
            # The mean of one distinct value is the value, not its weighted
            # sum divided back, which may round.
            alone = (np.bincount(cell, minlength=n_cells) == 1)[cell]
            codebook[cell[alone]] = values[alone]
    else:
        codebook = weighted_median(values, summary.weight, cell, n_cells)
    codebook = np.where(np.isnan(codebook), midpoint, codebook)
    return edges, codebook
