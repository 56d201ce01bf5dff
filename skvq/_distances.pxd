"""Distances between pixels and codewords, shared by the kernels that pick
the nearest codeword (``_nearest_codeword``, ``_dither``, ``_lloyd``), so
that all of them decide alike: ``dither`` at strength 0 must give the codes
of ``transform``.

Coordinates are in scaled units, where codewords are at most one in
magnitude (the callers scale by a power of two).
"""

from libc.math cimport fabs, frexp, ldexp

cdef extern from *:
    """
    /* Relative and absolute margins above the rounding of squared distances
       and projections (in scaled units), for up to thousands of channels;
       the absolute one covers underflow. */
    #define SKVQ_RELATIVE 1e-9
    #define SKVQ_ABSOLUTE 1e-290
    """
    const double RELATIVE "SKVQ_RELATIVE"
    const double ABSOLUTE "SKVQ_ABSOLUTE"


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
