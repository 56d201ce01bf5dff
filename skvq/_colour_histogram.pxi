# The kernels of skvq._colour_histogram, included by it and by
# skvq._colour_histogram_popcnt (the same source compiled for processors
# with the POPCNT instruction); the modules' docstrings say more.

import numpy as np

from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

cdef enum:
    # Pixels per chunk handed to a thread.
    CHUNK = 1 << 16


cdef extern from *:
    """
    /* Bits set in a word, and the indices of its lowest and highest set
       bits (word != 0): portable C that compilers turn into single
       instructions where the target has them. */
    static inline int skvq_popcount64(uint64_t x) {
    #if defined(__POPCNT__) || (defined(__GNUC__) && defined(__aarch64__))
        /* One instruction: POPCNT where the build targets it (the _popcnt
           module), CNT on 64-bit ARM. */
        return __builtin_popcountll(x);
    #else
        x = x - ((x >> 1) & 0x5555555555555555ULL);
        x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
        return (int)((x * 0x0101010101010101ULL) >> 56);
    #endif
    }
    static inline int skvq_lowest_bit64(uint64_t x) {
    #if defined(__GNUC__) || defined(__clang__)
        return __builtin_ctzll(x);
    #else
        return skvq_popcount64((x & (0 - x)) - 1);
    #endif
    }
    static inline int skvq_highest_bit64(uint64_t x) {
    #if defined(__GNUC__) || defined(__clang__)
        return 63 - __builtin_clzll(x);
    #else
        int n = 63;
        while (!((x >> n) & 1)) n--;
        return n;
    #endif
    }
    """
    int _popcount "skvq_popcount64"(uint64_t word) noexcept nogil
    int _lowest_bit "skvq_lowest_bit64"(uint64_t word) noexcept nogil
    int _highest_bit "skvq_highest_bit64"(uint64_t word) noexcept nogil


# The loops below take the number of channels as an argument of inline
# functions called with a constant (2 or 3), so that the compiler unrolls the
# loops over channels: half the instructions of a loop over a variable count.

cdef inline uint64_t _key(const uint8_t* pixel, const int n_channels, const int cell_exponent) noexcept nogil:
    """Key of the cell at ``cell_exponent`` (the colour itself at cell exponent 0)."""
    cdef uint64_t key = 0
    cdef int c
    for c in range(n_channels):
        key = (key << (8 - cell_exponent)) | (pixel[c] >> cell_exponent)
    return key


cdef inline void _set(uint64_t* bitmap, uint64_t key) noexcept nogil:
    bitmap[key >> 6] |= (<uint64_t>1) << (key & 63)


cdef inline Py_ssize_t _rank(
    const uint64_t* bitmap, const uint32_t* rank, uint64_t key
) noexcept nogil:
    """Index of ``key`` among the keys set (it must be set)."""
    cdef uint64_t below = bitmap[key >> 6] & (((<uint64_t>1) << (key & 63)) - 1)
    return rank[key >> 6] + _popcount(below)


cdef Py_ssize_t _count_bits(const uint64_t* bitmap, Py_ssize_t n_words) noexcept nogil:
    cdef Py_ssize_t w, n = 0
    for w in range(n_words):
        n += _popcount(bitmap[w])
    return n


cdef void _rank_and_list_words(
    const uint64_t* bitmap, Py_ssize_t first, Py_ssize_t stop, Py_ssize_t n,
    uint32_t* rank, uint32_t* keys,
) noexcept nogil:
    """:func:`_rank_and_list` of words ``[first, stop)``, ``n`` bits being
    set before them."""
    cdef Py_ssize_t w
    cdef uint64_t word
    for w in range(first, stop):
        rank[w] = <uint32_t>n
        word = bitmap[w]
        while word:
            keys[n] = <uint32_t>(64 * w + _lowest_bit(word))
            n += 1
            word &= word - 1


cdef enum:
    # Fewest bitmap words per thread of _rank_and_list (512 KiB).
    RANK_WORDS = 1 << 16


cdef void _rank_and_list(
    const uint64_t* bitmap, Py_ssize_t n_words, uint32_t* rank, uint32_t* keys,
    int n_threads=1,
) noexcept nogil:
    """``rank[w]``: number of bits set in the words before ``w``; ``keys``:
    the keys set, ascending. Up to ``n_threads`` OpenMP threads take equal
    runs of words, once to count their bits, once to rank and list them
    from the counts before (exact, as any integer count)."""
    cdef int t, n_used = <int>max(1, min(<Py_ssize_t>n_threads, n_words // RANK_WORDS))
    cdef Py_ssize_t first, stop, total = 0
    cdef Py_ssize_t before[64]
    if n_used == 1:
        _rank_and_list_words(bitmap, 0, n_words, 0, rank, keys)
        return
    n_used = min(n_used, 64)
    for t in prange(n_used, schedule="static", num_threads=n_used):
        first = n_words * t // n_used
        before[t] = _count_bits(bitmap + first, n_words * (t + 1) // n_used - first)
    for t in range(n_used):
        first = before[t]
        before[t] = total
        total += first
    for t in prange(n_used, schedule="static", num_threads=n_used):
        first = n_words * t // n_used
        stop = n_words * (t + 1) // n_used
        _rank_and_list_words(bitmap, first, stop, before[t], rank, keys)


cdef inline void _mark(
    const uint8_t* pixels,
    const double* weight,
    Py_ssize_t n_pixels,
    const int n_channels,
    uint64_t* present,
) noexcept nogil:
    """Set the bits of the pixels' colours in ``present``."""
    cdef Py_ssize_t i
    for i in range(n_pixels):
        if weight != NULL and not weight[i] > 0:
            continue
        _set(present, _key(pixels + i * n_channels, n_channels, 0))


cdef inline void _set_bounds(const uint64_t* values, uint8_t* low, uint8_t* high) noexcept nogil:
    """The least and greatest of the values 0..255 set in the four words
    ``values`` (not all 0)."""
    cdef int k
    for k in range(4):
        if values[k]:
            low[0] = <uint8_t>(64 * k + _lowest_bit(values[k]))
            break
    for k in range(3, -1, -1):
        if values[k]:
            high[0] = <uint8_t>(64 * k + _highest_bit(values[k]))
            break


cdef void _bounds(
    const uint64_t* bitmap, Py_ssize_t n_words, const int n_channels,
    uint8_t* low, uint8_t* high,
) noexcept nogil:
    """Per channel, the least and greatest value of the colours set in
    ``bitmap`` (255 and 0 when there are none), read from the bitmap in one
    pass instead of from every pixel. Four words hold the 256 values of the
    last channel for one value of the others (``w >> 2``): that channel's
    values are the bits of the four words' ORs by ``w % 4``; the first
    channel's bounds are those of the first and last groups of four words
    that are not empty, and the middle one (of three) is marked per group."""
    cdef uint64_t last[4]
    cdef uint64_t middle[4]
    cdef uint64_t group
    cdef Py_ssize_t p, first = -1, final = -1
    cdef int k, c
    for k in range(4):
        last[k] = 0
        middle[k] = 0
    for p in range(n_words >> 2):
        group = 0
        for k in range(4):
            last[k] |= bitmap[4 * p + k]
            group |= bitmap[4 * p + k]
        if group:
            if first < 0:
                first = p
            final = p
            if n_channels == 3:
                middle[(p & 255) >> 6] |= (<uint64_t>1) << (p & 63)
    if first < 0:
        for c in range(n_channels):
            low[c], high[c] = 255, 0
        return
    _set_bounds(last, &low[n_channels - 1], &high[n_channels - 1])
    if n_channels == 2:
        low[0], high[0] = <uint8_t>first, <uint8_t>final
        return
    low[0], high[0] = <uint8_t>(first >> 8), <uint8_t>(final >> 8)
    _set_bounds(middle, &low[1], &high[1])


cdef inline int _threads_for(int n_threads, Py_ssize_t n_pixels) noexcept nogil:
    """Threads for ``n_pixels`` pixels: at most ``n_threads``, at least one,
    and at least 2**17 pixels each (see skvq._binning)."""
    return <int>max(1, min(<Py_ssize_t>n_threads, n_pixels >> 17))


def mark_colours(
    const uint8_t[:, ::1] pixels,  # IN
    const double[::1] weight,  # IN, or None
    uint64_t[::1] present,  # OUT, 2**(8 * n_channels) bits
    uint8_t[::1] low,  # OUT, (n_channels,)
    uint8_t[::1] high,  # OUT, (n_channels,)
    int n_threads=1,
):
    """Mark the colours of the pixels of positive weight in ``present``.

    Bit ``key % 64`` of ``present[key // 64]`` is set for every colour key
    present; ``low`` and ``high`` receive the per-channel minimum and
    maximum of those pixels (255 and 0 when there are none), read from the
    bitmap. Up to ``n_threads`` OpenMP threads share the pixels, each with
    a bitmap of its own, ORed at the end.

    Returns
    -------
    n_colours : int
        Number of distinct colours present.
    """
    cdef Py_ssize_t n_pixels = pixels.shape[0], n_words = present.shape[0]
    cdef Py_ssize_t n_channels = pixels.shape[1]
    cdef Py_ssize_t chunk, start, w, t
    cdef int n_used = _threads_for(n_threads, n_pixels)
    cdef const double* weights = NULL if weight is None else &weight[0]
    cdef uint64_t[:, ::1] bitmaps
    if n_used == 1:
        with nogil:
            memset(&present[0], 0, n_words * sizeof(uint64_t))
            if n_pixels and n_channels == 3:
                _mark(&pixels[0, 0], weights, n_pixels, 3, &present[0])
            elif n_pixels:
                _mark(&pixels[0, 0], weights, n_pixels, 2, &present[0])
            _bounds(&present[0], n_words, <int>n_channels, &low[0], &high[0])
            n_words = _count_bits(&present[0], n_words)
        return n_words
    bitmaps = np.zeros((n_used, n_words), dtype=np.uint64)
    for chunk in prange(
        (n_pixels + CHUNK - 1) // CHUNK, schedule="dynamic", nogil=True,
        num_threads=n_used,
    ):
        start = chunk * CHUNK
        t = threadid()
        if n_channels == 3:
            _mark(
                &pixels[start, 0], weights + start if weights != NULL else NULL,
                min(<Py_ssize_t>CHUNK, n_pixels - start), 3, &bitmaps[t, 0],
            )
        else:
            _mark(
                &pixels[start, 0], weights + start if weights != NULL else NULL,
                min(<Py_ssize_t>CHUNK, n_pixels - start), 2, &bitmaps[t, 0],
            )
    with nogil:
        for w in range(n_words):
            present[w] = bitmaps[0, w]
            for t in range(1, n_used):
                present[w] |= bitmaps[t, w]
        _bounds(&present[0], n_words, <int>n_channels, &low[0], &high[0])
        n_words = _count_bits(&present[0], n_words)
    return n_words


ctypedef fused count_t:
    int64_t
    double


cdef inline void _count(
    const uint8_t* pixels,
    const double* weight,
    Py_ssize_t n_pixels,
    const int n_channels,
    const uint64_t* present,
    const uint32_t* rank,
    count_t* counts,
) noexcept nogil:
    """Add each pixel's weight to the count of its colour: one, in integers,
    without weights (``weight`` NULL, ``counts`` int64), whose addition
    takes a cycle where a float's takes four (a pixel of the colour of the
    one before waits for its count to be stored)."""
    cdef Py_ssize_t i
    cdef const uint8_t* pixel = pixels
    for i in range(n_pixels):
        if count_t is int64_t:
            counts[_rank(present, rank, _key(pixel, n_channels, 0))] += 1
        elif weight[i] > 0:
            counts[_rank(present, rank, _key(pixel, n_channels, 0))] += weight[i]
        pixel += n_channels


def count_colours(
    const uint8_t[:, ::1] pixels,  # IN
    const double[::1] weight,  # IN, or None
    const uint64_t[::1] present,  # IN, from mark_colours
    uint32_t[::1] rank,  # scratch, (present.shape[0],)
    uint32_t[::1] keys,  # OUT, (n_colours,)
    double[::1] counts,  # OUT, (n_colours,)
    int n_threads=1,
):
    """The keys of the colours present, ascending, and the total weight of
    the pixels of each, added in the pixels' order. Without weights, the
    pixels are counted in integers, by up to ``n_threads`` OpenMP threads,
    each into counts of its own."""
    cdef Py_ssize_t n_pixels = pixels.shape[0], n_colours = counts.shape[0]
    cdef Py_ssize_t chunk, start, t, j
    cdef int64_t total
    # Counts of one thread per colour cost at most a quarter of the pixels.
    cdef int n_used = 1 if weight is not None or 4 * n_colours > n_pixels else (
        _threads_for(n_threads, n_pixels)
    )
    cdef int64_t[:, ::1] partial
    with nogil:
        _rank_and_list(&present[0], present.shape[0], &rank[0], &keys[0], n_threads)
    if weight is not None:
        with nogil:
            memset(&counts[0], 0, n_colours * sizeof(double))
            if pixels.shape[1] == 3:
                _count(&pixels[0, 0], &weight[0], n_pixels, 3, &present[0], &rank[0], &counts[0])
            else:
                _count(&pixels[0, 0], &weight[0], n_pixels, 2, &present[0], &rank[0], &counts[0])
        return
    partial = np.zeros((n_used, n_colours), dtype=np.int64)
    for chunk in prange(
        (n_pixels + CHUNK - 1) // CHUNK, schedule="dynamic", nogil=True,
        num_threads=n_used,
    ):
        start = chunk * CHUNK
        t = threadid()
        if pixels.shape[1] == 3:
            _count(
                &pixels[start, 0], NULL, min(<Py_ssize_t>CHUNK, n_pixels - start), 3,
                &present[0], &rank[0], &partial[t, 0],
            )
        else:
            _count(
                &pixels[start, 0], NULL, min(<Py_ssize_t>CHUNK, n_pixels - start), 2,
                &present[0], &rank[0], &partial[t, 0],
            )
    for j in prange(n_colours, schedule="static", nogil=True, num_threads=n_used):
        total = 0
        for t in range(n_used):
            total = total + partial[t, j]
        counts[j] = <double>total


cdef inline uint64_t _cell_of_key(uint64_t key, const int n_channels, int cell_exponent) noexcept nogil:
    """Key of the cell at ``cell_exponent`` of the colour keyed ``key``."""
    cdef uint64_t cell = 0
    cdef int c
    for c in range(n_channels):
        cell = (cell << (8 - cell_exponent)) | (((key >> (8 * (n_channels - 1 - c))) & 255) >> cell_exponent)
    return cell


cdef inline void _mark_cells(
    const uint32_t* keys, Py_ssize_t n_keys, const int n_channels, int cell_exponent,
    uint64_t* cells,
) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n_keys):
        _set(cells, _cell_of_key(keys[i], n_channels, cell_exponent))


cdef int _slices(
    const uint32_t* keys, Py_ssize_t n_keys, int n_channels, int cell_exponent,
    int n_threads, Py_ssize_t* bounds,
) noexcept nogil:
    """Cut the ascending ``keys`` into at most ``n_threads`` runs of about
    equal length, ``keys[bounds[t]:bounds[t + 1]]``, only where the first
    channel's cell changes: the runs' cells are then disjoint, and so are
    the words of their bitmap when a first-channel slice of cells spans
    whole words (at least 64 cells). Returns the number of runs: one where
    the keys are too few for threads to pay, or the slices too narrow."""
    cdef int shift = 8 * (n_channels - 1) + cell_exponent
    cdef int t, n_runs = <int>max(1, min(<Py_ssize_t>n_threads, n_keys >> 16))
    cdef Py_ssize_t i
    if (8 - cell_exponent) * (n_channels - 1) < 6:
        n_runs = 1
    bounds[0] = 0
    for t in range(1, n_runs):
        i = max(n_keys * t // n_runs, bounds[t - 1])
        while 0 < i < n_keys and (keys[i] >> shift) == (keys[i - 1] >> shift):
            i += 1
        bounds[t] = i
    bounds[n_runs] = n_keys
    return n_runs


def count_cells(
    const uint32_t[::1] keys,  # IN, from count_colours
    int n_channels,
    int cell_exponent,
    uint64_t[::1] cells,  # OUT, 2**((8 - cell_exponent) * n_channels) bits
    int n_threads=1,
):
    """Mark in ``cells`` the cells at ``cell_exponent`` (``1 <= cell_exponent <= 8``) of the
    colours keyed ``keys``, and return their number. Up to ``n_threads``
    OpenMP threads mark runs of keys whose cells lie in words of their own
    (see ``_slices``): the same bits for any thread count."""
    cdef Py_ssize_t n_keys = keys.shape[0], t
    cdef Py_ssize_t[::1] bounds = np.empty(max(n_threads, 1) + 1, dtype=np.intp)
    cdef int n_runs
    with nogil:
        memset(&cells[0], 0, cells.shape[0] * sizeof(uint64_t))
        n_runs = _slices(&keys[0], n_keys, n_channels, cell_exponent, n_threads, &bounds[0])
    for t in prange(n_runs, schedule="static", nogil=True, num_threads=n_runs):
        if n_channels == 3:
            _mark_cells(&keys[bounds[t]], bounds[t + 1] - bounds[t], 3, cell_exponent, &cells[0])
        else:
            _mark_cells(&keys[bounds[t]], bounds[t + 1] - bounds[t], 2, cell_exponent, &cells[0])
    with nogil:
        t = _count_bits(&cells[0], cells.shape[0])
    return t


cdef inline void _pool(
    const uint32_t* keys,
    const double* counts,
    Py_ssize_t n_keys,
    const int n_channels,
    int cell_exponent,
    const uint64_t* cells,
    const uint32_t* rank,
    double* total_weight,
    double* sums,
    double* sumsq,
) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef int c
    cdef double w, value, squares
    for i in range(n_keys):
        j = _rank(cells, rank, _cell_of_key(keys[i], n_channels, cell_exponent))
        w = counts[i]
        total_weight[j] += w
        squares = 0.0
        for c in range(n_channels):
            value = (keys[i] >> (8 * (n_channels - 1 - c))) & 255
            sums[j * n_channels + c] += w * value
            squares += value * value
        sumsq[j] += w * squares


def pool_colours(
    const uint32_t[::1] keys,  # IN (n_colours,), from count_colours
    const double[::1] counts,  # IN (n_colours,)
    int n_channels,
    int cell_exponent,
    const uint64_t[::1] cells,  # IN, from count_cells at this cell exponent
    uint32_t[::1] rank,  # scratch, (cells.shape[0],)
    uint32_t[::1] cell_keys,  # OUT, (n_cells,)
    double[::1] total_weight,  # OUT, (n_cells,)
    double[:, ::1] sums,  # OUT, (n_cells, n_channels)
    double[::1] sumsq,  # OUT, (n_cells,)
    int n_threads=1,
):
    """Keys of the cells at ``cell_exponent``, ascending, and per cell the total
    weight of its colours, their weighted sum and their weighted sum of
    squared norms (in pixel values), added in the order of the colours. Up
    to ``n_threads`` OpenMP threads pool runs of colours whose cells are
    disjoint (see ``_slices``), each cell's colours still added in their
    order: the same sums for any thread count."""
    cdef Py_ssize_t n_keys = keys.shape[0], t
    cdef Py_ssize_t[::1] bounds = np.empty(max(n_threads, 1) + 1, dtype=np.intp)
    cdef int n_runs
    with nogil:
        _rank_and_list(&cells[0], cells.shape[0], &rank[0], &cell_keys[0])
        memset(&total_weight[0], 0, total_weight.shape[0] * sizeof(double))
        memset(&sums[0, 0], 0, sums.shape[0] * n_channels * sizeof(double))
        memset(&sumsq[0], 0, sumsq.shape[0] * sizeof(double))
        n_runs = _slices(&keys[0], n_keys, n_channels, cell_exponent, n_threads, &bounds[0])
    for t in prange(n_runs, schedule="static", nogil=True, num_threads=n_runs):
        if n_channels == 3:
            _pool(&keys[bounds[t]], &counts[bounds[t]], bounds[t + 1] - bounds[t], 3,
                  cell_exponent, &cells[0], &rank[0], &total_weight[0], &sums[0, 0],
                  &sumsq[0])
        else:
            _pool(&keys[bounds[t]], &counts[bounds[t]], bounds[t + 1] - bounds[t], 2,
                  cell_exponent, &cells[0], &rank[0], &total_weight[0], &sums[0, 0],
                  &sumsq[0])


def list_colours(
    const uint64_t[::1] present,  # IN, from mark_colours
    uint32_t[::1] rank,  # OUT, (present.shape[0],)
    uint32_t[::1] keys,  # OUT, (n_colours,)
    int n_threads=1,
):
    """The keys of the colours present, ascending, and the rank table that
    :func:`take_by_colour` reads: what :func:`count_colours` gives, without
    its pass over the pixels, by up to ``n_threads`` OpenMP threads."""
    with nogil:
        _rank_and_list(&present[0], present.shape[0], &rank[0], &keys[0], n_threads)


ctypedef fused row_t:
    uint8_t
    uint16_t
    double


cdef inline void _take(
    const uint8_t* pixels,
    Py_ssize_t n_pixels,
    const int n_channels,
    const uint64_t* present,
    const uint32_t* rank,
    const row_t* rows,
    Py_ssize_t n_values,
    row_t* out,
) noexcept nogil:
    cdef Py_ssize_t i, j, k
    for i in range(n_pixels):
        j = _rank(present, rank, _key(pixels + i * n_channels, n_channels, 0)) * n_values
        for k in range(n_values):
            out[i * n_values + k] = rows[j + k]


def take_by_colour(
    const uint8_t[:, ::1] pixels,  # IN
    const uint64_t[::1] present,  # IN, from mark_colours of these pixels
    const uint32_t[::1] rank,  # IN, from list_colours
    const row_t[:, ::1] rows,  # IN, (n_colours, n_values)
    row_t[:, ::1] out,  # OUT, (n_pixels, n_values)
    int n_threads=1,
):
    """``out[i] = rows[j]``, ``j`` the rank of pixel ``i``'s colour among the
    colours present (which must include it): a function of the distinct
    colours, evaluated once per colour, spread to the pixels. Up to
    ``n_threads`` OpenMP threads share the pixels; each output row is
    written once, so the result is the same for any thread count."""
    cdef Py_ssize_t n_pixels = pixels.shape[0], n_values = rows.shape[1]
    cdef Py_ssize_t chunk, start
    cdef int n_used = _threads_for(n_threads, n_pixels)
    if n_pixels == 0:
        return
    for chunk in prange(
        (n_pixels + CHUNK - 1) // CHUNK, schedule="dynamic", nogil=True,
        num_threads=n_used,
    ):
        start = chunk * CHUNK
        if pixels.shape[1] == 3:
            _take(
                &pixels[start, 0], min(<Py_ssize_t>CHUNK, n_pixels - start), 3,
                &present[0], &rank[0], &rows[0, 0], n_values, &out[start, 0],
            )
        else:
            _take(
                &pixels[start, 0], min(<Py_ssize_t>CHUNK, n_pixels - start), 2,
                &present[0], &rank[0], &rows[0, 0], n_values, &out[start, 0],
            )
