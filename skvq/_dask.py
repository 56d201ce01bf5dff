"""Dask arrays: statistics and errors summed over blocks, codes computed
blockwise.

A codebook depends on the pixels only through their
:class:`~skvq._summary.PixelSummary`, and summaries of disjoint parts merge
into the summary of the whole. So a dask array is fitted by summarising each
block in the task that holds it and merging the summaries in a tree; only
summaries (at most ``max_atoms`` atoms each) travel, never pixels, and for
integer data the result is bit for bit the summary of the whole array. The
squared error of ``score`` adds up the same way. Encoding and decoding act
on each pixel independently, so they are lazy ``map_blocks`` over the blocks
as they are (rows, columns or tiles).

The functions here take arrays and numbers, never the estimator: the
parameters of a summary, or the codebook and bin edges of a fitted
quantizer. Each block goes through the checks (:mod:`skvq._validation`) and
the functions on arrays (:mod:`skvq._summary`, :mod:`skvq._codec`) that numpy
input goes through in the estimator. Checks that need only an array's
metadata run before anything is computed.

Dask is imported inside the functions only: skvq works without it, and the
estimator imports this module only when given a dask array.
"""

import contextlib
import functools

import numpy as np
from sklearn.utils.validation import assert_all_finite

from ._codec import (
    add_squared_errors,
    decode,
    encode,
    mean_squared_error,
    squared_error,
)
from ._encode import code_dtype
from ._summary import merge_summaries, summarize_rows
from ._validation import (
    check_codes,
    check_codes_layout,
    check_float64_range,
    check_weight,
)

# Summaries (or errors) combined per task of the tree reduction: few enough
# that a task stays small, many enough that the tree is shallow.
_SPLIT_EVERY = 8


def check_dask_array(X, estimator_name, what="X"):
    """Checks of a dask array that read only its metadata, never its data:
    the checks ``validate_data`` makes of numpy input before its values."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array for {what}, got a {X.ndim}D array of shape "
            f"{X.shape}. Pass images as rows of shape (n_samples, n_features): a "
            "gray image (h, w) as it is, a colour image (h, w, 3) as "
            "x.reshape(h, -1) with n_channels=3."
        )
    if np.isnan(X.shape[1]):
        raise ValueError(
            f"The number of columns of the dask array {what} is unknown; call "
            f"{what}.compute_chunk_sizes() first."
        )
    for axis, noun in ((0, "sample"), (1, "feature")):
        if X.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {noun}(s) (shape={X.shape}) while a minimum "
                f"of 1 is required by {estimator_name}."
            )


def _channel_aligned(X, n_channels):
    """``X`` rechunked so that no column block splits a pixel's channels."""
    if all(width % n_channels == 0 for width in X.chunks[1]):
        return X
    bounds = {int(b) - int(b) % n_channels for b in np.cumsum(X.chunks[1])} - {0}
    return X.rechunk({1: tuple(np.diff([0, *sorted(bounds)]).tolist())})


def _rows(block_info):
    """``"Rows a:b"`` of the block ``map_blocks`` describes, when known."""
    if not block_info:
        return "A block"
    start, stop = block_info[0]["array-location"][0]
    if np.isnan(start) or np.isnan(stop):
        return f"Row block {block_info[0]['chunk-location'][0]}"
    return f"Rows {int(start)}:{int(stop)}"


@contextlib.contextmanager
def _naming_rows(block_info):
    """Say which rows of the dask array a ValueError raised inside is about."""
    try:
        yield
    except ValueError as error:
        raise ValueError(f"{_rows(block_info)} of the dask array: {error}") from error


def _checked_pixels(block, block_info):
    """A block's pixels, refused as numpy input is if not finite or beyond
    float64 (its dtype was checked from the metadata)."""
    block = np.asarray(block)
    with _naming_rows(block_info):
        assert_all_finite(block, input_name="X")
        return check_float64_range(block)


def _checked_weight(weight, block, block_info):
    if weight is None:
        return None
    with _naming_rows(block_info):
        return check_weight(np.asarray(weight).reshape(-1), block.shape[0])


def _in_object_block(value):
    """``value`` in a 1 x 1 object array, so that it stays a dask block (and
    the task making the block and the one reducing it fuse into one)."""
    block = np.empty((1, 1), dtype=object)
    block[0, 0] = value
    return block


def _weight_column(sample_weight, X):
    """``sample_weight`` as a dask column aligned with the row blocks of
    ``X`` (``None`` for no weights); its values are checked block by block."""
    import dask.array as da

    if sample_weight is None:
        return None
    if np.isnan(X.shape[0]):
        raise ValueError(
            "sample_weight needs the number of rows of the dask array X, which is "
            "unknown; call X.compute_chunk_sizes() first."
        )
    if isinstance(sample_weight, da.Array):
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}, but X has "
                f"{X.shape[0]} rows: give one weight per row, shape "
                f"{(X.shape[0],)}."
            )
        return sample_weight.rechunk((X.chunks[0],))[:, None]
    # A number or an in-memory array: checked whole, then sliced along with
    # X's row blocks.
    sample_weight = check_weight(sample_weight, int(X.shape[0]))
    return da.from_array(sample_weight, chunks=(X.chunks[0],))[:, None]


def _combine_all(values, combine):
    values = [v[0, 0] if isinstance(v, np.ndarray) else v for v in values]
    return functools.reduce(combine, values)


def _reduce_blocks(blocks, combine):
    """Compute a dask array of 1 x 1 object blocks and combine their values
    with ``combine`` in a tree of tasks, on whatever scheduler is active."""
    import dask

    parts = list(blocks.to_delayed().ravel())
    task = dask.delayed(_combine_all, pure=True)
    while len(parts) > 1:
        parts = [
            task(parts[start : start + _SPLIT_EVERY], combine)
            for start in range(0, len(parts), _SPLIT_EVERY)
        ]
    (result,) = dask.compute(parts[0])
    # A single block is returned as it is, not combined.
    return result[0, 0] if isinstance(result, np.ndarray) else result


def _object_blocks(X, function, weight, **kwargs):
    """``function`` on each block of ``X`` (and its rows' weights), as a
    dask array of one object per block."""
    return X.map_blocks(
        function,
        *([] if weight is None else [weight]),
        **kwargs,
        chunks=((1,) * X.numblocks[0], (1,) * X.numblocks[1]),
        dtype=object,
        meta=np.empty((0, 0), dtype=object),
    )


def _summarize_block(block, weight=None, *, n_channels, max_atoms, block_info=None):
    block = _checked_pixels(block, block_info)
    weight = _checked_weight(weight, block, block_info)
    return _in_object_block(
        summarize_rows(block, weight, n_channels=n_channels, max_atoms=max_atoms)
    )


def summarize_dask(X, sample_weight, *, n_channels, max_atoms):
    """Summary of the pixels of a dask array, computed where its blocks are.

    Each block is summarised by one task and the summaries are merged in a
    tree of tasks, on whatever scheduler is active (a ``distributed.Client``
    if one exists); the array is never gathered.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Pixel values, ``n_channels`` consecutive features per pixel; its
        metadata checked by :func:`check_dask_array`, ``n_features`` a
        multiple of ``n_channels``.
    sample_weight : dask or numpy array of shape (n_samples,), number or None
        Non-negative weight of each row, shared by its pixels.
    n_channels, max_atoms : int
        As for :func:`skvq._summary.summarize_rows`.

    Returns
    -------
    summary : PixelSummary
    """
    X = _channel_aligned(X, n_channels)
    blocks = _object_blocks(
        X,
        _summarize_block,
        _weight_column(sample_weight, X),
        n_channels=n_channels,
        max_atoms=max_atoms,
    )
    return _reduce_blocks(
        blocks, functools.partial(merge_summaries, max_atoms=max_atoms)
    )


def _squared_error_block(
    block, weight=None, *, codebook, bin_edges, oklab_codebook, block_info=None
):
    block = _checked_pixels(block, block_info)
    weight = _checked_weight(weight, block, block_info)
    return _in_object_block(
        squared_error(block, codebook, bin_edges, weight, oklab_codebook)
    )


def mean_squared_error_dask(X, sample_weight, codebook, bin_edges, oklab_codebook=None):
    """Weighted mean squared error of the pixels of a dask array against
    their codewords, as :func:`skvq._codec.mean_squared_error` of the whole
    array: each block's :func:`skvq._codec.squared_error`, added in a tree
    of tasks.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Pixel values, metadata checked by :func:`check_dask_array`.
    sample_weight : dask or numpy array of shape (n_samples,), number or None
        Non-negative weight of each row's squared error.
    codebook, bin_edges, oklab_codebook
        As for :func:`skvq._codec.encode`.

    Returns
    -------
    mse : float
    """
    X = _channel_aligned(X, codebook.shape[1])
    blocks = _object_blocks(
        X,
        _squared_error_block,
        _weight_column(sample_weight, X),
        codebook=codebook,
        bin_edges=bin_edges,
        oklab_codebook=oklab_codebook,
    )
    return mean_squared_error(_reduce_blocks(blocks, add_squared_errors))


def _encode_block(block, *, codebook, bin_edges, oklab_codebook, block_info=None):
    if block.shape[0] == 0:
        n_pixels = block.shape[1] // codebook.shape[1]
        return np.empty((0, n_pixels), dtype=code_dtype(codebook.shape[0]))
    return encode(
        _checked_pixels(block, block_info), codebook, bin_edges, oklab_codebook
    )


def encode_dask(X, codebook, bin_edges, oklab_codebook=None):
    """Lazy codes of a dask array, :func:`skvq._codec.encode` on each block.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Pixel values, metadata checked by :func:`check_dask_array`; their
        values are checked block by block when computed.
    codebook, bin_edges, oklab_codebook
        As for :func:`skvq._codec.encode`.

    Returns
    -------
    codes : dask.array.Array of shape (n_samples, n_features // n_channels)
        Not computed; uint8 when there are at most 256 codewords, else
        uint16.
    """
    n_channels = codebook.shape[1]
    dtype = code_dtype(codebook.shape[0])
    X = _channel_aligned(X, n_channels)
    return X.map_blocks(
        _encode_block,
        codebook=codebook,
        bin_edges=bin_edges,
        oklab_codebook=oklab_codebook,
        dtype=dtype,
        chunks=(X.chunks[0], tuple(width // n_channels for width in X.chunks[1])),
        meta=np.empty((0, 0), dtype=dtype),
    )


def _decode_block(block, *, codebook, inverse_dtype):
    n_features = block.shape[1] * codebook.shape[1]
    if block.shape[0] == 0:
        dtype = np.float64 if inverse_dtype is None else inverse_dtype
        return np.empty((0, n_features), dtype=dtype)
    codes = check_codes(block, codebook.shape[0], block.shape[1])
    return decode(codes, codebook, inverse_dtype)


def decode_dask(codes, n_columns, codebook, dtype):
    """Lazy codewords of a dask array of codes, block by block.

    Parameters
    ----------
    codes : dask.array.Array of shape (n_samples, n_columns)
        Integer codes in ``[0, n_codes)``; their shape and dtype are checked
        now, their values block by block when computed.
    n_columns : int
        The number of columns of codes the quantizer produces.
    codebook : ndarray of shape (n_codes, n_channels)
    dtype : dtype or None
        As for :func:`skvq._codec.decode`.

    Returns
    -------
    values : dask.array.Array of shape (n_samples, n_columns * n_channels)
        Not computed; float64 unless ``dtype`` is given.
    """
    check_codes_layout(codes.shape, codes.dtype, n_columns)
    n_channels = codebook.shape[1]
    out_dtype = np.dtype(np.float64 if dtype is None else dtype)
    return codes.map_blocks(
        _decode_block,
        codebook=codebook,
        inverse_dtype=dtype,
        dtype=out_dtype,
        chunks=(
            codes.chunks[0],
            tuple(width * n_channels for width in codes.chunks[1]),
        ),
        meta=np.empty((0, 0), dtype=out_dtype),
    )
