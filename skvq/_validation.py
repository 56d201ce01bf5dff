"""Checks of what users pass in that scikit-learn's validation leaves to skvq.

Each check lives here once and is called by the estimator on numpy input and
by :mod:`skvq._dask` on each block of a dask array, so that both paths refuse
the same input with the same message. Parameters are checked by scikit-learn
from ``ImageVectorQuantizer._parameter_constraints``, with the
:class:`NumericDtype` constraint defined here.
"""

import inspect

import numpy as np
from sklearn.utils._param_validation import Options
from sklearn.utils.validation import _check_sample_weight, check_array

# scikit-learn >= 1.7 refuses all-zero sample weights unless told not to.
# skvq checks the total weight of a whole fit or score instead, so that a
# batch of partial_fit or a block of a dask array may weigh nothing.
_ALL_ZERO_WEIGHTS_ALLOWED = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


class NumericDtype(Options):
    """Parameter constraint: anything :class:`numpy.dtype` reads as a bool,
    integer or float dtype (``np.uint8``, ``"float32"``, ``np.dtype("<u2")``,
    ``int``...).

    A subclass of :class:`~sklearn.utils._param_validation.Options` only
    because scikit-learn's parameter validation accepts its own constraint
    classes alone; the set of options is not enumerable and not used.
    """

    def __init__(self):
        super().__init__(type=object, options=set())

    def is_satisfied_by(self, val):
        if val is None or isinstance(val, (bool, np.bool_)):
            # np.dtype(None) is float64; a bool is no dtype.
            return False
        try:
            return np.dtype(val).kind in "biuf"
        except (TypeError, ValueError):
            return False

    def __str__(self):
        return (
            "a numeric numpy dtype (bool, integer or float, e.g. np.uint8 or 'float32')"
        )


def check_pixel_dtype(dtype):
    """Refuse pixel arrays that do not hold real numbers (bool, int, float)."""
    if dtype.kind not in "biuf":
        raise TypeError(
            f"X must hold real numbers (bool, integer or float), got dtype {dtype}."
        )


def check_float64_range(X):
    """``X`` with floats wider than float64 converted to float64, in which
    skvq computes; refuses values beyond its range, which would silently
    become infinite."""
    if X.dtype.kind != "f" or X.dtype.itemsize <= 8:
        return X
    with np.errstate(over="ignore"):
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(
            "X has values beyond the float64 range (magnitudes up to "
            f"{np.finfo(np.float64).max:.4g}), in which skvq computes."
        )
    return X


def check_sample_weight(sample_weight, X):
    """One finite, non-negative float64 weight per row of ``X`` (a number
    stands for all rows): scikit-learn's checks, all-zero weights allowed.

    ``X`` is only asked for its number of rows.
    """
    return _check_sample_weight(
        sample_weight,
        X,
        dtype=np.float64,
        ensure_non_negative=True,
        **_ALL_ZERO_WEIGHTS_ALLOWED,
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
    ``n_columns`` columns.

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
    codes = check_array(
        codes, dtype=None, ensure_all_finite=True, allow_nd=True, input_name="codes"
    )
    check_codes_layout(codes.shape, codes.dtype, n_columns)
    if codes.dtype.kind == "f":
        if not np.array_equal(codes, np.floor(codes)):
            raise ValueError("Codes must be integers; got fractional values.")
    if codes.size:
        low, high = codes.min(), codes.max()
        if low < 0 or high >= n_codes:
            raise ValueError(
                f"Codes must be integers in [0, {n_codes}); got values from "
                f"{low:g} to {high:g}."
            )
    return codes.astype(np.intp) if codes.dtype.kind in "bf" else codes
