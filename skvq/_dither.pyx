"""Floyd–Steinberg error diffusion: codes of pixels that keep local means.

Each pixel is quantized from its value plus the error diffused to it by the
pixels quantized before it, and passes its own error ``v - c`` (the value
``v`` it was quantized from minus its codeword ``c``), scaled by
``strength``, to the neighbours not yet quantized, with the weights of Floyd
and Steinberg (1976)::

                 pixel   7/16
        3/16     5/16    1/16

The scan is serpentine (Ulichney 1987): even rows from left to right, odd
rows from right to left, the weights mirrored with the direction, so that
errors do not drift toward one side. Errors that would leave the image are
dropped.

The value a pixel is quantized from is clamped, per channel, to the range of
the codebook widened to include the pixel itself: diffused errors can pull a
value back toward the codewords but never push it beyond them, so they stay
bounded whatever the image (no error "runs away"), and with ``strength=0``
every pixel is quantized from its own value, exactly as by ``transform``.

Memory: one row of incoming errors and one being filled for the next row,
never a copy of the image. The kernels validate nothing:
:func:`floyd_steinberg` prepares their arguments.

References: Floyd, R. W. and Steinberg, L. (1976), An adaptive algorithm for
spatial greyscale, Proceedings of the Society for Information Display 17(2),
75-77; Ulichney, R. (1987), Digital Halftoning, MIT Press; Orchard, M. T.
(1991), A fast nearest-neighbor search algorithm, Proceedings of ICASSP 91,
2297-2300.
"""

import numpy as np

from libc.math cimport fabs, sqrt
from libc.stdint cimport int32_t, int64_t, intptr_t, uint8_t, uint16_t
from libc.stdlib cimport free, malloc, realloc

from ._distances cimport (
    ABSOLUTE,
    RELATIVE,
    box_candidates,
    nearer,
    squared_distance,
)

# The dtypes of images (8- and 16-bit, 32- and 64-bit integers and floats);
# others are converted first, see _kernel_input.
ctypedef fused pixel_t:
    uint8_t
    uint16_t
    int32_t
    int64_t
    float
    double

ctypedef fused code_t:
    uint8_t
    uint16_t

# Exact conversions of the dtypes the kernels do not read (64-bit unsigned
# integers are rounded to float64 as the kernels round every value).
_CONVERTED = {
    np.dtype(np.bool_): np.dtype(np.uint8),
    np.dtype(np.int8): np.dtype(np.int32),
    np.dtype(np.int16): np.dtype(np.int32),
    np.dtype(np.uint32): np.dtype(np.int64),
    np.dtype(np.uint64): np.dtype(np.float64),
    np.dtype(np.float16): np.dtype(np.float32),
}

# Pixels of several channels are clipped to this many units of the scaled
# codebook, as by ``nearest_codeword`` (skvq._encode), so that squares cannot
# overflow.
cdef double _LARGEST_SCALED = 2.0 ** 500
_CLIP = 2.0 ** 500

# Up to this many edges, counting those at or below a value beats a binary
# search.
cdef Py_ssize_t _MAX_COUNTED_EDGES = 16

# Length of each codeword's list of nearest codewords (itself first).
_N_NEIGHBOURS = 32

# Margins of the neighbour lists' reach, above those of the comparisons
# (relative, and absolute for distances near underflow).
_REACH_RELATIVE = 1e-8
_REACH_ABSOLUTE = 1e-140


def floyd_steinberg(X, codebook, inner_edges, strength, dtype, adaptive=True):
    """Codes of the pixels of ``X`` by Floyd–Steinberg error diffusion.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_columns * n_channels)
        Finite real pixel values; rows of ``X`` are rows of the image and a
        pixel is ``n_channels`` consecutive values. Never modified.
    codebook : ndarray of shape (n_codes, n_channels)
        The codewords, finite.
    inner_edges : ndarray of shape (n_codes - 1,) or None
        With one channel, the ascending thresholds between cells: a value
        ``v`` gets the number of edges at or below it, as in
        :func:`skvq._encode.encode_scalar`. ``None``: the nearest codeword
        (squared Euclidean distance, first of equals), as in
        :func:`skvq._encode.nearest_codeword`.
    strength : float in [0, 1]
        Fraction of each pixel's error that is diffused; 0 gives the codes
        of every pixel on its own.
    dtype : dtype
        ``uint8`` or ``uint16``, the dtype of the codes.
    adaptive : bool, default=True
        Scale each pixel's ``strength`` by :func:`smoothness_map`: full in
        smooth areas, less at edges and in texture. The default is that of
        :func:`skvq.dither`, for callers that pass the strength alone.

    Returns
    -------
    codes : ndarray of shape (n_rows, n_columns)
    """
    n_channels = codebook.shape[1]
    X = _kernel_input(X)
    codes = np.empty((X.shape[0], X.shape[1] // n_channels), dtype=dtype)
    strength = float(strength)
    codebook = np.asarray(codebook, dtype=np.float64)
    if adaptive:
        strength_map = smoothness_map(X, n_channels, palette_step(codebook))
    else:
        strength_map = np.empty((0, 0), dtype=np.float32)
    if inner_edges is not None:
        floyd_steinberg_scalar(
            X,
            np.ascontiguousarray(inner_edges, dtype=np.float64),
            np.ascontiguousarray(codebook[:, 0]),
            strength,
            strength_map,
            _scalar_error_limit(codebook[:, 0]) if adaptive else np.empty(0),
            codes,
        )
        return codes
    # Distances in units of a power of two above every coordinate of the
    # codebook, as ``nearest_codeword`` computes them, so that no square
    # overflows and codes at strength 0 are those of ``transform``.
    largest = float(np.max(np.abs(codebook)))
    exponent = max(int(np.frexp(largest)[1]) if largest > 0 else 0, -1000)
    scaled = np.ldexp(codebook, -exponent)
    scale = float(np.ldexp(1.0, -exponent))
    if n_channels in _FINE_CELLS:
        box_low, box_high = _value_box(X, n_channels, scale, scaled)
        n_cells = np.where(
            box_high > box_low, _FINE_CELLS[n_channels], 1
        ).astype(np.intp)
        floyd_steinberg_cells(
            X,
            np.ascontiguousarray(scaled),
            box_low,
            box_high,
            n_cells,
            scale,
            strength,
            strength_map,
            _nearest_other_limit(scaled) if adaptive else np.empty(0),
            codes,
        )
        return codes
    # Codewords sorted along the channel of widest spread, where that channel
    # alone rules out most of them, for the search beyond the neighbours.
    key = int(np.argmax(np.ptp(scaled, axis=0)))
    order = np.argsort(scaled[:, key], kind="stable")
    scaled = np.ascontiguousarray(scaled[order])
    neighbours, reach = _neighbour_lists(scaled)
    floyd_steinberg_vector(
        X,
        scaled,
        order.astype(np.intp),
        neighbours,
        reach,
        key,
        float(np.ldexp(1.0, -exponent)),
        strength,
        strength_map,
        _vector_error_limit(scaled, neighbours) if adaptive else np.empty(0),
        codes,
    )
    return codes


def _vector_error_limit(codebook, neighbours):
    """``ERROR_LIMIT`` times the distance from each codeword to the nearest
    different one in its list of neighbours (``inf`` if none)."""
    nearest = np.full(codebook.shape[0], np.inf)
    for l in range(1, neighbours.shape[1]):
        distance = np.sqrt(
            np.square(codebook - codebook[neighbours[:, l]]).sum(axis=1)
        )
        nearest = np.where(np.isinf(nearest) & (distance > 0), distance, nearest)
    return ERROR_LIMIT * nearest


def _nearest_other_limit(codebook):
    """``ERROR_LIMIT`` times the distance from each codeword to the nearest
    different one among its ``_N_NEIGHBOURS`` nearest (itself included; ``inf``
    if all are copies of it): :func:`_vector_error_limit` of its neighbour
    lists, by brute force over the (small) codebook."""
    n_codes = codebook.shape[0]
    if n_codes > _BRUTE_FORCE_CODES:
        return _vector_error_limit(codebook, _neighbour_lists(codebook)[0])
    if codebook.shape[1] > _SUMMED_CHANNELS:
        squared = _squared_distances(codebook)
        copies = np.count_nonzero(squared == 0, axis=1)
        squared[squared == 0] = np.inf
        nearest = squared.min(axis=1, initial=np.inf)
    else:
        nearest, copies = _nearest_other(codebook)
    nearest = np.sqrt(nearest)
    nearest[copies >= min(_N_NEIGHBOURS, n_codes)] = np.inf
    return ERROR_LIMIT * nearest


def _value_box(X, n_channels, scale, scaled):
    """Per channel, the lowest and highest value the vector kernels code:
    the scaled codebook's range widened to that of the pixels (scaled and
    clipped as the kernels do, which keeps their order)."""
    low = np.min(scaled, axis=0)
    high = np.max(scaled, axis=0)
    if X.size:
        pixel_low = np.empty(n_channels)
        pixel_high = np.empty(n_channels)
        channel_ranges(X, pixel_low, pixel_high)
        low = np.minimum(low, np.clip(pixel_low * scale, -_CLIP, _CLIP))
        high = np.maximum(high, np.clip(pixel_high * scale, -_CLIP, _CLIP))
    return np.ascontiguousarray(low), np.ascontiguousarray(high)


def channel_ranges(
    const pixel_t[:, ::1] X,          # IN (n_rows, n_columns * n_channels), not empty
    double[::1] low,                  # OUT (n_channels,) least value per channel
    double[::1] high,                 # OUT (n_channels,) greatest value per channel
):
    """The least and greatest value of each channel of ``X``, as float64."""
    cdef Py_ssize_t n_channels = low.shape[0], n_rows = X.shape[0]
    cdef Py_ssize_t n_values = X.shape[1], i, j, c
    cdef pixel_t value
    cdef pixel_t[4] least
    cdef pixel_t[4] greatest
    if n_channels > 4:
        for c in range(n_channels):
            low[c] = np.min(np.asarray(X)[:, c::n_channels])
            high[c] = np.max(np.asarray(X)[:, c::n_channels])
        return
    with nogil:
        for c in range(n_channels):
            least[c] = greatest[c] = X[0, c]
        for i in range(n_rows):
            for j in range(n_values // n_channels):
                for c in range(n_channels):
                    value = X[i, j * n_channels + c]
                    least[c] = value if value < least[c] else least[c]
                    greatest[c] = value if value > greatest[c] else greatest[c]
        for c in range(n_channels):
            low[c] = <double> least[c]
            high[c] = <double> greatest[c]


def _scalar_error_limit(levels):
    """``ERROR_LIMIT`` times the gap from each level to the nearest different
    one (``inf`` if none), for levels in ascending order."""
    gaps = np.diff(levels)
    gaps[~(gaps > 0)] = np.inf
    infinite = np.array([np.inf])
    nearest = np.minimum(
        np.concatenate([infinite, gaps]), np.concatenate([gaps, infinite])
    )
    return ERROR_LIMIT * nearest


def _neighbour_lists(codebook):
    """Each codeword's nearest codewords, and how far each one reaches.

    Returns ``neighbours`` of shape (n_codes, n_neighbours), the rows of
    ``codebook`` by increasing distance from each row (itself first), and
    ``reach``, a lower bound of a quarter of the squared distance to each:
    a point ``v`` with squared distance ``d`` to codeword ``a`` is nearer
    to codeword ``m`` than to ``a``, or as near, only if ``|a - m| <= 2
    |a - v|`` (triangle inequality), that is only if ``reach[a, l] <= d``.
    The margins cover both rounding and the near-ties that
    ``skvq._distances.nearer`` settles by another formula.
    """
    n_neighbours = min(_N_NEIGHBOURS, codebook.shape[0])
    distance, neighbours = _nearest_neighbours(codebook, n_neighbours)
    # A codeword with duplicates may come after them, or not at all when
    # they fill the list: put it first, before the other codewords at
    # distance 0, dropping the last entry if needed (a shorter list is only
    # searched further).
    itself = np.arange(codebook.shape[0])[:, None]
    missing = np.flatnonzero(np.all(neighbours != itself, axis=1))
    neighbours[missing] = np.roll(neighbours[missing], 1, axis=1)
    distance[missing] = np.roll(distance[missing], 1, axis=1)
    neighbours[missing, 0] = missing
    distance[missing, 0] = 0.0
    first = np.argsort(neighbours != itself, axis=1, kind="stable")
    neighbours = np.take_along_axis(neighbours, first, axis=1)
    distance = np.take_along_axis(distance, first, axis=1)
    lower = np.maximum(distance * (1.0 - _REACH_RELATIVE) - _REACH_ABSOLUTE, 0.0)
    reach = np.square(0.5 * lower)
    return np.ascontiguousarray(neighbours, dtype=np.intp), reach


# Codebooks up to this size find their neighbour lists by brute force in
# NumPy (256 codewords: about 3 ms, most of it sorting); larger ones through SciPy's
# KDTree, imported only then, so that dithering to palettes imports no SciPy.
_BRUTE_FORCE_CODES = 1024


def _squared_distances(codebook):
    """Squared distances between all rows of a (small) codebook: differences
    squared, never ``|a|^2 - 2ab + |b|^2``, which cancels."""
    return np.square(codebook[:, None, :] - codebook[None, :, :]).sum(axis=2)


# Channels up to which NumPy's sum over the last axis of
# _squared_distances adds its terms in order, as
# ``skvq._distances.squared_distance`` does (more by pairwise summation), so
# that _nearest_other gives the same distances.
_SUMMED_CHANNELS = 7


def _nearest_other(codebook_array):
    """Per row of a float64 codebook, the least positive squared distance
    to another row (``inf`` if none) and the number of rows at squared
    distance 0, itself included: what :func:`_squared_distances` gives,
    without its (n, n) arrays."""
    cdef const double[:, ::1] codebook = np.ascontiguousarray(codebook_array)
    cdef Py_ssize_t n_codes = codebook.shape[0], n_channels = codebook.shape[1]
    cdef Py_ssize_t i, j
    cdef double squared
    nearest_array = np.full(n_codes, np.inf)
    copies_array = np.zeros(n_codes, dtype=np.intp)
    cdef double[::1] nearest = nearest_array
    cdef intptr_t[::1] copies = copies_array
    with nogil:
        for i in range(n_codes):
            for j in range(n_codes):
                squared = squared_distance(
                    &codebook[i, 0], &codebook[j, 0], n_channels
                )
                if squared == 0.0:
                    copies[i] += 1
                elif squared < nearest[i]:
                    nearest[i] = squared
    return nearest_array, copies_array


def _nearest_neighbours(codebook, k):
    """Distances to, and indices of, the ``k`` nearest rows of ``codebook``
    from each row (itself among them), nearest first."""
    n_codes = codebook.shape[0]
    if n_codes > _BRUTE_FORCE_CODES:
        from scipy.spatial import KDTree

        distance, neighbours = KDTree(codebook).query(codebook, k=k)
        return distance.reshape(n_codes, k), neighbours.reshape(n_codes, k)
    squared = _squared_distances(codebook)
    neighbours = np.argsort(squared, axis=1, kind="stable")[:, :k]
    distance = np.sqrt(np.take_along_axis(squared, neighbours, axis=1))
    return distance, neighbours


# The adaptive mode's strength at edges and in texture, relative to that of
# smooth areas, and the activity, in units of the palette's step, half way
# between the two (see smoothness_map); chosen by measurement
# (benchmarks/bench_pngquant.py --cli): against 0.8 and 1, the files of
# ``skvq quantize`` at 16, 64 and 256 colours are 2.4%, 1.2% and 1.7%
# smaller, and their SSIMULACRA2 and FLIP stay on the same side of
# pngquant's on every benchmark photo (the largest change, 1.6 points of
# SSIMULACRA2 on one photo at 16 colours).
TEXTURE_STRENGTH = 0.7
HALF_WAY_ACTIVITY = 0.5
# The adaptive mode's longest error passed on, in units of the distance from
# the codeword to the nearest other one (chosen by measurement, as above).
ERROR_LIMIT = 1.0

def palette_step(codebook):
    """The median distance from a codeword to the nearest other one, ``inf``
    with a single distinct codeword."""
    distinct = np.unique(np.asarray(codebook, dtype=np.float64), axis=0)
    if distinct.shape[0] < 2:
        return np.inf
    if distinct.shape[0] > _BRUTE_FORCE_CODES or distinct.shape[1] > _SUMMED_CHANNELS:
        distance, _ = _nearest_neighbours(distinct, 2)
        return float(np.median(distance[:, 1]))
    nearest, copies = _nearest_other(distinct)
    # Distinct rows at squared distance 0 (their difference underflows) are
    # each other's nearest.
    nearest[copies > 1] = 0.0
    return float(np.median(np.sqrt(nearest)))


def smoothness_map(X, n_channels, step):
    """Per pixel, the fraction of its error a pixel passes on in the
    adaptive mode: 1 in smooth areas, less at edges and in texture.

    The *activity* of a pixel is the largest absolute second difference
    ``|x[j - 1] - 2 x[j] + x[j + 1]|``, along the row or the column, over
    its channels and its 3 x 3 neighbourhood (pixels on the border take
    the second differences of their neighbour);
    it is 0 on flat areas and linear gradients, where quantization shows as
    bands, and large at edges and in texture, which hide the bands and
    where dithering only adds noise. A pixel of activity ``a`` gets ``t +
    (1 - t) / (1 + (a / (h * step)) ** 2)``, with ``t = TEXTURE_STRENGTH``
    and ``h = HALF_WAY_ACTIVITY``: 1 where ``a`` is 0, tending to ``t`` as
    ``a`` grows. Activity is measured
    against ``step``, the distance between neighbouring codewords (see
    :func:`palette_step`), so that what counts as texture depends on how
    coarse the palette is. The idea of diffusing less at edges and in noise
    follows libimagequant (pngquant's library, ``contrast_maps`` in
    ``libimagequant.c``), whose own map also uses second differences.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_columns * n_channels)
        In a dtype the kernels read (see ``_kernel_input``).
    n_channels : int
    step : float
        Positive, or ``inf`` (then every pixel gets 1).

    Returns
    -------
    strength_map : ndarray of shape (n_rows, n_columns), float32
    """
    n_rows = X.shape[0]
    n_columns = X.shape[1] // n_channels
    strength_map = np.ones((n_rows, n_columns), dtype=np.float32)
    if not np.isfinite(step) or n_rows == 0 or n_columns == 0:
        return strength_map
    fill_smoothness_map(
        _kernel_input(X),
        n_channels,
        1.0 / (HALF_WAY_ACTIVITY * step),
        TEXTURE_STRENGTH,
        strength_map,
    )
    return strength_map


cdef inline float _second_difference(pixel_t before, pixel_t here, pixel_t after) noexcept nogil:
    """``|before - 2 here + after|`` rounded to float32 once (the rounding
    keeps the order, so maxima of the rounded differences are the rounded
    maxima). 8- and 16-bit values in int32, where it is exact, as in
    float64, and vectorises four values at a time instead of two; others
    in float64, where (before - 2 here) may overflow to an infinity, never
    to both signs with the finite ``after``: no NaN."""
    cdef int32_t small
    if pixel_t is uint8_t or pixel_t is uint16_t:
        small = (<int32_t> before - 2 * <int32_t> here) + <int32_t> after
        return <float> (small if small >= 0 else -small)
    else:
        return <float> fabs((<double> before - 2.0 * <double> here) + <double> after)


cdef void _row_activity(
    const pixel_t* row,
    const pixel_t* above,
    const pixel_t* middle,
    const pixel_t* below,
    Py_ssize_t n_columns,
    Py_ssize_t n_channels,
    float* values,
    float* activity,
) noexcept nogil:
    """The activity of the pixels of ``row``: per value, the second
    difference along the row (border columns take their neighbour's) and
    along the column (of rows ``above``, ``middle``, ``below``, NULL with
    fewer than three rows), the larger of the two; per pixel, the largest
    over its channels. Value by value, in contiguous loops that the
    compiler vectorises (a value's neighbours along the row are
    ``n_channels`` apart)."""
    cdef Py_ssize_t k, j, c, n_values = n_columns * n_channels
    cdef float largest
    if n_columns >= 3:
        for k in range(n_channels, n_values - n_channels):
            values[k] = _second_difference(
                row[k - n_channels], row[k], row[k + n_channels]
            )
        for c in range(n_channels):
            values[c] = values[n_channels + c]
            values[n_values - n_channels + c] = values[n_values - 2 * n_channels + c]
    else:
        for k in range(n_values):
            values[k] = 0.0
    if above != NULL:
        for k in range(n_values):
            values[k] = max(values[k], _second_difference(above[k], middle[k], below[k]))
    for j in range(n_columns):
        largest = values[j * n_channels]
        for c in range(1, n_channels):
            largest = max(largest, values[j * n_channels + c])
        activity[j] = largest


def fill_smoothness_map(
    const pixel_t[:, ::1] X,          # IN (n_rows, n_columns * n_channels)
    Py_ssize_t n_channels,            # IN
    double scale,                     # IN 1 / (HALF_WAY_ACTIVITY * step)
    double texture,                   # IN TEXTURE_STRENGTH
    float[:, ::1] strength_map,       # OUT (n_rows, n_columns)
):
    """Fill ``strength_map`` as :func:`smoothness_map` describes, in three
    passes over it: the activity of each pixel, its maximum over the 3 x 3
    neighbourhood (first along rows, then along columns), and the map."""
    cdef Py_ssize_t n_rows = X.shape[0], n_columns = strength_map.shape[1]
    cdef Py_ssize_t i, j, ii
    cdef double relative
    cdef float[::1] values = np.empty(max(n_columns * n_channels, 1), dtype=np.float32)
    cdef float[::1] previous = np.empty(max(n_columns, 1), dtype=np.float32)
    cdef float[::1] current = np.empty(max(n_columns, 1), dtype=np.float32)
    cdef float* here
    cdef const float* next_row
    cdef float middle
    if n_rows == 0 or n_columns == 0:
        return
    with nogil:
        for i in range(n_rows):
            # A border row takes the second differences of its neighbour.
            ii = min(max(i, 1), n_rows - 2)
            _row_activity(
                &X[i, 0],
                &X[ii - 1, 0] if n_rows >= 3 else NULL,
                &X[ii, 0] if n_rows >= 3 else NULL,
                &X[ii + 1, 0] if n_rows >= 3 else NULL,
                n_columns, n_channels, &values[0], &strength_map[i, 0],
            )
        # Maximum over each pixel and its neighbours along the row, from a
        # copy of the row (a loop without a carried value vectorises).
        for i in range(n_rows):
            here = &strength_map[i, 0]
            for j in range(n_columns):
                current[j] = here[j]
            for j in range(1, n_columns - 1):
                here[j] = max(max(current[j - 1], current[j]), current[j + 1])
            if n_columns >= 2:
                here[0] = max(current[0], current[1])
                here[n_columns - 1] = max(current[n_columns - 2], current[n_columns - 1])
        # Then along the column, keeping the row above as it was; the last
        # row has no row below (its own stands in, which changes no maximum).
        for j in range(n_columns):
            previous[j] = strength_map[0, j]
        for i in range(n_rows):
            here = &strength_map[i, 0]
            next_row = &strength_map[i + 1, 0] if i + 1 < n_rows else here
            for j in range(n_columns):
                current[j] = here[j]
            for j in range(n_columns):
                middle = max(max(previous[j], current[j]), next_row[j])
                previous[j] = current[j]
                relative = middle * scale
                here[j] = <float> (
                    texture + (1.0 - texture) / (1.0 + relative * relative)
                )


def _kernel_input(X):
    """``X`` as a C-contiguous array of native byte order and of a dtype the
    kernels read, copied only when it is not one already."""
    dtype = X.dtype.newbyteorder("=")
    dtype = _CONVERTED.get(dtype, dtype)
    if dtype.kind not in "iuf" or dtype.itemsize > 8:
        dtype = np.dtype(np.float64)
    return np.ascontiguousarray(X, dtype=dtype)


cdef inline Py_ssize_t _count_at_or_below(
    const double* edges, Py_ssize_t n_edges, double value
) noexcept nogil:
    """Number of ``edges`` (ascending) at or below ``value``, without
    branches on ``value``: a dithered value jumps between cells, where a
    branch would often be mispredicted."""
    cdef Py_ssize_t count = 0, half, k
    cdef const double* base = edges
    if n_edges <= _MAX_COUNTED_EDGES:
        for k in range(n_edges):
            count += edges[k] <= value
        return count
    while n_edges > 1:
        half = n_edges // 2
        base += half * (base[half] <= value)
        n_edges -= half
    return (base - edges) + (base[0] <= value)


def floyd_steinberg_scalar(
    const pixel_t[:, ::1] X,          # IN (n_rows, n_columns)
    const double[::1] inner_edges,    # IN (n_codes - 1,), ascending
    const double[::1] codebook,       # IN (n_codes,)
    double strength,                  # IN, in [0, 1]
    const float[:, ::1] strength_map,  # IN (n_rows, n_columns) in [0, 1], or (0, 0)
    const double[::1] error_limit,    # IN (n_codes,) positive, or (0,)
    code_t[:, ::1] codes,             # OUT (n_rows, n_columns)
):
    """Error diffusion over a one-channel image, codes by bin edges.

    Writes ``codes[i, j]``, the number of ``inner_edges`` at or below the
    value ``v`` pixel ``(i, j)`` is quantized from: ``X[i, j]`` plus the
    diffused error, clamped to ``[min(X[i, j], min(codebook)),
    max(X[i, j], max(codebook))]``. A neighbour of weight ``w`` receives
    ``w * s * v - w * s * codebook[code]``, where ``s`` is ``strength``,
    times ``strength_map[i, j]`` if that is not empty; if ``error_limit``
    is not empty and ``|v - codebook[code]|`` exceeds ``error_limit[code]``,
    ``w * s * error_limit[code]`` with the sign of the error instead.

    Every weight ``w * strength`` is below 1/2, so each share is finite
    whatever the magnitudes of ``v`` and the codeword; a sum of shares may
    overflow to an infinity, but never to both, and the clamp brings the
    value back to a finite bound. So no NaN arises, and with ``strength=0``
    every ``v`` is the pixel's own value.
    """
    cdef Py_ssize_t n_rows = X.shape[0], n_columns = X.shape[1]
    cdef Py_ssize_t n_edges = inner_edges.shape[0]
    cdef Py_ssize_t i, t, j, step, code
    cdef double x, v, low_x, high_x
    cdef double carry, behind, below
    cdef double low = np.min(codebook), high = np.max(codebook)
    cdef double s = strength, c
    cdef double w_right = s * 7.0 / 16.0
    cdef double w_behind = s * 3.0 / 16.0
    cdef double w_below = s * 5.0 / 16.0
    cdef double w_ahead = s * 1.0 / 16.0
    cdef bint mapped = strength_map.shape[0] > 0
    cdef bint limited = error_limit.shape[0] > 0
    cdef double half_error, limit
    # Errors reaching the current row and the next; entry j + 1 is column
    # j, entries 0 and n_columns + 1 catch what leaves the image.
    cdef double[:, ::1] rows = np.zeros((2, n_columns + 2))
    cdef const double* edges = &inner_edges[0] if n_edges else NULL
    cdef double* this_row
    cdef double* next_row

    with nogil:
        for i in range(n_rows):
            this_row = &rows[i % 2, 1]
            next_row = &rows[(i + 1) % 2, 1]
            step = 1 if i % 2 == 0 else -1
            # Shares pending for the next row, below-behind and below the
            # current pixel, written once complete.
            carry = behind = below = 0.0
            for t in range(n_columns):
                j = t if step == 1 else n_columns - 1 - t
                x = <double> X[i, j]
                low_x = x if x < low else low
                high_x = x if x > high else high
                v = (x + this_row[j]) + carry
                v = v if v > low_x else low_x
                v = v if v < high_x else high_x
                code = _count_at_or_below(edges, n_edges, v)
                codes[i, j] = <code_t> code
                if mapped:
                    s = strength * strength_map[i, j]
                    w_right = s * 7.0 / 16.0
                    w_behind = s * 3.0 / 16.0
                    w_below = s * 5.0 / 16.0
                    w_ahead = s * 1.0 / 16.0
                c = codebook[code]
                if limited:
                    # Halves, which cannot overflow, of the error and limit.
                    half_error = 0.5 * v - 0.5 * c
                    limit = error_limit[code]
                    if fabs(half_error) > 0.5 * limit:
                        # As if v were the limit away from c.
                        limit = limit if half_error > 0 else -limit
                        carry = w_right * limit
                        next_row[j - step] = behind + w_behind * limit
                        behind = below + w_below * limit
                        below = w_ahead * limit
                        continue
                carry = w_right * v - w_right * c
                next_row[j - step] = behind + (w_behind * v - w_behind * c)
                behind = below + (w_below * v - w_below * c)
                below = w_ahead * v - w_ahead * c
            # The last pixel's share below it has no below-behind share to
            # wait for.
            next_row[n_columns - 1 if step == 1 else 0] = behind


cdef inline bint _consider(
    const double* v,
    const double* words,
    Py_ssize_t n_channels,
    Py_ssize_t m,
    double key_gap,
    const intptr_t[::1] code_of,
    double* best,
    Py_ssize_t* best_row,
) noexcept nogil:
    """Make row ``m`` of the sorted codewords the best if it is nearer to
    ``v``; return False when it lies too far along the sorting key
    (``key_gap`` from ``v``) to be nearer, as then do all rows beyond it."""
    cdef double distance
    if key_gap * key_gap > best[0] * (1.0 + RELATIVE) + ABSOLUTE:
        return False
    distance = squared_distance(v, words + m * n_channels, n_channels)
    if nearer(
        v, words + m * n_channels, words + best_row[0] * n_channels, n_channels,
        distance, best[0], code_of[m], code_of[best_row[0]],
    ):
        best[0] = distance
        best_row[0] = m
    return True


cdef struct Diffusion:
    # The error a row's scan passes on (see floyd_steinberg_vector), per
    # channel: the share carried to the next pixel, and the shares pending
    # for the next row below-behind and below the current pixel; and the
    # Floyd-Steinberg weights at the current pixel's strength. The helpers
    # take the number of channels as an argument, a constant in the
    # three-channel scan.
    double* carry
    double* behind
    double* below
    double w_right
    double w_behind
    double w_below
    double w_ahead


cdef inline Diffusion _diffusion(double[:, ::1] pending, double strength):
    """The state of a scan of ``pending.shape[1]`` channels whose shares live
    in the rows of ``pending`` (3, n_channels), at ``strength``."""
    cdef Diffusion d
    d.carry = &pending[0, 0]
    d.behind = &pending[1, 0]
    d.below = &pending[2, 0]
    _set_strength(&d, strength)
    return d


cdef inline void _set_strength(Diffusion* d, double s) noexcept nogil:
    d.w_right = s * 7.0 / 16.0
    d.w_behind = s * 3.0 / 16.0
    d.w_below = s * 5.0 / 16.0
    d.w_ahead = s * 1.0 / 16.0


cdef inline void _start_row(Diffusion* d, const Py_ssize_t n_channels) noexcept nogil:
    cdef Py_ssize_t c
    for c in range(n_channels):
        d.carry[c] = 0.0
        d.behind[c] = 0.0
        d.below[c] = 0.0


cdef inline void _diffused_value(
    const Diffusion* d,
    const Py_ssize_t n_channels,
    const pixel_t* pixel,
    double scale,
    const double* low,
    const double* high,
    const double* here,
    double* v,
) noexcept nogil:
    """The value ``v`` a pixel is quantized from: the pixel scaled and
    clipped to ``+-2 ** 500``, plus the error reaching it (``here`` from the
    row above, the carry from the previous pixel), each channel clamped to
    the codebook's range ``[low, high]`` widened to include the pixel."""
    cdef Py_ssize_t c
    cdef double x, value, low_x, high_x
    for c in range(n_channels):
        x = (<double> pixel[c]) * scale
        x = x if x < _LARGEST_SCALED else _LARGEST_SCALED
        x = x if x > -_LARGEST_SCALED else -_LARGEST_SCALED
        low_x = x if x < low[c] else low[c]
        high_x = x if x > high[c] else high[c]
        value = (x + here[c]) + d.carry[c]
        value = value if value > low_x else low_x
        v[c] = value if value < high_x else high_x


cdef inline void _pass_on(
    Diffusion* d,
    const Py_ssize_t n_channels,
    const double* v,
    const double* word,
    double squared,
    const double* error_limit,
    double* next_row,
    Py_ssize_t j,
    Py_ssize_t step,
) noexcept nogil:
    """Pass on the error ``v - word`` of pixel ``j`` (at squared distance
    ``squared``), first shortened to at most ``error_limit[0]`` when that is
    not NULL, with the current weights."""
    cdef Py_ssize_t c
    cdef double error, ratio = 1.0
    if error_limit != NULL and squared > error_limit[0] * error_limit[0]:
        ratio = error_limit[0] / sqrt(squared)
    for c in range(n_channels):
        error = (v[c] - word[c]) * ratio
        d.carry[c] = d.w_right * error
        next_row[(j - step) * n_channels + c] = d.behind[c] + d.w_behind * error
        d.behind[c] = d.below[c] + d.w_below * error
        d.below[c] = d.w_ahead * error


cdef inline void _end_row(
    const Diffusion* d, const Py_ssize_t n_channels, double* next_row, Py_ssize_t last
) noexcept nogil:
    """The last pixel's share below it, which has no below-behind share to
    wait for."""
    cdef Py_ssize_t c
    for c in range(n_channels):
        next_row[last * n_channels + c] = d.behind[c]


def floyd_steinberg_vector(
    const pixel_t[:, ::1] X,          # IN (n_rows, n_columns * n_channels)
    const double[:, ::1] codebook,    # IN (n_codes, n_channels), scaled, sorted
    const intptr_t[::1] code_of,      # IN (n_codes,) code of each sorted row
    const intptr_t[:, ::1] neighbours,  # IN (n_codes, n_neighbours)
    const double[:, ::1] reach,       # IN (n_codes, n_neighbours)
    Py_ssize_t key,                   # IN channel the codebook is sorted by
    double scale,                     # IN power of two, pixels to codebook units
    double strength,                  # IN, in [0, 1]
    const float[:, ::1] strength_map,  # IN (n_rows, n_columns) in [0, 1], or (0, 0)
    const double[::1] error_limit,    # IN (n_codes,) positive, or (0,)
    code_t[:, ::1] codes,             # OUT (n_rows, n_columns)
):
    """Error diffusion over an image of ``n_channels`` channels, codes of
    the nearest codeword.

    Pixel values are first multiplied by ``scale`` (to the units of
    ``codebook``) and clipped to ``+-2 ** 500``, as ``nearest_codeword``
    does. Writes ``codes[i, j] = code_of[m]`` for the row ``m`` of
    ``codebook`` nearest to the value ``v`` pixel ``(i, j)`` is quantized
    from (compared by ``skvq._distances.nearer``): the pixel plus the diffused error,
    each channel clamped to the codebook's range widened to include the
    pixel. A neighbour of weight ``w`` receives ``w * s * (v -
    codebook[m])``, where ``s`` is ``strength``, times ``strength_map[i, j]``
    if that is not empty; if ``error_limit`` is not empty, the error ``v -
    codebook[m]`` is first shortened to at most ``error_limit[m]``.

    The search starts from the previous pixel's codeword ``a``, at squared
    distance ``d``, and evaluates its ``neighbours`` (by increasing
    distance from ``a``) until ``reach[a, l] > d``: no codeword further
    from ``a`` can be as near to ``v`` (Orchard 1991); whenever a nearer
    one turns up, it goes on from that one's list. When a list ends first,
    it goes on through all rows of ``codebook``, sorted by channel ``key``,
    outward from ``v[key]`` in both directions, stopping on each side at
    the first row whose ``key`` term alone exceeds the best distance (with
    the margins of ``nearer``): a sum of non-negative terms is never below
    any of its terms, in floating point as in exact arithmetic.
    """
    cdef Py_ssize_t n_rows = X.shape[0], n_codes = codebook.shape[0]
    cdef Py_ssize_t n_channels = codebook.shape[1]
    cdef Py_ssize_t n_columns = X.shape[1] // n_channels
    cdef Py_ssize_t n_neighbours = neighbours.shape[1]
    cdef Py_ssize_t i, t, j, l, m, step, start, stop, middle
    cdef Py_ssize_t best_row = 0
    cdef double distance, best
    cdef bint listed
    cdef bint mapped = strength_map.shape[0] > 0
    cdef bint limited = error_limit.shape[0] > 0
    cdef double[::1] low = np.min(codebook, axis=0)
    cdef double[::1] high = np.max(codebook, axis=0)
    cdef double[::1] keys = np.ascontiguousarray(codebook[:, key])
    cdef double[::1] v = np.empty(n_channels)
    cdef double[:, ::1] pending = np.zeros((3, n_channels))
    cdef Diffusion d = _diffusion(pending, strength)
    # Errors reaching the current row and the next; row j + 1 is column j,
    # rows 0 and n_columns + 1 catch what leaves the image.
    cdef double[:, ::1] rows = np.zeros((2, (n_columns + 2) * n_channels))
    cdef const double* words = &codebook[0, 0]
    cdef double* this_row
    cdef double* next_row

    with nogil:
        for i in range(n_rows):
            this_row = &rows[i % 2, n_channels]
            next_row = &rows[(i + 1) % 2, n_channels]
            step = 1 if i % 2 == 0 else -1
            _start_row(&d, n_channels)
            for t in range(n_columns):
                j = t if step == 1 else n_columns - 1 - t
                _diffused_value(
                    &d, n_channels, &X[i, j * n_channels], scale, &low[0], &high[0],
                    this_row + j * n_channels, &v[0],
                )
                best = squared_distance(
                    &v[0], words + best_row * n_channels, n_channels
                )
                # Walk from codeword to nearer codeword through their lists.
                listed = False
                l = 1
                while l < n_neighbours:
                    if reach[best_row, l] > best:
                        listed = True
                        break
                    m = neighbours[best_row, l]
                    distance = squared_distance(
                        &v[0], words + m * n_channels, n_channels
                    )
                    if nearer(
                        &v[0], words + m * n_channels,
                        words + best_row * n_channels, n_channels,
                        distance, best, code_of[m], code_of[best_row],
                    ):
                        best, best_row = distance, m
                        l = 1
                    else:
                        l += 1
                if not listed and n_neighbours < n_codes:
                    # First row whose key is at or above v[key].
                    start, stop = 0, n_codes
                    while start < stop:
                        middle = (start + stop) // 2
                        if keys[middle] < v[key]:
                            start = middle + 1
                        else:
                            stop = middle
                    for m in range(start, n_codes):
                        if not _consider(&v[0], words, n_channels, m,
                                         v[key] - keys[m], code_of,
                                         &best, &best_row):
                            break
                    for m in range(start - 1, -1, -1):
                        if not _consider(&v[0], words, n_channels, m,
                                         v[key] - keys[m], code_of,
                                         &best, &best_row):
                            break
                codes[i, j] = <code_t> code_of[best_row]

                if mapped:
                    _set_strength(&d, strength * strength_map[i, j])
                # ``best`` is the squared distance to that codeword.
                _pass_on(
                    &d, n_channels, &v[0], words + best_row * n_channels, best,
                    &error_limit[best_row] if limited else NULL, next_row,
                    j, step,
                )
            _end_row(&d, n_channels, next_row, n_columns - 1 if step == 1 else 0)


# Cells of the grid of diffused values, per channel, at the finest level for
# 1 to 4 channels (about 2**15 cells in all); see floyd_steinberg_cells.
_FINE_CELLS = {1: 4096, 2: 128, 3: 32, 4: 12}


cdef enum:
    # Fine cells per coarse cell along each channel.
    _COARSE = 4


cdef struct Grid:
    # A lazily filled table of the candidates of cells of a box of values
    # (see floyd_steinberg_cells), owned by a CellGrid.
    Py_ssize_t n_channels
    Py_ssize_t n_fine[4]      # fine cells per channel
    Py_ssize_t n_coarse[4]    # coarse cells per channel
    double low[4]             # the box's lower corner
    double width[4]           # a fine cell's width
    double inverse[4]         # 1 / width (0 with a single cell)
    double margin[4]          # cell boxes are widened by this, above rounding
    int32_t* coarse           # per cell: offset in pool, or -1 before its first value
    int32_t* fine
    int32_t* pool             # per cell: number of candidates, then the candidates
    Py_ssize_t pool_size
    Py_ssize_t pool_capacity
    int32_t max_paired[2]     # coarse and fine cells: see box_candidates


cdef class CellGrid:
    """Owner of a :c:type:`Grid`'s buffers: the cell tables, all -1 (no
    candidates found yet), and a pool that grows as cells are met;
    ``__dealloc__`` frees them whatever happened on the way. It sets the
    grid's channel and cell counts; the caller sets its geometry."""

    cdef Grid grid

    def __cinit__(self, const intptr_t[::1] n_cells, Py_ssize_t capacity):
        """``n_cells``: fine cells per channel (1 to 4 channels); ``capacity``:
        the pool's first size, in int32 entries."""
        cdef Py_ssize_t t, c, n_fine = 1, n_coarse = 1
        self.grid.n_channels = n_cells.shape[0]
        for c in range(n_cells.shape[0]):
            self.grid.n_fine[c] = n_cells[c]
            self.grid.n_coarse[c] = (n_cells[c] + _COARSE - 1) // _COARSE
            n_fine *= self.grid.n_fine[c]
            n_coarse *= self.grid.n_coarse[c]
        self.grid.pool_size = 0
        self.grid.pool_capacity = capacity
        self.grid.pool = <int32_t*>malloc(capacity * sizeof(int32_t))
        self.grid.coarse = <int32_t*>malloc(n_coarse * sizeof(int32_t))
        self.grid.fine = <int32_t*>malloc(n_fine * sizeof(int32_t))
        if self.grid.pool == NULL or self.grid.coarse == NULL or self.grid.fine == NULL:
            raise MemoryError("Not enough memory for the cells of dithering.")
        for t in range(n_coarse):
            self.grid.coarse[t] = -1
        for t in range(n_fine):
            self.grid.fine[t] = -1

    def __dealloc__(self):
        free(self.grid.pool)
        free(self.grid.coarse)
        free(self.grid.fine)


cdef bint _pool_reserve(Grid* grid, Py_ssize_t n_candidates) noexcept nogil:
    """Room in the pool for a cell of up to ``n_candidates``; False when out
    of memory."""
    cdef Py_ssize_t capacity
    cdef int32_t* grown
    if grid.pool_size + 1 + n_candidates <= grid.pool_capacity:
        return True
    capacity = 2 * grid.pool_capacity + n_candidates + 1
    if capacity > 0x7FFFFFF0:
        return False  # offsets are int32
    grown = <int32_t*>realloc(grid.pool, capacity * sizeof(int32_t))
    if grown == NULL:
        return False
    grid.pool = grown
    grid.pool_capacity = capacity
    return True


cdef Py_ssize_t _cell_candidates(
    Grid* grid,
    const int32_t* among,
    int32_t n_among,
    const Py_ssize_t* first,
    const Py_ssize_t* stop,
    const double* codebook,
    double* box,
    int32_t max_paired,
) noexcept nogil:
    """Append to the pool the candidates, of ``among``, of the box of fine
    cells ``[first[c], stop[c])`` along each channel, widened by the margins;
    return their offset. The caller has reserved room."""
    cdef Py_ssize_t c, n_channels = grid.n_channels, offset = grid.pool_size
    for c in range(n_channels):
        box[c] = (grid.low[c] + first[c] * grid.width[c]) - grid.margin[c]
        box[n_channels + c] = (grid.low[c] + stop[c] * grid.width[c]) + grid.margin[c]
    grid.pool[offset] = box_candidates(
        among, n_among, box, box + n_channels, codebook, n_channels,
        grid.pool + offset + 1, max_paired,
    )
    grid.pool_size += 1 + grid.pool[offset]
    return offset


cdef Py_ssize_t _fill_cell(
    Grid* grid,
    const Py_ssize_t* index,
    Py_ssize_t cell,
    const int32_t* everything,
    Py_ssize_t n_codes,
    const double* codebook,
    double* box,
) noexcept nogil:
    """Find the candidates of fine cell ``cell`` (of indices ``index`` per
    channel), from those of its coarse cell (found first if need be); return
    their offset in the pool, -1 when out of memory."""
    cdef Py_ssize_t c, coarse = 0, parent, offset
    cdef Py_ssize_t first[4]
    cdef Py_ssize_t stop[4]
    cdef Py_ssize_t n_channels = grid.n_channels
    for c in range(n_channels):
        coarse = coarse * grid.n_coarse[c] + index[c] // _COARSE
    parent = grid.coarse[coarse]
    if parent < 0:
        for c in range(n_channels):
            first[c] = (index[c] // _COARSE) * _COARSE
            stop[c] = min(first[c] + _COARSE, grid.n_fine[c])
        if not _pool_reserve(grid, n_codes):
            return -1
        parent = _cell_candidates(
            grid, everything, <int32_t>n_codes, first, stop, codebook, box,
            grid.max_paired[0],
        )
        grid.coarse[coarse] = <int32_t>parent
    for c in range(n_channels):
        first[c] = index[c]
        stop[c] = index[c] + 1
    # Room first: growing the pool may move the parent's candidates.
    if not _pool_reserve(grid, grid.pool[parent]):
        return -1
    offset = _cell_candidates(
        grid, grid.pool + parent + 1, grid.pool[parent], first, stop, codebook, box,
        grid.max_paired[1],
    )
    grid.fine[cell] = <int32_t>offset
    return offset


# Tags of _scan_cells' specialisations: three channels (RGB), a constant
# there, so that the compiler unrolls the loops over channels, or any number.
cdef struct _ThreeChannels:
    char unused

cdef struct _AnyChannels:
    char unused

ctypedef fused channels_t:
    _ThreeChannels
    _AnyChannels


cdef bint _scan_cells(
    const pixel_t* X,
    code_t* codes,
    Py_ssize_t n_rows,
    Py_ssize_t n_columns,
    channels_t* tag,
    Py_ssize_t n_given,
    Grid* grid,
    Diffusion* d,
    double* rows,
    const double* words,
    Py_ssize_t n_codes,
    const int32_t* everything,
    double* box,
    const double* low,
    const double* high,
    double* v,
    double scale,
    double strength,
    const float* strength_map,
    const double* error_limit,
) noexcept nogil:
    """The scan of :func:`floyd_steinberg_cells` over C-contiguous buffers
    (``rows``: two rows of ``(n_columns + 2) * n_channels`` errors;
    ``strength_map`` and ``error_limit`` NULL when not used), of
    ``n_given`` channels, or 3 when ``tag`` is a :c:type:`_ThreeChannels`
    (NULL; only its type matters); True when out of memory."""
    cdef Py_ssize_t n_channels
    if channels_t is _ThreeChannels:
        n_channels = 3
    else:
        n_channels = n_given
    cdef Py_ssize_t i, t, j, c, u, m, step, cell, offset, n_candidates
    cdef Py_ssize_t row_length = (n_columns + 2) * n_channels
    cdef Py_ssize_t best_row = 0
    cdef Py_ssize_t index[4]
    cdef double distance, best = 0.0
    cdef const int32_t* candidates
    cdef double* this_row
    cdef double* next_row
    for i in range(n_rows):
        this_row = rows + (i % 2) * row_length + n_channels
        next_row = rows + ((i + 1) % 2) * row_length + n_channels
        step = 1 if i % 2 == 0 else -1
        _start_row(d, n_channels)
        for t in range(n_columns):
            j = t if step == 1 else n_columns - 1 - t
            _diffused_value(
                d, n_channels, X + (i * n_columns + j) * n_channels, scale, low,
                high, this_row + j * n_channels, v,
            )
            cell = 0
            for c in range(n_channels):
                # The value is in the box: its index is not negative.
                m = <Py_ssize_t> ((v[c] - grid.low[c]) * grid.inverse[c])
                m = m if m < grid.n_fine[c] else grid.n_fine[c] - 1
                index[c] = m
                cell = cell * grid.n_fine[c] + m
            offset = grid.fine[cell]
            if offset < 0:
                offset = _fill_cell(
                    grid, index, cell, everything, n_codes, words, box
                )
                if offset < 0:
                    return True
            candidates = grid.pool + offset
            n_candidates = candidates[0]
            best_row = candidates[1]
            if n_candidates > 1 or error_limit != NULL:
                best = squared_distance(v, words + best_row * n_channels, n_channels)
            for u in range(2, n_candidates + 1):
                m = candidates[u]
                distance = squared_distance(v, words + m * n_channels, n_channels)
                if nearer(
                    v, words + m * n_channels, words + best_row * n_channels,
                    n_channels, distance, best, m, best_row,
                ):
                    best, best_row = distance, m
            codes[i * n_columns + j] = <code_t> best_row

            if strength_map != NULL:
                _set_strength(d, strength * strength_map[i * n_columns + j])
            _pass_on(
                d, n_channels, v, words + best_row * n_channels, best,
                error_limit + best_row if error_limit != NULL else NULL,
                next_row, j, step,
            )
        _end_row(d, n_channels, next_row, n_columns - 1 if step == 1 else 0)
    return False


def floyd_steinberg_cells(
    const pixel_t[:, ::1] X,          # IN (n_rows, n_columns * n_channels)
    const double[:, ::1] codebook,    # IN (n_codes, n_channels), scaled
    const double[::1] box_low,        # IN (n_channels,) lowest value coded
    const double[::1] box_high,       # IN (n_channels,) highest value coded
    const intptr_t[::1] n_cells,      # IN (n_channels,) fine cells per channel
    double scale,                     # IN power of two, pixels to codebook units
    double strength,                  # IN, in [0, 1]
    const float[:, ::1] strength_map,  # IN (n_rows, n_columns) in [0, 1], or (0, 0)
    const double[::1] error_limit,    # IN (n_codes,) positive, or (0,)
    code_t[:, ::1] codes,             # OUT (n_rows, n_columns)
    int max_paired_coarse=0,
    int max_paired_fine=16,
):
    """Error diffusion over an image of 1 to 4 channels, codes of the
    nearest codeword, searched among the candidates of a grid's cells.

    The same diffusion and codes as :func:`floyd_steinberg_vector` (with
    ``code_of`` the identity), the nearest codeword being found otherwise:
    every value coded lies in the box ``[box_low, box_high]`` (the
    codebook's range widened to the pixels' own, scaled and clipped), cut
    into ``n_cells[c]`` equal cells along channel ``c``. The first time a
    value falls in a cell, the cell keeps, of the candidates of the coarse
    cell holding it (``_COARSE`` cells along each channel, whose candidates
    are taken from all codewords the same way), those that no other beats
    at every point of the cell by more than rounding (``box_candidates``);
    each value is then compared with its cell's candidates alone, in index
    order, by ``skvq._distances.nearer``. Cell boxes are widened by a
    margin above the rounding of the cell index, so that a value always
    lies in the box of the cell it is looked up in.
    """
    cdef Py_ssize_t n_rows = X.shape[0], n_codes = codebook.shape[0]
    cdef Py_ssize_t n_channels = codebook.shape[1]
    cdef Py_ssize_t n_columns = X.shape[1] // n_channels
    cdef Py_ssize_t c
    cdef double magnitude
    cdef bint mapped = strength_map.shape[0] > 0
    cdef bint limited = error_limit.shape[0] > 0
    cdef bint failed = False
    cdef double[::1] low = np.min(codebook, axis=0)
    cdef double[::1] high = np.max(codebook, axis=0)
    cdef double[::1] v = np.empty(n_channels)
    cdef double[::1] box = np.empty(2 * n_channels)
    cdef int32_t[::1] everything = np.arange(n_codes, dtype=np.int32)
    cdef double[:, ::1] pending = np.zeros((3, n_channels))
    cdef Diffusion d = _diffusion(pending, strength)
    cdef double[:, ::1] rows = np.zeros((2, (n_columns + 2) * n_channels))
    cdef const double* words = &codebook[0, 0]
    cdef const float* strengths = NULL
    cdef const double* limits = NULL
    cdef CellGrid owner
    cdef Grid* grid
    if n_rows == 0 or n_columns == 0:
        return
    if mapped:
        strengths = &strength_map[0, 0]
    if limited:
        limits = &error_limit[0]
    owner = CellGrid(n_cells, 4 * n_codes + 1024)
    grid = &owner.grid
    for c in range(n_channels):
        grid.low[c] = box_low[c]
        grid.width[c] = (box_high[c] - box_low[c]) / n_cells[c]
        grid.inverse[c] = 1.0 / grid.width[c] if n_cells[c] > 1 else 0.0
        magnitude = max(fabs(box_low[c]), fabs(box_high[c]))
        grid.margin[c] = 1e-9 * grid.width[c] + 1e-15 * magnitude + ABSOLUTE
    grid.max_paired[0] = max_paired_coarse
    grid.max_paired[1] = max_paired_fine
    with nogil:
        if n_channels == 3:
            failed = _scan_cells(
                &X[0, 0], &codes[0, 0], n_rows, n_columns, <_ThreeChannels*>NULL,
                3, grid, &d, &rows[0, 0], words, n_codes, &everything[0],
                &box[0], &low[0], &high[0], &v[0], scale, strength, strengths,
                limits,
            )
        else:
            failed = _scan_cells(
                &X[0, 0], &codes[0, 0], n_rows, n_columns, <_AnyChannels*>NULL,
                n_channels, grid, &d, &rows[0, 0], words, n_codes,
                &everything[0], &box[0], &low[0], &high[0], &v[0], scale,
                strength, strengths, limits,
            )
    if failed:
        raise MemoryError("Not enough memory for the cells of dithering.")
