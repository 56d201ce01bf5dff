"""Checks of what users pass in, in NumPy alone.

Each check lives here once: the functions of :mod:`skvq._quantize` call them
on their input, the estimator on what scikit-learn's ``validate_data`` leaves
to skvq, and :mod:`skvq._dask` on each block of a dask array, so that every
path refuses the same input with the same message. No scikit-learn here: the
public core and the command line must not import it.
"""

import numpy as np


def check_pixel_dtype(dtype):
    """Refuse pixel arrays that do not hold real numbers (bool, int, float)."""
    if dtype.kind not in "biuf":
        raise TypeError(
            f"X must hold real numbers (bool, integer or float), got dtype {dtype}."
        )


def check_finite(X):
    """Refuse NaN and infinite values of ``X``, as scikit-learn's
    validation does, with its messages (for the paths that leave them to
    skvq: ``validate_data(ensure_all_finite=False)``)."""
    if np.isnan(X).any():
        raise ValueError("Input X contains NaN.")
    if not np.isfinite(X).all():
        raise ValueError(
            f"Input X contains infinity or a value too large for {X.dtype!r}."
        )


def check_float64_range(X):
    """``X`` with floats wider than float64 converted to float64, in which
    skvq computes; refuses values beyond its range, which would silently
    become infinite."""
    if X.dtype.kind != "f" or X.dtype.itemsize <= 8:
        return X
    # Left here by validate_data(ensure_all_finite=False).
    check_finite(X)
    with np.errstate(over="ignore"):
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(
            "X has values beyond the float64 range (magnitudes up to "
            f"{np.finfo(np.float64).max:.4g}), in which skvq computes."
        )
    return X


def check_weight(sample_weight, n_rows):
    """One finite, non-negative float64 weight per row (a number stands for
    all rows); all-zero weights are allowed here, since a batch of
    ``partial_fit`` or a block of a dask array may weigh nothing (the total
    of a whole fit is checked by :func:`check_total_weight`)."""
    if isinstance(sample_weight, (bool, np.bool_)):
        raise TypeError("sample_weight must be numbers, got a bool.")
    try:
        weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"sample_weight must be real numbers, got {type(sample_weight).__name__}."
        ) from exc
    if weight.ndim == 0:
        return np.full(n_rows, float(weight))
    if weight.ndim != 1 or weight.shape[0] != n_rows:
        raise ValueError(
            f"sample_weight must have shape ({n_rows},), one weight per row of "
            f"X, got shape {weight.shape}."
        )
    if not np.isfinite(weight).all():
        raise ValueError("sample_weight must be finite (no NaN or infinity).")
    if np.any(weight < 0):
        raise ValueError("sample_weight must be non-negative.")
    return weight


def check_pixels(X, n_channels):
    """Pixels as a 2-D array of real numbers within float64's range.

    Takes an array of shape ``(n_rows, n_pixels * n_channels)``, or of shape
    ``(n_rows, n_columns, n_channels)`` (returned reshaped to 2-D, without a
    copy where NumPy can). Lists and other array-likes are converted; the
    input is never modified.
    """
    if isinstance(X, np.ma.MaskedArray):
        raise TypeError(
            "X is a masked array, whose mask would be ignored: pass a plain "
            "array, e.g. X.filled(value)."
        )
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            "X is a sparse matrix; skvq takes dense pixel arrays (X.toarray())."
        )
    X = np.asarray(X)
    if X.dtype.kind == "O":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "X must hold real numbers (bool, integer or float), got "
                "objects that are not numbers."
            ) from exc
    check_pixel_dtype(X.dtype)
    if X.ndim == 3 and X.shape[2] == n_channels:
        X = X.reshape(X.shape[0], -1)
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array (n_rows, n_pixels * n_channels), or 3-D "
            f"(n_rows, n_columns, n_channels) with n_channels={n_channels} "
            f"as its last axis; got an array of shape {X.shape}."
            + _layout_hint(X.shape, n_channels)
        )
    if X.size == 0:
        raise ValueError(f"X has no pixels (shape {X.shape}).")
    if X.shape[1] % n_channels:
        raise ValueError(
            f"X has {X.shape[1]} values per row, which is not a multiple of "
            f"n_channels={n_channels}: every pixel must have {n_channels} "
            "consecutive values."
        )
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError("X must be finite: it has NaN or infinite values.")
    return check_float64_range(X)


def _layout_hint(shape, n_channels):
    """How to lay out an array of ``shape`` as pixels."""
    if len(shape) == 3:
        return (
            f" For an image of shape {shape}, pass n_channels={shape[2]}, or "
            f"reshape it to (n_rows, n_columns * n_channels) with "
            f"X.reshape({shape[0]}, -1) or to one pixel per row with "
            f"X.reshape(-1, {shape[2]})."
        )
    if len(shape) == 1:
        return (
            " For a single row use X.reshape(1, -1), for one value per row "
            "X.reshape(-1, 1)."
        )
    return ""


def dimension_hint(shape):
    """How to give an image of ``shape`` (3-D) to the estimator, whose input
    is 2-D."""
    rows, _, channels = shape
    return (
        f" For an image of shape {shape}, reshape it to one image row per row "
        f"with X.reshape({rows}, -1) and n_channels={channels}, or to one pixel "
        f"per row with X.reshape(-1, {channels}) and n_channels={channels}."
    )


def check_total_weight(total):
    """Refuse data of zero total weight, of which no mean can be taken."""
    if not total > 0:
        raise ValueError(
            "sample_weight sums to zero: it must have at least one positive entry."
        )


def check_codes_layout(shape, dtype, n_columns):
    """Checks of codes that need only their shape and dtype (also those of a
    dask array, before computing it)."""
    if len(shape) != 2:
        raise ValueError(
            f"Codes must be a 2-D array (n_samples, {n_columns}), got an array "
            f"of shape {shape}."
        )
    if dtype.kind not in "biuf":
        raise TypeError(f"Codes must be an array of integers, got dtype {dtype}.")
    if shape[1] != n_columns:
        raise ValueError(
            f"Codes have {shape[1]} columns, but this quantizer produces "
            f"{n_columns} (n_features_in_ // n_channels)."
        )


def check_codes(codes, n_codes, n_columns):
    """Codes to decode: 2-D, integer-valued, in ``[0, n_codes)``, with
    ``n_columns`` columns (any number if ``None``).

    Returns them as an integer array, without copying integer input.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._validation import check_codes
    >>> check_codes(np.array([[0, 2]]), n_codes=3, n_columns=2)
    array([[0, 2]])
    >>> check_codes(np.array([[0, 3]]), n_codes=3, n_columns=2)
    Traceback (most recent call last):
        ...
    ValueError: Codes must be integers in [0, 3); got values from 0 to 3.
    """
    if hasattr(codes, "toarray") or hasattr(codes, "tocsr"):
        raise TypeError("Codes must be a dense array, got a sparse matrix.")
    codes = np.asarray(codes)
    check_codes_layout(
        codes.shape, codes.dtype, codes.shape[-1] if n_columns is None else n_columns
    )
    if codes.dtype.kind == "f":
        if not np.isfinite(codes).all():
            raise ValueError("Codes must be finite integers; got NaN or infinity.")
        if not np.array_equal(codes, np.floor(codes)):
            raise ValueError("Codes must be integers; got fractional values.")
    if codes.shape[0] == 0:
        raise ValueError("Codes have no rows: there is nothing to decode.")
    if codes.size:
        low, high = codes.min(), codes.max()
        if low < 0 or high >= n_codes:
            raise ValueError(
                f"Codes must be integers in [0, {n_codes}); got values from "
                f"{low:g} to {high:g}."
            )
    return codes.astype(np.intp) if codes.dtype.kind in "bf" else codes
