"""The exact minimum MSE of 1-D k-means on an integer image, computed from its
histogram by dynamic programming, written here independently of skvq so
that the benchmarks can check skvq's claim of reaching the optimum.

For sorted distinct values ``v_0 < ... < v_{n-1}`` with counts ``w_i``, an
optimal quantizer with ``k`` levels partitions them into ``k`` runs of
consecutive values (Fisher, 1958); the cost of a run is its weighted sum of
squared deviations from its mean. ``D[j][b]``, the least cost of the first
``b`` values in ``j`` runs, satisfies ``D[j][b] = min_a D[j-1][a] + cost(a, b)``.
"""

import numpy as np


def histogram(image):
    """Sorted distinct values of an integer image and how often each occurs."""
    counts = np.bincount(np.asarray(image).ravel())
    values = np.flatnonzero(counts)
    return values.astype(np.float64), counts[values].astype(np.float64)


class _RunCost:
    """cost(a, b): sum of squared deviations of values a..b-1 from their mean."""

    def __init__(self, values, weights):
        # Centring keeps the prefix sums of squares small, so the subtraction
        # in __call__ loses little precision even for 16-bit values.
        centred = values - np.average(values, weights=weights)
        self.w = np.concatenate([[0.0], np.cumsum(weights)])
        self.s = np.concatenate([[0.0], np.cumsum(weights * centred)])
        self.q = np.concatenate([[0.0], np.cumsum(weights * centred**2)])

    def __call__(self, a, b):
        w = self.w[b] - self.w[a]
        s = self.s[b] - self.s[a]
        return np.maximum(self.q[b] - self.q[a] - s * s / w, 0.0)


def optimal_mse_quadratic(values, weights, n_bins):
    """Exact minimum MSE by the plain O(k n^2) dynamic programme.

    Fine for 8-bit images (n <= 256 distinct values).
    """
    n = len(values)
    if n <= n_bins:
        return 0.0
    cost = _RunCost(values, weights)
    a, b = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    valid = a < b
    run_cost = np.full((n + 1, n + 1), np.inf)
    run_cost[valid] = cost(a[valid], b[valid])
    best = run_cost[0].copy()  # one run: the first b values
    for _ in range(n_bins - 1):
        best = np.min(best[:, None] + run_cost, axis=0)
    return float(best[n] / cost.w[-1])


def optimal_mse_divide_and_conquer(values, weights, n_bins):
    """Exact minimum MSE in O(k n log n), for 16-bit images.

    The cost of runs satisfies the quadrangle inequality, so the best split
    point ``a`` of ``D[j][b]`` does not decrease with ``b``; each layer is then
    solved by divide and conquer over ``b`` (compute the middle ``b``'s best
    ``a``, which bounds the searches of the two halves). The recursion is run
    level by level, all of a level's subproblems in one vectorised step.
    """
    n = len(values)
    if n <= n_bins:
        return 0.0
    cost = _RunCost(values, weights)
    ends = np.arange(1, n + 1)
    previous = np.concatenate([[np.inf], cost(np.zeros_like(ends), ends)])
    for layer in range(2, n_bins + 1):
        current = np.full(n + 1, np.inf)
        # Subproblems: b in [b_lo, b_hi], best a searched in [a_lo, a_hi].
        b_lo = np.array([layer])
        b_hi = np.array([n])
        a_lo = np.array([layer - 1])
        a_hi = np.array([n - 1])
        while len(b_lo):
            mid = (b_lo + b_hi) // 2
            last = np.minimum(a_hi, mid - 1)
            lengths = last - a_lo + 1
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            owner = np.repeat(np.arange(len(mid)), lengths)
            a = np.arange(lengths.sum()) - np.repeat(starts - a_lo, lengths)
            b = mid[owner]
            candidate = previous[a] + cost(a, b)
            minimum = np.minimum.reduceat(candidate, starts)
            positions = np.where(
                candidate == minimum[owner], np.arange(len(candidate)), len(candidate)
            )
            best_a = a[np.minimum.reduceat(positions, starts)]
            current[mid] = minimum
            left = b_lo <= mid - 1
            right = mid + 1 <= b_hi
            b_lo, b_hi, a_lo, a_hi = (
                np.concatenate([b_lo[left], mid[right] + 1]),
                np.concatenate([mid[left] - 1, b_hi[right]]),
                np.concatenate([a_lo[left], best_a[right]]),
                np.concatenate([best_a[left], a_hi[right]]),
            )
        previous = current
    return float(previous[n] / cost.w[-1])


def optimal_mse(image, n_bins):
    """Exact minimum MSE of quantizing an integer image to ``n_bins`` levels."""
    values, weights = histogram(image)
    if len(values) <= 256:
        return optimal_mse_quadratic(values, weights, n_bins)
    return optimal_mse_divide_and_conquer(values, weights, n_bins)
