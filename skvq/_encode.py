"""Mapping pixels to codes.

Scalars are located among bin edges by the kernels of
:mod:`skvq._binning`: a lookup table of every possible value's code for 8-
and 16-bit integers, a count of the edges at or below each value when there
are few edges, a binary search when there are many. Vectors go to their
nearest codeword (:mod:`skvq._nearest_codeword`). The kernels release the
GIL and share their work among OpenMP threads, as many as
:func:`skvq._openmp_helpers.effective_n_threads` allows when called (it
honours ``OMP_NUM_THREADS`` and :func:`threadpoolctl.threadpool_limits`);
their results do not depend on the thread count, and nothing here changes
thread pools.
"""

import numpy as np

from ._binning import (
    LOOKUP_U8_VECTORISED,
    count_edges_at_or_below,
    lookup_codes,
    search_edges,
)
from ._colour_kernels import list_colours, mark_colours, take_by_colour
from ._nearest_codeword import nearest_by_cells, nearest_by_projection
from ._openmp_helpers import effective_n_threads
from ._validation import check_finite

# Up to this many inner edges, counting the edges at or below each value
# (vectorised comparisons) is faster than a binary search per value, and
# for uint8 faster than a table lookup of one value at a time (measured on
# x86-64 with SSE2 code; 64-bit integers have no vector comparison there
# and are always searched). Where the lookup of uint8 values runs on vector
# instructions (skvq._binning.LOOKUP_U8_VECTORISED), it is faster than
# counting even one edge (7 edges, a 300 x 400 image: 6 instead of 37 us),
# and uint8 always goes through the table.
_MAX_COUNTED_EDGES = {
    np.dtype(np.uint8): 11,
    np.dtype(np.int32): 63,
    np.dtype(np.uint32): 63,
    np.dtype(np.float32): 63,
    np.dtype(np.float64): 11,
}
# 16-bit integers go through a table of the code of all 65,536 values once
# there are this many pixels per table entry; fewer are converted to int32
# and compared with the edges.
_MIN_PIXELS_PER_TABLE_ENTRY = 0.25
# Fewest uint8 pixels converted or coded through their distinct colours: the
# bitmap of every colour (2 MiB, cleared and read each time) costs about
# 0.4 ms, what converting 10,000 pixels one by one costs; the two break even
# near 65,536 pixels of a photo.
BY_COLOUR_PIXELS = 1 << 16
# Codewords from which uint8 pixels of two or three channels are coded once
# per distinct colour: coding a pixel costs more with more codewords, and
# spreading codes from colours the same whatever their number. On a photo of
# 0.26 to 12.6 megapixels, one thread: 3.9 to 21.5 ns a pixel for 16 to 256
# codewords, against about 5 ns a pixel plus the colours' own coding, so
# faster from 128 codewords, and from 64 on 2**21 pixels or more (on two
# threads the thresholds hold too: 128 codewords on 0.26 megapixels tie).
# Images of more distinct colours than a quarter of their pixels are coded
# pixel by pixel.
_BY_COLOUR_CODES = 128
_BY_COLOUR_CODES_LARGE = 64
_LARGE_IMAGE_PIXELS = 1 << 21


def distinct_colours(pixels):
    """The distinct colours of C-contiguous uint8 pixels of two or three
    channels, ascending, and the bitmap and rank table that
    :func:`take_by_colour` reads to spread a function of the colours back
    to the pixels."""
    n_threads = effective_n_threads()
    n_channels = pixels.shape[1]
    present = np.empty(1 << (8 * n_channels - 6), dtype=np.uint64)
    low = np.empty(n_channels, dtype=np.uint8)
    high = np.empty(n_channels, dtype=np.uint8)
    n_colours = mark_colours(pixels, None, present, low, high, n_threads)
    rank = np.empty(present.shape[0], dtype=np.uint32)
    keys = np.empty(n_colours, dtype=np.uint32)
    list_colours(present, rank, keys, n_threads)
    colours = np.empty((n_colours, n_channels), dtype=np.uint8)
    for c in range(n_channels):
        colours[:, c] = keys >> (8 * (n_channels - 1 - c))
    return colours, present, rank


def spread_by_colour(rows, pixels, present, rank):
    """Rows of values of the distinct colours (from
    :func:`distinct_colours`) spread to the pixels: shape ``(n_pixels,
    n_values)``."""
    rows = np.ascontiguousarray(rows.reshape(rows.shape[0], -1))
    out = np.empty((pixels.shape[0], rows.shape[1]), dtype=rows.dtype)
    take_by_colour(pixels, present, rank, rows, out, effective_n_threads())
    return out


def by_colour(function, pixels, dtype, n_values):
    """``function`` of every distinct colour of uint8 pixels of two or three
    channels (rows of ``n_values`` values of ``dtype``), evaluated once per
    colour and spread to the pixels: shape ``(n_pixels, n_values)``."""
    pixels = np.ascontiguousarray(pixels)
    colours, present, rank = distinct_colours(pixels)
    rows = np.asarray(function(colours), dtype=dtype).reshape(-1, n_values)
    return spread_by_colour(rows, pixels, present, rank)


def code_dtype(n_codes):
    """Smallest unsigned integer dtype holding codes ``0 .. n_codes - 1``.

    Examples
    --------
    >>> from skvq._encode import code_dtype
    >>> code_dtype(256), code_dtype(257)
    (dtype('uint8'), dtype('uint16'))
    """
    return np.dtype(np.uint8) if n_codes <= 256 else np.dtype(np.uint16)


def _lookup_table(inner_edges, input_dtype, dtype):
    """Code of the value of every bit pattern of an 8- or 16-bit integer
    dtype (of either byte order), indexed by the pattern read as a native
    unsigned integer."""
    if input_dtype.itemsize == 1:
        patterns = np.arange(256, dtype=np.uint8).view(input_dtype)
        return np.searchsorted(inner_edges, patterns, side="right").astype(dtype)
    # 65,536 binary searches would cost more than most lookups: the table is
    # made of runs instead, in the order of the values from info.min up, code
    # k running from the k-th edge (as an integer) to the next.
    native = input_dtype.newbyteorder("=")
    info = np.iinfo(native)
    bounds = np.concatenate(
        [[info.min], _edges_in_dtype(inner_edges, native), [info.max + 1]]
    )
    table = np.repeat(np.arange(bounds.size - 1).astype(dtype), np.diff(bounds))
    if native.kind == "i":
        # Patterns 0 .. 2**15 - 1 are the non-negative values.
        table = np.roll(table, table.size // 2)
    if not input_dtype.isnative:
        # Swapping the two bytes of a pattern swaps the row (high byte) and
        # column (low byte) of the table viewed as 256 x 256.
        table = np.ascontiguousarray(table.reshape(256, 256).T).reshape(-1)
    return table


def _bits_dtype(dtype):
    """Native unsigned integer dtype as wide as ``dtype``."""
    return np.dtype(f"u{dtype.itemsize}")


def _edges_in_dtype(inner_edges, dtype):
    """The inner edges as values of ``dtype`` (an integer or float type, of
    native byte order) that compare alike: for every ``x`` of that type,
    ``x >= converted[j]`` exactly when ``x >= inner_edges[j]``.

    Integers compare with the ceiling of an edge; floats with the edge
    rounded up to the type. Edges above every value of the type are
    dropped, since no value counts them.
    """
    if dtype.kind == "f":
        reachable = inner_edges[inner_edges <= float(np.finfo(dtype).max)]
        with np.errstate(over="ignore"):  # edges below -max become -inf
            rounded = reachable.astype(dtype)
        below = rounded < reachable
        rounded[below] = np.nextafter(rounded[below], dtype.type(np.inf))
        return rounded
    info = np.iinfo(dtype)
    ceiling = np.ceil(inner_edges)
    # info.max + 1 is a power of two, exact in float64.
    reachable = ceiling[ceiling < float(info.max) + 1.0]
    return np.maximum(reachable, float(info.min)).astype(dtype)


def _comparable(values):
    """``values`` in a native dtype the edge kernels take (int32, uint32,
    int64, uint64, float32 or float64), converted without rounding."""
    dtype = values.dtype
    if dtype.kind == "f":
        target = np.float32 if dtype.itemsize <= 4 else np.float64
    elif dtype.itemsize <= 2:
        target = np.int32
    else:
        target = f"{dtype.kind}{dtype.itemsize}"
    return values.astype(target, copy=False)


def encode_scalar(X, bin_edges, dtype):
    """Index of the bin of every element of ``X``.

    Bin ``i`` is ``[bin_edges[i], bin_edges[i + 1])``; values below the first
    inner edge get code 0 and values at or above the last get the last code,
    as with :class:`~sklearn.preprocessing.KBinsDiscretizer`. The code of
    ``x`` is the number of inner edges at or below ``x``, compared exactly
    (an int64 or float32 ``x`` is not rounded to float64 first).

    Values are compared with each edge when there are few edges and
    binary-searched when there are many, except that 8- and 16-bit integers
    (uint8 only with many edges, unless the processor has the vector
    instructions of its lookup) are looked up in a table of the code of
    every possible value.

    Parameters
    ----------
    X : ndarray
        Real or boolean values of any byte order; a NaN or infinite value
        raises a ValueError (found in the pass that codes the values). A
        C- or Fortran-contiguous ``X`` is read in place (codes of a
        Fortran-ordered one are computed in its order, then copied to C
        order); others are copied first.
    bin_edges : ndarray of shape (n_bins + 1,)
        Ascending float64 edges.
    dtype : dtype
        uint8 or uint16, holding ``n_bins - 1``.

    Returns
    -------
    codes : ndarray of ``X.shape`` and ``dtype``, C-contiguous

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._encode import encode_scalar
    >>> edges = np.array([0.0, 10.0, 20.0, 30.0])
    >>> encode_scalar(np.array([[-5, 10, 25, 99]]), edges, np.uint8)
    array([[0, 1, 2, 2]], dtype=uint8)
    """
    if X.dtype == bool:
        X = X.view(np.uint8)
    order = "F" if X.flags.f_contiguous and not X.flags.c_contiguous else "C"
    codes = np.empty(X.shape, dtype=dtype, order=order)
    # Views (copies only for non-contiguous X) in memory order.
    values = np.asarray(X, order=order).reshape(-1, order=order)
    flat_codes = codes.reshape(-1, order=order)
    inner = bin_edges[1:-1]
    n_threads = effective_n_threads()
    if (
        X.dtype == np.uint8
        and not LOOKUP_U8_VECTORISED
        and inner.size <= _MAX_COUNTED_EDGES[X.dtype]
    ):
        edges = _edges_in_dtype(inner, X.dtype)
        count_edges_at_or_below(values, edges, flat_codes, n_threads)
        return np.ascontiguousarray(codes)
    small_integers = X.dtype.kind in "iu" and X.dtype.itemsize <= 2
    if small_integers and X.size >= _MIN_PIXELS_PER_TABLE_ENTRY * (
        1 << (8 * X.dtype.itemsize)
    ):
        table = _lookup_table(inner, X.dtype, dtype)
        lookup_codes(values.view(_bits_dtype(X.dtype)), table, flat_codes, n_threads)
        return np.ascontiguousarray(codes)
    values = _comparable(values)
    edges = _edges_in_dtype(inner, values.dtype)
    if edges.size <= _MAX_COUNTED_EDGES.get(values.dtype, -1):
        n_not_finite = count_edges_at_or_below(values, edges, flat_codes, n_threads)
    else:
        n_not_finite = search_edges(values, edges, flat_codes, n_threads)
    if n_not_finite:
        check_finite(X)
    return np.ascontiguousarray(codes)


# Pixels converted to float64 per block, for dtypes the kernels do not take.
_CONVERTED_BLOCK_ROWS = 1 << 16
# uint8 pixels of up to four channels go through nested cells of pixel space
# (see skvq._nearest_codeword), indexed by this many leading bits per channel
# at each level.
_CELL_BITS = {1: (4, 8), 2: (3, 5, 8), 3: (3, 5), 4: (2, 4)}


def _principal_direction(points):
    """Unit vector along which ``points`` spread most (any unit vector if they
    do not spread)."""
    centred = points - points.mean(axis=0)
    if not np.any(centred):
        direction = np.zeros(points.shape[1])
        direction[0] = 1.0
        return direction
    return np.linalg.svd(centred, full_matrices=False)[2][0]


def _by_distinct_colour(n_pixels, n_channels, n_codes):
    """Whether uint8 pixels are coded once per distinct colour (see
    ``_BY_COLOUR_CODES``)."""
    if n_channels not in (2, 3) or n_pixels < BY_COLOUR_PIXELS:
        return False
    if n_pixels >= _LARGE_IMAGE_PIXELS:
        return n_codes >= _BY_COLOUR_CODES_LARGE
    return n_codes >= _BY_COLOUR_CODES


def nearest_codeword(pixels, codebook, dtype):
    """Index of the nearest codeword (Euclidean) of every pixel.

    Two codewords whose squared distances to a pixel differ by more than
    their rounding are ranked by them, others by the sign of that
    difference computed without cancellation (so that pixels far outside the
    codebook's range still get the codeword furthest along their
    direction); of equally near codewords, the first is chosen. Distances
    are computed in units of a power of two at or above every codeword
    coordinate, so that nothing overflows whatever the input; where this
    stops being exact: pixel coordinates beyond ``2**500`` such units are
    clipped to it, and differences below ``2**-1074`` units (the float64
    resolution there) are lost. uint8 pixels of up to four channels go
    through cells of pixel space (those of two or three channels, when many
    and coded to many codewords, once per distinct colour), others through
    a search along a projection (see :mod:`skvq._nearest_codeword`).

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels, n_channels)
        Finite real or boolean values.
    codebook : ndarray of shape (n_codes, n_channels)
        Finite float64 codewords.
    dtype : dtype
        Unsigned integer dtype of the result (uint8 or uint16).

    Returns
    -------
    codes : ndarray of shape (n_pixels,)

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._encode import nearest_codeword
    >>> codebook = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
    >>> nearest_codeword(np.array([[10, 20, 30], [200, 250, 100]]), codebook,
    ...                  np.uint8)
    array([0, 1], dtype=uint8)
    """
    n_pixels, n_channels = pixels.shape
    codes = np.empty(n_pixels, dtype=dtype)
    if codebook.shape[0] == 1 or n_pixels == 0:
        codes[:] = 0
        return codes
    # Of equal codewords only the first can be the nearest: the search runs
    # on the distinct ones.
    _, first = np.unique(codebook, axis=0, return_index=True)
    if first.size < codebook.shape[0]:
        first.sort()
        codes = nearest_codeword(pixels, codebook[first], dtype)
        return first.astype(dtype)[codes]
    largest = float(np.max(np.abs(codebook)))
    # A power of two at or above every coordinate, finite and invertible.
    exponent = max(int(np.frexp(largest)[1]) if largest > 0 else 0, -1000)
    scaled = np.ldexp(codebook, -exponent)
    scale = float(np.ldexp(1.0, -exponent))
    if pixels.dtype == bool:
        pixels = pixels.view(np.uint8)
    n_threads = effective_n_threads()
    if pixels.dtype == np.uint8 and n_channels in _CELL_BITS:
        bits = np.array(_CELL_BITS[n_channels], dtype=np.intc)
        pixels = np.ascontiguousarray(pixels)
        if _by_distinct_colour(n_pixels, n_channels, codebook.shape[0]):
            # The codes of the distinct colours, spread to the pixels: the
            # same codes (a pixel's is a function of its colour).
            colours, present, rank = distinct_colours(pixels)
            if 4 * colours.shape[0] <= n_pixels:
                colour_codes = np.empty(colours.shape[0], dtype=dtype)
                nearest_by_cells(colours, scaled, scale, bits, colour_codes, n_threads)
                return spread_by_colour(colour_codes, pixels, present, rank)[:, 0]
        nearest_by_cells(pixels, scaled, scale, bits, codes, n_threads)
        return codes
    direction = _principal_direction(scaled)
    projection = scaled @ direction
    index = np.argsort(projection, kind="stable")
    arguments = (
        np.ascontiguousarray(scaled[index]),
        index,
        np.ascontiguousarray(projection[index]),
        direction,
        scale,
    )
    native = pixels.dtype.newbyteorder("=")
    if native in (np.uint8, np.uint16, np.float32, np.float64) and (
        pixels.dtype.isnative and pixels.flags.c_contiguous
    ):
        nearest_by_projection(pixels, *arguments, codes, n_threads)
        return codes
    for start in range(0, n_pixels, _CONVERTED_BLOCK_ROWS):
        rows = slice(start, start + _CONVERTED_BLOCK_ROWS)
        block = np.ascontiguousarray(pixels[rows], dtype=np.float64)
        nearest_by_projection(block, *arguments, codes[rows], n_threads)
    return codes
