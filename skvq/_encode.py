"""Mapping pixels to codes.

Scalars are located among bin edges by the kernels of
:mod:`skvq._binning`: a lookup table of every possible value's code for 8-
and 16-bit integers, a count of the edges at or below each value when there
are few edges, a binary search when there are many. Vectors go to their
nearest codeword. The scalar kernels run on the calling thread and release
the GIL.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from ._binning import count_edges_at_or_below, lookup_codes, search_edges

# Elements per block of work: large enough to amortise the Python overhead,
# small enough that a block's temporaries stay in the tens of megabytes.
_BLOCK_ELEMENTS = 1 << 21
# Below this many elements, starting threads costs more than they save.
_MIN_THREADED_ELEMENTS = 1 << 22
# Up to this many inner edges, counting the edges at or below each value
# (vectorised comparisons) is faster than a binary search per value, and
# for uint8 faster than a table lookup (measured on x86-64 with SSE2 code;
# 64-bit integers have no vector comparison there and are always searched).
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


def code_dtype(n_codes):
    """Smallest unsigned integer dtype holding codes ``0 .. n_codes - 1``.

    Examples
    --------
    >>> from skvq._encode import code_dtype
    >>> code_dtype(256), code_dtype(257)
    (dtype('uint8'), dtype('uint16'))
    """
    return np.dtype(np.uint8) if n_codes <= 256 else np.dtype(np.uint16)


def _n_threads():
    return min(
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 1,
        8,
    )


@functools.cache
def _threadpool_controller():
    # Creating a controller scans the loaded libraries, which costs
    # milliseconds: one is made per process.
    return ThreadpoolController()


def single_threaded_blas():
    """Context manager holding BLAS to one thread, for code that runs its
    own threads or whose matrix products are too small to share."""
    return _threadpool_controller().limit(limits=1, user_api="blas")


def _blockwise(
    function,
    source,
    out,
    elements_per_row,
    block_elements=_BLOCK_ELEMENTS,
    threaded=True,
):
    """Apply ``function(source[rows], out[rows])`` over row blocks, on a few
    threads if ``threaded`` and the input is large."""
    n_rows = source.shape[0]
    step = max(1, block_elements // max(elements_per_row, 1))
    blocks = [slice(start, start + step) for start in range(0, n_rows, step)]
    if (
        not threaded
        or source.size < _MIN_THREADED_ELEMENTS
        or len(blocks) == 1
        or _n_threads() == 1
    ):
        for rows in blocks:
            function(source[rows], out[rows])
        return out
    with single_threaded_blas():
        with ThreadPoolExecutor(_n_threads()) as pool:
            list(pool.map(lambda rows: function(source[rows], out[rows]), blocks))
    return out


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
    (uint8 only with many edges) are looked up in a table of the code of
    every possible value.

    Parameters
    ----------
    X : ndarray
        Real or boolean values of any byte order. A C- or Fortran-contiguous
        ``X`` is read in place (codes of a Fortran-ordered one are computed
        in its order, then copied to C order); others are copied first.
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
    if X.dtype == np.uint8 and inner.size <= _MAX_COUNTED_EDGES[X.dtype]:
        edges = _edges_in_dtype(inner, X.dtype)
        count_edges_at_or_below(values, edges, flat_codes)
        return np.ascontiguousarray(codes)
    small_integers = X.dtype.kind in "iu" and X.dtype.itemsize <= 2
    if small_integers and X.size >= _MIN_PIXELS_PER_TABLE_ENTRY * (
        1 << (8 * X.dtype.itemsize)
    ):
        table = _lookup_table(inner, X.dtype, dtype)
        lookup_codes(values.view(_bits_dtype(X.dtype)), table, flat_codes)
        return np.ascontiguousarray(codes)
    values = _comparable(values)
    edges = _edges_in_dtype(inner, values.dtype)
    if edges.size <= _MAX_COUNTED_EDGES.get(values.dtype, -1):
        count_edges_at_or_below(values, edges, flat_codes)
    else:
        search_edges(values, edges, flat_codes)
    return np.ascontiguousarray(codes)


# A colour table (the code of every possible 8-bit colour that occurs) pays
# off once there are this many pixel-codeword pairs per table entry or more:
# building it reads the table once, instead of every pixel against every
# codeword.
_TABLE_MIN_PAIRS_PER_ENTRY = 0.25

# Relative rounding margin of distances computed as |c|^2 / 2 - x.c: pixels
# whose two nearest codewords are closer than this get their distances
# computed again as |x - c|^2, so that codes are exact up to true ties.
_ROUNDING_MARGIN = 64 * np.finfo(np.float64).eps


def _nearest_rows(x, codebook, half_norm):
    """Index of the nearest row of ``codebook`` to every row of ``x``."""
    distance = x @ codebook.T
    np.subtract(half_norm, distance, out=distance)
    n_rows, n_codes = distance.shape
    nearest = np.argmin(distance, axis=1)
    if n_codes == 1 or n_rows == 0:
        return nearest
    flat = distance.reshape(-1)
    at = np.arange(0, n_rows * n_codes, n_codes) + nearest
    best = flat[at]
    flat[at] = np.inf
    runner_up = flat[
        np.arange(0, n_rows * n_codes, n_codes) + np.argmin(distance, axis=1)
    ]
    scale = 1.0 + np.abs(x).sum(axis=1)
    close = np.flatnonzero(runner_up - best <= _ROUNDING_MARGIN * scale)
    if close.size:
        difference = x[close, None, :] - codebook[None, :, :]
        nearest[close] = np.argmin(
            np.einsum("ijk,ijk->ij", difference, difference), axis=1
        )
    return nearest


def _colour_keys(pixels):
    """Index of every uint8 pixel among all colours: its channels' bytes,
    most significant first."""
    key = pixels[:, 0].astype(np.int32)
    for c in range(1, pixels.shape[1]):
        key <<= 8
        key |= pixels[:, c]
    return key


def _nearest_by_colour_table(pixels, codebook, dtype):
    """:func:`nearest_codeword` of uint8 pixels of 1 to 3 channels, through
    a table of the code of every colour that occurs."""
    n_channels = pixels.shape[1]
    size = 1 << (8 * n_channels)
    occurs = np.zeros(size, dtype=bool)
    step = max(1, _BLOCK_ELEMENTS // n_channels)
    for start in range(0, pixels.shape[0], step):
        occurs[_colour_keys(pixels[start : start + step])] = True
    colours = np.flatnonzero(occurs)
    del occurs
    values = np.empty((colours.size, n_channels), dtype=np.uint8)
    for c in range(n_channels):
        values[:, n_channels - 1 - c] = (colours >> (8 * c)) & 255
    table = np.zeros(size, dtype=dtype)
    table[colours] = _nearest_brute_force(values, codebook, dtype)
    out = np.empty(pixels.shape[0], dtype=dtype)

    def encode(block, out_block):
        np.take(table, _colour_keys(block), out=out_block)

    return _blockwise(encode, pixels, out, n_channels)


def _nearest_brute_force(pixels, codebook, dtype):
    """:func:`nearest_codeword` by the distances to every codeword."""
    # Distances are computed in units of a power of two above every
    # coordinate of the codebook, and pixels are clipped to 2**500 such
    # units, so that no square or product overflows whatever the input.
    largest = float(np.max(np.abs(codebook))) if codebook.size else 0.0
    exponent = int(np.frexp(largest)[1]) if largest > 0 else 0
    scaled = np.ldexp(codebook, -exponent)
    half_norm = 0.5 * np.einsum("ij,ij->i", scaled, scaled)
    out = np.empty(pixels.shape[0], dtype=dtype)

    def encode(block, out_block):
        x = np.ldexp(block.astype(np.float64), -exponent)
        np.clip(x, -(2.0**500), 2.0**500, out=x)
        out_block[...] = _nearest_rows(x, scaled, half_norm)

    return _blockwise(encode, pixels, out, max(codebook.shape[0], 1) * pixels.shape[1])


def nearest_codeword(pixels, codebook, dtype):
    """Index of the nearest codeword (Euclidean) of every pixel.

    Exact: distances are computed by a fast expansion, and again by
    differences for pixels whose two nearest codewords are within rounding
    of each other; of equally near codewords, the first is chosen. Large
    images of uint8 colours go through a table of the code of every colour
    that occurs in them.

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels, n_channels)
    codebook : ndarray of shape (n_codes, n_channels)
    dtype : dtype
        Unsigned integer dtype of the result.

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
    if (
        pixels.dtype == np.uint8
        and 1 <= n_channels <= 3
        and n_pixels * codebook.shape[0]
        >= _TABLE_MIN_PAIRS_PER_ENTRY * (1 << (8 * n_channels))
    ):
        return _nearest_by_colour_table(pixels, codebook, dtype)
    return _nearest_brute_force(pixels, codebook, dtype)
