"""Vector codebooks (several channels, e.g. colours) learned from a summary.

Each function takes a :class:`~skvq._summary.PixelSummary` and returns arrays;
no estimator state is involved. A strategy assigns every atom to a cell (a
*label*); the reconstruction then picks one codeword per cell. Atoms are
clustered by their means, in the summary's power-of-two scaled units so that
no distance overflows.
"""

import warnings

import numpy as np
from sklearn.cluster import KMeans

from ._scalar_codebook import uniform_edges, weighted_median
from ._summary import coarsen

# k-means first runs on a coarser summary with at most this many atoms (and
# at least 16 per cluster) to find a strong initialisation cheaply, then
# polishes with Lloyd iterations on the full summary.
_COARSE_ATOMS = 4096


def balanced_grid(n_bins, n_channels):
    """Cells per channel of the most balanced grid with at most ``n_bins``
    cells in all.

    Examples
    --------
    >>> from skvq._vector_codebook import balanced_grid
    >>> balanced_grid(64, 3), balanced_grid(256, 3), balanced_grid(10, 3)
    ([4, 4, 4], [7, 6, 6], [2, 2, 2])
    """
    side = max(round(n_bins ** (1 / n_channels)), 1)
    while side**n_channels > n_bins:
        side -= 1
    counts = [side] * n_channels
    for c in range(n_channels):
        if np.prod(counts) // counts[c] * (counts[c] + 1) <= n_bins:
            counts[c] += 1
    if np.prod(counts) < 2:
        # Fewer than two cells per channel: split the first channels only.
        counts = [1] * n_channels
        counts[0] = min(n_bins, 2)
    return counts


def _uniform_labels(points, low, high, n_bins):
    counts = balanced_grid(n_bins, points.shape[1])
    edges = [
        uniform_edges(lo, hi, n) for lo, hi, n in zip(low, high, counts, strict=True)
    ]
    index = [
        np.searchsorted(e[1:-1], points[:, c], side="right")
        for c, e in enumerate(edges)
    ]
    labels = np.ravel_multi_index(index, counts)
    centres = [e[:-1] / 2 + e[1:] / 2 for e in edges]
    midpoint = np.stack(np.meshgrid(*centres, indexing="ij"), axis=-1)
    return labels, midpoint.reshape(-1, points.shape[1])


def _box_priority(points, weight):
    """Weighted squared error of a box around its mean (0 if unsplittable)."""
    mean = np.average(points, axis=0, weights=weight)
    return float(np.sum(weight * np.sum((points - mean) ** 2, axis=1)))


def _median_cut_labels(points, weight, n_bins):
    """Median cut (Heckbert 1982): repeatedly split the box of largest squared
    error through the weighted median of its longest side."""
    boxes = [np.arange(points.shape[0])]
    priority = [_box_priority(points, weight)]
    while len(boxes) < n_bins:
        b = int(np.argmax(priority))
        if priority[b] <= 0:
            break
        members = boxes[b]
        box = points[members]
        channel = int(np.argmax(box.max(axis=0) - box.min(axis=0)))
        values = box[:, channel]
        order = np.argsort(values, kind="stable")
        cumulative = np.cumsum(weight[members][order])
        median = values[order][np.searchsorted(cumulative, cumulative[-1] / 2)]
        left = values <= median
        if left.all():
            left = values < median
        parts = [members[left], members[~left]]
        boxes[b : b + 1] = parts
        priority[b : b + 1] = [_box_priority(points[p], weight[p]) for p in parts]
    labels = np.empty(points.shape[0], dtype=np.intp)
    for i, members in enumerate(boxes):
        labels[members] = i
    return labels, len(boxes)


def _kmeans_labels(summary, points, n_bins, max_iter, random_state):
    init = "k-means++"
    if summary.n_atoms > max(_COARSE_ATOMS, 16 * n_bins):
        coarse = coarsen(summary, max(_COARSE_ATOMS, 16 * n_bins))
        init = (
            KMeans(n_bins, n_init=1, max_iter=max_iter, random_state=random_state)
            .fit(np.ldexp(coarse.mean, -summary.exponent), sample_weight=coarse.weight)
            .cluster_centers_
        )
    kmeans = KMeans(
        n_bins, init=init, n_init=1, max_iter=max_iter, random_state=random_state
    ).fit(points, sample_weight=summary.weight)
    return kmeans.labels_, kmeans.n_iter_


def vector_codebook(
    summary, n_bins, strategy, reconstruction, *, max_iter=300, random_state=None
):
    """Codewords of a vector quantizer learned from a summary.

    Parameters
    ----------
    summary : PixelSummary
        Summary with positive total weight.
    n_bins : int
        Number of codewords wanted.
    strategy : {"kmeans", "uniform", "quantile"}
        Weighted k-means on the atoms (k-means++ on a coarse summary, then
        Lloyd's iterations on all atoms), a per-channel uniform grid, or
        median cut.
    reconstruction : {"centroid", "midpoint", "median"}
        The codeword of a cell: the weighted mean of its pixels, the centre of
        its box (the grid cell for "uniform", else the bounding box of its
        atoms), or the per-channel weighted median. Empty grid cells get
        their centre.
    max_iter : int, default=300
        Maximum number of Lloyd iterations of each k-means run.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means++ initialisation.

    Returns
    -------
    codebook : ndarray of shape (n_bins_, n_channels)
    n_iter : int
        Lloyd iterations of the final k-means run (1 for other strategies:
        one pass over the atoms).

    References
    ----------
    .. [1] P. Heckbert, "Color image quantization for frame buffer display",
       SIGGRAPH 1982.
    .. [2] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of
       careful seeding", SODA 2007.
    """
    points = np.ldexp(summary.mean, -summary.exponent)
    n_atoms = summary.n_atoms
    if summary.level is None and n_atoms <= n_bins:
        if n_atoms < n_bins:
            warnings.warn(
                f"X has {n_atoms} distinct pixel value(s), fewer than "
                f"n_bins={n_bins}; using {n_atoms} codeword(s), one per value.",
                UserWarning,
            )
        return summary.mean.copy(), 1
    grid_midpoint = None
    n_iter = 1
    if strategy == "kmeans":
        labels, n_iter = _kmeans_labels(summary, points, n_bins, max_iter, random_state)
        n_cells = n_bins
    elif strategy == "uniform":
        labels, grid_midpoint = _uniform_labels(
            summary.mean, summary.low, summary.high, n_bins
        )
        n_cells = grid_midpoint.shape[0]
    else:
        labels, n_cells = _median_cut_labels(points, summary.weight, n_bins)

    n_channels = summary.n_channels
    weight = np.bincount(labels, weights=summary.weight, minlength=n_cells)
    if reconstruction == "centroid":
        codebook = np.stack(
            [
                np.bincount(labels, weights=summary.sum[:, c], minlength=n_cells)
                for c in range(n_channels)
            ],
            axis=1,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            codebook = np.ldexp(codebook / weight[:, None], summary.exponent)
    elif reconstruction == "midpoint" and grid_midpoint is not None:
        codebook = grid_midpoint
    elif reconstruction == "midpoint":
        codebook = np.full((n_cells, n_channels), np.nan)
        for c in range(n_channels):
            lowest = np.full(n_cells, np.inf)
            highest = np.full(n_cells, -np.inf)
            np.minimum.at(lowest, labels, summary.mean[:, c])
            np.maximum.at(highest, labels, summary.mean[:, c])
            codebook[:, c] = lowest / 2 + highest / 2
    else:
        codebook = np.empty((n_cells, n_channels))
        for c in range(n_channels):
            order = np.lexsort((summary.mean[:, c], labels))
            codebook[:, c] = weighted_median(
                summary.mean[order, c], summary.weight[order], labels[order], n_cells
            )
    if grid_midpoint is not None:
        empty = weight == 0
        codebook[empty] = grid_midpoint[empty]
    return codebook, n_iter
