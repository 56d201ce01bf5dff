"""Codes of scalar pixels: the index of the bin each value falls in.

A value's code is the number of inner bin edges at or below it, which is
``numpy.searchsorted(edges, value, side="right")``:

    value maps to code c  iff  edges[c - 1] <= value < edges[c]

(with ``edges[-1] = -inf`` and ``edges[n_edges] = +inf``). Three kernels
compute it: a lookup table of every possible value's code (8- and 16-bit
integers), a count of the edges at or below each value (few edges), and a
binary search (many edges).

Every value's code depends on that value alone, so the kernels split the
values into chunks of fixed size (``CHUNK``), shared among ``n_threads``
OpenMP threads (``prange``); the codes are the same for any thread count.
Chunks are handed out as threads become free (``schedule="dynamic"``): on
a machine busy with other work, a thread kept waiting for a core then takes
fewer chunks instead of holding up the others (with ``"static"``, 2 threads
on a loaded 2-core machine took 1.8x the time of one).

The kernels validate nothing: the caller (``skvq._encode``) passes
C-contiguous arrays in native byte order, edges sorted ascending and of the
values' own dtype, chosen so that comparing there is exact (see
``skvq._encode._edges_in_dtype``), and allocates ``codes``.
"""

from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

ctypedef fused index_t:
    uint8_t
    uint16_t

ctypedef fused value_t:
    int32_t
    uint32_t
    int64_t
    uint64_t
    float
    double

ctypedef fused compared_t:
    uint8_t
    int32_t
    uint32_t
    float
    double

ctypedef fused counter_t:
    uint8_t
    int32_t
    double

ctypedef fused code_t:
    uint8_t
    uint16_t

cdef enum:
    # Values per block of the edge count: the block and its counters stay
    # in the L1 cache while every edge is compared with them.
    BLOCK = 512
    # Values per chunk handed to a thread: large enough that scheduling
    # costs nothing beside the work, small enough to share a 1-megapixel
    # image among many threads.
    CHUNK = 1 << 15


cdef inline Py_ssize_t _n_chunks(Py_ssize_t n_values) noexcept nogil:
    return (n_values + CHUNK - 1) // CHUNK


# Fewest values per thread: below, starting and joining threads costs more
# than it saves (and on a machine busy with other work, waiting for a
# thread to be scheduled costs milliseconds). A 300 x 400 image runs on one.
cdef Py_ssize_t MIN_VALUES_PER_THREAD = 1 << 18


cdef inline int _threads_for(int n_threads, Py_ssize_t n_values) noexcept nogil:
    """Threads for ``n_values`` values: at most ``n_threads``, at least one."""
    return <int>max(1, min(<Py_ssize_t>n_threads, n_values // MIN_VALUES_PER_THREAD))


cdef inline void _lookup_chunk(
    const index_t* index, Py_ssize_t n_values, const code_t* table, code_t* codes
) noexcept nogil:
    cdef Py_ssize_t i, n_quads = n_values - n_values % 4
    # Four independent lookups per iteration: about 15% faster than one
    # (uint8 values and codes, measured on one core).
    for i in range(0, n_quads, 4):
        codes[i] = table[index[i]]
        codes[i + 1] = table[index[i + 1]]
        codes[i + 2] = table[index[i + 2]]
        codes[i + 3] = table[index[i + 3]]
    for i in range(n_quads, n_values):
        codes[i] = table[index[i]]


def lookup_codes(
    const index_t[::1] index,  # IN
    const code_t[::1] table,  # IN
    code_t[::1] codes,  # OUT
    int n_threads=1,
):
    """``codes[i] = table[index[i]]``.

    Parameters
    ----------
    index : ndarray of shape (n_values,), uint8 or uint16, C-contiguous
        The raw bits of 8- or 16-bit values, read as native unsigned.
    table : ndarray of shape (256,) or (65536,)
        The code of the value of every bit pattern.
    codes : ndarray of shape (n_values,)
        Written.
    n_threads : int, default=1
        OpenMP threads sharing the chunks of values.
    """
    cdef Py_ssize_t chunk, start, n_values = index.shape[0]
    cdef Py_ssize_t n_chunks = _n_chunks(n_values)
    if n_values == 0:
        return
    for chunk in prange(
        n_chunks, schedule="dynamic", nogil=True,
        num_threads=_threads_for(n_threads, n_values),
    ):
        start = chunk * CHUNK
        _lookup_chunk(
            &index[start], min(<Py_ssize_t>CHUNK, n_values - start), &table[0],
            &codes[start],
        )


cdef inline void _add_edge_counts(
    const compared_t *block,  # IN
    Py_ssize_t n_block,
    const compared_t[::1] edges,  # IN
    counter_t *counts,  # INOUT
) noexcept nogil:
    """Add to ``counts[i]`` the number of ``edges`` at or below ``block[i]``.

    Edges are taken four per pass over the block, which saves three quarters
    of the counters' loads and stores (float32 at 7 edges: 1.0 -> 1.7
    gigapixels per second, measured on one core).
    """
    cdef Py_ssize_t i, j = 0, n_edges = edges.shape[0]
    cdef compared_t e0, e1, e2, e3
    while j + 4 <= n_edges:
        e0, e1, e2, e3 = edges[j], edges[j + 1], edges[j + 2], edges[j + 3]
        for i in range(n_block):
            if counter_t is double:
                counts[i] += (
                    (1.0 if block[i] >= e0 else 0.0)
                    + (1.0 if block[i] >= e1 else 0.0)
                    + (1.0 if block[i] >= e2 else 0.0)
                    + (1.0 if block[i] >= e3 else 0.0)
                )
            else:
                counts[i] += (
                    (block[i] >= e0)
                    + (block[i] >= e1)
                    + (block[i] >= e2)
                    + (block[i] >= e3)
                )
        j += 4
    for j in range(j, n_edges):
        e0 = edges[j]
        for i in range(n_block):
            if counter_t is double:
                counts[i] += 1.0 if block[i] >= e0 else 0.0
            else:
                counts[i] += block[i] >= e0


cdef inline void _count_chunk(
    const compared_t* values,
    Py_ssize_t n_values,
    const compared_t[::1] edges,
    code_t* codes,
) noexcept nogil:
    cdef Py_ssize_t start = 0, i, n_block
    # The counters are as wide as the values, so that each comparison's mask
    # adds to them as one vector instruction: bytes for uint8, int32 for
    # 4-byte values, and float64 (exact up to 2**53) for float64, since SSE2,
    # the baseline of x86-64, has no 64-bit integer vector comparison.
    cdef uint8_t narrow[BLOCK]
    cdef int32_t medium[BLOCK]
    cdef double wide[BLOCK]
    while start < n_values:
        n_block = min(<Py_ssize_t> BLOCK, n_values - start)
        if compared_t is uint8_t:
            memset(narrow, 0, n_block * sizeof(uint8_t))
            _add_edge_counts(&values[start], n_block, edges, narrow)
            for i in range(n_block):
                codes[start + i] = narrow[i]
        elif compared_t is double:
            memset(wide, 0, n_block * sizeof(double))
            _add_edge_counts(&values[start], n_block, edges, wide)
            for i in range(n_block):
                codes[start + i] = <code_t> wide[i]
        else:
            memset(medium, 0, n_block * sizeof(int32_t))
            _add_edge_counts(&values[start], n_block, edges, medium)
            for i in range(n_block):
                codes[start + i] = <code_t> medium[i]
        start += n_block


def count_edges_at_or_below(
    const compared_t[::1] values,  # IN
    const compared_t[::1] edges,  # IN
    code_t[::1] codes,  # OUT
    int n_threads=1,
):
    """``codes[i]`` = number of ``edges`` at or below ``values[i]``.

    Compares every value with every edge, block by block, without branches:
    the fastest method for a few edges, since the comparisons of a block run
    as vector instructions.

    Parameters
    ----------
    values : ndarray of shape (n_values,), C-contiguous
        uint8, int32, uint32, float32 or float64.
    edges : ndarray of shape (n_edges,), of the dtype of ``values``
        Fewer than 256.
    codes : ndarray of shape (n_values,)
        Written.
    n_threads : int, default=1
        OpenMP threads sharing the chunks of values.
    """
    cdef Py_ssize_t chunk, start, n_values = values.shape[0]
    cdef Py_ssize_t n_chunks = _n_chunks(n_values)
    if n_values == 0:
        return
    for chunk in prange(
        n_chunks, schedule="dynamic", nogil=True,
        num_threads=_threads_for(n_threads, n_values),
    ):
        start = chunk * CHUNK
        _count_chunk(
            &values[start], min(<Py_ssize_t>CHUNK, n_values - start), edges,
            &codes[start],
        )


cdef inline Py_ssize_t _search(
    value_t value, const value_t[::1] edges, Py_ssize_t n_edges
) noexcept nogil:
    # Invariant: every edge before ``base`` is at or below ``value``, every
    # edge from ``base + length`` on is above it.
    cdef Py_ssize_t base = 0, half, length = n_edges
    while length > 1:
        half = length >> 1
        if edges[base + half - 1] <= value:
            base += half
        length -= half
    return base + (edges[base] <= value)


def search_edges(
    const value_t[::1] values,  # IN
    const value_t[::1] edges,  # IN
    code_t[::1] codes,  # OUT
    int n_threads=1,
):
    """``codes[i]`` = number of ``edges`` at or below ``values[i]``.

    A binary search per value, in about ``log2(n_edges)`` steps: the method
    for many edges.

    Parameters
    ----------
    values : ndarray of shape (n_values,), C-contiguous
    edges : ndarray of shape (n_edges,), of the dtype of ``values``
        Sorted ascending; fewer than 2**16.
    codes : ndarray of shape (n_values,)
        Written.
    n_threads : int, default=1
        OpenMP threads sharing the chunks of values.
    """
    cdef Py_ssize_t i, chunk, n_values = values.shape[0], n_edges = edges.shape[0]
    cdef Py_ssize_t n_chunks = _n_chunks(n_values)
    if n_values == 0:
        return
    if n_edges == 0:
        codes[:] = 0
        return
    for chunk in prange(
        n_chunks, schedule="dynamic", nogil=True,
        num_threads=_threads_for(n_threads, n_values),
    ):
        for i in range(chunk * CHUNK, min(chunk * CHUNK + CHUNK, n_values)):
            codes[i] = <code_t>_search(values[i], edges, n_edges)
