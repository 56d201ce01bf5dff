"""Dask arrays: statistics summed over blocks, codes computed blockwise.

A codebook depends on the pixels only through their
:class:`~skvq._summary.PixelSummary`, and summaries of disjoint parts merge
into the summary of the whole. So a dask array is fitted by summarising each
block in the task that holds it and merging the summaries in a tree; only
summaries (at most ``max_atoms`` atoms each) travel, never pixels, and for
integer data the result is bit for bit the summary of the whole array.
Encoding and decoding act on each pixel independently, so they are lazy
``map_blocks`` over the blocks as they are (rows, columns or tiles), calling
the estimator's own numpy methods on each.

Dask is imported inside the functions only: skvq works without it, and the
estimator imports this module only when given a dask array.
"""

import copy
import functools

import numpy as np
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._encode import code_dtype
from ._summary import merge_summaries, summarize

# Summaries merged per task of the tree reduction: few enough that a merge
# task stays small, many enough that the tree is shallow.
_SPLIT_EVERY = 8


def _check_dask_array(X, estimator, what="X"):
    """Checks of a dask array that read only its metadata, never its data."""
    name = type(estimator).__name__
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
                f"of 1 is required by {name}."
            )


def _check_numeric(X):
    if X.dtype.kind not in "biuf":
        raise TypeError(
            "X must hold real numbers (bool, integer or float), got a dask array "
            f"of dtype {X.dtype}."
        )


def _channel_aligned(X, n_channels):
    """``X`` rechunked so that no column block splits a pixel's channels."""
    if all(width % n_channels == 0 for width in X.chunks[1]):
        return X
    bounds = {int(b) - int(b) % n_channels for b in np.cumsum(X.chunks[1])} - {0}
    return X.rechunk({1: tuple(np.diff([0, *sorted(bounds)]).tolist())})


def _block_rows(block_info):
    """``"rows a:b"`` of the block ``map_blocks`` describes, when known."""
    start, stop = block_info[0]["array-location"][0]
    if np.isnan(start) or np.isnan(stop):
        return f"row block {block_info[0]['chunk-location'][0]}"
    return f"rows {int(start)}:{int(stop)}"


def _summarize_block(block, weight=None, *, n_channels, max_atoms, block_info):
    """Summary of one block's pixels, in a 1 x 1 object array so that it
    stays a dask block (and the task making the block and the one
    summarising it fuse into one), with the checks numpy input gets in
    ``validate_data`` that need the values."""
    where = _block_rows(block_info)
    block = np.asarray(block)
    if block.dtype.kind == "f" and not np.isfinite(block).all():
        raise ValueError(
            f"Input X contains NaN or infinity ({where} of the dask array); "
            "ImageVectorQuantizer needs finite pixel values."
        )
    if block.dtype.kind == "f" and block.dtype.itemsize > 8:
        # Statistics are float64: wider floats beyond its range would
        # silently become infinite.
        with np.errstate(over="ignore"):
            block = block.astype(np.float64)
        if not np.isfinite(block).all():
            raise ValueError(
                f"X has values beyond the float64 range ({where} of the dask "
                f"array), magnitudes up to {np.finfo(np.float64).max:.4g}, in "
                "which skvq computes."
            )
    if weight is not None:
        weight = np.asarray(weight, dtype=np.float64)
        if not np.isfinite(weight).all():
            raise ValueError(
                f"Input sample_weight contains NaN or infinity ({where}); "
                "sample_weight must be finite and non-negative."
            )
        if (weight < 0).any():
            raise ValueError(
                f"Negative values in data passed to `sample_weight` ({where}); "
                "sample_weight must be finite and non-negative."
            )
        weight = np.repeat(weight.reshape(-1), block.shape[1] // n_channels)
    summary = np.empty((1, 1), dtype=object)
    summary[0, 0] = summarize(
        block.reshape(-1, n_channels), weight, max_atoms=max_atoms
    )
    return summary


def _merge_all(summaries, max_atoms):
    summaries = [
        summary[0, 0] if isinstance(summary, np.ndarray) else summary
        for summary in summaries
    ]
    return functools.reduce(
        lambda a, b: merge_summaries(a, b, max_atoms), summaries[1:], summaries[0]
    )


def _weight_column(sample_weight, X):
    """``sample_weight`` as a dask column aligned with the row blocks of
    ``X`` (``None`` for no weights)."""
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
                f"sample_weight.shape == {sample_weight.shape}, expected "
                f"{(X.shape[0],)}!"
            )
        if sample_weight.dtype.kind not in "biuf":
            raise TypeError(
                "sample_weight must hold numbers, got a dask array of dtype "
                f"{sample_weight.dtype}."
            )
        sample_weight = sample_weight.astype(np.float64).rechunk((X.chunks[0],))
    else:
        # A number or an in-memory array: the checks of numpy input, then
        # sliced along with X's row blocks.
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        sample_weight = da.from_array(sample_weight, chunks=(X.chunks[0],))
    return sample_weight[:, None]


def summarize_dask(estimator, X, sample_weight, reset):
    """Summary of the pixels of a dask array, computed where its blocks are.

    Each block is summarised by one task and the summaries are merged in a
    tree of tasks, on whatever scheduler is active (a ``distributed.Client``
    if one exists); the array is never gathered.

    Parameters
    ----------
    estimator : ImageVectorQuantizer
        Supplies ``n_channels`` and ``max_atoms``; on ``reset`` its
        ``n_features_in_`` is set, else X is checked against it.
    X : dask.array.Array of shape (n_samples, n_features)
        Pixel values, ``n_channels`` consecutive features per pixel.
    sample_weight : dask or numpy array of shape (n_samples,), number or None
        Non-negative weight of each row, shared by its pixels.
    reset : bool
        Whether X starts a new fit.

    Returns
    -------
    summary : PixelSummary
    """
    import dask

    _check_dask_array(X, estimator)
    _check_numeric(X)
    n_channels, max_atoms = estimator.n_channels, estimator.max_atoms
    if not reset:
        validate_data(estimator, X, reset=False, skip_check_array=True)
        if n_channels != estimator.codebook_.shape[1]:
            raise ValueError(
                f"n_channels changed from {estimator.codebook_.shape[1]} to "
                f"{n_channels} between calls to partial_fit."
            )
    estimator._check_n_channels(X.shape[1])
    X = _channel_aligned(X, n_channels)
    weight = _weight_column(sample_weight, X)
    block_summaries = X.map_blocks(
        _summarize_block,
        *([] if weight is None else [weight]),
        n_channels=n_channels,
        max_atoms=max_atoms,
        chunks=((1,) * X.numblocks[0], (1,) * X.numblocks[1]),
        dtype=object,
        meta=np.empty((0, 0), dtype=object),
    )
    summaries = list(block_summaries.to_delayed().ravel())
    merge = dask.delayed(_merge_all, pure=True)
    while len(summaries) > 1:
        summaries = [
            merge(summaries[start : start + _SPLIT_EVERY], max_atoms)
            for start in range(0, len(summaries), _SPLIT_EVERY)
        ]
    (summary,) = dask.compute(summaries[0])
    if isinstance(summary, np.ndarray):
        # X had a single block, so nothing was merged.
        summary = summary[0, 0]
    if reset:
        # Set only once the data proved valid, as validate_data does.
        validate_data(estimator, X, reset=True, skip_check_array=True)
    return summary


def _without_statistics(estimator):
    """A shallow copy of a fitted estimator without its pixel statistics,
    which encoding does not need, to keep the task graph small."""
    lean = copy.copy(estimator)
    lean.__dict__.pop("_summary", None)
    # The client checked the feature names once; blocks are plain arrays.
    lean.__dict__.pop("feature_names_in_", None)
    return lean


def _for_columns(estimator, n_features):
    """A shallow copy of the estimator that accepts ``n_features`` columns.

    Codes are computed pixel by pixel, so a block of whole pixels (columns
    aligned on ``n_channels``) is encoded, or decoded, exactly as it would be
    within its full rows; the copy lets the estimator's own numpy method,
    with all its checks of the values, run on a block of any width.
    """
    view = copy.copy(estimator)
    view.n_features_in_ = n_features
    return view


def _transform_block(block, estimator, out_dtype):
    if block.shape[0] == 0:
        return np.empty((0, block.shape[1] // estimator.n_channels), dtype=out_dtype)
    return _for_columns(estimator, block.shape[1]).transform(block)


def _inverse_transform_block(block, estimator, out_dtype):
    n_features = block.shape[1] * estimator.n_channels
    if block.shape[0] == 0:
        return np.empty((0, n_features), dtype=out_dtype)
    return _for_columns(estimator, n_features).inverse_transform(block)


def transform_dask(estimator, X):
    """Lazy codes of a dask array: ``estimator.transform`` on each block.

    Parameters
    ----------
    estimator : fitted ImageVectorQuantizer
    X : dask.array.Array of shape (n_samples, n_features_in_)

    Returns
    -------
    codes : dask.array.Array of shape (n_samples, n_features_in_ // n_channels)
        Not computed; uint8 when ``n_bins_ <= 256``, else uint16.
    """
    estimator._check_n_channels_unchanged()
    _check_dask_array(X, estimator)
    _check_numeric(X)
    validate_data(estimator, X, reset=False, skip_check_array=True)
    n_channels = estimator.n_channels
    dtype = code_dtype(estimator.n_bins_)
    X = _channel_aligned(X, n_channels)
    return X.map_blocks(
        _transform_block,
        estimator=_without_statistics(estimator),
        out_dtype=dtype,
        dtype=dtype,
        chunks=(X.chunks[0], tuple(width // n_channels for width in X.chunks[1])),
        meta=np.empty((0, 0), dtype=dtype),
    )


def inverse_transform_dask(estimator, X):
    """Lazy codewords of a dask array of codes, block by block.

    Parameters
    ----------
    estimator : fitted ImageVectorQuantizer
    X : dask.array.Array of shape (n_samples, n_features_in_ // n_channels)
        Integer codes in ``[0, n_bins_)``; checked block by block.

    Returns
    -------
    X_original : dask.array.Array of shape (n_samples, n_features_in_)
        Not computed; float64 unless ``inverse_dtype`` is set.
    """
    estimator._check_n_channels_unchanged()
    _check_dask_array(X, estimator, what="codes")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"Codes must be an array of integers, got dtype {X.dtype}.")
    n_columns = estimator.n_features_in_ // estimator.n_channels
    if X.shape[1] != n_columns:
        raise ValueError(
            f"Codes have {X.shape[1]} columns, but this quantizer produces "
            f"{n_columns} (n_features_in_ // n_channels)."
        )
    n_channels = estimator.n_channels
    dtype = np.dtype(
        np.float64 if estimator.inverse_dtype is None else estimator.inverse_dtype
    )
    return X.map_blocks(
        _inverse_transform_block,
        estimator=_without_statistics(estimator),
        out_dtype=dtype,
        dtype=dtype,
        chunks=(X.chunks[0], tuple(width * n_channels for width in X.chunks[1])),
        meta=np.empty((0, 0), dtype=dtype),
    )
