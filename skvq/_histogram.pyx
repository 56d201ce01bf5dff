"""Histograms of integer pixel values: one pass over the pixels.

A gray image of 8- or 16-bit integers is summarised by the count (or total
sample weight) of every value it can hold; other integer images by the count
of every value between their minimum and maximum, when that range is small.
Both are the same kernel: ``counts[value - offset] += 1``.

The kernels validate nothing: the caller (``skvq._summary``) passes
C-contiguous arrays in native byte order, allocates ``counts`` and guarantees
``0 <= value - offset < counts.shape[0]`` for every value.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

ctypedef fused integer_t:
    uint8_t
    int8_t
    uint16_t
    int16_t
    uint32_t
    int32_t
    uint64_t
    int64_t


cdef inline size_t _bin(integer_t value, int64_t offset) noexcept nogil:
    # value - offset in modular (unsigned) arithmetic: exact whenever the
    # true difference is in [0, counts.shape[0]), for every integer type,
    # without the overflow a signed difference would risk.
    return <size_t> (<uint64_t> value - <uint64_t> offset)


def add_value_counts(
    const integer_t[::1] values,  # IN
    int64_t offset,
    int64_t[::1] counts,  # INOUT
):
    """Add one to ``counts[v - offset]`` for every ``v`` of ``values``.

    Parameters
    ----------
    values : ndarray of shape (n_values,), C-contiguous, native byte order
        Integers with ``0 <= v - offset < counts.shape[0]``.
    offset : int
        The value counted in ``counts[0]``. For uint64 values above the
        int64 range, pass it modulo 2**64 as an int64.
    counts : ndarray of shape (n_bins,), int64
        Added to in place.
    """
    cdef Py_ssize_t i, n_values = values.shape[0]
    cdef Py_ssize_t n_quads = n_values - n_values % 4
    # For 8-bit values, four histograms indexed by the raw byte take turns,
    # so that runs of one value (flat image regions) do not wait on the
    # previous increment of the same counter; they are folded into
    # ``counts`` at the end.
    cdef int64_t by_byte[4][256]
    cdef integer_t value
    with nogil:
        if integer_t is uint8_t or integer_t is int8_t:
            memset(by_byte, 0, sizeof(by_byte))
            for i in range(0, n_quads, 4):
                by_byte[0][<uint8_t> values[i]] += 1
                by_byte[1][<uint8_t> values[i + 1]] += 1
                by_byte[2][<uint8_t> values[i + 2]] += 1
                by_byte[3][<uint8_t> values[i + 3]] += 1
            for i in range(n_quads, n_values):
                by_byte[0][<uint8_t> values[i]] += 1
            for i in range(256):
                if by_byte[0][i] or by_byte[1][i] or by_byte[2][i] or by_byte[3][i]:
                    value = <integer_t> i
                    counts[_bin(value, offset)] += (
                        by_byte[0][i] + by_byte[1][i] + by_byte[2][i] + by_byte[3][i]
                    )
        else:
            for i in range(n_values):
                counts[_bin(values[i], offset)] += 1


def add_weighted_value_counts(
    const integer_t[::1] values,  # IN
    const double[::1] weight,  # IN
    int64_t offset,
    double[::1] counts,  # INOUT
):
    """Add ``weight[i]`` to ``counts[values[i] - offset]`` for every ``i``.

    Weights are added to each counter in the order of ``values``, as
    :func:`numpy.bincount` does.

    Parameters
    ----------
    values : ndarray of shape (n_values,), C-contiguous, native byte order
        Integers with ``0 <= v - offset < counts.shape[0]``.
    weight : ndarray of shape (n_values,), float64, C-contiguous
    offset : int
        The value counted in ``counts[0]`` (modulo 2**64, as an int64).
    counts : ndarray of shape (n_bins,), float64
        Added to in place.
    """
    cdef Py_ssize_t i, n_values = values.shape[0]
    with nogil:
        for i in range(n_values):
            counts[_bin(values[i], offset)] += weight[i]
