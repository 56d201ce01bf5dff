"""Distances between pixels and codewords, shared by the kernels that pick
the nearest codeword (``_nearest_codeword``, ``_dither``, ``_lloyd``), so
that all of them decide alike: ``dither`` at strength 0 must give the codes
of ``transform``.

Coordinates are in scaled units, where codewords are at most one in
magnitude (the callers scale by a power of two).
"""

from libc.math cimport fabs, frexp, ldexp
from libc.stdint cimport int32_t

cdef extern from *:
    """
    /* Relative and absolute margins above the rounding of squared distances
       and projections (in scaled units), for up to thousands of channels;
       the absolute one covers underflow. */
    #define SKVQ_RELATIVE 1e-9
    #define SKVQ_ABSOLUTE 1e-290
    /* Most candidates of a cell tested against each other. */
    #define SKVQ_MAX_PAIRED 64
    """
    const double RELATIVE "SKVQ_RELATIVE"
    const double ABSOLUTE "SKVQ_ABSOLUTE"
    const int32_t MAX_PAIRED "SKVQ_MAX_PAIRED"


cdef inline double squared_distance(
    const double* x, const double* c, Py_ssize_t n_channels
) noexcept nogil:
    """``sum((x - c) ** 2)`` over ``n_channels`` coordinates."""
    cdef double total = 0.0, difference
    cdef Py_ssize_t k
    for k in range(n_channels):
        difference = x[k] - c[k]
        total += difference * difference
    return total


cdef inline bint nearer(
    const double* x,
    const double* c_j,
    const double* c_k,
    Py_ssize_t n_channels,
    double distance_j,
    double distance_k,
    Py_ssize_t j,
    Py_ssize_t k,
) noexcept nogil:
    """Whether codeword ``j`` is nearer to ``x`` than codeword ``k`` (of
    equals, the lower index), given their squared distances to ``x``.

    Distances further apart than rounding decide at once; closer ones are
    compared by the sign of their difference,
    ``sum((c_k - c_j) * ((x - c_j) + (x - c_k)))``, which does not cancel far
    from the codewords, each factor scaled by a power of two to about one so
    that products of small differences do not underflow."""
    cdef double difference = 0.0, across = 0.0, along = 0.0
    cdef int exponent_across = 0, exponent_along = 0
    cdef Py_ssize_t c
    if distance_j < distance_k * (1.0 - RELATIVE) - ABSOLUTE:
        return True
    if distance_j > distance_k * (1.0 + RELATIVE) + ABSOLUTE:
        return False
    # Only the sign matters, so each factor may be scaled.
    for c in range(n_channels):
        across = max(across, fabs(c_k[c] - c_j[c]))
        along = max(along, fabs((x[c] - c_j[c]) + (x[c] - c_k[c])))
    if across == 0.0 or along == 0.0:
        return j < k
    frexp(across, &exponent_across)
    frexp(along, &exponent_along)
    for c in range(n_channels):
        difference += ldexp(c_k[c] - c_j[c], -exponent_across) * ldexp(
            (x[c] - c_j[c]) + (x[c] - c_k[c]), -exponent_along
        )
    if difference != 0.0:
        return difference < 0.0
    return j < k


cdef inline bint dominates(
    const double* c_k,
    const double* c_j,
    const double* low,
    const double* high,
    Py_ssize_t n_channels,
) noexcept nogil:
    """Whether c_k is nearer than c_j, by more than rounding, to every point
    of the box [low, high]."""
    cdef double total = 0.0, size = 0.0, corner
    cdef Py_ssize_t c
    for c in range(n_channels):
        # |x - c_k|^2 - |x - c_j|^2 is linear in x: its largest value over
        # the box is at the corner picked channel by channel.
        corner = high[c] if c_j[c] > c_k[c] else low[c]
        total += (c_j[c] - c_k[c]) * ((corner - c_j[c]) + (corner - c_k[c]))
        size += fabs(c_j[c] - c_k[c]) * (
            max(fabs(low[c] - c_j[c]), fabs(high[c] - c_j[c]))
            + max(fabs(low[c] - c_k[c]), fabs(high[c] - c_k[c]))
        )
    return total < -(RELATIVE * size + ABSOLUTE)


cdef inline int32_t box_candidates(
    const int32_t* among,
    int32_t n_among,
    const double* low,
    const double* high,
    const double* codebook,
    Py_ssize_t n_channels,
    int32_t* out,
    int32_t max_paired,
) noexcept nogil:
    """Write to ``out`` (ascending, as ``among``) the codewords of ``among``
    that no other of them dominates over the box [low, high]; return their
    number. Only dominated codewords are dropped, so the nearest codeword
    (of ``among``) to any point of the box is kept."""
    cdef Py_ssize_t t, u, best = 0
    cdef int32_t n_out = 0, j
    cdef double distance, best_distance = 0.0, middle
    cdef const double* c_best
    cdef bint dominated
    # The codeword nearest the box's centre dominates most others.
    for t in range(n_among):
        distance = 0.0
        for u in range(n_channels):
            middle = 0.5 * low[u] + 0.5 * high[u] - codebook[among[t] * n_channels + u]
            distance += middle * middle
        if t == 0 or distance < best_distance:
            best, best_distance = t, distance
    c_best = codebook + among[best] * n_channels
    for t in range(n_among):
        if t == best or not dominates(
            c_best, codebook + among[t] * n_channels, low, high, n_channels
        ):
            out[n_out] = among[t]
            n_out += 1
    # Then the survivors against each other (dominance is transitive, so
    # dropping in any order keeps every codeword nearest somewhere), unless
    # there are so many that testing every pair costs more than it spares
    # (codewords within rounding of each other).
    t = 0
    while t < n_out and 1 < n_out <= max_paired:
        j = out[t]
        dominated = False
        for u in range(n_out):
            if u != t and dominates(
                codebook + out[u] * n_channels,
                codebook + j * n_channels,
                low,
                high,
                n_channels,
            ):
                dominated = True
                break
        if dominated:
            for u in range(t, n_out - 1):
                out[u] = out[u + 1]
            n_out -= 1
        else:
            t += 1
    return n_out
