"""Exact optimal 1-D k-means on weighted atoms.

The input is a sorted summary of scalar data: ``m`` atoms, each with a total
weight and a mean. The optimal partition of sorted 1-D data into ``k``
clusters is made of contiguous runs of atoms, and the cost of a run (the
weighted sum of squared deviations of its atoms' means from its own mean)
obeys the quadrangle inequality. (When an atom pools several values, their
scatter about the atom's mean adds the same to every partition: it changes
no choice.) Two exact algorithms use that:

- *Layers* (Wang & Song 2011; Grønlund et al. 2017): the dynamic programme
  ``D[l, j] = min_i D[l - 1, i - 1] + cost(i, j)``, each layer by divide and
  conquer over its monotone optimal starts, in ``O(k m log m)`` time and
  ``k m`` numbers of memory; each layer is solved only at the columns the
  next one reads (with ``k`` clusters, layer ``l`` at about the last
  ``1 - (l + 1) / k`` of them).
- *Lagrangian* (Aggarwal, Schieber & Tokuyama 1994; Grønlund et al. 2017):
  the optimal cost as a function of ``k`` is convex, so for some penalty
  ``λ`` per cluster the unconstrained minimum of ``cost + λ k`` has ``k``
  clusters. Each penalty is solved in ``O(m log m)`` time and ``O(m)``
  memory whatever ``k``; the penalty is found by secant steps between the
  two nearest solutions known on either side of ``k``, and when ``k`` lies
  strictly between two solutions that are optimal for the same penalty, one
  with exactly ``k`` clusters is spliced from them.
- *One scan* for two clusters: the cost of every prefix and every suffix,
  one atom merged at a time, in ``O(m)`` time.

Run costs come from a table of run statistics merged pairwise
(``skvq._kmeans1d_dp``), never from differences of prefix sums, and about an
anchor inside the run, so their rounding errors are relative to the run's
own spread, for any finite data and any positive weights: the partition
found is optimal up to float rounding of the costs it compares.
"""

import numpy as np

from ._kmeans1d_dp import (
    build_run_table,
    partition_by_layers,
    partition_with_penalty,
    run_costs,
    split_in_two,
)
from ._openmp_helpers import effective_n_threads

# The layered programme runs for up to this many clusters, or this many
# clusters times atoms (every 8-bit image: well under a millisecond), the
# Lagrangian search otherwise: the layered one's time and memory grow with
# the number of clusters, the Lagrangian's do not (on 55,000 atoms, one
# thread: layers 20.6 ms against 33.7 at 16 clusters, 35 against 39 at 24,
# 100 against 44 at 64; at 20 clusters the layers keep about 22 MB).
_LAYERS_MAX_CLUSTERS = 20
# Two clusters come from one scan each way, without the table (on 55,000
# atoms the table alone takes 2.5 ms, the scans 0.3 ms).
_SCAN_MAX_CLUSTERS = 2
_LAYERS_MAX_CELLS = 1 << 16


def _run_table(weight, mean):
    m = weight.shape[0]
    n_levels = max(1, int(m - 1).bit_length())
    table = np.empty((n_levels, 3, m))
    build_run_table(
        np.ascontiguousarray(weight, dtype=np.float64),
        np.ascontiguousarray(mean, dtype=np.float64),
        table,
    )
    return table


def _sse(table, starts):
    """Total cost of the partition whose clusters start at ``starts``."""
    m = table.shape[2]
    first = np.asarray(starts, dtype=np.intp)
    last = np.append(first[1:], m) - 1
    cost = np.empty(first.shape[0])
    run_costs(table, first, last, cost)
    return float(np.sum(cost))


def _by_layers(table, n_clusters):
    m = table.shape[2]
    starts_by_layer = np.empty((n_clusters - 1, m), dtype=np.int32)
    partition_by_layers(
        table,
        starts_by_layer,
        np.empty((2, m)),
        np.empty((2, m), dtype=np.int32),
        effective_n_threads(),
    )
    starts = np.zeros(n_clusters, dtype=np.intp)
    end = m - 1
    for layer in range(n_clusters - 1, 0, -1):
        starts[layer] = starts_by_layer[layer - 1, end]
        end = starts[layer] - 1
    return starts


class _PenalisedSolver:
    """Optimal partitions of all atoms for a cost ``λ`` per cluster."""

    def __init__(self, table):
        self.table = table
        m = table.shape[2]
        self._start = np.empty(m + 1, dtype=np.intp)
        self._total = np.empty(m + 1)
        self._work = [np.empty(m + 1, dtype=np.intp) for _ in range(3)]

    def __call__(self, penalty):
        """Starts of the clusters of an optimal partition, and its cost."""
        n = partition_with_penalty(
            self.table, penalty, self._start, self._total, *self._work
        )
        starts = np.empty(n, dtype=np.intp)
        p = self.table.shape[2]
        for c in range(n - 1, -1, -1):
            p = starts[c] = self._start[p]
        return starts, _sse(self.table, starts)


def _splice(fewer, more, n_clusters):
    """A partition into ``n_clusters`` runs from two optimal partitions for
    the same penalty with fewer and more clusters.

    With cluster boundaries ``p_0 < ... < p_s`` and ``q_0 < ... < q_t``
    (``s < n < t``, ``d = n - s``), take the first ``i >= d`` where
    ``q_{i+1} <= p_{i-d+1}``: then ``p_{i-d} <= q_i`` too, and
    ``q_0..q_i, p_{i-d+1}..p_s`` has ``n`` runs. Exchanging the two nested
    runs for the two crossing ones costs no more (quadrangle inequality), so
    it and its complement are optimal for the penalty as well
    (Aggarwal, Schieber & Tokuyama 1994).
    """
    s = len(fewer)
    d = n_clusters - s
    # The last boundary, m, is beyond every start.
    p = np.append(fewer, np.iinfo(np.intp).max)
    q = np.append(more, np.iinfo(np.intp).max)
    i = d
    while i < n_clusters - 1 and not q[i + 1] <= p[i - d + 1]:
        i += 1
    return np.concatenate([q[: i + 1], p[i - d + 1 : s]])


def _by_penalty(table, n_clusters):
    solve = _PenalisedSolver(table)
    m = table.shape[2]
    # One cluster, and one cluster per atom: the two ends of the search.
    fewer = np.zeros(1, dtype=np.intp)
    more = np.arange(m, dtype=np.intp)
    fewer_cost, more_cost = _sse(table, fewer), _sse(table, more)
    while True:
        s, t = len(fewer), len(more)
        # The penalty at which both are equally good; if no partition beats
        # them there, both are optimal for it.
        penalty = max((fewer_cost - more_cost) / (t - s), 0.0)
        starts, cost = solve(penalty)
        n = len(starts)
        if n == n_clusters:
            return starts
        if n <= s or n >= t or not (cost - fewer_cost) + penalty * (n - s) < 0:
            return _splice(fewer, more, n_clusters)
        if n < n_clusters:
            fewer, fewer_cost = starts, cost
        else:
            more, more_cost = starts, cost


def optimal_partition_1d(weight, mean, n_clusters):
    """Optimal partition of sorted weighted atoms into contiguous clusters.

    Parameters
    ----------
    weight : ndarray of shape (m,)
        Positive, finite total weight of each atom.
    mean : ndarray of shape (m,)
        Finite mean of each atom, sorted in ascending order.
    n_clusters : int
        Number of clusters, ``1 <= n_clusters <= m``.

    Returns
    -------
    starts : ndarray of shape (n_clusters,)
        Index of the first atom of each cluster; ``starts[0] == 0``.

    Notes
    -----
    Minimises the total within-cluster sum of squared errors, up to float
    rounding of the run costs, over all partitions of the atoms into
    ``n_clusters`` contiguous runs, which for single-value atoms are all
    the partitions a 1-D k-means could produce. Weights and values are
    rescaled by powers of two (exactly) so that nothing overflows: the
    largest weight to 1, the largest magnitude to ``2**480``. Costs below
    float64's smallest number in these units (about ``2**-1970`` times the
    total weight times the largest squared magnitude, as for values one
    ulp apart among values ``1e300`` times larger) count as zero.

    Two clusters come from one scan from each end, which rounds every run
    cost relative to the run's own spread (with an error growing with the
    number of atoms, not its logarithm as the table's). Otherwise, with at
    most 20 clusters, or at most 2**16 clusters times atoms (every 8-bit
    image), the layered programme runs. Both are exact up to rounding of
    the costs they compare. Beyond, the Lagrangian search runs, which
    compares penalised costs: exact up to rounding relative to the penalty
    times the number of clusters, which is below rounding of the optimal
    cost itself unless the optimum falls by many orders of magnitude from
    ``n_clusters - 1`` to ``n_clusters`` clusters (weights spanning more
    than about ``1e12``).

    References
    ----------
    .. [1] H. Wang and M. Song, "Ckmeans.1d.dp: Optimal k-means clustering in
       one dimension by dynamic programming", The R Journal 3(2), 2011.
    .. [2] A. Aggarwal, B. Schieber and T. Tokuyama, "Finding a minimum-weight
       k-link path in graphs with the concave Monge property and
       applications", Discrete & Computational Geometry 12, 1994.
    .. [3] A. Grønlund et al., "Fast exact k-means, k-medians and Bregman
       divergence clustering in 1D", arXiv:1701.07204, 2017.
    .. [4] T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and a
       pairwise algorithm for computing sample variances", 1979.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._kmeans1d import optimal_partition_1d
    >>> values = np.array([0.0, 1.0, 10.0, 11.0, 30.0])
    >>> optimal_partition_1d(np.ones(5), values, 3)
    array([0, 2, 4])
    """
    m = mean.shape[0]
    if not 1 <= n_clusters <= m:
        raise ValueError(
            f"n_clusters must be between 1 and the number of atoms ({m}), "
            f"got {n_clusters}."
        )
    if n_clusters == 1:
        return np.zeros(1, dtype=np.intp)
    if n_clusters == m:
        return np.arange(m, dtype=np.intp)
    # Powers of two bring the largest weight to 1 and the largest magnitude
    # of the values to 2**480, exactly: products of weights and squared
    # differences then neither overflow nor, as far as float64 allows,
    # underflow.
    weight_exponent = int(np.frexp(np.max(weight))[1])
    largest = max(abs(mean[0]), abs(mean[-1]))
    value_exponent = int(np.frexp(largest)[1]) - 480 if largest > 0 else 0
    weight = np.ldexp(np.asarray(weight, dtype=np.float64), -weight_exponent)
    mean = np.ldexp(np.asarray(mean, dtype=np.float64), -value_exponent)
    if n_clusters <= _SCAN_MAX_CLUSTERS:
        return np.array([0, split_in_two(weight, mean, np.empty(m))], dtype=np.intp)
    table = _run_table(weight, mean)
    if n_clusters <= _LAYERS_MAX_CLUSTERS or n_clusters * m <= _LAYERS_MAX_CELLS:
        return _by_layers(table, n_clusters)
    return _by_penalty(table, n_clusters)
