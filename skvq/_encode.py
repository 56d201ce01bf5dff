"""Mapping pixels to codes.

Scalars are located among bin edges: by a lookup table indexed by the pixel
itself for 8- and 16-bit integers, by comparisons or binary search for
floats. Vectors go to their nearest codeword. Large inputs are cut into row
blocks so that temporaries stay small; compute-bound work (binary search,
distances) runs the blocks on a few threads (numpy releases the GIL there),
with BLAS held to one thread per block, while memory-bound lookups stay on
one thread, where a second one does not pay.
"""

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

# Elements per block of work: large enough to amortise the Python overhead,
# small enough that a block's temporaries stay in the tens of megabytes.
_BLOCK_ELEMENTS = 1 << 21
# Table lookups and edge comparisons make temporaries of eight (intp indices)
# or one (booleans) bytes per element: smaller blocks keep them negligible.
_LOOKUP_BLOCK_ELEMENTS = 1 << 16
# Below this many elements, starting threads costs more than they save.
_MIN_THREADED_ELEMENTS = 1 << 22
# Up to this many inner edges, comparing floats with every edge is faster
# than a binary search per value.
_MAX_COMPARED_EDGES = 15


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


def _lookup_table(bin_edges, dtype, input_dtype):
    """Code of every possible value of an 8- or 16-bit integer dtype, indexed
    by the value's bits read as unsigned."""
    unsigned = np.dtype(f"u{input_dtype.itemsize}")
    values = np.arange(2 ** (8 * input_dtype.itemsize), dtype=unsigned)
    if input_dtype.kind == "i":
        values = values.view(input_dtype.newbyteorder("="))
    return np.searchsorted(bin_edges[1:-1], values, side="right").astype(dtype)


def _reused_index_buffer(buffers, shape):
    """An intp array of ``shape`` from a per-thread buffer, reused across the
    blocks a thread works on."""
    size = int(np.prod(shape))
    buffer = getattr(buffers, "index", None)
    if buffer is None or buffer.size < size:
        buffer = buffers.index = np.empty(size, dtype=np.intp)
    return buffer[:size].reshape(shape)


def _take_blockwise(table, index, out):
    """``out[...] = table[index]``, block by block on a few threads.

    ``np.take`` casts its indices to intp: small blocks and one reused buffer
    per thread keep that copy to a fraction of a megabyte, where a copy of the
    whole input would cost eight times its size (and a fresh allocation per
    block costs as much as the lookup under Dask workers' eager malloc
    trimming).
    """
    buffers = threading.local()

    def encode(block, out_block):
        indices = _reused_index_buffer(buffers, block.shape)
        np.copyto(indices, block)
        np.take(table, indices, out=out_block)

    elements_per_row = int(np.prod(index.shape[1:]))
    # Lookups are bound by memory bandwidth: a second thread slowed 12.6
    # megapixels from 5.2 to 8.4 ms on the 2-core benchmark machine.
    return _blockwise(
        encode, index, out, elements_per_row, _LOOKUP_BLOCK_ELEMENTS, threaded=False
    )


def _encode_byte_pairs(X, table, out):
    """Codes of a C-contiguous uint8 array, two pixels per lookup.

    Every pair of adjacent bytes, read as one uint16, indexes a table of
    65,536 entries whose two bytes are the two codes, in memory order: half
    the lookups, and independent of the machine's byte order.
    """
    pair_bytes = np.arange(1 << 16, dtype=np.uint16).view(np.uint8)
    pair_table = table[pair_bytes].view(np.uint16)
    flat, flat_out = X.reshape(-1), out.reshape(-1)
    even = flat.size - flat.size % 2
    _take_blockwise(
        pair_table, flat[:even].view(np.uint16), flat_out[:even].view(np.uint16)
    )
    if even < flat.size:
        flat_out[-1] = table[flat[-1]]
    return out


def _edges_in_dtype(inner, dtype):
    """Inner edges rounded up to ``dtype`` (a float type): for every ``x`` of
    that type, ``x >= rounded`` exactly when ``x >= edge``, so comparisons
    need no cast of ``x`` to float64."""
    with np.errstate(over="ignore"):
        rounded = inner.astype(dtype)
    below = rounded < inner
    rounded[below] = np.nextafter(rounded[below], dtype.type(np.inf))
    return rounded


def encode_scalar(X, bin_edges, dtype):
    """Index of the bin of every element of ``X``.

    Bin ``i`` is ``[bin_edges[i], bin_edges[i + 1])``; values below the first
    inner edge get code 0 and values at or above the last get the last code,
    as with :class:`~sklearn.preprocessing.KBinsDiscretizer`.

    8- and 16-bit integers are looked up in a table of the code of every
    possible value (C-contiguous uint8 two pixels at a time). Floats are
    compared with each edge when there are few, and binary-searched when
    there are many.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._encode import encode_scalar
    >>> edges = np.array([0.0, 10.0, 20.0, 30.0])
    >>> encode_scalar(np.array([[-5, 10, 25, 99]]), edges, np.uint8)
    array([[0, 1, 2, 2]], dtype=uint8)
    """
    out = np.empty(X.shape, dtype=dtype)
    if X.dtype == bool:
        X = X.view(np.uint8)
    if X.dtype.kind in "iu" and X.dtype.itemsize <= 2:
        table = _lookup_table(bin_edges, dtype, X.dtype)
        if X.dtype.itemsize == 1 and dtype == np.uint8 and X.flags.c_contiguous:
            return _encode_byte_pairs(X.view(np.uint8), table, out)
        index = X.view(np.dtype(f"u{X.dtype.itemsize}").newbyteorder(X.dtype.byteorder))
        return _take_blockwise(table, index, out)
    inner = bin_edges[1:-1]
    elements_per_row = X.shape[1] if X.ndim > 1 else 1
    if X.dtype.kind == "f" and inner.size <= _MAX_COMPARED_EDGES:
        edges = _edges_in_dtype(inner, X.dtype.newbyteorder("="))

        def encode(block, out_block):
            # Counting the edges at or below each value is searchsorted's
            # "right" side, in a few vectorised comparisons.
            out_block[...] = 0
            for edge in edges:
                out_block += block >= edge

        # Bound by memory bandwidth, like the lookups: no threads.
        return _blockwise(
            encode, X, out, elements_per_row, _LOOKUP_BLOCK_ELEMENTS, threaded=False
        )

    def encode(block, out_block):
        out_block[...] = np.searchsorted(inner, block, side="right")

    return _blockwise(encode, X, out, elements_per_row)


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
