"""Weighted Lloyd iterations over atoms, each atom taken as a Gaussian.

An atom is a group of pixels known by its weight ``w``, weighted sum ``s``
(mean ``x = s / w``) and spread ``sigma`` (the standard deviation of its
pixels per channel). Plain Lloyd iterations move a whole atom to its nearest
centre; here an atom spread across the boundary between its two nearest
centres ``a`` and ``b`` is taken as an isotropic Gaussian and split by the
plane halfway between them: at distance ``m`` from the plane, the share
``Phi(-m / sigma)`` beyond it goes to ``b``, with its mean moved along the
plane's unit normal ``n`` (the mean of a Gaussian cut by a plane), that is
the mass::

    w * Phi(-alpha),  s * Phi(-alpha) + n * w * sigma * phi(alpha),
    alpha = m / sigma

moves from ``a`` to ``b`` (``phi`` and ``Phi`` being the standard normal
density and distribution). Beyond ``4 sigma`` (a share below 3e-5) the atom
is not split. With ``sigma = 0`` these are Lloyd's iterations.

Each atom keeps a short list of candidate centres, its ``N_CANDIDATES``
nearest when the list was made, and a lower bound on its distance to every
other centre, loosened at each iteration by the largest move of a centre (as
in Hamerly's algorithm, 2010). An iteration computes the distances to the
candidates only, in a short loop of fixed length; the list is made again only
when the bound no longer shows that the two nearest centres are among the
candidates. A new list comes from a search that starts at the atom's nearest
centre ``a`` and visits the others in order of their distance to ``a``,
stopping once that distance exceeds ``|x - a|`` plus the largest distance
kept (no centre beyond can be nearer, by the triangle inequality).

Lloyd's iterations converge slowly, by ever smaller steps in the same
direction: each centre may move ``relaxation`` times its step (over-relaxed
bound optimisation, Salakhutdinov and Roweis 2003), which takes about a
third fewer iterations to the same tolerance at ``relaxation=1.8``. A centre
whose step turns back (its last one overshot) takes a plain step, which
lands it on the mean of its atoms.

The assignment step (nearest centres and split shares of every atom) runs
on ``n_threads`` OpenMP threads (``prange``) over blocks of atoms of a size
fixed by the problem, not by the thread count: each block adds its atoms'
shares into totals of its own, which are then added block by block in
order, so that the centres are the same for any number of threads. The
centres' update is serial (it costs ``n_clusters`` steps).

The kernel's memory has one owner: :func:`smoothed_lloyd` allocates every
array as a NumPy array and hands the loops a :c:type:`Lloyd` struct of
pointers into them, with no offsets computed by hand.

The kernel validates nothing: the caller (``skvq._vector_codebook``) passes
C-contiguous float64 arrays of matching shapes and valid initial labels, in
units where points and centres are at most a few in magnitude.
"""

import numpy as np

from cython.parallel cimport prange
from libc.math cimport erfc, exp, sqrt
from libc.string cimport memset

from ._distances cimport squared_distance

cdef extern from *:
    """
    /* Atoms are split only within this many standard deviations of a
       boundary. */
    #define SKVQ_SPLIT_WIDTH 4.0
    /* Phi(-alpha) and phi(alpha) are tabulated for alpha in [0, 4], this
       many steps per unit, then two entries of 0. */
    #define SKVQ_TABLE_STEPS 1024
    #define SKVQ_TABLE_SIZE (4 * SKVQ_TABLE_STEPS + 3)
    """
    const double SPLIT_WIDTH "SKVQ_SPLIT_WIDTH"
    const int TABLE_STEPS "SKVQ_TABLE_STEPS"
    const int TABLE_SIZE "SKVQ_TABLE_SIZE"

cdef enum:
    # Most candidate centres kept per atom.
    N_CANDIDATES = 4
    # Beyond this many centres, ordering each one's neighbours (n**2
    # distances per iteration) costs more than the searches it spares.
    MAX_ORDERED = 1024
    # Fewest atoms per block of the assignment step; blocks also hold at
    # least 4 atoms per centre, so that the blocks' totals take at most a
    # quarter of the memory of the atoms.
    MIN_BLOCK_ATOMS = 1024
    # Fewest atoms per thread of the assignment step. An iteration is a
    # parallel region of its own: on the coarse atoms (8,192 or fewer) it
    # takes 0.1-1 ms, about what waking a second thread and waiting for it
    # at the region's end costs on a busy machine, where it is descheduled.
    # At 4,096 atoms per thread, the 64-colour fit of a 12.6-megapixel photo
    # (about 8,000 coarse atoms, then 65,536) spent 17 ms in Lloyd on one
    # thread and 51 ms on two (medians of 5, the 2-core development machine
    # under load). The coarse atoms (at most 8,192 below 512 centres) stay
    # on one thread; the fine stage, two regions of 1-3 ms on 16,384 atoms
    # or more, takes two: the 64-colour fit + transform of flower.jpg
    # (62,941 atoms) 30.7 -> 25.0 ms, of Grace Hopper's portrait 35.2 ->
    # 27.8 ms, of china.jpg (25,564 atoms) 24.4 -> 21.2 ms (best of 45 or
    # 25, alternating processes, quiet machine), where 32,768 atoms per
    # thread kept them on one.
    MIN_THREAD_ATOMS = 8192

cdef double INF = float("inf")

# The library's erfc and exp cost as much as the rest of an iteration; the
# tables, interpolated linearly, are within 1e-7 of them, far below what the
# Gaussian model of an atom is worth. Beyond alpha = 4 they taper to 0 within
# one step.
cdef double UPPER_TAIL[4 * 1024 + 3]
cdef double DENSITY[4 * 1024 + 3]


cdef void _fill_tables() noexcept:
    cdef int t
    cdef double alpha
    for t in range(TABLE_SIZE):
        alpha = t / <double>TABLE_STEPS
        UPPER_TAIL[t] = 0.5 * erfc(alpha * 0.7071067811865476) if alpha <= 4 else 0.0
        DENSITY[t] = 0.3989422804014327 * exp(-0.5 * alpha * alpha) if alpha <= 4 else 0.0


_fill_tables()


cdef struct Lloyd:
    # Atoms (read only): means, weights, weighted sums (n_atoms, n_channels
    # or n_atoms,), and 1 / spread (0 for a point).
    const double* points
    const double* weight
    const double* sums
    const double* spread
    const double* inverse_spread
    Py_ssize_t n_atoms
    Py_ssize_t n_channels
    # Per atom, kept across iterations: its candidate centres
    # (n_atoms, N_CANDIDATES), the bound on its distance to every other
    # centre (plus the drift when made), and its nearest centre.
    Py_ssize_t* candidates
    double* outside
    Py_ssize_t* labels
    Py_ssize_t n_kept
    # Centres (n_clusters, n_channels), their last steps, and when
    # ``ordered`` (at most MAX_ORDERED centres) the distances between them
    # (n_clusters, n_clusters), each one's others by increasing distance
    # (n_clusters, n_clusters - 1), and scratch for sorting one row
    # (n_clusters - 1,) and for the centres' coordinates by channel
    # (n_channels, n_clusters).
    double* centres
    double* steps
    Py_ssize_t n_clusters
    bint ordered
    double* between
    Py_ssize_t* order
    double* gathered
    double* columns
    # Each block's totals (n_blocks, n_clusters, 1 + n_channels: weight,
    # then weighted sum), block ``k`` holding atoms
    # ``[k * block_atoms, (k + 1) * block_atoms)``, and their sum.
    double* partial
    double* totals
    Py_ssize_t block_atoms
    Py_ssize_t n_blocks
    # Options.
    int max_iter
    double tol
    double relaxation
    int n_threads


cdef struct Nearest:
    # The atom's two nearest centres (b = a when there is no second one
    # within reach) and their squared distances.
    Py_ssize_t a
    Py_ssize_t b
    double da
    double db


cdef void _update_geometry(Lloyd* s) noexcept nogil:
    """Distances between the centres, and each one's neighbours reordered
    by insertion from the last order (centres move little, so it is nearly
    sorted already).

    The insertion sort runs on the distances gathered in the last order
    (``s.gathered``), beside the indices, so that its comparisons read
    consecutive values instead of ``row[order[u]]`` scattered over the row:
    the same comparisons and moves, so the same order, at about half the
    time (the sort was most of the serial work of an iteration at 256
    centres)."""
    cdef Py_ssize_t j, k, c, t, u, moving
    cdef Py_ssize_t n_clusters = s.n_clusters, n_others = n_clusters - 1
    cdef Py_ssize_t n_channels = s.n_channels
    cdef double d, value
    cdef double* row
    cdef double* gathered = s.gathered
    cdef Py_ssize_t* order
    cdef double* columns = s.columns
    cdef const double* centre
    if not s.ordered:
        return
    # Whole rows of distances from the centres' coordinates channel by
    # channel: loops the compiler vectorises, with contiguous stores (the
    # same sums as squared_distance, in the same order, so the same values;
    # twice the distances of a triangle, in less time than its mirrored,
    # strided stores).
    for k in range(n_clusters):
        for c in range(n_channels):
            columns[c * n_clusters + k] = s.centres[k * n_channels + c]
    for j in range(n_clusters):
        row = s.between + j * n_clusters
        centre = s.centres + j * n_channels
        for k in range(n_clusters):
            d = columns[k] - centre[0]
            row[k] = d * d
        for c in range(1, n_channels):
            for k in range(n_clusters):
                d = columns[c * n_clusters + k] - centre[c]
                row[k] += d * d
        for k in range(n_clusters):
            row[k] = sqrt(row[k])
    for j in range(n_clusters):
        row = s.between + j * n_clusters
        order = s.order + j * n_others
        for t in range(n_others):
            gathered[t] = row[order[t]]
        for t in range(1, n_others):
            moving = order[t]
            value = gathered[t]
            u = t
            while u > 0 and gathered[u - 1] > value:
                order[u] = order[u - 1]
                gathered[u] = gathered[u - 1]
                u -= 1
            order[u] = moving
            gathered[u] = value


cdef inline double _nearest_list(
    const Lloyd* s,
    const double* x,
    Py_ssize_t start,
    const Py_ssize_t* known,
    const double* known_distance,
    Py_ssize_t n_known,
    Py_ssize_t* kept,
    double* kept_distance,
    const Py_ssize_t n_channels,
    const Py_ssize_t n_kept,
) noexcept nogil:
    """Write to ``kept`` the ``n_kept + 1`` nearest centres to ``x``
    (ascending distance, -1 for none) and to ``kept_distance`` their squared
    distances (inf for none), and return the distance of the last.

    ``start`` is a guess of the nearest centre; the ``n_known`` centres
    ``known`` (distinct, with ``start`` among them if ``n_known > 0``) have
    squared distances ``known_distance`` already."""
    # The struct's fields in locals: stores through ``kept`` could alias
    # them, as far as the compiler knows, and it would reload them.
    cdef Py_ssize_t t, j, u, n_clusters = s.n_clusters
    cdef const double* centres = s.centres
    cdef bint ordered = s.ordered
    cdef double d, reach = 0.0, beyond
    cdef const Py_ssize_t* order = NULL
    cdef const double* row = NULL
    cdef bint skip
    # Squared distances of the n_kept + 1 nearest so far, ascending.
    for u in range(n_kept + 1):
        kept_distance[u] = INF
        kept[u] = -1
    for t in range(n_known + (n_known == 0)):
        if n_known:
            j, d = known[t], known_distance[t]
        else:
            j = start
            d = squared_distance(x, centres + j * n_channels, n_channels)
        if j == start:
            reach = sqrt(d)
        u = n_kept
        if d < kept_distance[u]:
            while u > 0 and kept_distance[u - 1] > d:
                kept_distance[u] = kept_distance[u - 1]
                kept[u] = kept[u - 1]
                u -= 1
            kept_distance[u] = d
            kept[u] = j
    if ordered:
        order = s.order + start * (n_clusters - 1)
        row = s.between + start * n_clusters
    for t in range(n_clusters):
        if ordered:
            if t == n_clusters - 1:
                break
            j = order[t]
            # |x - c_j| >= |c_start - c_j| - |x - c_start|: once that is
            # beyond the last distance kept, so are the next centres'.
            beyond = row[j] - reach
            if beyond > 0 and beyond * beyond > kept_distance[n_kept]:
                break
        else:
            j = t
        skip = j == start
        for u in range(n_known):
            skip = skip or known[u] == j
        if skip:
            continue
        d = squared_distance(x, centres + j * n_channels, n_channels)
        if d < kept_distance[n_kept]:
            u = n_kept
            while u > 0 and kept_distance[u - 1] > d:
                kept_distance[u] = kept_distance[u - 1]
                kept[u] = kept[u - 1]
                u -= 1
            kept_distance[u] = d
            kept[u] = j
    return sqrt(kept_distance[n_kept])


cdef inline Nearest _assign(
    const Lloyd* s,
    Py_ssize_t i,
    double drift,
    const Py_ssize_t n_channels,
    const Py_ssize_t n_kept,
) noexcept nogil:
    """The two nearest centres of atom ``i``, from its candidates when its
    bound shows they hold them, else by a search that renews them; writes
    the atom's label, candidates and bound."""
    # The struct's fields in locals (see _nearest_list).
    cdef Py_ssize_t j, k, n_known = 0, n_clusters = s.n_clusters
    cdef const double* centres = s.centres
    cdef double* outside = s.outside
    cdef const double* x = s.points + i * n_channels
    cdef Py_ssize_t* kept = s.candidates + i * N_CANDIDATES
    cdef double sigma = s.spread[i], d
    cdef bint valid = False
    cdef Nearest n
    cdef double known_distance[N_CANDIDATES]
    cdef Py_ssize_t found[N_CANDIDATES + 1]
    cdef double found_distance[N_CANDIDATES + 1]
    n.a, n.b, n.da, n.db = 0, 0, INF, INF
    if outside[i] > -INF:
        # The two nearest candidates (a loop of constant length).
        n_known = n_kept
        n.a, n.b = kept[0], kept[0]
        for k in range(n_kept):
            j = kept[k]
            d = squared_distance(x, centres + j * n_channels, n_channels)
            known_distance[k] = d
            if d < n.db:
                if d < n.da:
                    n.b, n.db = n.a, n.da
                    n.a, n.da = j, d
                else:
                    n.b, n.db = j, d
        # Whether the candidates hold the two nearest centres (with one
        # candidate: whether it is the nearest, by more than the split
        # width, so that no second one is needed).
        if n_kept == 1:
            valid = outside[i] - drift - sqrt(n.da) > 2 * SPLIT_WIDTH * sigma
        else:
            d = outside[i] - drift
            valid = d > 0 and n.db < d * d
        valid = valid or n_kept == n_clusters
    if not valid and n_kept == 1 and n_clusters > 1 and s.ordered:
        # Within half the distance from its last centre to that centre's
        # nearest other, and farther from that boundary than the split
        # width, an atom stays whole with its centre.
        if n_known == 0:
            n.a = s.labels[i]
            n.da = squared_distance(x, centres + n.a * n_channels, n_channels)
            kept[0], known_distance[0], n_known = n.a, n.da, 1
        d = s.between[n.a * n_clusters + s.order[n.a * (n_clusters - 1)]] - sqrt(n.da)
        if d - sqrt(n.da) > 2 * SPLIT_WIDTH * sigma:
            n.b, n.db = n.a, INF
            outside[i] = drift + d
            valid = True
    if not valid:
        # Searched from the nearest candidate, whose distances are known.
        outside[i] = drift + _nearest_list(
            s, x, n.a if n_known else s.labels[i], kept, known_distance, n_known,
            found, found_distance, n_channels, n_kept,
        )
        for k in range(n_kept):
            kept[k] = found[k]
        n.a, n.da = found[0], found_distance[0]
        if found[1] >= 0:
            n.b, n.db = found[1], found_distance[1]
        else:
            n.b, n.db = found[0], INF
    s.labels[i] = n.a
    return n


cdef inline void _split(
    const Lloyd* s, Py_ssize_t i, Nearest n, double* totals,
    const Py_ssize_t n_channels,
) noexcept nogil:
    """Add atom ``i``'s shares to the totals of its two nearest centres,
    split at the plane between them (nothing moves beyond SPLIT_WIDTH
    spreads, the tables' last entry being 0)."""
    cdef Py_ssize_t k, width = n_channels + 1
    cdef Py_ssize_t a = n.a, b = n.b
    cdef double w = s.weight[i], sigma = s.spread[i]
    cdef const double* c_a = s.centres + a * n_channels
    cdef const double* c_b = s.centres + b * n_channels
    cdef const double* sums = s.sums + i * n_channels
    cdef double inverse_gap = 0.0, alpha = SPLIT_WIDTH + 1.0 / TABLE_STEPS
    cdef double d, position, fraction, across, density
    cdef int t
    if a != b and sigma > 0:
        # One division per split atom, not one per pair of centres per
        # iteration.
        if s.ordered:
            d = s.between[a * s.n_clusters + b]
        else:
            d = sqrt(squared_distance(c_a, c_b, n_channels))
        inverse_gap = 1.0 / d if d > 0 else 0.0
        # da, db are squared: (db - da) / (2 gap) is the distance of x to
        # the plane halfway between a and b (inf for a gap of 0).
        alpha = min(
            (n.db - n.da) * 0.5 * inverse_gap * s.inverse_spread[i]
            if inverse_gap > 0 else INF,
            alpha,
        )
    position = alpha * TABLE_STEPS
    t = <int>position
    fraction = position - t
    across = UPPER_TAIL[t] + fraction * (UPPER_TAIL[t + 1] - UPPER_TAIL[t])
    density = DENSITY[t] + fraction * (DENSITY[t + 1] - DENSITY[t])
    density *= w * sigma * inverse_gap
    totals[a * width] += w * (1.0 - across)
    totals[b * width] += w * across
    for k in range(n_channels):
        d = across * sums[k] + density * (c_b[k] - c_a[k])
        totals[a * width + 1 + k] += sums[k] - d
        totals[b * width + 1 + k] += d


cdef inline void _assign_block(
    const Lloyd* s,
    Py_ssize_t block,
    double drift,
    bint last,
    const Py_ssize_t n_channels,
    const Py_ssize_t n_kept,
) noexcept nogil:
    """Assignment step of the atoms of ``block``, into its totals."""
    cdef Py_ssize_t i, width = n_channels + 1
    cdef Py_ssize_t start = block * s.block_atoms
    cdef Py_ssize_t stop = min(start + s.block_atoms, s.n_atoms)
    cdef double* totals = s.partial + block * s.n_clusters * width
    cdef Nearest n
    memset(totals, 0, s.n_clusters * width * sizeof(double))
    for i in range(start, stop):
        n = _assign(s, i, drift, n_channels, n_kept)
        if not last:
            _split(s, i, n, totals, n_channels)


cdef int _iterate(Lloyd* s) noexcept nogil:
    """Lloyd's iterations with split atoms; returns the number done, and
    leaves in ``s.labels`` the nearest centre of every atom to the final
    centres."""
    cdef Py_ssize_t i, j, k, block, n_clusters = s.n_clusters
    cdef Py_ssize_t n_channels = s.n_channels, width = n_channels + 1
    cdef int n_iter = 0, max_iter = s.max_iter
    # At least MIN_THREAD_ATOMS atoms per thread (see its comment).
    cdef int n_threads = <int>max(1, min(
        <Py_ssize_t>s.n_threads, s.n_blocks, s.n_atoms // MIN_THREAD_ATOMS
    ))
    cdef double d, w, shift, factor, largest_move
    # Bounds in ``outside`` are kept as they were when made plus the
    # centres' largest moves summed up to then: subtracting the sum so far
    # loosens them all at once.
    cdef double drift = 0.0
    cdef bint last = False
    cdef double* totals = s.totals
    for j in range(n_clusters * n_channels):
        s.steps[j] = 0.0
    for i in range(s.n_atoms):
        s.outside[i] = -INF  # every atom gets its list in the first pass
        for k in range(N_CANDIDATES):
            s.candidates[i * N_CANDIDATES + k] = -1
    while True:
        last = n_iter >= max_iter
        _update_geometry(s)
        for block in prange(
            s.n_blocks, schedule="dynamic", num_threads=n_threads
        ):
            # One call for every channel and candidate count: calls with
            # constant counts for RGB (4 and 1 candidates), which the
            # compiler unrolls, measured 0.96-1.07x this one's time (one
            # thread, medians of 9, 20 iterations on 8,192-60,000 atoms,
            # 64-256 centres), not worth a second path.
            _assign_block(s, block, drift, last, n_channels, s.n_kept)
        if last:
            break
        n_iter += 1
        # The blocks' totals, added in block order whatever thread made
        # them.
        if s.n_blocks == 1:
            totals = s.partial
        else:
            memset(totals, 0, n_clusters * width * sizeof(double))
            for block in range(s.n_blocks):
                for j in range(n_clusters * width):
                    totals[j] += s.partial[block * n_clusters * width + j]
        # Lloyd's step of each centre (none for a centre without weight),
        # kept in ``totals``; the largest move loosens the bounds.
        shift = 0.0
        for j in range(n_clusters):
            w = totals[j * width]
            for k in range(n_channels):
                d = totals[j * width + 1 + k] / w - s.centres[j * n_channels + k] if w > 0 else 0.0
                totals[j * width + 1 + k] = d
                shift += d * d
        largest_move = 0.0
        for j in range(n_clusters):
            # Over-relaxed until converged, unless the step turns back (the
            # last one went too far): a plain step then lands on the mean.
            d = 0.0
            w = 0.0
            for k in range(n_channels):
                d += totals[j * width + 1 + k] * s.steps[j * n_channels + k]
                w += totals[j * width + 1 + k] * totals[j * width + 1 + k]
            factor = s.relaxation if shift > s.tol and d >= 0 else 1.0
            for k in range(n_channels):
                s.steps[j * n_channels + k] = totals[j * width + 1 + k]
                s.centres[j * n_channels + k] += factor * s.steps[j * n_channels + k]
            largest_move = max(largest_move, factor * sqrt(w))
        drift += largest_move
        if shift <= s.tol:
            max_iter = n_iter  # converged: one last pass assigns the atoms
    return n_iter


def smoothed_lloyd(
    const double[:, ::1] points,  # IN (n_atoms, n_channels)
    const double[::1] weight,  # IN (n_atoms,)
    const double[:, ::1] sums,  # IN (n_atoms, n_channels)
    const double[::1] spread,  # IN (n_atoms,)
    double[:, ::1] centres,  # INOUT (n_clusters, n_channels)
    Py_ssize_t[::1] labels,  # INOUT (n_atoms,)
    int max_iter,
    double tol,
    double relaxation=1.0,
    Py_ssize_t n_candidates=N_CANDIDATES,
    int n_threads=1,
):
    """Lloyd's iterations on atoms, splitting atoms that straddle a boundary.

    Parameters
    ----------
    points : ndarray of shape (n_atoms, n_channels)
        Atom means.
    weight : ndarray of shape (n_atoms,)
        Positive atom weights.
    sums : ndarray of shape (n_atoms, n_channels)
        Weighted sums, ``weight * points`` (given, as they may be exact where
        the product is not).
    spread : ndarray of shape (n_atoms,)
        Standard deviation of each atom's pixels per channel (0: a point).
    centres : ndarray of shape (n_clusters, n_channels)
        Initial centres, replaced by the final ones. A centre left without
        weight stays where it is.
    labels : ndarray of shape (n_atoms,)
        A guess of each atom's nearest centre (any index in ``[0,
        n_clusters)``), where searches start; replaced by the nearest final
        centre of every atom.
    max_iter : int
        Most iterations (centre updates); 0 only assigns labels.
    tol : float
        Stop once the squared moves of the centres (Lloyd's steps) sum to at
        most this.
    relaxation : float, default=1.0
        Each centre moves this many times its Lloyd step (``1 <= relaxation
        < 2``), except on the last iteration.
    n_candidates : int, default=4
        Candidate centres kept per atom, from 1 to 4: more make fewer
        searches when centres move much and atoms are split often. With one,
        the second nearest centre is searched for only when the atom is
        within the split width of a boundary.
    n_threads : int, default=1
        OpenMP threads sharing the blocks of the assignment step; the result
        does not depend on it.

    Returns
    -------
    n_iter : int
        Iterations done.
    """
    cdef Py_ssize_t n_atoms = points.shape[0], n_channels = points.shape[1]
    cdef Py_ssize_t n_clusters = centres.shape[0]
    cdef Py_ssize_t n_ordered = n_clusters if n_clusters <= MAX_ORDERED else 1
    cdef Py_ssize_t block_atoms = max(<Py_ssize_t>MIN_BLOCK_ATOMS, 4 * n_clusters)
    cdef Py_ssize_t n_blocks = (n_atoms + block_atoms - 1) // block_atoms
    cdef Py_ssize_t j, k
    cdef int n_iter
    cdef Lloyd s
    if n_atoms == 0:
        return 0
    # Every buffer is a NumPy array, freed with it; the struct only points
    # into them.
    cdef double[::1] inverse_spread = np.divide(
        1.0, spread, out=np.zeros(n_atoms), where=np.asarray(spread) > 0
    )
    cdef Py_ssize_t[:, ::1] candidates = np.empty((n_atoms, N_CANDIDATES), dtype=np.intp)
    cdef double[::1] outside = np.empty(n_atoms)
    cdef double[:, ::1] steps = np.empty((n_clusters, n_channels))
    cdef double[:, ::1] between = np.empty((n_ordered, n_ordered))
    cdef Py_ssize_t[:, ::1] order = np.empty((n_ordered, max(n_ordered - 1, 1)), dtype=np.intp)
    cdef double[::1] gathered = np.empty(max(n_ordered - 1, 1))
    cdef double[:, ::1] columns = np.empty((n_channels, n_ordered))
    cdef double[:, :, ::1] partial = np.empty((n_blocks, n_clusters, n_channels + 1))
    cdef double[:, ::1] totals = np.empty((n_clusters, n_channels + 1))
    s.points, s.weight, s.sums = &points[0, 0], &weight[0], &sums[0, 0]
    s.spread, s.inverse_spread = &spread[0], &inverse_spread[0]
    s.n_atoms, s.n_channels = n_atoms, n_channels
    s.candidates, s.outside, s.labels = &candidates[0, 0], &outside[0], &labels[0]
    s.n_kept = min(n_candidates, n_clusters)
    s.centres, s.steps, s.n_clusters = &centres[0, 0], &steps[0, 0], n_clusters
    s.ordered = n_clusters <= MAX_ORDERED
    s.between, s.order, s.gathered = &between[0, 0], &order[0, 0], &gathered[0]
    s.columns = &columns[0, 0]
    s.partial, s.totals = &partial[0, 0, 0], &totals[0, 0]
    s.block_atoms, s.n_blocks = block_atoms, n_blocks
    s.max_iter, s.tol, s.relaxation, s.n_threads = max_iter, tol, relaxation, n_threads
    if s.ordered:
        for j in range(n_clusters):
            for k in range(n_clusters - 1):
                order[j, k] = k + (k >= j)
    with nogil:
        n_iter = _iterate(&s)
    return n_iter
