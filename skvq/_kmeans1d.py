"""Exact optimal 1-D k-means on weighted atoms by dynamic programming.

The input is a sorted summary of scalar data: ``m`` atoms, each with a total
weight, a mean and a within-atom scatter (the weighted sum of squared
deviations from its mean; zero when an atom is one distinct value). The
optimal partition of sorted 1-D data into ``k`` clusters is made of
contiguous runs, so the optimum is found by dynamic programming over the
atoms (Wang & Song 2011; Wu 1991)::

    D[l, j] = min_{i <= j} D[l - 1, i - 1] + cost(i, j)

where ``cost(i, j)`` is the sum of squared errors of atoms ``i..j`` around
their common mean, computed in O(1) from prefix sums. The optimal ``i`` is a
non-decreasing function of ``j`` (the cost matrix is totally monotone,
Grønlund et al. 2017), which the divide-and-conquer evaluation below uses to
fill a layer in O(m log m) instead of O(m^2).
"""

import numpy as np

# Below this many atoms the full O(m^2) cost matrix is cheaper than the
# bookkeeping of divide and conquer.
_QUADRATIC_MAX_ATOMS = 512


class _PrefixCost:
    """Sum of squared errors of contiguous runs of atoms, from prefix sums.

    Values are shifted to the middle of their range and scaled by a power of
    two (exact in floating point) so that no square overflows, even for data
    near the float64 limits, and so that cancellation in ``Q - S**2 / W``
    stays small.
    """

    def __init__(self, weight, mean, scatter):
        low, high = mean[0], mean[-1]
        centre = low / 2 + high / 2
        half_span = high / 2 - low / 2
        exponent = np.frexp(half_span)[1] if half_span > 0 else 0
        self.scale = np.ldexp(1.0, -int(exponent))
        x = mean * self.scale - centre * self.scale
        zero = np.zeros(1)
        self.W = np.concatenate([zero, np.cumsum(weight)])
        self.S = np.concatenate([zero, np.cumsum(weight * x)])
        self.Q = np.concatenate(
            [zero, np.cumsum(scatter * self.scale**2 + weight * x * x)]
        )

    def matrix_by_end(self):
        """Scaled SSE of atoms ``i..j`` at ``[j, i]`` (``inf`` where
        ``i > j``, no run), laid out so that a DP layer's minima run along
        contiguous rows."""
        w = self.W[1:, None] - self.W[None, :-1]
        s = self.S[1:, None] - self.S[None, :-1]
        q = self.Q[1:, None] - self.Q[None, :-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            cost = q - s * s / w
        np.maximum(cost, 0.0, out=cost)
        atoms = np.arange(cost.shape[0])
        cost[atoms[None, :] > atoms[:, None]] = np.inf
        return cost

    def __call__(self, i, j):
        """Scaled SSE of atoms ``i..j`` (inclusive); arrays broadcast."""
        w = self.W[j + 1] - self.W[i]
        s = self.S[j + 1] - self.S[i]
        q = self.Q[j + 1] - self.Q[i]
        return np.maximum(q - s * s / w, 0.0)


def _layer_quadratic(cost_by_end, previous, first):
    """One DP layer by brute force; ``cost_by_end[j, i]`` is the cost of the
    run ``i..j``, so that each minimum is over a contiguous row."""
    m = cost_by_end.shape[0]
    shifted = np.full(m, np.inf)
    shifted[1:] = previous[:-1]
    total = cost_by_end + shifted
    best_start = np.argmin(total, axis=1)
    best = np.take_along_axis(total, best_start[:, None], axis=1)[:, 0]
    best[:first] = np.inf
    return best, best_start


def _layer_divide_and_conquer(cost, previous, first, m, lower):
    """One DP layer for columns ``first..m-1``, all branches of the
    divide-and-conquer recursion of one depth evaluated at once.

    ``lower[j]`` is the previous layer's optimal start for column ``j``, a
    lower bound of this layer's (one more cluster never starts the last one
    earlier), which narrows the candidates beyond the neighbours' bounds.
    """
    best = np.full(m, np.inf)
    best_start = np.zeros(m, dtype=np.intp)
    j_lo = np.array([first])
    j_hi = np.array([m - 1])
    i_lo = np.array([first])
    i_hi = np.array([m - 1])
    while j_lo.size:
        mid = (j_lo + j_hi) // 2
        start = np.maximum(i_lo, lower[mid])
        n_candidates = np.minimum(i_hi, mid) - start + 1
        offsets = np.cumsum(n_candidates) - n_candidates
        segment = np.repeat(np.arange(mid.size), n_candidates)
        i = start[segment] + np.arange(segment.size) - offsets[segment]
        j = mid[segment]
        values = previous[i - 1] + cost(i, j)
        seg_min = np.minimum.reduceat(values, offsets)
        # Leftmost minimiser of each segment.
        position = np.where(values <= seg_min[segment], np.arange(values.size), -1)
        position[position < 0] = values.size
        arg = np.minimum.reduceat(position, offsets)
        opt = i[arg]
        best[mid] = seg_min
        best_start[mid] = opt
        left = j_lo <= mid - 1
        right = mid + 1 <= j_hi
        j_lo, j_hi, i_lo, i_hi = (
            np.concatenate([j_lo[left], mid[right] + 1]),
            np.concatenate([mid[left] - 1, j_hi[right]]),
            np.concatenate([i_lo[left], opt[right]]),
            np.concatenate([opt[left], i_hi[right]]),
        )
    return best, best_start


def optimal_partition_1d(weight, mean, scatter, n_clusters):
    """Optimal partition of sorted weighted atoms into contiguous clusters.

    Parameters
    ----------
    weight : ndarray of shape (m,)
        Positive total weight of each atom.
    mean : ndarray of shape (m,)
        Mean of each atom, sorted in ascending order.
    scatter : ndarray of shape (m,)
        Weighted sum of squared deviations of each atom's values from its
        mean (zero for atoms that are single values).
    n_clusters : int
        Number of clusters, ``1 <= n_clusters <= m``.

    Returns
    -------
    starts : ndarray of shape (n_clusters,)
        Index of the first atom of each cluster; ``starts[0] == 0``.

    Notes
    -----
    Minimises the total within-cluster sum of squared errors exactly (up to
    floating-point rounding) over all partitions of the atoms into
    ``n_clusters`` contiguous runs, which for single-value atoms are all the
    partitions a 1-D k-means could produce.

    References
    ----------
    .. [1] H. Wang and M. Song, "Ckmeans.1d.dp: Optimal k-means clustering in
       one dimension by dynamic programming", The R Journal 3(2), 2011.
    .. [2] X. Wu, "Optimal quantization by matrix searching", Journal of
       Algorithms 12(4), 1991.
    .. [3] A. Grønlund et al., "Fast exact k-means, k-medians and Bregman
       divergence clustering in 1D", arXiv:1701.07204, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._kmeans1d import optimal_partition_1d
    >>> values = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> optimal_partition_1d(np.ones(5), values, np.zeros(5), 3)
    array([0, 2, 4])
    """
    m = mean.shape[0]
    if not 1 <= n_clusters <= m:
        raise ValueError(
            f"n_clusters must be between 1 and the number of atoms ({m}), "
            f"got {n_clusters}."
        )
    cost = _PrefixCost(weight, mean, scatter)
    atoms = np.arange(m)
    if m <= _QUADRATIC_MAX_ATOMS:
        cost_by_end = cost.matrix_by_end()
        best = cost_by_end[:, 0].copy()
    else:
        best = cost(np.zeros(m, dtype=np.intp), atoms)
    starts_by_layer = []
    best_start = np.zeros(m, dtype=np.intp)
    for layer in range(1, n_clusters):
        if m <= _QUADRATIC_MAX_ATOMS:
            best, best_start = _layer_quadratic(cost_by_end, best, layer)
        elif layer == n_clusters - 1:
            # The last layer is needed at the last column only.
            candidates = np.arange(max(layer, best_start[m - 1]), m)
            values = best[candidates - 1] + cost(candidates, m - 1)
            best_start = np.zeros(m, dtype=np.intp)
            best_start[m - 1] = candidates[np.argmin(values)]
        else:
            best, best_start = _layer_divide_and_conquer(
                cost, best, layer, m, best_start
            )
        starts_by_layer.append(best_start)
    starts = np.zeros(n_clusters, dtype=np.intp)
    end = m - 1
    for layer in range(n_clusters - 1, 0, -1):
        starts[layer] = starts_by_layer[layer - 1][end]
        end = starts[layer] - 1
    return starts
