"""Weighted means of the values of each cell, with their error bounded
whatever the weights (the loops of :func:`skvq._scalar_codebook.weighted_means`,
which documents the method).

One pass adds the weights of each cell; a second adds, for every channel,
each value times its share of its cell's weight, a share being the ratio of
the two weights' mantissas times a power of two applied last; a third adds
the same shares of the values' deviations from that first estimate. Sums
run over the values in their order, as :func:`numpy.bincount` adds them, so
the means are bit for bit those of the same formula in NumPy.

The kernel validates nothing: the caller passes C-contiguous arrays of
matching shapes, finite values and non-negative weights, labels in
``[0, n_cells)``, and per-channel shifts that keep every scaled value and
sum finite.
"""

from libc.math cimport NAN, frexp, ldexp
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset


cdef inline double _power_of_two(int p) noexcept nogil:
    """``2**p`` when it is a normal float, else 0 (built from its bits: the
    library's ``ldexp`` costs more than the rest of a value's work)."""
    cdef uint64_t bits = <uint64_t>(p + 1023) << 52
    cdef double x
    if not -1022 <= p <= 1023:
        return 0.0
    memcpy(&x, &bits, sizeof(double))
    return x


cdef inline double _times(double x, int p, double factor) noexcept nogil:
    """``ldexp(x, p)``, as a product by ``factor = 2**p`` when that is a
    normal float: both are ``x * 2**p`` correctly rounded, so they are
    equal, and the product costs a small fraction of the call."""
    return x * factor if factor != 0 else ldexp(x, p)


def weighted_cell_means(
    const double[:, ::1] values,  # IN (n_values, n_channels)
    const double[::1] weight,  # IN (n_values,)
    const Py_ssize_t[::1] labels,  # IN (n_values,)
    const int[::1] shift,  # IN (n_channels,)
    double[::1] unit,  # scratch (n_channels,)
    double[::1] cell_weight,  # OUT (n_cells,)
    int[::1] cell_exponent,  # scratch (n_cells,)
    double[::1] ratio,  # scratch (n_values,)
    int[::1] power,  # scratch (n_values,)
    double[:, ::1] first,  # scratch (n_cells, n_channels)
    double[:, ::1] means,  # OUT (n_cells, n_channels)
):
    """Weighted mean of each cell's values in ``means`` (NaN for a cell
    without weight), each channel's values taken in units of
    ``2**shift[c]``; the cells' total weights in ``cell_weight``."""
    cdef Py_ssize_t n_values = values.shape[0], n_channels = values.shape[1]
    cdef Py_ssize_t n_cells = cell_weight.shape[0]
    cdef Py_ssize_t i, j, c
    cdef int exponent
    cdef double share, scaled
    with nogil:
        for c in range(n_channels):
            unit[c] = _power_of_two(-shift[c])
        memset(&cell_weight[0], 0, n_cells * sizeof(double))
        memset(&first[0, 0], 0, n_cells * n_channels * sizeof(double))
        memset(&means[0, 0], 0, n_cells * n_channels * sizeof(double))
        for i in range(n_values):
            cell_weight[labels[i]] += weight[i]
        # Each cell's mantissa kept in place of its weight until the end.
        for j in range(n_cells):
            cell_weight[j] = frexp(cell_weight[j], &cell_exponent[j])
        # Values of zero weight add nothing (their terms are zeros), so they
        # are skipped.
        for i in range(n_values):
            if weight[i] > 0:
                j = labels[i]
                ratio[i] = frexp(weight[i], &exponent) / cell_weight[j]
                power[i] = exponent - cell_exponent[j]
                share = _power_of_two(power[i])
                for c in range(n_channels):
                    scaled = _times(values[i, c], -shift[c], unit[c])
                    first[j, c] += _times(ratio[i] * scaled, power[i], share)
        for i in range(n_values):
            if weight[i] > 0:
                j = labels[i]
                share = _power_of_two(power[i])
                for c in range(n_channels):
                    scaled = _times(values[i, c], -shift[c], unit[c])
                    means[j, c] += _times(
                        ratio[i] * (scaled - first[j, c]), power[i], share
                    )
        for j in range(n_cells):
            for c in range(n_channels):
                means[j, c] = (
                    ldexp(first[j, c] + means[j, c], shift[c])
                    if cell_weight[j] > 0 else NAN
                )
            cell_weight[j] = ldexp(cell_weight[j], cell_exponent[j])
