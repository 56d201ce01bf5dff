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

The kernel validates nothing: the caller (``skvq._vector_codebook``) passes
C-contiguous float64 arrays of matching shapes and valid initial labels, in
units where points and centres are at most a few in magnitude.
"""

from libc.math cimport erfc, exp, sqrt
from libc.stdlib cimport free, malloc
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
    /* Most candidate centres kept per atom. */
    #define SKVQ_N_CANDIDATES 4
    /* Beyond this many centres, ordering each one's neighbours (n**2
       distances per iteration) costs more than the searches it spares. */
    #define SKVQ_MAX_ORDERED 1024
    """
    const double SPLIT_WIDTH "SKVQ_SPLIT_WIDTH"
    const int TABLE_STEPS "SKVQ_TABLE_STEPS"
    const int TABLE_SIZE "SKVQ_TABLE_SIZE"
    const Py_ssize_t N_CANDIDATES "SKVQ_N_CANDIDATES"
    const Py_ssize_t MAX_ORDERED "SKVQ_MAX_ORDERED"

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


cdef struct Geometry:
    # Distances between centres and each centre's others by increasing
    # distance, when there are at most MAX_ORDERED centres.
    double* between
    double* inverse  # 1 / between (0 for coincident centres)
    Py_ssize_t* order


cdef void _update_geometry(
    Geometry* g, const double* centres, Py_ssize_t n_clusters, const Py_ssize_t n_channels
) noexcept nogil:
    """Distances between the centres, and each one's neighbours reordered
    by insertion from the last order (centres move little, so it is nearly
    sorted already)."""
    cdef Py_ssize_t j, k, t, u, n_others = n_clusters - 1, moving
    cdef double d
    cdef double* row
    cdef Py_ssize_t* order
    if n_clusters > MAX_ORDERED:
        return
    for j in range(n_clusters):
        g.between[j * n_clusters + j] = 0.0
        for k in range(j + 1, n_clusters):
            d = sqrt(squared_distance(
                centres + j * n_channels, centres + k * n_channels, n_channels
            ))
            g.between[j * n_clusters + k] = d
            g.between[k * n_clusters + j] = d
            g.inverse[j * n_clusters + k] = 1.0 / d if d > 0 else 0.0
            g.inverse[k * n_clusters + j] = g.inverse[j * n_clusters + k]
    for j in range(n_clusters):
        row = g.between + j * n_clusters
        order = g.order + j * n_others
        for t in range(1, n_others):
            moving = order[t]
            u = t
            while u > 0 and row[order[u - 1]] > row[moving]:
                order[u] = order[u - 1]
                u -= 1
            order[u] = moving


cdef inline double _nearest_list(
    const double* x,
    const double* centres,
    Py_ssize_t n_clusters,
    const Py_ssize_t n_channels,
    const Geometry* g,
    Py_ssize_t start,
    Py_ssize_t n_kept,
    const Py_ssize_t* known,
    const double* known_distance,
    Py_ssize_t n_known,
    Py_ssize_t* kept,
    double* kept_distance,
) noexcept nogil:
    """Write to ``kept`` the ``n_kept + 1`` nearest centres to ``x``
    (ascending distance, -1 for none) and to ``kept_distance`` their squared
    distances (inf for none), and return the distance of the last.

    ``start`` is a guess of the nearest centre; the ``n_known`` centres
    ``known`` (distinct, with ``start`` among them if ``n_known > 0``) have
    squared distances ``known_distance`` already."""
    cdef Py_ssize_t t, j, u
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
    if n_clusters <= MAX_ORDERED:
        order = g.order + start * (n_clusters - 1)
        row = g.between + start * n_clusters
    for t in range(n_clusters):
        if n_clusters <= MAX_ORDERED:
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


cdef inline int _iterate(
    const double* points,
    const double* weight,
    const double* sums,
    const double* spread,
    Py_ssize_t n_atoms,
    double* centres,
    Py_ssize_t n_clusters,
    const Py_ssize_t n_channels,
    Py_ssize_t* labels,
    int max_iter,
    double tol,
    double relaxation,
    const Py_ssize_t n_kept,
    Geometry* g,
    Py_ssize_t* candidates,
    Py_ssize_t* found,
    double* outside,
    double* inverse_spread,
    double* totals,
    double* steps,
    double* scratch,
) noexcept nogil:
    """Lloyd's iterations with split atoms; returns the number done, and
    leaves in ``labels`` the nearest centre of every atom to the final
    centres."""
    cdef Py_ssize_t i, j, k, a = 0, b = 0, n_known, width = n_channels + 1
    cdef Py_ssize_t* kept
    cdef double* known_distance = scratch + N_CANDIDATES + 1
    cdef int n_iter = 0, t
    cdef double sigma, d, da = INF, db = INF, inverse_gap, across, density, shift
    cdef double largest_move, w, factor, position, fraction, alpha
    # Bounds in ``outside`` are kept as they were when made plus the
    # centres' largest moves summed up to then: subtracting the sum so far
    # loosens them all at once.
    cdef double drift = 0.0
    cdef const double* x
    cdef const double* c_a
    cdef const double* c_b
    cdef bint last = False, valid
    for j in range(n_clusters * n_channels):
        steps[j] = 0.0
    for i in range(n_atoms):
        inverse_spread[i] = 1.0 / spread[i] if spread[i] > 0 else 0.0
        outside[i] = -INF  # every atom gets its list in the first pass
        for k in range(N_CANDIDATES):
            candidates[i * N_CANDIDATES + k] = -1
    while True:
        last = n_iter >= max_iter
        _update_geometry(g, centres, n_clusters, n_channels)
        memset(totals, 0, n_clusters * width * sizeof(double))
        for i in range(n_atoms):
            x = points + i * n_channels
            kept = candidates + i * N_CANDIDATES
            sigma = spread[i]
            valid = False
            n_known = 0
            if outside[i] > -INF:
                # The two nearest candidates (a loop of constant length).
                n_known = n_kept
                a, b, da, db = kept[0], kept[0], INF, INF
                for k in range(n_kept):
                    j = kept[k]
                    d = squared_distance(x, centres + j * n_channels, n_channels)
                    known_distance[k] = d
                    if d < db:
                        if d < da:
                            b, db = a, da
                            a, da = j, d
                        else:
                            b, db = j, d
                # Whether the candidates hold the two nearest centres (with
                # one candidate: whether it is the nearest, by more than the
                # split width, so that no second one is needed).
                if n_kept == 1:
                    valid = outside[i] - drift - sqrt(da) > 2 * SPLIT_WIDTH * sigma
                else:
                    d = outside[i] - drift
                    valid = d > 0 and db < d * d
                valid = valid or n_kept == n_clusters
            if not valid and n_kept == 1 and n_clusters > 1 and n_clusters <= MAX_ORDERED:
                # Within half the distance from its last centre to that
                # centre's nearest other, and farther from that boundary than
                # the split width, an atom stays whole with its centre.
                if n_known == 0:
                    a = labels[i]
                    da = squared_distance(x, centres + a * n_channels, n_channels)
                    kept[0], known_distance[0], n_known = a, da, 1
                d = g.between[a * n_clusters + g.order[a * (n_clusters - 1)]] - sqrt(da)
                if d - sqrt(da) > 2 * SPLIT_WIDTH * sigma:
                    b, db = a, INF
                    outside[i] = drift + d
                    valid = True
            if not valid:
                # Searched from the nearest candidate, whose distances are
                # known.
                outside[i] = drift + _nearest_list(
                    x, centres, n_clusters, n_channels, g,
                    a if n_known else labels[i], n_kept, kept, known_distance,
                    n_known, found, scratch,
                )
                for k in range(n_kept):
                    kept[k] = found[k]
                a, da = found[0], scratch[0]
                b, db = (found[1], scratch[1]) if found[1] >= 0 else (found[0], INF)
            labels[i] = a
            if last:
                continue
            # Split at the plane between a and b (nothing moves beyond
            # SPLIT_WIDTH spreads, the tables' last entry being 0).
            w = weight[i]
            c_a = centres + a * n_channels
            c_b = centres + b * n_channels
            inverse_gap, alpha = 0.0, SPLIT_WIDTH + 1.0 / TABLE_STEPS
            if a != b and sigma > 0:
                if n_clusters <= MAX_ORDERED:
                    inverse_gap = g.inverse[a * n_clusters + b]
                else:
                    d = sqrt(squared_distance(c_a, c_b, n_channels))
                    inverse_gap = 1.0 / d if d > 0 else 0.0
                # da, db are squared: (db - da) / (2 gap) is the distance of
                # x to the plane halfway between a and b (inf for a gap of 0).
                alpha = min(
                    (db - da) * 0.5 * inverse_gap * inverse_spread[i]
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
                d = across * sums[i * n_channels + k] + density * (c_b[k] - c_a[k])
                totals[a * width + 1 + k] += sums[i * n_channels + k] - d
                totals[b * width + 1 + k] += d
        if last:
            break
        n_iter += 1
        # Lloyd's step of each centre (none for a centre without weight),
        # kept in ``totals``; the largest move loosens the bounds.
        shift = 0.0
        for j in range(n_clusters):
            w = totals[j * width]
            for k in range(n_channels):
                d = totals[j * width + 1 + k] / w - centres[j * n_channels + k] if w > 0 else 0.0
                totals[j * width + 1 + k] = d
                shift += d * d
        largest_move = 0.0
        for j in range(n_clusters):
            # Over-relaxed until converged, unless the step turns back (the
            # last one went too far): a plain step then lands on the mean.
            d = 0.0
            w = 0.0
            for k in range(n_channels):
                d += totals[j * width + 1 + k] * steps[j * n_channels + k]
                w += totals[j * width + 1 + k] * totals[j * width + 1 + k]
            factor = relaxation if shift > tol and d >= 0 else 1.0
            for k in range(n_channels):
                steps[j * n_channels + k] = totals[j * width + 1 + k]
                centres[j * n_channels + k] += factor * steps[j * n_channels + k]
            largest_move = max(largest_move, factor * sqrt(w))
        drift += largest_move
        if shift <= tol:
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

    Returns
    -------
    n_iter : int
        Iterations done.
    """
    cdef Py_ssize_t n_atoms = points.shape[0], n_channels = points.shape[1]
    cdef Py_ssize_t n_clusters = centres.shape[0]
    cdef Py_ssize_t n_ordered = n_clusters if n_clusters <= MAX_ORDERED else 1
    cdef Py_ssize_t j, k, n_kept
    cdef int n_iter = 0
    cdef Geometry g
    cdef Py_ssize_t* indices = NULL
    cdef double* scratch = NULL
    cdef bint failed = False
    with nogil:
        indices = <Py_ssize_t*>malloc(
            (N_CANDIDATES * n_atoms + n_ordered * n_ordered + N_CANDIDATES + 1)
            * sizeof(Py_ssize_t)
        )
        scratch = <double*>malloc(
            (2 * n_atoms + 2 * n_ordered * n_ordered
             + (2 * n_channels + 1) * n_clusters + 2 * N_CANDIDATES + 1)
            * sizeof(double)
        )
        if indices == NULL or scratch == NULL:
            failed = True
        elif n_atoms > 0:
            g.order = indices + N_CANDIDATES * (n_atoms + 1) + 1
            g.between = scratch + 2 * n_atoms
            g.inverse = g.between + n_ordered * n_ordered
            for j in range(n_clusters if n_clusters <= MAX_ORDERED else 0):
                for k in range(n_clusters - 1):
                    g.order[j * (n_clusters - 1) + k] = k + (k >= j)
            n_kept = min(n_candidates, n_clusters)
            # Constant channel and candidate counts (the common cases) let
            # the compiler unroll the loops over them.
            if n_channels == 3 and n_kept == 4:
                n_iter = _iterate(
                    &points[0, 0], &weight[0], &sums[0, 0], &spread[0], n_atoms,
                    &centres[0, 0], n_clusters, 3, &labels[0], max_iter, tol,
                    relaxation, 4, &g, indices, indices + N_CANDIDATES * n_atoms,
                    scratch, scratch + n_atoms, g.inverse + n_ordered * n_ordered,
                    g.inverse + n_ordered * n_ordered + 4 * n_clusters,
                    g.inverse + n_ordered * n_ordered + 7 * n_clusters,
                )
            elif n_channels == 3 and n_kept == 1:
                n_iter = _iterate(
                    &points[0, 0], &weight[0], &sums[0, 0], &spread[0], n_atoms,
                    &centres[0, 0], n_clusters, 3, &labels[0], max_iter, tol,
                    relaxation, 1, &g, indices, indices + N_CANDIDATES * n_atoms,
                    scratch, scratch + n_atoms, g.inverse + n_ordered * n_ordered,
                    g.inverse + n_ordered * n_ordered + 4 * n_clusters,
                    g.inverse + n_ordered * n_ordered + 7 * n_clusters,
                )
            else:
                n_iter = _iterate(
                    &points[0, 0], &weight[0], &sums[0, 0], &spread[0], n_atoms,
                    &centres[0, 0], n_clusters, n_channels, &labels[0], max_iter,
                    tol, relaxation, n_kept, &g, indices,
                    indices + N_CANDIDATES * n_atoms, scratch, scratch + n_atoms,
                    g.inverse + n_ordered * n_ordered,
                    g.inverse + n_ordered * n_ordered + (n_channels + 1) * n_clusters,
                    g.inverse + n_ordered * n_ordered
                    + (2 * n_channels + 1) * n_clusters,
                )
        free(indices)
        free(scratch)
    if failed:
        raise MemoryError("Not enough memory for Lloyd's iterations.")
    return n_iter
