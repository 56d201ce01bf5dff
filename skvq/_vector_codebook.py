"""Vector codebooks (several channels, e.g. colours) learned from a summary.

Each function takes a :class:`~skvq._summary.PixelSummary` and returns arrays;
no estimator state is involved. A strategy assigns every atom to a cell (a
*label*); the reconstruction then picks one codeword per cell. Atoms are
clustered by their means, in the summary's power-of-two scaled units so that
no distance overflows.
"""

import warnings

import numpy as np
from scipy.special import ndtr

from ._encode import single_threaded_blas
from ._scalar_codebook import uniform_edges, weighted_median
from ._summary import one_atom_per_codeword

# k-means first runs on atoms pooled in a grid with at most this many cells
# (and at least 16 per cluster), where iterations are cheap, then polishes
# with a few iterations on the full summary.
_COARSE_ATOMS = 8192
# Smoothed Lloyd iterations on the full summary after the coarse one.
_FINE_ITER = 2
# Stop Lloyd's iterations once the centres' squared moves sum to less than
# this fraction of the data's mean variance (as scikit-learn's KMeans).
_TOL = 1e-4


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


def _half_distances(points, centres):
    """``|c|^2 / 2 - x.c`` for every point and centre: the squared distance
    halved, less ``|x|^2 / 2``, which does not change the nearest centre."""
    out = points @ centres.T
    np.subtract(0.5 * np.einsum("ij,ij->i", centres, centres), out, out=out)
    return out


def _with_ones(points):
    """``points`` with a column of ones, so that one matrix product gives
    :func:`_half_distances` (see :func:`_two_nearest`)."""
    return np.hstack([points, np.ones((points.shape[0], 1))])


def weighted_kmeans_plusplus(points, weight, n_clusters, random_state, centres=None):
    """Greedy k-means++ seeding of weighted points.

    Each new centre is the best, by weighted potential, of
    ``2 + log(n_clusters)`` candidates drawn with probability proportional
    to weight times squared distance to the nearest centre so far (as
    :func:`sklearn.cluster.kmeans_plusplus` does for unweighted samples).

    Parameters
    ----------
    points : ndarray of shape (n_points, n_channels)
    weight : ndarray of shape (n_points,)
        Non-negative, with at least ``n_clusters`` positive entries.
    n_clusters : int
    random_state : RandomState instance
    centres : ndarray of shape (n_given, n_channels), default=None
        Centres already chosen, kept first; the others are drawn as above.

    Returns
    -------
    centres : ndarray of shape (n_clusters, n_channels)
        The given centres, then distinct points of ``points``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._vector_codebook import weighted_kmeans_plusplus
    >>> points = np.array([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0]])
    >>> centres = weighted_kmeans_plusplus(
    ...     points, np.array([1.0, 1.0, 0.0]), 2, np.random.RandomState(0))
    >>> sorted(map(tuple, centres.tolist()))
    [(0.0, 0.0), (0.0, 0.1)]
    """
    n_trials = 2 + int(np.log(n_clusters))
    n_points = points.shape[0]
    norm = np.einsum("ij,ij->i", points, points)
    # One matrix product of these gives squared distances to candidates.
    extended = np.hstack([points, norm[:, None], np.ones((n_points, 1))])
    chosen = []
    if centres is None or len(centres) == 0:
        centres = points[:0]
        closest = np.ones(n_points)
        sizes = [1] + [n_trials] * (n_clusters - 1)
    else:
        closest = np.maximum(
            np.min(
                extended
                @ np.vstack(
                    [
                        -2 * centres.T,
                        np.ones(len(centres)),
                        np.einsum("ij,ij->i", centres, centres),
                    ]
                ),
                axis=1,
            ),
            0,
        )
        sizes = [n_trials] * (n_clusters - len(centres))
    for size in sizes:
        cumulative = np.cumsum(weight * closest)
        if not cumulative[-1] > 0:
            # Every point with weight is already a centre.
            break
        # side="right" never picks a point of zero probability.
        candidates = np.searchsorted(
            cumulative, random_state.uniform(size=size) * cumulative[-1], "right"
        )
        candidates = np.minimum(candidates, n_points - 1)
        distance = extended @ np.vstack(
            [-2 * points[candidates].T, np.ones(size), norm[candidates]]
        )
        np.minimum(distance, closest[:, None], out=distance)
        best = int(np.argmin(weight @ distance))
        chosen.append(int(candidates[best]))
        closest = np.maximum(distance[:, best], 0)
    return np.vstack([centres, points[chosen]])


def _best_cut(keys, mass, members, n_steps):
    """Best split of a box of points by a threshold on one channel's key:
    the largest decrease of the weighted squared error, as ``(decrease,
    channel, key)``; ``(0, None, None)`` for a box that cannot be split.
    ``keys`` hold each point's step per channel, offset by ``n_steps`` times
    the channel; ``mass`` each point's weight and weighted coordinates."""
    n_channels, width = keys.shape[1], mass.shape[1]
    box = mass[members]
    total = box.sum(axis=0)
    key = keys[members]
    # Sums of the box's points at every step of every channel, at once.
    index = (key[:, :, None] * width + np.arange(width)).reshape(-1)
    sums = np.bincount(
        index,
        np.repeat(box, n_channels, axis=0).reshape(-1),
        n_channels * n_steps * width,
    ).reshape(n_channels, n_steps, width)
    left = np.cumsum(sums, axis=1)[:, :-1]
    counts = np.cumsum(
        np.bincount(key.reshape(-1), minlength=n_channels * n_steps).reshape(
            n_channels, n_steps
        ),
        axis=1,
    )[:, :-1]
    valid = (counts > 0) & (counts < members.size)
    if not valid.any():
        return 0.0, None, None
    left = left[valid]
    right = total - left
    after = np.einsum("ij,ij->i", left[:, 1:], left[:, 1:]) / left[:, 0]
    after += np.einsum("ij,ij->i", right[:, 1:], right[:, 1:]) / right[:, 0]
    i = int(np.argmax(after))
    decrease = after[i] - total[1:] @ total[1:] / total[0]
    if not decrease > 0:
        return 0.0, None, None
    channel, step = np.argwhere(valid)[i]
    return float(decrease), int(channel), int(step)


def variance_split(points, weight, n_clusters, n_steps=256):
    """Centres of the boxes of a greedy variance split (Wu 1991).

    Starting from one box holding every point, the box whose best cut
    (a threshold on one channel, among ``n_steps`` even steps of its range)
    lowers the weighted squared error most is cut, until there are
    ``n_clusters`` boxes or none can be cut.

    Parameters
    ----------
    points : ndarray of shape (n_points, n_channels)
    weight : ndarray of shape (n_points,)
        Positive weights.
    n_clusters : int
    n_steps : int, default=64

    Returns
    -------
    centres : ndarray of shape (n_boxes, n_channels)
        Weighted means of the boxes, ``n_boxes <= n_clusters``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._vector_codebook import variance_split
    >>> points = np.array([[0.0, 0.0], [0.0, 1.0], [9.0, 0.0], [9.0, 1.0]])
    >>> variance_split(points, np.ones(4), 2)
    array([[0. , 0.5],
           [9. , 0.5]])
    """
    low = np.array([column.min() for column in points.T])
    span = np.array([column.max() for column in points.T]) - low
    step = span / n_steps
    # A span too small to divide (below n_steps times the smallest float) is
    # one step; no span at all, any.
    step[step == 0] = np.where(span[step == 0] > 0, span[step == 0], 1.0)
    keys = np.minimum((points - low) / step, n_steps - 1).astype(np.intp)
    keys += n_steps * np.arange(points.shape[1])
    mass = np.hstack([weight[:, None], points * weight[:, None]])
    boxes = [np.arange(points.shape[0])]
    cuts = [_best_cut(keys, mass, boxes[0], n_steps)]
    while len(boxes) < n_clusters:
        b = max(range(len(boxes)), key=lambda i: cuts[i][0])
        _, channel, key = cuts[b]
        if channel is None:
            break
        members = boxes[b]
        below = keys[members, channel] <= key + n_steps * channel
        parts = [members[below], members[~below]]
        boxes[b : b + 1] = parts
        cuts[b : b + 1] = [_best_cut(keys, mass, part, n_steps) for part in parts]
    totals = np.array([mass[members].sum(axis=0) for members in boxes])
    return totals[:, 1:] / totals[:, :1]


def _two_nearest(points_ones, centres):
    """Nearest and second nearest centre of every point (rows of
    ``points_ones``, from :func:`_with_ones`), with the distance of each
    point to the plane halfway between the two, and the distances between
    the centres."""
    n_points, n_clusters = points_ones.shape[0], centres.shape[0]
    half_norm = 0.5 * np.einsum("ij,ij->i", centres, centres)
    distance = points_ones @ np.vstack([-centres.T, half_norm])
    flat = distance.reshape(-1)
    offset = np.arange(0, n_points * n_clusters, n_clusters)
    first = np.argmin(distance, axis=1)
    at_first = offset + first
    nearest = flat[at_first]
    flat[at_first] = np.inf
    second = np.argmin(distance, axis=1)
    between = np.zeros((n_clusters, n_clusters))
    for column in centres.T:
        between += (column[:, None] - column) ** 2
    np.sqrt(between, out=between)
    gap = between[first, second]
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = (flat[offset + second] - nearest) / gap
    # Coincident centres (gap 0) share their atoms by the nearest one alone.
    margin[gap == 0] = np.inf
    return first, second, np.maximum(margin, 0, out=margin), between


def smoothed_lloyd(points, weight, sums, spread, centres, max_iter, tol):
    """Lloyd's iterations on atoms, each atom taken as an isotropic Gaussian.

    An atom whose pixels are spread (standard deviation ``spread`` per
    channel around ``points``) across the boundary between its two nearest
    centres gives each the share of its weight that falls on its side, and
    that share's mean, instead of all of it to the nearest. Without spread
    this is Lloyd's algorithm.

    Parameters
    ----------
    points, sums : ndarray of shape (n_atoms, n_channels)
        Atom means and weighted sums (``weight * points``).
    weight, spread : ndarray of shape (n_atoms,)
    centres : ndarray of shape (n_clusters, n_channels)
        Initial centres.
    max_iter : int
    tol : float
        Stop once the centres move by at most this much (squared norm, summed
        over centres).

    Returns
    -------
    centres : ndarray of shape (n_clusters, n_channels)
    n_iter : int
    """
    n_clusters, n_channels = centres.shape
    points_ones = _with_ones(points)
    mass = np.hstack([weight[:, None], sums])
    spread_mass = weight * spread / np.sqrt(2 * np.pi)
    width = n_channels + 1
    columns = np.arange(width)
    flat_mass = mass.ravel()
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        first, second, margin, between = _two_nearest(points_ones, centres)
        # Beyond 4 standard deviations, the share across is below 1e-4.
        split = np.flatnonzero(margin < 4 * spread)
        alpha = margin[split] / spread[split]
        across = ndtr(-alpha)
        # The part of a Gaussian beyond the plane has its mean moved along
        # the normal by spread * pdf(alpha) / across (the part on the near
        # side moves back by as much in total), so its sum is the atom's sum
        # times ``across`` plus ``spread_mass * exp(-alpha**2 / 2)`` along
        # the unit normal.
        near, far = first[split], second[split]
        normal = centres[far] - centres[near]
        normal /= between[near, far][:, None]
        moved = mass[split] * across[:, None]
        moved[:, 1:] += (
            normal * (spread_mass[split] * np.exp(-0.5 * alpha * alpha))[:, None]
        )
        # One bincount per term, over (cluster, column) pairs.
        size = n_clusters * (n_channels + 1)
        totals = (
            np.bincount((first[:, None] * width + columns).ravel(), flat_mass, size)
            - np.bincount(
                (near[:, None] * width + columns).ravel(), moved.ravel(), size
            )
            + np.bincount((far[:, None] * width + columns).ravel(), moved.ravel(), size)
        ).reshape(n_clusters, width)
        new = centres.copy()
        filled = totals[:, 0] > 0
        new[filled] = totals[filled, 1:] / totals[filled, :1]
        shift = float(np.sum((new - centres) ** 2))
        centres = new
        if shift <= tol:
            break
    return centres, n_iter


def _nearest_labels(points, weight, centres):
    """Label of the nearest centre of every atom, moving atoms so that no
    cluster is left empty: an empty cluster takes the atom with the largest
    weighted squared distance among clusters of two or more atoms."""
    distance = _half_distances(points, centres)
    labels = np.argmin(distance, axis=1)
    n_clusters = centres.shape[0]
    sizes = np.bincount(labels, minlength=n_clusters)
    if sizes.all():
        return labels
    norm = np.einsum("ij,ij->i", points, points)
    error = weight * (2 * distance[np.arange(labels.size), labels] + norm)
    for cluster in np.flatnonzero(sizes == 0):
        movable = sizes[labels] > 1
        atom = int(np.argmax(np.where(movable, error, -np.inf)))
        sizes[labels[atom]] -= 1
        labels[atom] = cluster
        sizes[cluster] = 1
        error[atom] = -np.inf
    return labels


def _pooled_atoms(points, weight, spread, cell, width):
    """Atoms pooled by ``cell`` (an index in ``[0, n_cells)`` per atom, the
    cells being of side ``width``): means, weights, weighted sums and
    per-channel spreads of the pools."""
    n_cells = int(cell.max()) + 1
    n_channels = points.shape[1]
    pooled_weight = np.bincount(cell, weight, n_cells)
    pooled_sums = np.stack(
        [np.bincount(cell, weight * column, n_cells) for column in points.T], axis=1
    )
    means = pooled_sums / pooled_weight[:, None]
    # Scatter about the pool's mean: the atoms' own, plus their means'.
    squares = weight * (n_channels * spread**2 + np.einsum("ij,ij->i", points, points))
    scatter = np.bincount(cell, squares, n_cells) - np.einsum(
        "ij,ij->i", pooled_sums, means
    )
    pooled_spread = np.sqrt(np.maximum(scatter, 0) / pooled_weight / n_channels)
    # Pixels of a cell are within it, whatever rounding says.
    return means, pooled_weight, pooled_sums, np.minimum(pooled_spread, width / 2)


def _grid_cells(points, max_cells):
    """Cell of every point in the finest power-of-two grid, anchored at the
    points' minimum, with at most ``max_cells`` non-empty cells; cells are
    numbered from 0 in the order of their packed keys. Returns the cells and
    their side."""
    offset = points - np.array([column.min() for column in points.T])
    widest = float(offset.max())
    # Start from about 64 cells along the widest channel.
    level = int(np.frexp(widest)[1]) - 6 if widest > 0 else 0
    while True:
        keys = np.floor(np.ldexp(offset, -level)).astype(np.int64)
        shape = np.array([column.max() for column in keys.T]) + 1
        if np.prod(shape.astype(float)) <= 1 << 22:
            packed = np.ravel_multi_index(tuple(keys.T), tuple(shape))
            occupied = np.zeros(int(np.prod(shape)), dtype=np.intp)
            occupied[packed] = 1
            if np.count_nonzero(occupied) <= max_cells:
                return (np.cumsum(occupied) - 1)[packed], np.ldexp(1.0, level)
        else:
            cells = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
            if cells.max() < max_cells:
                return cells, np.ldexp(1.0, level)
        level += 1


def _kmeans_labels(summary, n_bins, max_iter, random_state):
    """Weighted k-means of the atoms: a variance split and smoothed Lloyd on
    atoms pooled in a coarse grid, then smoothed Lloyd and a nearest-centre
    assignment on all atoms."""
    if summary.n_atoms <= n_bins:
        # Only when max_atoms pooled the pixels this much: distinct values
        # this few never reach k-means.
        warnings.warn(
            f"The pixels were pooled into {summary.n_atoms} atoms (max_atoms), "
            f"no more than n_bins={n_bins}; using {summary.n_atoms} "
            "codeword(s), one per atom. Raise max_atoms for more.",
            UserWarning,
        )
        return np.arange(summary.n_atoms), summary.n_atoms, 1
    exponent = summary.exponent
    # Distances are taken about the middle of the data, so that colours far
    # from zero keep their differences instead of cancelling them.
    origin = np.ldexp(summary.low / 2 + summary.high / 2, -exponent)
    points = np.ldexp(summary.mean, -exponent) - origin
    weight = summary.weight
    if summary.level is None:
        spread = np.zeros(summary.n_atoms)
    else:
        spread = np.sqrt(summary.scatter / weight / summary.n_channels)
        np.minimum(spread, np.ldexp(0.5, summary.level - exponent), out=spread)
    levels = [(points, weight, points * weight[:, None], spread)]
    budget = max(_COARSE_ATOMS, 16 * n_bins)
    if summary.n_atoms > budget:
        coarse = _pooled_atoms(points, weight, spread, *_grid_cells(points, budget))
        # A grid too coarse to hold several atoms per cluster is no help.
        if coarse[1].shape[0] >= 4 * n_bins:
            levels.insert(0, coarse)
    # Tolerance on the centres' squared moves: as scikit-learn's KMeans, a
    # fraction of the data's mean variance.
    total = np.sum(weight)
    mean = weight @ points / total
    squares = np.einsum("ij,ij->i", points, points) + summary.n_channels * spread**2
    variance = (weight @ squares / total - mean @ mean) / summary.n_channels
    tol = _TOL * max(variance, 0.0)
    with single_threaded_blas():
        centres = variance_split(levels[0][0], levels[0][1], n_bins)
        if centres.shape[0] < n_bins:
            # Boxes too small to cut further: k-means++ picks the rest.
            centres = weighted_kmeans_plusplus(
                levels[0][0], levels[0][1], n_bins, random_state, centres
            )
        n_iter = 0
        for i, atoms in enumerate(levels):
            budget = min(_FINE_ITER, max_iter) if i else max_iter
            centres, iterations = smoothed_lloyd(*atoms, centres, budget, tol)
            n_iter += iterations
        # Codewords in lexicographic order, so that rounding differences
        # that only permute the clusters (e.g. partial_fit of float data)
        # give the same codebook.
        centres = centres[np.lexsort(centres.T[::-1])]
        labels = _nearest_labels(points, weight, centres)
    return labels, centres.shape[0], n_iter


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
        Weighted k-means on the atoms (a variance split and smoothed Lloyd
        iterations on atoms pooled in a coarse grid, then smoothed Lloyd
        iterations on all atoms; see Notes), a per-channel uniform grid, or
        median cut.
    reconstruction : {"centroid", "midpoint", "median"}
        The codeword of a cell: the weighted mean of its pixels, the centre of
        its box (the grid cell for "uniform", else the bounding box of its
        atoms), or the per-channel weighted median. Empty grid cells get
        their centre.
    max_iter : int, default=300
        Maximum number of Lloyd iterations of each k-means run.
    random_state : RandomState instance or None, default=None
        Seeds k-means++, which picks the initial centres that the variance
        split cannot (when its boxes cannot be cut into ``n_bins``).

    Returns
    -------
    codebook : ndarray of shape (n_bins_, n_channels)
    n_iter : int
        Lloyd iterations of k-means, on the coarse and the full atoms
        together (1 for other strategies: one pass over the atoms).

    Notes
    -----
    k-means starts from the centres of a greedy variance split of the coarse
    atoms (Wu's colour quantizer [4]_, cutting boxes at the threshold that
    lowers the squared error most). On photographs it ends, on average, as
    near to the optimum as random k-means++ seeds do, without their spread of
    about 1% either way from seed to seed.

    An atom pools pixels, so plain Lloyd iterations on atoms move a whole
    atom at once across a cluster boundary, and stall in local minima that
    the pixels themselves would leave. :func:`smoothed_lloyd` instead takes
    each atom as an isotropic Gaussian with the atom's own spread (known from
    its sum of squares) and splits it at the boundary between its two
    nearest centres, much as Lloyd's algorithm on the pixels would. Pooled
    atoms of the coarse grid are wider, so the coarse stage smooths more, as
    in deterministic annealing [3]_. Codewords are then the centroids of the
    atoms nearest to them, no cluster being left empty.

    References
    ----------
    .. [1] P. Heckbert, "Color image quantization for frame buffer display",
       SIGGRAPH 1982.
    .. [2] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of
       careful seeding", SODA 2007.
    .. [3] K. Rose, "Deterministic annealing for clustering, compression,
       classification, regression, and related optimization problems",
       Proceedings of the IEEE 86(11), 1998.
    .. [4] X. Wu, "Efficient statistical computations for optimal color
       quantization", Graphics Gems II, 1991.
    """
    points = np.ldexp(summary.mean, -summary.exponent)
    if one_atom_per_codeword(summary, n_bins):
        return summary.mean.copy(), 1
    grid_midpoint = None
    n_iter = 1
    if strategy == "kmeans":
        labels, n_cells, n_iter = _kmeans_labels(
            summary, n_bins, max_iter, random_state
        )
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
