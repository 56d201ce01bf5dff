"""A fitted quantizer as plain functions of its arrays: codes of pixels,
codewords of codes, and the squared error between pixels and codewords.

The estimator calls these on numpy input and :mod:`skvq._dask` on each block
of a dask array, so both paths run the same code. Inputs are validated by
the caller (:mod:`skvq._validation`).
"""

from typing import NamedTuple

import numpy as np

from ._color_space import check_srgb_pixels, encode_oklab
from ._encode import code_dtype, encode_scalar, nearest_codeword
from ._validation import check_total_weight


def encode(X, codebook, bin_edges=None, oklab_codebook=None):
    """Code of every pixel of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_pixels * n_channels)
        Finite real or boolean values, ``n_channels`` consecutive values per
        pixel, within the float64 range.
    codebook : ndarray of shape (n_codes, n_channels)
        The codewords.
    bin_edges : ndarray of shape (n_codes + 1,), default=None
        With one channel, the ascending thresholds of the cells (codes are
        found by bin lookup); ``None`` (always with several channels) codes
        every pixel to its nearest codeword.
    oklab_codebook : ndarray of shape (n_codes, 3), default=None
        The codewords in Oklab: when given, ``X`` holds sRGB values in
        [0, 255] (refused otherwise) and every pixel gets the codeword
        nearest in Oklab (:func:`skvq._color_space.encode_oklab`).

    Returns
    -------
    codes : ndarray of shape (n_samples, n_pixels)
        uint8 when ``n_codes <= 256``, else uint16.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._codec import encode
    >>> encode(np.array([[3, 14]]), np.array([[2.0], [12.0]]), np.array([0, 7, 15]))
    array([[0, 1]], dtype=uint8)
    """
    n_codes, n_channels = codebook.shape
    dtype = code_dtype(n_codes)
    if bin_edges is not None:
        return encode_scalar(X, bin_edges, dtype)
    if oklab_codebook is not None:
        check_srgb_pixels(X)
        codes = encode_oklab(X.reshape(-1, n_channels), oklab_codebook, dtype)
        return codes.reshape(X.shape[0], -1)
    codes = nearest_codeword(X.reshape(-1, n_channels), codebook, dtype)
    return codes.reshape(X.shape[0], -1)


def decode(codes, codebook, dtype=None):
    """Codewords of ``codes``, one pixel's channels after another.

    Parameters
    ----------
    codes : ndarray of int, shape (n_samples, n_pixels)
        Codes in ``[0, n_codes)``.
    codebook : ndarray of shape (n_codes, n_channels)
    dtype : dtype or None, default=None
        ``None`` gives the float64 codewords; an integer dtype rounds and
        clips them to its range, a narrower float dtype clips them to its
        range (so that nothing overflows to infinity).

    Returns
    -------
    values : ndarray of shape (n_samples, n_pixels * n_channels)
    """
    values = codebook[codes].reshape(codes.shape[0], -1)
    if dtype is None:
        return values
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    elif dtype.kind == "f" and dtype.itemsize < 8:
        info = np.finfo(dtype)
        values = np.clip(values, float(info.min), float(info.max))
    return values.astype(dtype, copy=False)


def _exponent(values):
    """Smallest ``e`` with ``|values| <= 2**e`` (0 for empty or zero input)."""
    largest = float(np.max(np.abs(values), initial=0.0))
    return int(np.frexp(largest)[1]) if largest > 0 else 0


class SquaredError(NamedTuple):
    """Weighted sum of squared errors and the weight they were taken over,
    each as a float times a power of two, so that neither overflows:
    ``sum`` times ``2**sum_exponent`` is the sum over values of
    ``weight * (x - codeword)**2``, and ``weight`` times
    ``2**weight_exponent`` the sum of the values' weights (a sample's weight
    counts once per value of the sample).
    """

    sum: float
    sum_exponent: int
    weight: float
    weight_exponent: int


def squared_error(X, codebook, bin_edges=None, sample_weight=None, oklab_codebook=None):
    """Squared error of every value of ``X`` against its codeword, summed.

    Errors are taken in units of a power of two at or above every value and
    codeword, and weights in units of a power of two at or above every
    weight, so that no square or product overflows whatever the input.

    Parameters
    ----------
    X, codebook, bin_edges
        As for :func:`encode`.
    sample_weight : ndarray of shape (n_samples,), default=None
        Finite non-negative weight of each row; ``None`` weighs all one.
    oklab_codebook : ndarray of shape (n_codes, 3), default=None
        As for :func:`encode`: pixels are coded in Oklab, and their errors
        still taken in the units of ``X`` against ``codebook``.

    Returns
    -------
    error : SquaredError
        To be added to others by :func:`add_squared_errors` and turned into
        a mean by :func:`mean_squared_error`.
    """
    codes = encode(X, codebook, bin_edges, oklab_codebook)
    codewords = codebook[codes].reshape(X.shape)
    X = np.asarray(X, dtype=np.float64)
    exponent = max(_exponent(X), _exponent(codewords))
    error = np.ldexp(X, -exponent) - np.ldexp(codewords, -exponent)
    per_row = np.einsum("ij,ij->i", error, error)
    if sample_weight is None:
        return SquaredError(float(np.sum(per_row)), 2 * exponent, float(X.size), 0)
    weight_exponent = _exponent(sample_weight)
    weight = np.ldexp(sample_weight, -weight_exponent)
    return SquaredError(
        float(weight @ per_row),
        2 * exponent + weight_exponent,
        float(np.sum(weight)) * X.shape[1],
        weight_exponent,
    )


def _add_scaled(a, a_exponent, b, b_exponent):
    """``a * 2**a_exponent + b * 2**b_exponent`` as (value, exponent)."""
    if a == 0:
        return b, b_exponent
    if b == 0:
        return a, a_exponent
    exponent = max(a_exponent, b_exponent)
    total = np.ldexp(a, a_exponent - exponent) + np.ldexp(b, b_exponent - exponent)
    return float(total), exponent


def add_squared_errors(first, second):
    """The :class:`SquaredError` of the values of both."""
    return SquaredError(
        *_add_scaled(first.sum, first.sum_exponent, second.sum, second.sum_exponent),
        *_add_scaled(
            first.weight,
            first.weight_exponent,
            second.weight,
            second.weight_exponent,
        ),
    )


def mean_squared_error(error):
    """Weighted mean squared error of a :class:`SquaredError`.

    A mean beyond the float64 range (errors near ``1e154`` or more) is
    honestly ``inf``.
    """
    check_total_weight(error.weight)
    with np.errstate(over="ignore"):
        mean = np.ldexp(
            error.sum / error.weight, error.sum_exponent - error.weight_exponent
        )
    return float(mean)
