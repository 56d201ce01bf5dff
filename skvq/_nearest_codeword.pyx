"""Nearest codeword (Euclidean) of every pixel, with exact comparisons.

Distances are computed in scaled units: codewords are given multiplied by
``scale`` (a power of two with every coordinate at most one in magnitude),
and every pixel coordinate is multiplied by ``scale`` and clipped to
``[-2**500, 2**500]``, so that no square or sum overflows whatever the input.

Which of two codewords ``j`` and ``k`` is nearer to ``x`` is decided by the
squared distances ``|x - c|^2`` when they differ by more than their rounding;
otherwise by the sign of their difference, computed without the ``|x|^2`` that
cancels in it::

    |x - c_j|^2 - |x - c_k|^2 = sum_c (c_k - c_j) * ((x - c_j) + (x - c_k))

which stays exact far from the codewords, where both squares round to the
same number (each factor is scaled by a power of two first, so that products
of tiny differences do not underflow). Of equally near codewords, the first
(lowest index) wins.

Both kernels only skip codewords shown to be farther, with a margin above
rounding, than one already seen, so they return what the comparison above
gives when scanning all codewords in order:

- :func:`nearest_by_cells` (uint8 pixels): pixel space is cut into nested
  cells (the values sharing their leading bits in every channel). The first
  time a cell is met it keeps, of its parent cell's candidates, those that
  no other candidate beats at every point of the cell. A cell left with one
  or two candidates stores the plane between them: a pixel's code is then
  the side of the plane it lies on, computed again exactly only within
  rounding of the plane. Natural images meet a few thousand cells.
- :func:`nearest_by_projection` (any pixels): codewords are sorted by their
  projection on a unit vector; a codeword whose projection is farther from
  the pixel's than the nearest distance found so far cannot be nearer.

Each pixel's code depends on that pixel alone, so both kernels split the
pixels into chunks of fixed size shared among ``n_threads`` OpenMP threads
(``prange``), each thread with a cell table of its own: the codes are the
same for any thread count.

The kernels validate nothing: :func:`skvq._encode.nearest_codeword` checks
shapes, dtypes and contiguity and prepares their arguments.
"""

import numpy as np

from cython.parallel cimport prange, threadid
from libc.math cimport fabs, frexp, ldexp, sqrt
from libc.stdint cimport int32_t, uint8_t, uint16_t
from libc.stdlib cimport calloc, free, malloc, realloc

from ._distances cimport (
    ABSOLUTE,
    MAX_PAIRED,
    RELATIVE,
    box_candidates as _box_candidates,
    nearer,
    squared_distance,
)

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    float
    double

ctypedef fused code_t:
    uint8_t
    uint16_t

cdef extern from *:
    """
    /* Scaled pixel coordinates are clipped to this magnitude (2**500). */
    #define SKVQ_CLIP 3.273390607896142e150
    """
    const double CLIP "SKVQ_CLIP"

cdef enum:
    # Pixels per chunk: a thread's share is a whole number of chunks, and
    # a chunk's codes are gathered in the table's ``block_codes``.
    CHUNK = 4096


cdef inline double _clip(double value) noexcept nogil:
    if value > CLIP:
        return CLIP
    if value < -CLIP:
        return -CLIP
    return value


# A fine cell's entry: -1 (UNSEEN) before its first pixel; for a cell of one
# or two candidates, the index of its record in ``pairs`` (see _add_pair);
# else -2 minus the offset of its candidate count in the pool.
cdef int32_t UNSEEN = -1


cdef struct CellTable:
    # One per thread, owned by a CellTables (which frees every buffer).
    # Cells are nested: level ``l`` indexes them by the leading ``bits[l]``
    # bits of every channel, the last level being the finest.
    int n_levels
    int bits[8]
    # Per level but the last: the offset in ``pool`` of a cell's candidates,
    # or -1 before its first pixel.
    int32_t* coarse[8]
    int32_t* fine
    int32_t* pool  # per cell: number of candidates, then the candidates
    Py_ssize_t pool_size
    Py_ssize_t pool_capacity
    # Per cell of one or two candidates a < b: the linear function
    # ``|x - c_b|**2 - |x - c_a|**2 = w.x - t`` as (t, margin, w), and (a, b).
    double* pairs
    int32_t* pair_codes
    Py_ssize_t n_pairs
    Py_ssize_t pairs_capacity
    # The thread's scratch: a pixel and a box (3 n_channels), and the codes
    # of a chunk.
    double* scratch
    Py_ssize_t* block_codes
    bint out_of_memory


cdef bint _grow(void** buffer, Py_ssize_t n_bytes) noexcept nogil:
    """Reallocate ``*buffer`` to ``n_bytes`` (as scikit-learn's
    ``safe_realloc``, but reporting failure instead of raising, without the
    GIL); on failure ``*buffer`` is left as it was, still owned."""
    cdef void* grown = realloc(buffer[0], n_bytes)
    if grown == NULL:
        return False
    buffer[0] = grown
    return True


cdef class CellTables:
    """The cell tables of :func:`nearest_by_cells`, one per thread.

    Owns every buffer of its tables (their pools and records grow by
    :func:`_grow` as cells are met); ``__dealloc__`` frees them all,
    whatever happened on the way.
    """

    cdef CellTable* tables
    cdef int n_tables

    def __cinit__(self, int n_tables, const int[::1] bits, Py_ssize_t n_channels,
                  Py_ssize_t n_codes):
        cdef int k, level, n_levels = bits.shape[0]
        cdef CellTable* table
        cdef Py_ssize_t t, n_cells
        self.n_tables = 0
        self.tables = <CellTable*>calloc(n_tables, sizeof(CellTable))
        if self.tables == NULL:
            raise MemoryError("Not enough memory for the colour cells.")
        self.n_tables = n_tables
        # calloc: every pointer NULL until allocated, so __dealloc__ may
        # free them all after a failure half-way.
        for k in range(n_tables):
            table = &self.tables[k]
            table.n_levels = n_levels
            for level in range(n_levels):
                table.bits[level] = bits[level]
            for level in range(n_levels - 1):
                table.coarse[level] = <int32_t*>malloc(
                    ((<Py_ssize_t>1) << (bits[level] * n_channels)) * sizeof(int32_t)
                )
                if table.coarse[level] == NULL:
                    raise MemoryError("Not enough memory for the colour cells.")
                for t in range((<Py_ssize_t>1) << (bits[level] * n_channels)):
                    table.coarse[level][t] = -1
            n_cells = (<Py_ssize_t>1) << (bits[n_levels - 1] * n_channels)
            table.fine = <int32_t*>malloc(n_cells * sizeof(int32_t))
            table.pool_capacity = 1024 + 2 * n_codes
            table.pool = <int32_t*>malloc(table.pool_capacity * sizeof(int32_t))
            table.pairs_capacity = 1024
            table.pairs = <double*>malloc(1024 * (n_channels + 2) * sizeof(double))
            table.pair_codes = <int32_t*>malloc(2 * 1024 * sizeof(int32_t))
            table.scratch = <double*>malloc(3 * n_channels * sizeof(double))
            table.block_codes = <Py_ssize_t*>malloc(CHUNK * sizeof(Py_ssize_t))
            if (
                table.fine == NULL or table.pool == NULL or table.pairs == NULL
                or table.pair_codes == NULL or table.scratch == NULL
                or table.block_codes == NULL
            ):
                raise MemoryError("Not enough memory for the colour cells.")
            for t in range(n_cells):
                table.fine[t] = UNSEEN

    def __dealloc__(self):
        cdef int k, level
        cdef CellTable* table
        if self.tables == NULL:
            return
        for k in range(self.n_tables):
            table = &self.tables[k]
            for level in range(8):
                free(table.coarse[level])
            free(table.fine)
            free(table.pool)
            free(table.pairs)
            free(table.pair_codes)
            free(table.scratch)
            free(table.block_codes)
        free(self.tables)


cdef bint _reserve(CellTable* table, Py_ssize_t n_candidates) noexcept nogil:
    """Make room in the pool for a cell of up to ``n_candidates``; False when
    out of memory."""
    cdef Py_ssize_t capacity
    if table.pool_size + 1 + n_candidates <= table.pool_capacity:
        return True
    capacity = 2 * table.pool_capacity + n_candidates + 1
    if capacity > 0x7FFFFFF0:
        return False  # offsets are int32
    if not _grow(<void**>&table.pool, capacity * sizeof(int32_t)):
        return False
    table.pool_capacity = capacity
    return True


cdef Py_ssize_t _add_cell(
    CellTable* table,
    const int32_t* among,
    int32_t n_among,
    const uint8_t* pixel,
    int shift,
    const double* values,
    const double* codebook,
    Py_ssize_t n_channels,
    double* low,
    double* high,
) noexcept nogil:
    """Append to the pool the candidates of the cell of ``pixel`` with
    ``2**shift`` values per channel, and leave its box in ``low`` and
    ``high``; return the offset of the candidates. The caller has made room
    for them (see :func:`_reserve`)."""
    cdef Py_ssize_t c, t, offset = table.pool_size
    for c in range(n_channels):
        t = (pixel[c] >> shift) << shift
        low[c] = values[t]
        high[c] = values[t + (1 << shift) - 1]
    table.pool[offset] = _box_candidates(
        among, n_among, low, high, codebook, n_channels, table.pool + offset + 1,
        MAX_PAIRED,
    )
    table.pool_size += 1 + table.pool[offset]
    return offset


cdef int32_t _add_pair(
    CellTable* table,
    int32_t a,
    int32_t b,
    const double* low,
    const double* high,
    const double* codebook,
    Py_ssize_t n_channels,
) noexcept nogil:
    """Record the cell of box [low, high] whose candidates are a <= b; return
    its index, -1 when out of memory.

    ``|x - c_b|**2 - |x - c_a|**2 = w.x - t`` with ``w = 2 (c_a - c_b)`` and
    ``t = |c_a|**2 - |c_b|**2``; its rounding is below ``margin`` for every
    x of the box, so that a value beyond the margin has the sign of the exact
    difference. One candidate is the pair (a, a) with ``w = 0``, ``t = -1``.
    """
    cdef Py_ssize_t c, stride = n_channels + 2, capacity
    cdef double* record
    cdef double size = 0.0, t = 0.0, w
    cdef const double* c_a = codebook + a * n_channels
    cdef const double* c_b = codebook + b * n_channels
    if table.n_pairs == table.pairs_capacity:
        capacity = 2 * table.pairs_capacity
        if not _grow(<void**>&table.pairs, capacity * stride * sizeof(double)):
            return -1
        if not _grow(<void**>&table.pair_codes, 2 * capacity * sizeof(int32_t)):
            return -1
        table.pairs_capacity = capacity
    record = table.pairs + table.n_pairs * stride
    for c in range(n_channels):
        w = 2.0 * (c_a[c] - c_b[c])
        record[2 + c] = w
        t += (c_a[c] - c_b[c]) * (c_a[c] + c_b[c])
        size += fabs(w) * max(fabs(low[c]), fabs(high[c])) + fabs(c_a[c] - c_b[c]) * (
            fabs(c_a[c]) + fabs(c_b[c])
        )
    if a == b:
        t = -1.0
    record[0] = t
    # Each product and sum rounds by at most half an ulp of its size.
    record[1] = (n_channels + 2) * 2.3e-16 * size
    table.pair_codes[2 * table.n_pairs] = a
    table.pair_codes[2 * table.n_pairs + 1] = b
    table.n_pairs += 1
    return <int32_t>(table.n_pairs - 1)


cdef Py_ssize_t _nearest_candidate(
    const int32_t* candidates,
    const double* x,
    const double* codebook,
    Py_ssize_t n_channels,
) noexcept nogil:
    """The nearest to ``x`` of a cell's candidates (count first)."""
    cdef Py_ssize_t t, j, best = candidates[1]
    cdef double distance, best_distance
    best_distance = squared_distance(x, codebook + best * n_channels, n_channels)
    for t in range(2, 1 + candidates[0]):
        j = candidates[t]
        distance = squared_distance(x, codebook + j * n_channels, n_channels)
        if nearer(
            x,
            codebook + j * n_channels,
            codebook + best * n_channels,
            n_channels,
            distance,
            best_distance,
            j,
            best,
        ):
            best, best_distance = j, distance
    return best


cdef int32_t _fine_entry(
    CellTable* table,
    const int32_t* everything,
    Py_ssize_t n_codes,
    const uint8_t* pixel,
    const double* values,
    const double* codebook,
    Py_ssize_t n_channels,
    double* scratch,
) noexcept nogil:
    """Find the candidates of the finest cell of ``pixel`` (and of the
    coarser cells holding it that have none yet, each from those of the cell
    holding it) and return the finest cell's entry; UNSEEN when out of
    memory."""
    cdef Py_ssize_t c, level, offset = -1, parent = -1
    cdef Py_ssize_t cells[8]
    cdef int32_t n_candidates
    cdef int bits
    # The finest coarse level with candidates already, if any.
    for level in range(table.n_levels - 1):
        bits = table.bits[level]
        cells[level] = 0
        for c in range(n_channels):
            cells[level] = (cells[level] << bits) | (pixel[c] >> (8 - bits))
    for level in range(table.n_levels - 1):
        offset = table.coarse[level][cells[level]]
        if offset == -1:
            break
        parent = offset
    for level in range(table.n_levels):
        if level < table.n_levels - 1 and table.coarse[level][cells[level]] != -1:
            continue
        # Room first: growing the pool may move the parent's candidates.
        if parent == -1:
            if not _reserve(table, n_codes):
                return UNSEEN
            offset = _add_cell(
                table, everything, <int32_t>n_codes, pixel, 8 - table.bits[level],
                values, codebook, n_channels, scratch, scratch + n_channels,
            )
        else:
            if not _reserve(table, table.pool[parent]):
                return UNSEEN
            offset = _add_cell(
                table, table.pool + parent + 1, table.pool[parent], pixel,
                8 - table.bits[level], values, codebook, n_channels, scratch,
                scratch + n_channels,
            )
        if level < table.n_levels - 1:
            table.coarse[level][cells[level]] = <int32_t>offset
        parent = offset
    n_candidates = table.pool[offset]
    if n_candidates > 2:
        return -2 - <int32_t>offset
    table.pool_size = offset  # kept as a pair instead
    return _add_pair(
        table, table.pool[offset + 1], table.pool[offset + n_candidates],
        scratch, scratch + n_channels, codebook, n_channels,
    )


cdef Py_ssize_t _code_of(
    const uint8_t* pixel,
    Py_ssize_t cell,
    Py_ssize_t n_channels,
    CellTable* table,
    const int32_t* everything,
    Py_ssize_t n_codes,
    const double* values,
    const double* codebook,
    double* scratch,
) noexcept nogil:
    """The code of a pixel whose cell is new, has more than two candidates,
    or whose plane test is within rounding; -1 when out of memory."""
    cdef Py_ssize_t c
    cdef int32_t entry = table.fine[cell]
    for c in range(n_channels):
        scratch[c] = values[pixel[c]]
    if entry == UNSEEN:
        entry = _fine_entry(
            table, everything, n_codes, pixel, values, codebook, n_channels,
            scratch + n_channels,
        )
        if entry == UNSEEN:
            return -1
        table.fine[cell] = entry
    if entry >= 0:
        return _nearest_candidate_pair(
            table.pair_codes + 2 * entry, scratch, codebook, n_channels
        )
    return _nearest_candidate(table.pool - 2 - entry, scratch, codebook, n_channels)


cdef inline Py_ssize_t _encode(
    const uint8_t* pixels,
    Py_ssize_t n_pixels,
    const Py_ssize_t n_channels,
    const int bits,
    CellTable* table,
    const int32_t* everything,
    Py_ssize_t n_codes,
    const double* values,
    const double* codebook,
    double* scratch,
    Py_ssize_t* codes,
) noexcept nogil:
    """Codes of pixels ``[0, n_pixels)`` into ``codes``; returns the number
    done (fewer when out of memory). ``bits`` is that of the finest level."""
    cdef Py_ssize_t i, c, cell, code, stride = n_channels + 2
    cdef int32_t entry
    cdef double s
    cdef const double* record
    cdef const uint8_t* pixel = pixels
    for i in range(n_pixels):
        cell = 0
        for c in range(n_channels):
            cell = (cell << bits) | (pixel[c] >> (8 - bits))
        entry = table.fine[cell]
        if entry >= 0:
            # One or two candidates: the side of the plane between them.
            record = table.pairs + entry * stride
            s = -record[0]
            for c in range(n_channels):
                s += record[2 + c] * values[pixel[c]]
            if fabs(s) > record[1]:
                # Beyond rounding: b is nearer exactly when s < 0.
                codes[i] = table.pair_codes[2 * entry + (s < 0)]
                pixel += n_channels
                continue
        code = _code_of(
            pixel, cell, n_channels, table, everything, n_codes, values,
            codebook, scratch,
        )
        if code < 0:
            return i
        codes[i] = code
        pixel += n_channels
    return n_pixels


cdef Py_ssize_t _nearest_candidate_pair(
    const int32_t* pair, const double* x, const double* codebook, Py_ssize_t n_channels
) noexcept nogil:
    """The nearer to ``x`` of codewords pair[0] < pair[1] (the first if as
    near), compared exactly."""
    cdef const double* c_a = codebook + pair[0] * n_channels
    cdef const double* c_b = codebook + pair[1] * n_channels
    if nearer(
        x, c_b, c_a, n_channels,
        squared_distance(x, c_b, n_channels), squared_distance(x, c_a, n_channels),
        pair[1], pair[0],
    ):
        return pair[1]
    return pair[0]


def nearest_by_cells(
    const uint8_t[:, ::1] pixels,
    const double[:, ::1] codebook,
    double scale,
    const int[::1] bits,
    code_t[::1] codes,
    int n_threads=1,
):
    """Nearest codeword of every uint8 pixel, through cells of pixel space.

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels, n_channels), uint8
        IN. ``bits * n_channels`` is at most 24.
    codebook : ndarray of shape (n_codes, n_channels), float64
        IN. Codewords multiplied by ``scale``, at most one in magnitude.
    scale : float
        Power of two by which pixel values are multiplied.
    bits : ndarray of shape (n_levels,), intc
        Leading bits of each channel that index the cells of each level,
        ascending, from 1 to 8; at most 8 levels.
    codes : ndarray of shape (n_pixels,), uint8 or uint16
        OUT. Index of the nearest codeword, the first of equally near ones.
    n_threads : int, default=1
        OpenMP threads sharing the chunks of pixels, each with its own cell
        table.

    Notes
    -----
    The cell of pixel ``x`` is the box of the values sharing the leading
    ``bits`` bits of every channel of ``x``. A codeword is dropped from a
    cell's candidates when another is nearer at every point of the cell, by
    more than rounding; a cell starts from the candidates of the coarser
    cell holding it, so that most codewords are tested once per coarse cell.
    Most fine cells keep one or two candidates, told apart by the sign of a
    linear function of the pixel (a plane between them), computed again
    exactly only within rounding of the plane.
    """
    cdef Py_ssize_t n_pixels = pixels.shape[0], n_channels = pixels.shape[1]
    cdef Py_ssize_t n_codes = codebook.shape[0]
    cdef int n_levels = bits.shape[0], finest = bits[n_levels - 1]
    cdef Py_ssize_t i, t, chunk, start, block, done
    cdef Py_ssize_t n_chunks = (n_pixels + CHUNK - 1) // CHUNK
    # At least 2**16 pixels per thread: each builds a cell table of its own.
    cdef int k, n_used = <int>max(1, min(<Py_ssize_t>n_threads, n_pixels >> 16))
    cdef double values[256]
    cdef int32_t[::1] everything = np.arange(max(n_codes, 1), dtype=np.int32)
    cdef CellTables tables
    cdef CellTable* every_table
    cdef CellTable* table
    cdef bint failed = False
    if n_pixels == 0:
        return
    tables = CellTables(n_used, bits, n_channels, n_codes)
    every_table = tables.tables
    for t in range(256):
        values[t] = _clip(t * scale)
    for chunk in prange(n_chunks, schedule="dynamic", nogil=True, num_threads=n_used):
        table = &every_table[threadid()]
        if table.out_of_memory:
            continue
        start = chunk * CHUNK
        block = min(<Py_ssize_t>CHUNK, n_pixels - start)
        if n_channels == 3 and finest == 5:
            # Constants let the compiler unroll the loops over channels:
            # the common case, RGB, half as many instructions.
            done = _encode(
                &pixels[start, 0], block, 3, 5, table, &everything[0], n_codes,
                values, &codebook[0, 0], table.scratch, table.block_codes,
            )
        else:
            done = _encode(
                &pixels[start, 0], block, n_channels, finest, table,
                &everything[0], n_codes, values, &codebook[0, 0], table.scratch,
                table.block_codes,
            )
        for i in range(done):
            codes[start + i] = <code_t>table.block_codes[i]
        if done < block:
            table.out_of_memory = True
    for k in range(n_used):
        failed = failed or tables.tables[k].out_of_memory
    if failed:
        raise MemoryError("Not enough memory for the colour cells.")


cdef inline Py_ssize_t _nearest_along(
    const double* x,
    double p,
    const double* codebook,
    Py_ssize_t n_codes,
    Py_ssize_t n_channels,
    const Py_ssize_t* index,
    const double* projection,
    double slack,
) noexcept nogil:
    """Row of ``codebook`` nearest to ``x``, whose projection is ``p``."""
    cdef Py_ssize_t left, right, j, best, low = 0, high = n_codes, middle
    cdef double gap_left, gap_right, gap, distance, best_distance, bound
    # First codeword whose projection is at least p.
    while low < high:
        middle = (low + high) // 2
        if projection[middle] < p:
            low = middle + 1
        else:
            high = middle
    best = low if low < n_codes else n_codes - 1
    best_distance = squared_distance(x, codebook + best * n_channels, n_channels)
    bound = sqrt(best_distance) * (1.0 + RELATIVE) + slack
    left, right = best - 1, best + 1
    while True:
        gap_left = p - projection[left] if left >= 0 else 1e308
        gap_right = projection[right] - p if right < n_codes else 1e308
        if gap_left <= gap_right:
            j, gap = left, gap_left
            left -= 1
        else:
            j, gap = right, gap_right
            right += 1
        if gap > bound:
            break
        distance = squared_distance(x, codebook + j * n_channels, n_channels)
        if nearer(
            x,
            codebook + j * n_channels,
            codebook + best * n_channels,
            n_channels,
            distance,
            best_distance,
            index[j],
            index[best],
        ):
            best, best_distance = j, distance
            bound = sqrt(best_distance) * (1.0 + RELATIVE) + slack
    return best


def nearest_by_projection(
    const pixel_t[:, ::1] pixels,
    const double[:, ::1] codebook,
    const Py_ssize_t[::1] index,
    const double[::1] projection,
    const double[::1] direction,
    double scale,
    code_t[::1] codes,
    int n_threads=1,
):
    """Nearest codeword of every pixel, searched outward along a projection.

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels, n_channels)
        IN. uint8, uint16, float32 or float64.
    codebook : ndarray of shape (n_codes, n_channels), float64
        IN. Codewords multiplied by ``scale`` (at most one in magnitude),
        sorted by ``projection``.
    index : ndarray of shape (n_codes,), intp
        IN. Original index of each row of ``codebook``; ties go to the
        lowest original index.
    projection : ndarray of shape (n_codes,), float64
        IN. Ascending: ``codebook @ direction``.
    direction : ndarray of shape (n_channels,), float64
        IN. Unit vector.
    scale : float
        Power of two by which pixel values are multiplied.
    codes : ndarray of shape (n_pixels,), uint8 or uint16
        OUT. Original index of the nearest codeword.
    n_threads : int, default=1
        OpenMP threads sharing the chunks of pixels.

    Notes
    -----
    ``|x - c| >= |x.u - c.u|`` for a unit vector ``u``, so the search walks
    outward from the pixel's projection, always to the nearer side, and
    stops once both sides are farther than the nearest distance so far.
    """
    cdef Py_ssize_t n_pixels = pixels.shape[0], n_channels = pixels.shape[1]
    cdef Py_ssize_t n_codes = codebook.shape[0]
    cdef Py_ssize_t i, c, chunk
    cdef Py_ssize_t n_chunks = (n_pixels + CHUNK - 1) // CHUNK
    # At least 2**13 pixels per thread (see skvq._binning).
    cdef int n_used = <int>max(1, min(<Py_ssize_t>n_threads, n_pixels >> 13))
    cdef double p
    cdef double slack = ABSOLUTE + 1e-9 * sqrt(<double>n_channels)
    # Each thread's scaled pixel.
    cdef double[:, ::1] scaled = np.empty((n_used, max(n_channels, 1)))
    cdef double* x
    if n_pixels == 0:
        return
    for chunk in prange(n_chunks, schedule="dynamic", nogil=True, num_threads=n_used):
        x = &scaled[threadid(), 0]
        for i in range(chunk * CHUNK, min(chunk * CHUNK + CHUNK, n_pixels)):
            p = 0.0
            for c in range(n_channels):
                x[c] = _clip(pixels[i, c] * scale)
                p = p + x[c] * direction[c]
            codes[i] = <code_t>index[_nearest_along(
                x, p, &codebook[0, 0], n_codes, n_channels, &index[0],
                &projection[0], slack,
            )]
