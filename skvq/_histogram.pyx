"""Histograms of integer pixel values: one pass over the pixels.

A gray image of 8- or 16-bit integers is summarised by the count (or total
sample weight) of every value it can hold; other integer images by the count
of every value between their minimum and maximum, when that range is small.
Both are the same kernel: ``counts[value - offset] += 1``.

The unweighted count splits the values into chunks of fixed size, shared
among ``n_threads`` OpenMP threads (``prange``, chunks handed out as threads
become free), each thread counting into a histogram of its own; the
histograms are then added. Integer counts add exactly in any order, so the
result is the same for any thread count. Weighted counts are added in the
values' order, on one thread (a sum of floats depends on its order).

The kernels validate nothing: the caller (``skvq._summary``) passes
C-contiguous arrays in native byte order, allocates ``counts`` and guarantees
``0 <= value - offset < counts.shape[0]`` for every value.
"""

import numpy as np

from cython.parallel cimport prange, threadid
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


cdef inline void _count(
    const integer_t* values, Py_ssize_t n_values, int64_t offset, int64_t* counts
) noexcept nogil:
    """``counts[v - offset] += 1`` for the ``n_values`` values at ``values``."""
    cdef Py_ssize_t i, n_quads = n_values - n_values % 4
    # For 8-bit values, four histograms indexed by the raw byte take turns,
    # so that runs of one value (flat image regions) do not wait on the
    # previous increment of the same counter; they are folded into
    # ``counts`` at the end.
    cdef int64_t by_byte[4][256]
    cdef integer_t value
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


cdef enum:
    # Values per chunk handed to a thread.
    CHUNK = 1 << 16
    # Fewest values per thread (see skvq._binning).
    MIN_VALUES_PER_THREAD = 1 << 18


def add_value_counts(
    const integer_t[::1] values,  # IN
    int64_t offset,
    int64_t[::1] counts,  # INOUT
    int n_threads=1,
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
    n_threads : int, default=1
        Most OpenMP threads, each with a histogram of its own: fewer are
        used when there are fewer chunks, or when the histograms would
        outweigh the values (at most a quarter of one int64 per value).
    """
    cdef Py_ssize_t t, b, chunk, n_values = values.shape[0], n_bins = counts.shape[0]
    cdef Py_ssize_t n_chunks = (n_values + CHUNK - 1) // CHUNK
    cdef int n_used = <int>max(1, min(
        <Py_ssize_t>n_threads, n_values // MIN_VALUES_PER_THREAD,
        n_values // max(4 * n_bins, 1),
    ))
    cdef int64_t[:, ::1] partial
    if n_values == 0:
        return
    if n_used == 1:
        with nogil:
            _count(&values[0], n_values, offset, &counts[0])
        return
    partial = np.zeros((n_used, n_bins), dtype=np.int64)
    for chunk in prange(n_chunks, schedule="dynamic", nogil=True, num_threads=n_used):
        _count(
            &values[chunk * CHUNK],
            min(<Py_ssize_t>CHUNK, n_values - chunk * CHUNK),
            offset,
            &partial[threadid(), 0],
        )
    with nogil:
        for t in range(n_used):
            for b in range(n_bins):
                counts[b] += partial[t, b]


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
