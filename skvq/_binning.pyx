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

All three run through one helper, ``_in_chunks``, which hands the chunks
to the threads; each kernel is a function of one chunk (``_lookup_chunk``,
``_count_chunk``, ``_search_chunk``). The edge count and the search also
count the values that are not finite (NaN or infinite), in the pass that
codes them: the caller then needs no pass of its own to refuse them.

The table lookup of uint8 values and codes, the one that competes with a
copy of the bytes, is written in C below with vector instructions chosen
when the module is imported: AVX-512 VBMI (the whole 256-entry table in four
registers, 64 values per two permutes), else AVX2 (16-entry tables indexed
by the low half of each byte, chosen among by the high half), else eight
lookups per 64-bit word. Each gives exactly ``table[index]``.

Beyond that count, the kernels validate nothing: the caller
(``skvq._encode``) passes C-contiguous arrays in native byte order, edges
sorted ascending and of the values' own dtype, chosen so that comparing
there is exact (see ``skvq._encode._edges_in_dtype``), and allocates
``codes``.
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

# Every type of values the kernels take, for the helper they share.
ctypedef fused any_value_t:
    uint8_t
    uint16_t
    int32_t
    uint32_t
    int64_t
    uint64_t
    float
    double

ctypedef fused code_t:
    uint8_t
    uint16_t

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>

    /* Eight lookups per 64-bit word: one load and one store of the word
       instead of eight of each (the same shifts read and write the word, so
       the result does not depend on the byte order). */
    static void skvq_lookup_u8_words(const uint8_t *index, Py_ssize_t n,
                                     const uint8_t *table, uint8_t *codes)
    {
        Py_ssize_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t in, out;
            memcpy(&in, index + i, 8);
            out = (uint64_t)table[in & 255]
                | (uint64_t)table[(in >> 8) & 255] << 8
                | (uint64_t)table[(in >> 16) & 255] << 16
                | (uint64_t)table[(in >> 24) & 255] << 24
                | (uint64_t)table[(in >> 32) & 255] << 32
                | (uint64_t)table[(in >> 40) & 255] << 40
                | (uint64_t)table[(in >> 48) & 255] << 48
                | (uint64_t)table[in >> 56] << 56;
            memcpy(codes + i, &out, 8);
        }
        for (; i < n; i++) codes[i] = table[index[i]];
    }

    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #define SKVQ_LOOKUP_X86 1
    #include <immintrin.h>

    /* AVX2: the table as 16 tables of 16 entries; vpshufb looks each value's
       low four bits up in all of them, and a tree of blends picks the one of
       its high four bits (bit 4 first, bit 7 last: vpblendvb takes the top
       bit of each byte, which a left shift brings each bit to). */
    __attribute__((target("avx2")))
    static void skvq_lookup_u8_avx2(const uint8_t *index, Py_ssize_t n,
                                    const uint8_t *table, uint8_t *codes)
    {
        __m256i t[16], a[8], b[4], c[2], x, low, bit4, bit5, bit6;
        const __m256i mask = _mm256_set1_epi8(15);
        Py_ssize_t i = 0;
        int k;
        for (k = 0; k < 16; k++)
            t[k] = _mm256_broadcastsi128_si256(
                _mm_loadu_si128((const __m128i *)(table + 16 * k)));
        for (; i + 32 <= n; i += 32) {
            x = _mm256_loadu_si256((const __m256i *)(index + i));
            low = _mm256_and_si256(x, mask);
            bit4 = _mm256_slli_epi16(x, 3);
            bit5 = _mm256_slli_epi16(x, 2);
            bit6 = _mm256_slli_epi16(x, 1);
            for (k = 0; k < 8; k++)
                a[k] = _mm256_blendv_epi8(_mm256_shuffle_epi8(t[2 * k], low),
                                          _mm256_shuffle_epi8(t[2 * k + 1], low),
                                          bit4);
            for (k = 0; k < 4; k++)
                b[k] = _mm256_blendv_epi8(a[2 * k], a[2 * k + 1], bit5);
            for (k = 0; k < 2; k++)
                c[k] = _mm256_blendv_epi8(b[2 * k], b[2 * k + 1], bit6);
            _mm256_storeu_si256((__m256i *)(codes + i),
                                _mm256_blendv_epi8(c[0], c[1], x));
        }
        skvq_lookup_u8_words(index + i, n - i, table, codes + i);
    }

    /* AVX-512 VBMI: vpermi2b looks 64 values up in 128 entries (two
       registers); two of them cover the table, and the values' top bit
       picks between them. */
    __attribute__((target("avx512f,avx512bw,avx512vbmi")))
    static void skvq_lookup_u8_vbmi(const uint8_t *index, Py_ssize_t n,
                                    const uint8_t *table, uint8_t *codes)
    {
        const __m512i t0 = _mm512_loadu_si512(table);
        const __m512i t1 = _mm512_loadu_si512(table + 64);
        const __m512i t2 = _mm512_loadu_si512(table + 128);
        const __m512i t3 = _mm512_loadu_si512(table + 192);
        __m512i x;
        Py_ssize_t i = 0;
        for (; i + 64 <= n; i += 64) {
            x = _mm512_loadu_si512(index + i);
            _mm512_storeu_si512(codes + i, _mm512_mask_blend_epi8(
                _mm512_movepi8_mask(x),
                _mm512_permutex2var_epi8(t0, x, t1),
                _mm512_permutex2var_epi8(t2, x, t3)));
        }
        skvq_lookup_u8_words(index + i, n - i, table, codes + i);
    }
    #endif

    /* 0: words, 1: AVX2, 2: AVX-512 VBMI. */
    static int skvq_lookup_u8_best = 0;

    static int skvq_lookup_u8_supported(int path)
    {
        if (path == 0) return 1;
    #ifdef SKVQ_LOOKUP_X86
        __builtin_cpu_init();
        if (path == 1) return __builtin_cpu_supports("avx2");
        if (path == 2)
            return __builtin_cpu_supports("avx512f")
                && __builtin_cpu_supports("avx512bw")
                && __builtin_cpu_supports("avx512vbmi");
    #endif
        return 0;
    }

    static void skvq_lookup_u8_init(void)
    {
        int path;
        for (path = 0; path <= 2; path++)
            if (skvq_lookup_u8_supported(path)) skvq_lookup_u8_best = path;
    }

    static void skvq_lookup_u8_with(int path, const uint8_t *index,
                                    Py_ssize_t n, const uint8_t *table,
                                    uint8_t *codes)
    {
    #ifdef SKVQ_LOOKUP_X86
        if (path == 2) { skvq_lookup_u8_vbmi(index, n, table, codes); return; }
        if (path == 1) { skvq_lookup_u8_avx2(index, n, table, codes); return; }
    #endif
        skvq_lookup_u8_words(index, n, table, codes);
    }

    static int skvq_lookup_u8_vectorised(void)
    {
        return skvq_lookup_u8_best > 0;
    }

    static void skvq_lookup_u8(const uint8_t *index, Py_ssize_t n,
                               const uint8_t *table, uint8_t *codes)
    {
        skvq_lookup_u8_with(skvq_lookup_u8_best, index, n, table, codes);
    }
    """
    int skvq_lookup_u8_supported(int path) noexcept nogil
    int skvq_lookup_u8_vectorised() noexcept nogil
    void skvq_lookup_u8_init() noexcept nogil
    void skvq_lookup_u8_with(
        int path, const uint8_t *index, Py_ssize_t n, const uint8_t *table,
        uint8_t *codes,
    ) noexcept nogil
    void skvq_lookup_u8(
        const uint8_t *index, Py_ssize_t n, const uint8_t *table, uint8_t *codes
    ) noexcept nogil

skvq_lookup_u8_init()

# Names of the table-lookup paths of uint8 values and codes, in the order of
# the C code's numbers.
LOOKUP_U8_PATHS = ("words", "avx2", "avx512vbmi")
# Whether lookup_codes of uint8 values and codes runs on vector instructions
# here: it is then faster than counting edges, however few.
LOOKUP_U8_VECTORISED = bool(skvq_lookup_u8_vectorised())

cdef enum:
    # Values per block of the edge count: the block and its counters stay
    # in the L1 cache while every edge is compared with them.
    BLOCK = 512
    # Values per chunk handed to a thread: large enough that scheduling
    # costs nothing beside the work, small enough to share a 1-megapixel
    # image among many threads.
    CHUNK = 1 << 15


# Fewest values per thread: below, starting and joining threads costs more
# than it saves (and on a machine busy with other work, waiting for a
# thread to be scheduled costs milliseconds). A 300 x 400 image runs on one.
cdef Py_ssize_t MIN_VALUES_PER_THREAD = 1 << 18
# The same for the vectorised lookup of uint8 values and codes, which codes
# about 20 values per nanosecond on one core, as fast as a copy of the
# bytes (AVX-512 VBMI; AVX2 at about half that): two threads on a
# 12.6-megapixel image save 0.2 ms on an idle 2-core machine, but took 8
# to 20 ms instead of 0.6 ms when another process kept the other core
# busy, the first thread waiting at the end for the second to be scheduled.
cdef Py_ssize_t MIN_VECTOR_LOOKUPS_PER_THREAD = 1 << 23


cdef inline int _threads_for(
    int n_threads, Py_ssize_t n_values, Py_ssize_t min_values_per_thread
) noexcept nogil:
    """Threads for ``n_values`` values: at most ``n_threads``, at least one."""
    return <int>max(1, min(<Py_ssize_t>n_threads, n_values // min_values_per_thread))


cdef struct _Edges:
    # The sorted edges of count_edges_at_or_below and search_edges, of the
    # values' own type.
    const void *edges
    Py_ssize_t n_edges


cdef Py_ssize_t _in_chunks(
    Py_ssize_t (*chunk_codes)(
        const any_value_t*, Py_ssize_t, const void*, code_t*
    ) noexcept nogil,
    const any_value_t *values,  # IN
    Py_ssize_t n_values,
    const void *job,  # IN: the table or the _Edges, passed to chunk_codes
    code_t *codes,  # OUT
    int n_threads,
    Py_ssize_t min_values_per_thread,
) noexcept nogil:
    """``chunk_codes(&values[start], n, job, &codes[start])`` on every chunk
    of ``CHUNK`` values (the last shorter), the chunks shared among up to
    ``n_threads`` threads as they become free, each thread with at least
    ``min_values_per_thread`` values; returns the sum of what they return
    (a count, exact in any order)."""
    cdef Py_ssize_t chunk, start, total = 0
    if n_values == 0:
        return 0
    for chunk in prange(
        (n_values + CHUNK - 1) // CHUNK, schedule="dynamic",
        num_threads=_threads_for(n_threads, n_values, min_values_per_thread),
    ):
        start = chunk * CHUNK
        total += chunk_codes(
            &values[start], min(<Py_ssize_t>CHUNK, n_values - start), job,
            &codes[start],
        )
    return total


cdef inline Py_ssize_t _not_finite(
    const any_value_t *block, Py_ssize_t n_block
) noexcept nogil:
    """How many of the values are NaN or infinite (none for integers):
    ``x - x`` is 0 for finite ``x`` and NaN otherwise, a branchless test
    that the compiler vectorises."""
    cdef Py_ssize_t i, count = 0
    if any_value_t is float or any_value_t is double:
        for i in range(n_block):
            count += (block[i] - block[i]) != 0
    return count


cdef Py_ssize_t _lookup_chunk(
    const index_t *index,  # IN
    Py_ssize_t n_values,
    const void *table,  # IN: code_t[256] or code_t[65536]
    code_t *codes,  # OUT
) noexcept nogil:
    """Returns 0 (integers are finite)."""
    cdef const code_t *codes_of = <const code_t*>table
    cdef Py_ssize_t i, n_quads = n_values - n_values % 4
    if index_t is uint8_t and code_t is uint8_t:
        skvq_lookup_u8(index, n_values, codes_of, codes)
        return 0
    # Four independent lookups per iteration: about 15% faster than one
    # (measured on one core).
    for i in range(0, n_quads, 4):
        codes[i] = codes_of[index[i]]
        codes[i + 1] = codes_of[index[i + 1]]
        codes[i + 2] = codes_of[index[i + 2]]
        codes[i + 3] = codes_of[index[i + 3]]
    for i in range(n_quads, n_values):
        codes[i] = codes_of[index[i]]
    return 0


def lookup_codes(
    const index_t[::1] index,  # IN
    const code_t[::1] table,  # IN
    code_t[::1] codes,  # OUT
    int n_threads=1,
):
    """``codes[i] = table[index[i]]``.

    uint8 values and codes use the widest vector instructions of the
    processor (see the module's docstring), and share the work among
    threads only from ``2**24`` values on (about as fast as a copy of the
    bytes on one thread, they gain little from a second).

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
    cdef Py_ssize_t min_values_per_thread = MIN_VALUES_PER_THREAD
    if index_t is uint8_t and code_t is uint8_t:
        if skvq_lookup_u8_vectorised():
            min_values_per_thread = MIN_VECTOR_LOOKUPS_PER_THREAD
    with nogil:
        _in_chunks(
            _lookup_chunk[index_t, code_t], &index[0], index.shape[0],
            &table[0], &codes[0], n_threads, min_values_per_thread,
        )


def lookup_u8_path_supported(int path):
    """Whether this processor runs path ``path`` of the uint8 table lookup
    (an index into ``LOOKUP_U8_PATHS``)."""
    return bool(skvq_lookup_u8_supported(path))


def lookup_u8_with(
    int path,
    const uint8_t[::1] index,  # IN
    const uint8_t[::1] table,  # IN
    uint8_t[::1] codes,  # OUT
):
    """``codes[i] = table[index[i]]`` by path ``path`` of the uint8 lookup,
    on one thread, so that tests can check every path the processor runs
    (the caller checks ``lookup_u8_path_supported(path)`` first)."""
    with nogil:
        skvq_lookup_u8_with(path, &index[0], index.shape[0], &table[0], &codes[0])


cdef inline void _add_edge_counts(
    const compared_t *block,  # IN
    Py_ssize_t n_block,
    const compared_t *edges,  # IN
    Py_ssize_t n_edges,
    counter_t *counts,  # INOUT
) noexcept nogil:
    """Add to ``counts[i]`` the number of ``edges`` at or below ``block[i]``.

    Edges are taken four per pass over the block, which saves three quarters
    of the counters' loads and stores (float32 at 7 edges: 1.0 -> 1.7
    gigapixels per second, measured on one core).
    """
    cdef Py_ssize_t i, j = 0
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


cdef Py_ssize_t _count_chunk(
    const compared_t *values,  # IN
    Py_ssize_t n_values,
    const void *job,  # IN: the _Edges, of compared_t
    code_t *codes,  # OUT
) noexcept nogil:
    """Returns how many values are not finite."""
    cdef const _Edges *sorted_edges = <const _Edges*>job
    cdef const compared_t *edges = <const compared_t*>sorted_edges.edges
    cdef Py_ssize_t n_edges = sorted_edges.n_edges
    cdef Py_ssize_t start = 0, i, n_block, n_not_finite = 0
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
            _add_edge_counts(&values[start], n_block, edges, n_edges, narrow)
            for i in range(n_block):
                codes[start + i] = narrow[i]
        elif compared_t is double:
            memset(wide, 0, n_block * sizeof(double))
            _add_edge_counts(&values[start], n_block, edges, n_edges, wide)
            for i in range(n_block):
                codes[start + i] = <code_t> wide[i]
        else:
            memset(medium, 0, n_block * sizeof(int32_t))
            _add_edge_counts(&values[start], n_block, edges, n_edges, medium)
            for i in range(n_block):
                codes[start + i] = <code_t> medium[i]
        # While the block is in the L1 cache.
        n_not_finite += _not_finite(&values[start], n_block)
        start += n_block
    return n_not_finite


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

    Returns
    -------
    n_not_finite : int
        Values that are NaN or infinite (their codes are undefined).
    """
    cdef _Edges job = _Edges(&edges[0], edges.shape[0])
    cdef Py_ssize_t n_not_finite
    with nogil:
        n_not_finite = _in_chunks(
            _count_chunk[compared_t, code_t], &values[0], values.shape[0], &job,
            &codes[0], n_threads, MIN_VALUES_PER_THREAD,
        )
    return n_not_finite


cdef inline Py_ssize_t _search(
    value_t value, const value_t *edges, Py_ssize_t n_edges
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


cdef Py_ssize_t _search_chunk(
    const value_t *values,  # IN
    Py_ssize_t n_values,
    const void *job,  # IN: the _Edges, of value_t, at least one
    code_t *codes,  # OUT
) noexcept nogil:
    """Returns how many values are not finite."""
    cdef const _Edges *sorted_edges = <const _Edges*>job
    cdef const value_t *edges = <const value_t*>sorted_edges.edges
    cdef Py_ssize_t i
    for i in range(n_values):
        codes[i] = <code_t>_search(values[i], edges, sorted_edges.n_edges)
    return _not_finite(values, n_values)


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

    Returns
    -------
    n_not_finite : int
        Values that are NaN or infinite (their codes are undefined).
    """
    cdef _Edges job = _Edges(&edges[0], edges.shape[0])
    cdef Py_ssize_t n_not_finite
    if edges.shape[0] == 0:
        codes[:] = 0
        return _not_finite(&values[0], values.shape[0]) if values.shape[0] else 0
    with nogil:
        n_not_finite = _in_chunks(
            _search_chunk[value_t, code_t], &values[0], values.shape[0], &job,
            &codes[0], n_threads, MIN_VALUES_PER_THREAD,
        )
    return n_not_finite
