"""Kernels of the exact 1-D k-means: run statistics and dynamic programming.

The data are ``m`` sorted atoms, each with a weight and a mean. The cost of
a *run* of atoms ``i..j`` (inclusive) is the weighted sum of squared
deviations of their means from the run's mean. (An atom's own scatter, when
it pools several values, adds the same to every partition, so it does not
enter the search.)

Costs are never taken as differences of prefix sums (``Q - S**2 / W``
cancels catastrophically when a few values lie far from the others). A run's
weight, mean and scatter are merged from two precomputed parts by the
pairwise update of Chan, Golub and LeVeque (1979)::

    W = Wa + Wb,  mean = ma + (mb - ma) * Wb / W,
    scatter = Sa + Sb + (mb - ma)**2 * Wa * Wb / W

whose terms are all non-negative, so the cost of every run has a small
relative error whatever the spread of the data. The parts come from a
*disjoint sparse table*: at level ``h`` the atoms are cut into blocks of
``2**(h + 1)``, and ``table[h, i]`` holds the statistics from ``i`` to the
middle of its block (left half) or from the middle to ``i`` (right half).
A run ``i < j`` is the merge of ``table[h, i]`` and ``table[h, j]`` for the
highest bit ``h`` of ``i ^ j``: O(1) per run, ``O(m log m)`` memory.

Each half is built one atom at a time outwards from the middle ``c``,
keeping two distances of the run's mean, both non-negative: from the atom
added last (the gap to the next atom is this plus the step between the two
atoms, a sum of terms of one sign) and from the atom beside the middle
(``c - 1`` on the left, ``c`` on the right; it is updated as a weighted
average of its old value and the new atom's distance, two terms of one
sign). So no difference of two large numbers is ever taken: the rounding
error of every weight, mean and cost is relative to its own size, however
far or light the run's other atoms (a far value of tiny weight in a run of
heavy ones moves neither their mean nor their scatter). The means stored
are offsets from atom ``c - 1``: minus the distance on the left, the
distance plus ``mean[c] - mean[c - 1]`` on the right, so the gap between
the two parts of a run is again a sum of three terms of one sign.

The table is stored field by field (``table[h, 0]`` the weights,
``table[h, 1]`` the offsets, ``table[h, 2]`` the costs), so that the loop
over the starts of a column reads three contiguous arrays and compiles to
vector instructions.

The callers (``skvq._kmeans1d``) validate every argument; nothing is checked
here.
"""

import numpy as np

from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY

cdef extern from *:
    """
    /* Index of the highest set bit of a non-zero x. */
    #if defined(_MSC_VER)
    #include <intrin.h>
    static inline Py_ssize_t skvq_highest_bit(unsigned long long x) {
        unsigned long index;
        _BitScanReverse64(&index, x);
        return (Py_ssize_t)index;
    }
    #else
    static inline Py_ssize_t skvq_highest_bit(unsigned long long x) {
        return 63 - __builtin_clzll(x);
    }
    #endif
    """
    Py_ssize_t skvq_highest_bit(unsigned long long x) noexcept nogil


cdef struct Run:
    double weight
    double mean
    double scatter


cdef inline Run _merge(Run a, Run b) noexcept nogil:
    """Statistics of the union of two disjoint runs (Chan et al. 1979)."""
    cdef Run out
    cdef double gap = b.mean - a.mean
    cdef double share
    out.weight = a.weight + b.weight
    share = b.weight / out.weight
    out.mean = a.mean + gap * share
    out.scatter = a.scatter + b.scatter + gap * gap * (a.weight * share)
    return out


cdef inline Run _entry(const double[:, :, ::1] table, Py_ssize_t level,
                       Py_ssize_t i) noexcept nogil:
    cdef Run out
    out.weight = table[level, 0, i]
    out.mean = table[level, 1, i]
    out.scatter = table[level, 2, i]
    return out


cdef inline void _store(double[:, :, ::1] table, Py_ssize_t level,
                        Py_ssize_t i, double weight, double mean,
                        double scatter) noexcept nogil:
    table[level, 0, i] = weight
    table[level, 1, i] = mean
    table[level, 2, i] = scatter


cdef inline double _cost(const double[:, :, ::1] table, Py_ssize_t i,
                         Py_ssize_t j) noexcept nogil:
    """Cost of the run of atoms ``i..j`` (``i <= j``)."""
    if i == j:
        return 0.0
    cdef Py_ssize_t level = skvq_highest_bit(<unsigned long long>(i ^ j))
    return _merge(_entry(table, level, i), _entry(table, level, j)).scatter


def build_run_table(
    const double[::1] weight,    # IN
    const double[::1] mean,      # IN
    double[:, :, ::1] table,     # OUT
):
    """Fill the disjoint sparse table of run statistics.

    Parameters
    ----------
    weight, mean : ndarray of shape (m,)
        Positive weights and ascending means of the atoms.
    table : ndarray of shape (n_levels, 3, m)
        Written: with ``c`` the middle of the block of ``2**(h + 1)`` atoms
        holding ``i``, ``table[h, :, i]`` is (weight, -(mean[c - 1] - mean),
        cost) of atoms ``i..c-1`` when ``i < c``, and (weight,
        (mean - mean[c]) + (mean[c] - mean[c - 1]), cost) of atoms ``c..i``
        otherwise, each distance computed as a sum of non-negative terms. ``n_levels`` is at least 1 and at least the bit length of
        ``m - 1``.
    """
    cdef Py_ssize_t m = weight.shape[0]
    cdef Py_ssize_t n_levels = table.shape[0]
    cdef Py_ssize_t level, half, start, middle, stop, i
    cdef double step, total, merged, share, gap, inner, outer, scatter
    with nogil:
        for level in range(n_levels):
            half = (<Py_ssize_t>1) << level
            start = 0
            while start < m:
                middle = min(start + half, m)
                stop = min(start + 2 * half, m)
                # Left half, from the middle outwards. ``inner`` is the
                # run's mean minus its first atom, ``outer`` atom
                # ``middle - 1`` minus the run's mean: both at least 0.
                i = middle - 1
                total = weight[i]
                inner = 0.0
                outer = 0.0
                scatter = 0.0
                _store(table, level, i, total, -outer, scatter)
                i -= 1
                while i >= start:
                    gap = inner + (mean[i + 1] - mean[i])
                    merged = total + weight[i]
                    share = total / merged
                    scatter = scatter + gap * gap * (weight[i] * share)
                    inner = gap * share
                    outer = (
                        outer * share
                        + (mean[middle - 1] - mean[i]) * (weight[i] / merged)
                    )
                    total = merged
                    _store(table, level, i, total, -outer, scatter)
                    i -= 1
                if middle == stop:
                    start += 2 * half
                    continue
                # Right half, likewise: ``inner`` is its last atom minus the
                # run's mean, ``outer`` the run's mean minus atom ``middle``.
                step = mean[middle] - mean[middle - 1]
                total = weight[middle]
                inner = 0.0
                outer = 0.0
                scatter = 0.0
                _store(table, level, middle, total, outer + step, scatter)
                for i in range(middle + 1, stop):
                    gap = inner + (mean[i] - mean[i - 1])
                    merged = total + weight[i]
                    share = total / merged
                    scatter = scatter + gap * gap * (weight[i] * share)
                    inner = gap * share
                    outer = (
                        outer * share
                        + (mean[i] - mean[middle]) * (weight[i] / merged)
                    )
                    total = merged
                    _store(table, level, i, total, outer + step, scatter)
                start += 2 * half


def run_costs(
    const double[:, :, ::1] table,   # IN
    const Py_ssize_t[::1] first,     # IN
    const Py_ssize_t[::1] last,      # IN
    double[::1] cost,                # OUT
):
    """``cost[r]`` = cost of the run of atoms ``first[r]..last[r]``."""
    cdef Py_ssize_t r
    with nogil:
        for r in range(first.shape[0]):
            cost[r] = _cost(table, first[r], last[r])


cdef inline Run _add_atom(Run run, double weight) noexcept nogil:
    """The union of a run, its mean an offset from an atom outside it, and
    that atom of weight ``weight``; its mean an offset from the same atom.

    The new offset is the old one times the run's share of the weight: a
    product, with no cancellation whatever the weights.
    """
    cdef Run out
    out.weight = run.weight + weight
    out.mean = run.mean * (run.weight / out.weight)
    out.scatter = run.scatter + run.mean * run.mean * (run.weight * (weight / out.weight))
    return out


def split_in_two(
    const double[::1] weight,    # IN
    const double[::1] mean,      # IN
    double[::1] prefix_cost,     # WORK
):
    """Start of the second cluster of an optimal partition into two runs.

    One scan from the left gives the cost of every run ``0..i``, one from
    the right the cost of every run ``i..m-1``, adding one atom at a time.
    The run's mean is kept as an offset from the atom added last: moving
    the anchor to the next atom adds the gap between the two (a sum of
    terms of one sign), and adding the atom scales the offset by the run's
    share of the weight. So every step rounds relative to the run's own
    distances, as in :func:`build_run_table`, and the rounding of a cost
    grows at most with the number of atoms (in practice with its square
    root): about ``m`` times float64's epsilon, against ``log2(m)`` for
    the table, in ``O(m)`` time and no table.

    Parameters
    ----------
    weight, mean : ndarray of shape (m,)
        Positive weights and ascending means of the atoms, ``m >= 2``.
    prefix_cost : ndarray of shape (m,)
        Work space: the cost of each run ``0..i``.

    Returns
    -------
    start : int
        The ``i`` in ``1..m-1`` minimising ``cost(0, i - 1) + cost(i, m - 1)``.
    """
    cdef Py_ssize_t m = weight.shape[0]
    cdef Py_ssize_t i, best = m - 1
    cdef double value, smallest
    cdef Run run
    with nogil:
        run.weight = weight[0]
        run.mean = 0.0
        run.scatter = 0.0
        prefix_cost[0] = 0.0
        for i in range(1, m - 1):
            # Offsets are run mean minus anchor: at most 0 here.
            run.mean = run.mean - (mean[i] - mean[i - 1])
            run = _add_atom(run, weight[i])
            prefix_cost[i] = run.scatter
        run.weight = weight[m - 1]
        run.mean = 0.0
        run.scatter = 0.0
        smallest = prefix_cost[m - 2]
        i = m - 2
        while i >= 1:
            # At least 0 here.
            run.mean = run.mean + (mean[i + 1] - mean[i])
            run = _add_atom(run, weight[i])
            value = prefix_cost[i - 1] + run.scatter
            if value < smallest:
                smallest = value
                best = i
            i -= 1
    return best


cdef struct Layer:
    # What one layer of the layered programme reads and writes, as plain
    # pointers: its divide and conquer makes one call per column, and
    # memoryview arguments would be copied into each.
    const double* table     # the run table, (n_levels, 3, m), C order
    Py_ssize_t m
    const double* previous  # D of the layer before, by column
    double* current         # D of this layer, written
    int* starts             # optimal start of the last cluster, written
    const int* earliest_previous  # the layer before's first start within rounding
    int* earliest_current   # this layer's, written
    int* latest_current     # its last start within rounding, written
    bint bounded            # whether earliest_previous bounds the starts


cdef void _candidates(
    const Layer* state,
    Py_ssize_t j,
    Py_ssize_t first,
    Py_ssize_t last,
    double* values,
) noexcept nogil:
    """``values[i] = previous[i - 1] + cost(i, j)`` for ``first <= i <= last
    <= j``, level by level: the runs ``i..j`` whose highest differing bit is
    ``h`` start in one range of ``i`` and share their right part
    ``table[h, :, j]``, so the loop over such ``i`` reads the left parts'
    three fields in order and nothing else. It computes what :func:`_merge`
    does, operation for operation, so the values equal :func:`_cost`'s."""
    cdef Py_ssize_t i = last, level, stop, start
    cdef double right_weight, right_mean, right_scatter, weight, gap
    cdef const double* left_weight
    cdef const double* left_mean
    cdef const double* left_scatter
    cdef const double* previous = state.previous
    cdef Py_ssize_t m = state.m
    if i == j:
        values[i] = previous[i - 1]
        i -= 1
    while i >= first:
        level = skvq_highest_bit(<unsigned long long>(i ^ j))
        left_weight = state.table + 3 * level * m
        left_mean = left_weight + m
        left_scatter = left_mean + m
        right_weight = left_weight[j]
        right_mean = left_mean[j]
        right_scatter = left_scatter[j]
        # The first i with the same highest differing bit.
        stop = max(first, (j >> (level + 1)) << (level + 1))
        for start in range(stop, i + 1):
            gap = right_mean - left_mean[start]
            weight = left_weight[start] + right_weight
            values[start] = previous[start - 1] + (
                left_scatter[start] + right_scatter
                + gap * gap * (left_weight[start] * (right_weight / weight))
            )
        i = stop - 1


cdef inline double _smallest(const double* values, Py_ssize_t first,
                             Py_ssize_t last) noexcept nogil:
    """The smallest of ``values[first..last]``, by four independent running
    minima: the loop's speed is not bound by the latency of one chain of
    comparisons (on 55,000 atoms, a quarter of each layer's time)."""
    cdef double a = INFINITY, b = INFINITY, c = INFINITY, d = INFINITY
    cdef Py_ssize_t i = first
    while i + 3 <= last:
        a = values[i] if values[i] < a else a
        b = values[i + 1] if values[i + 1] < b else b
        c = values[i + 2] if values[i + 2] < c else c
        d = values[i + 3] if values[i + 3] < d else d
        i += 4
    while i <= last:
        a = values[i] if values[i] < a else a
        i += 1
    a = b if b < a else a
    c = d if d < c else c
    return c if c < a else a


# Two candidate values within this relative distance of each other may be
# ordered either way by rounding; see _layer.
cdef double _ROUNDING_TOLERANCE = 2.0 ** -40


cdef void _column(
    const Layer* state,
    double* values,
    Py_ssize_t j,
    Py_ssize_t i_lo,
    Py_ssize_t i_hi,
    Py_ssize_t* first_near,
    Py_ssize_t* last_near,
) noexcept nogil:
    """Optimum of column ``j`` of one layer over the starts ``i_lo..i_hi``
    (and at or after the previous layer's earliest), written to the layer's
    ``current``, ``starts`` and ``earliest_current``; the first and last
    starts within rounding of it go to ``first_near`` and ``last_near``.

    Rounding can make a candidate look best that is only within rounding of
    the best, and a bound taken from it could then cut off the true optimum
    of another column. So the bounds passed on are the first and last
    candidates within rounding of the minimum (the columns to the left are
    searched up to the last, those to the right from the first, the next
    layer from the first), a range that holds the exact optimum.
    """
    cdef Py_ssize_t i, first, last, arg
    cdef double smallest, near
    last = min(i_hi, j)
    first = i_lo
    if state.bounded:
        first = max(first, state.earliest_previous[j])
    first = min(first, last)
    _candidates(state, j, first, last, values)
    smallest = _smallest(values, first, last)
    near = smallest + smallest * _ROUNDING_TOLERANCE
    # The first start within rounding, then the first at the minimum (the
    # first found by a strict comparison), then the last within rounding.
    i = first
    while values[i] > near:
        i += 1
    first_near[0] = i
    while values[i] != smallest:
        i += 1
    arg = i
    i = last
    while values[i] > near:
        i -= 1
    last_near[0] = i
    state.current[j] = smallest
    state.starts[j] = <int>arg
    state.earliest_current[j] = <int>first_near[0]
    state.latest_current[j] = <int>last_near[0]


cdef void _subtree(
    const Layer* state,
    double* values,
    Py_ssize_t j_lo, Py_ssize_t j_hi, Py_ssize_t i_lo, Py_ssize_t i_hi,
) noexcept nogil:
    """Divide and conquer over the columns ``j_lo..j_hi`` of one layer,
    whose optimal starts lie in ``i_lo..i_hi`` (they do not decrease with
    the column) and at or after the previous layer's: the middle column's
    optimum bounds the starts of the two halves."""
    cdef Py_ssize_t middle, first_near = 0, last_near = 0
    while j_lo <= j_hi:
        middle = (j_lo + j_hi) // 2
        _column(state, values, middle, i_lo, i_hi, &first_near, &last_near)
        # Recurse on the left, loop on the right.
        _subtree(state, values, j_lo, middle - 1, i_lo, last_near)
        j_lo = middle + 1
        i_lo = first_near


cdef void _layer(
    const double[:, :, ::1] table,
    double[:, ::1] cost,
    int[:, ::1] starts,
    int[:, ::1] earliest,
    int[::1] latest,
    double[:, ::1] values,
    Py_ssize_t[:, :, ::1] nodes,
    Py_ssize_t layer,
    Py_ssize_t j_lo, Py_ssize_t j_hi, Py_ssize_t i_lo, Py_ssize_t i_hi,
    int n_threads,
) noexcept nogil:
    """Columns ``j_lo..j_hi`` of one layer: :func:`_subtree` over them, on
    up to ``n_threads`` threads. Layer ``layer`` reads rows ``layer - 1``
    and writes rows ``layer`` of ``cost`` and ``earliest``, and writes
    ``starts[layer - 1]``, and each column's last start within rounding to
    ``latest``.

    On several threads, the top of the recursion runs breadth first until
    there are at least 4 nodes (ranges of columns with the range of their
    starts) per thread; the nodes are independent, and are then solved
    depth first, in one parallel loop, each thread with its own row of
    ``values``. Every node gets the bounds it would get on one thread, so
    the result is the same for any thread count. ``nodes[d]`` holds the
    (j_lo, j_hi, i_lo, i_hi) of the nodes of the current (``d = 0``) and
    next (``d = 1``) depth.
    """
    cdef Py_ssize_t n_nodes = 1, n_next, node, middle, k, c
    cdef Py_ssize_t first_near = 0, last_near = 0
    cdef Py_ssize_t* current = &nodes[0, 0, 0]
    cdef Py_ssize_t* following = &nodes[1, 0, 0]
    cdef Py_ssize_t* swap
    cdef Layer state
    state.table = &table[0, 0, 0]
    state.m = table.shape[2]
    state.previous = &cost[layer - 1, 0]
    state.current = &cost[layer, 0]
    state.starts = &starts[layer - 1, 0]
    state.earliest_previous = &earliest[layer - 1, 0]
    state.earliest_current = &earliest[layer, 0]
    state.latest_current = &latest[0]
    state.bounded = layer > 1
    # A piece of a few columns (a layer's first column alone, say) is not
    # worth a parallel region, whose start waits for every thread.
    if n_threads == 1 or j_hi - j_lo < 4096:
        _subtree(&state, &values[0, 0], j_lo, j_hi, i_lo, i_hi)
        return
    current[0], current[1], current[2], current[3] = j_lo, j_hi, i_lo, i_hi
    while 0 < n_nodes < 4 * n_threads:
        # Children go to slots 2 * node and 2 * node + 1 (an empty range of
        # columns when there is none), then are packed.
        for node in range(n_nodes):
            middle = (current[4 * node] + current[4 * node + 1]) // 2
            _column(
                &state, &values[0, 0], middle, current[4 * node + 2],
                current[4 * node + 3], &first_near, &last_near,
            )
            following[8 * node] = current[4 * node]
            following[8 * node + 1] = middle - 1
            following[8 * node + 2] = current[4 * node + 2]
            following[8 * node + 3] = last_near
            following[8 * node + 4] = middle + 1
            following[8 * node + 5] = current[4 * node + 1]
            following[8 * node + 6] = first_near
            following[8 * node + 7] = current[4 * node + 3]
        n_next = 0
        for k in range(2 * n_nodes):
            if following[4 * k] <= following[4 * k + 1]:
                for c in range(4):
                    following[4 * n_next + c] = following[4 * k + c]
                n_next += 1
        swap = current
        current = following
        following = swap
        n_nodes = n_next
    for node in prange(n_nodes, schedule="dynamic", num_threads=n_threads):
        _subtree(
            &state, &values[threadid(), 0], current[4 * node],
            current[4 * node + 1], current[4 * node + 2], current[4 * node + 3],
        )


cdef void _solve_from(
    const double[:, :, ::1] table,
    double[:, ::1] cost,
    int[:, ::1] starts,
    int[:, ::1] earliest,
    int[:, ::1] latest,
    double[:, ::1] values,
    Py_ssize_t[:, :, ::1] nodes,
    Py_ssize_t* solved_from,
    Py_ssize_t layer,
    Py_ssize_t column,
    int n_threads,
) noexcept nogil:
    """Solve layer ``layer`` at every column from ``column`` on, and the
    layers before it where it reads them.

    Column ``j`` of a layer reads the layer before at its columns from
    ``earliest[layer - 1, j] - 1`` on only (its exact optimum is at or after
    the previous layer's first start within rounding), so the layer before
    is solved first from ``column`` on, then from the smallest of those
    bounds. ``solved_from[l]`` is the first column solved of layer ``l``;
    each call extends it downwards: its first column alone, then the rest
    by divide and conquer, their starts bounded by that column's first and
    the next solved column's last start within rounding, as if the layer
    were solved in one piece.
    """
    cdef Py_ssize_t m = table.shape[2]
    cdef Py_ssize_t last = solved_from[layer] - 1, j, bound, i_hi
    column = max(column, layer)
    if layer == 0 or column > last:
        return
    if layer > 1:
        _solve_from(table, cost, starts, earliest, latest, values, nodes,
                    solved_from, layer - 1, column, n_threads)
        bound = m
        for j in range(column, last + 1):
            bound = min(bound, <Py_ssize_t>earliest[layer - 1, j])
        _solve_from(table, cost, starts, earliest, latest, values, nodes,
                    solved_from, layer - 1, bound - 1, n_threads)
    i_hi = m - 1 if last == m - 1 else latest[layer, last + 1]
    _layer(table, cost, starts, earliest, latest[layer], values, nodes, layer,
           column, column, layer, i_hi, n_threads)
    if column < last:
        _layer(table, cost, starts, earliest, latest[layer], values, nodes,
               layer, column + 1, last, earliest[layer, column], i_hi, n_threads)
    solved_from[layer] = column


def partition_by_layers(
    const double[:, :, ::1] table,   # IN
    int[:, ::1] starts,              # OUT
    double[:, ::1] cost,             # OUT
    int[:, ::1] earliest,            # OUT
    int n_threads=1,
):
    """Optimal partitions of prefixes of the atoms, layer by layer, where
    the partition of all atoms needs them.

    Layer ``l`` (``l + 1`` clusters) is ``D[l, j] = min_{l <= i <= j}
    D[l - 1, i - 1] + cost(i, j)``; its optimal ``i`` does not decrease
    with ``j`` (the costs obey the quadrangle inequality) nor with ``l``,
    so each layer takes ``O(m log m)`` cost evaluations at most. The last
    layer is solved at the last column only, and each layer before it only
    at the columns the next one reads (from its first start within
    rounding of each column on): with ``k`` clusters, layer ``l`` at about
    the last ``1 - (l + 1) / k`` of the columns.

    Parameters
    ----------
    table : ndarray of shape (n_levels, 3, m)
        From :func:`build_run_table`.
    starts : ndarray of shape (n_clusters - 1, m), int32
        Written where solved: ``starts[l - 1, j]`` is the first atom of the
        last cluster of the optimal partition of atoms ``0..j`` into
        ``l + 1`` clusters, for ``j = m - 1`` at the last layer and at
        every ``j`` of each layer the backtracking from there visits.
    cost : ndarray of shape (2, m)
        Written where solved, for the last two layers: ``cost[l % 2, j]``
        is ``D[l, j]``; ``cost[(n_clusters - 1) % 2, m - 1]`` is the
        optimum.
    earliest : ndarray of shape (2, m), int32
        Written likewise: the first start within rounding of the optimum.
    n_threads : int, default=1
        OpenMP threads sharing the columns of each depth of the divide and
        conquer; the result does not depend on it.
    """
    cdef Py_ssize_t m = table.shape[2]
    cdef Py_ssize_t n_layers = starts.shape[0]
    cdef Py_ssize_t layer, j
    # At least 8,192 atoms per thread (every 8-bit image runs on one).
    cdef int n_used = <int>max(1, min(<Py_ssize_t>n_threads, m // 8192))
    # Each thread's candidate values.
    cdef double[:, ::1] thread_values = np.empty((n_used, max(m, 1)))
    # The nodes of the top of the recursion, and their children's slots.
    cdef Py_ssize_t[:, :, ::1] nodes = np.empty((2, 16 * n_used + 2, 4), dtype=np.intp)
    # Every layer's D and first start within rounding, as the layers are
    # solved in pieces.
    cdef double[:, ::1] layer_cost = np.empty((n_layers + 1, max(m, 1)))
    cdef int[:, ::1] layer_earliest = np.zeros((n_layers + 1, max(m, 1)), dtype=np.int32)
    cdef int[:, ::1] layer_latest = np.zeros((n_layers + 1, max(m, 1)), dtype=np.int32)
    cdef Py_ssize_t[::1] solved_from = np.full(n_layers + 1, m, dtype=np.intp)
    with nogil:
        for j in range(m):
            layer_cost[0, j] = _cost(table, 0, j)
        solved_from[0] = 0
        for layer in range(1, n_layers + 1):
            for j in range(min(layer, m)):
                layer_cost[layer, j] = INFINITY
        _solve_from(table, layer_cost, starts, layer_earliest, layer_latest,
                    thread_values, nodes, &solved_from[0], n_layers, m - 1,
                    n_used)
        for layer in range(max(0, n_layers - 1), n_layers + 1):
            for j in range(solved_from[layer], m):
                cost[layer % 2, j] = layer_cost[layer, j]
                earliest[layer % 2, j] = layer_earliest[layer, j]


cdef inline bint _not_worse(const double[:, :, ::1] table,
                            const double[::1] total,
                            const Py_ssize_t[::1] count, double penalty,
                            Py_ssize_t new, Py_ssize_t old,
                            Py_ssize_t p) noexcept nogil:
    """Whether the first ``p`` atoms cost no more, penalty included, with
    their last cluster starting at atom ``new`` than at atom ``old``.

    Run costs and cluster counts are compared apart, as a difference of
    costs plus the penalty times a difference of counts, so that two
    partitions with as many clusters are compared on their costs alone,
    however small these are next to the penalties.
    """
    cdef double difference = (
        (total[new] + _cost(table, new, p - 1))
        - (total[old] + _cost(table, old, p - 1))
    )
    return difference + penalty * <double>(count[new] - count[old]) <= 0.0


def partition_with_penalty(
    const double[:, :, ::1] table,   # IN
    double penalty,                  # IN
    Py_ssize_t[::1] start,           # OUT
    double[::1] total,               # WORK
    Py_ssize_t[::1] count,           # WORK
    Py_ssize_t[::1] queue,           # WORK
    Py_ssize_t[::1] queue_from,      # WORK
):
    """Optimal partition of all atoms when every cluster costs ``penalty``.

    Minimises ``sum of run costs + penalty * n_clusters`` over partitions
    into any number of runs: ``T[p] = min_{i < p} T[i] + cost(i, p - 1) +
    penalty``. The costs obey the quadrangle inequality, so a candidate
    start that beats an earlier one at some ``p`` beats it at every later
    ``p``: a queue of candidates, each the best from some ``p`` on, with a
    binary search for where a new one takes over, gives ``O(m log m)``
    (Galil and Park 1990).

    Parameters
    ----------
    table : ndarray of shape (n_levels, 3, m)
        From :func:`build_run_table`.
    penalty : float
        Non-negative cost of each cluster.
    start : ndarray of shape (m + 1,)
        Written: ``start[p]`` is the first atom of the last cluster of the
        optimal partition of the first ``p`` atoms.
    total : ndarray of shape (m + 1,)
        Work space: the run costs of those partitions, penalty excluded.
    count, queue, queue_from : ndarray of shape (m + 1,)
        Work space.

    Returns
    -------
    n_clusters : int
        Number of clusters of the optimal partition of all ``m`` atoms.
    """
    cdef Py_ssize_t m = table.shape[2]
    cdef Py_ssize_t p, new, back, head = 0, tail = 0, lo, hi, middle, at
    with nogil:
        total[0] = 0.0
        count[0] = 0
        for p in range(1, m + 1):
            new = p - 1
            # Drop the candidates the new one beats wherever they are best.
            while tail > head:
                back = queue[tail - 1]
                at = max(queue_from[tail - 1], p)
                if _not_worse(table, total, count, penalty, new, back, at):
                    tail -= 1
                else:
                    break
            if tail == head:
                queue[tail] = new
                queue_from[tail] = p
                tail += 1
            else:
                back = queue[tail - 1]
                lo = max(queue_from[tail - 1], p) + 1
                hi = m + 1
                while lo < hi:
                    middle = (lo + hi) // 2
                    if _not_worse(table, total, count, penalty, new, back, middle):
                        hi = middle
                    else:
                        lo = middle + 1
                if lo <= m:
                    queue[tail] = new
                    queue_from[tail] = lo
                    tail += 1
            while tail - head > 1 and queue_from[head + 1] <= p:
                head += 1
            new = queue[head]
            total[p] = total[new] + _cost(table, new, p - 1)
            count[p] = count[new] + 1
            start[p] = new
    return count[m]
