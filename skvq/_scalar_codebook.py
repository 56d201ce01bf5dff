"""Scalar codebooks (one channel): cells on the real line and their codes.

Each function takes a :class:`~skvq._summary.PixelSummary` of one channel and
returns arrays; no estimator state is involved. A scalar quantizer is a set of
``n + 1`` increasing *bin edges* (cell ``i`` is ``[edges[i], edges[i + 1])``,
the outer edges being the data's minimum and maximum) and one codeword per
cell.
"""

import warnings

import numpy as np

from ._cell_means import weighted_cell_means
from ._kmeans1d import optimal_partition_1d
from ._summary import one_atom_per_codeword
from .exceptions import FewerCodewordsWarning


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


def _between(edge, below, above):
    """``edge`` moved, if rounding put it outside, into ``(below, above]``,
    so that a value ``below`` is coded under the edge and ``above`` over it,
    however close the two are."""
    return np.clip(edge, np.nextafter(below, np.inf), above)


def weighted_means(values, weight, labels, n_cells):
    """Weighted mean of the ``values`` of each label (NaN if it has no
    weight).

    Parameters
    ----------
    values : ndarray of shape (n,) or (n, n_channels)
        Finite values.
    weight : ndarray of shape (n,)
        Finite non-negative weights.
    labels : ndarray of int, shape (n,)
        Cell of each value, in ``[0, n_cells)``.
    n_cells : int

    Returns
    -------
    mean : ndarray of shape (n_cells,) or (n_cells, n_channels)

    Notes
    -----
    The mean is the sum of each value times its share of the cell's weight,
    then corrected once by the same sum of the values' deviations from it.
    A share is formed as the ratio of the weights' mantissas times a power
    of two that is applied last, so that a share below float64's normal
    range (a weight ``1e-300`` times its cell's) keeps its precision, and
    values are scaled by a power of two that puts the largest near
    ``2**1020``, so that no sum overflows and subnormal values keep their
    precision. Each term then carries one rounding relative to itself and
    the sum ``n`` more: the first sum is off by at most about ``n`` units of
    rounding of ``sum(share * |value|)``, the mean's magnitude for values
    of one sign; the correction's terms are deviations, so after it the
    error is about ``n`` units of rounding of the cell's mean absolute
    deviation, plus the rounding of the mean itself. So the cell's squared
    error about it exceeds the exact one by a relative ``(n * 2**-53)**2``
    or less, beyond the rounding of the mean itself, for any finite values
    and weights. (A mean taken about the cell's first value has an error
    relative to the distance of that value from the mean, which for a far
    value of tiny weight is the whole cell's magnitude.) The loops are
    :func:`skvq._cell_means.weighted_cell_means`, one pass over the values
    for all their channels.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._scalar_codebook import weighted_means
    >>> weighted_means(np.array([-1e33, -1e16, 0.0]), np.array([1e-80, 1, 1]),
    ...                np.array([0, 0, 1]), 3)
    array([-1.e+16,  0.e+00,     nan])
    """
    values = np.asarray(values, dtype=np.float64)
    columns = np.ascontiguousarray(values if values.ndim == 2 else values[:, None])
    # Each channel is taken in units of 2**shift that bring its largest
    # value to about 2**1020: below the limit, so that no product or sum
    # overflows, and above the subnormals, so that tiny values keep their
    # precision (a cell of subnormal values would otherwise get a mean off
    # by units of their spacing). The scaling is exact but for values
    # 2**2000 times smaller than the largest, which no mean can resolve
    # anyway.
    # (Column by column: many times faster than along axis 0.)
    largest = np.array(
        [max(-col.min(), col.max()) if col.size else 0.0 for col in columns.T]
    )
    shift = np.where(largest > 0, np.frexp(largest)[1] - 1020, 0).astype(np.intc)
    means = np.empty((n_cells, columns.shape[1]))
    weighted_cell_means(
        columns,
        np.ascontiguousarray(weight, dtype=np.float64),
        np.ascontiguousarray(labels, dtype=np.intp),
        shift,
        np.empty(columns.shape[1]),
        np.empty(n_cells),
        np.empty(n_cells, dtype=np.intc),
        np.empty(columns.shape[0]),
        np.empty(columns.shape[0], dtype=np.intc),
        np.empty_like(means),
        means,
    )
    return means.reshape((n_cells, *values.shape[1:]))


def cell_means(values, weight, cell, n_cells):
    """Weighted mean of the sorted atom ``values`` in each cell (NaN if
    empty); ``cell`` is non-decreasing.

    Means are those of :func:`weighted_means` (their error bounded by
    rounding relative to the mean and the cell's spread, whatever the
    weights), kept within the cell's smallest and largest values, so that
    the means of successive cells ascend strictly; a cell of one value has
    that value as its mean.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._scalar_codebook import cell_means
    >>> cell_means(np.array([1e-20, 3e-20, 1e300]), np.ones(3),
    ...            np.array([0, 0, 1]), 2)
    array([2.e-020, 1.e+300])
    """
    mean = weighted_means(values, weight, cell, n_cells)
    first = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))
    last = np.append(first[1:], cell.shape[0]) - 1
    present = cell[first]
    mean[present] = np.clip(mean[present], values[first], values[last])
    return mean


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
        inner = _between(_halfway(values[:-1], values[1:]), values[:-1], values[1:])
        edges = np.concatenate([[low], inner, [high]])
        cell = np.arange(n_atoms)
    elif strategy == "kmeans":
        starts = optimal_partition_1d(summary.weight, values, n_bins)
        cell = np.repeat(np.arange(n_bins), np.diff(np.append(starts, n_atoms)))
        centroid = cell_means(values, summary.weight, cell, n_bins)
        # Each atom stays in its optimal cluster, also when centroids are
        # within rounding of each other.
        inner = _between(
            _halfway(centroid[:-1], centroid[1:]),
            values[starts[1:] - 1],
            values[starts[1:]],
        )
        edges = np.concatenate([[low], inner, [high]])
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
                    FewerCodewordsWarning,
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
        codebook = (
            centroid
            if strategy == "kmeans"
            else cell_means(values, summary.weight, cell, n_cells)
        )
    else:
        codebook = weighted_median(values, summary.weight, cell, n_cells)
    codebook = np.where(np.isnan(codebook), midpoint, codebook)
    return edges, codebook
