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
from ._histogram import add_value_counts
from ._validation import check_total_weight


def encode(X, codebook, bin_edges=None, oklab_codebook=None):
    """Code of every pixel of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_pixels * n_channels)
        Finite real or boolean values, ``n_channels`` consecutive values per
        pixel, within the float64 range (with ``bin_edges``, NaN and
        infinity are refused here, with a ValueError).
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


# Values handled per step of squared_error: bounds its temporaries to about
# 3 MB whatever the input's size (about 40 bytes per value of a block);
# blocks 4 or 16 times larger are no faster.
_BLOCK_VALUES = 1 << 16
# Values encoded per call: their codes take at most 2 MB, and the nearest-
# codeword search's set-up per call (about a millisecond for 8 colours)
# is paid once per million values, not per block.
_ENCODED_VALUES = 1 << 20


class SquaredError(NamedTuple):
    """Weighted sum of squared errors and the weight they were taken over,
    both exact: ``sum * 2**sum_exponent`` is the sum over values of
    ``weight * (x - codeword)**2``, and ``weight * 2**weight_exponent`` the
    sum of the values' weights (a sample's weight counts once per value of
    the sample); ``sum`` and ``weight`` are Python integers, which neither
    overflow nor round when added.
    """

    sum: int
    sum_exponent: int
    weight: int
    weight_exponent: int


def _blocks(shape, n_channels, size):
    """Slices ``(rows, columns, pixels)`` covering an array of ``shape`` in
    blocks of at most about ``size`` values: of whole rows, or of whole
    pixels of one row when a row is longer; ``pixels`` slices the columns
    of the block's codes."""
    n_rows, n_columns = shape
    if n_columns <= size:
        step = max(1, size // max(n_columns, 1))
        for start in range(0, n_rows, step):
            yield slice(start, start + step), slice(None), slice(None)
        return
    width = max(size // n_channels, 1)
    for row in range(n_rows):
        for start in range(0, n_columns // n_channels, width):
            pixels = slice(start, start + width)
            columns = slice(start * n_channels, (start + width) * n_channels)
            yield slice(row, row + 1), columns, pixels


def _exact_sum(mantissa, exponent, count=None):
    """``sum(count * mantissa * 2**exponent)`` exactly, as ``(integer,
    exponent)``; ``mantissa`` is overwritten.

    ``mantissa`` holds floats in ``[0, 1)`` that are multiples of
    ``2**-56`` (the squares of :func:`numpy.frexp` mantissas and their
    products with another are), ``exponent`` integers, ``count`` (default
    one each) non-negative integers. Each mantissa is cut into its integer
    and fractional parts in units of ``2**-28``, whose sums per exponent
    :func:`numpy.bincount` adds exactly (parts of at most ``2**24`` values
    keep the sums within float64's 53 bits); the few sums per exponent are
    then added as Python integers.
    """
    mantissa, exponent = mantissa.reshape(-1), exponent.reshape(-1)
    if mantissa.size == 0:
        return 0, 0
    low = int(exponent.min())
    total = 0
    if count is not None:
        # Few values (one per distinct pixel value): one by one.
        units = (mantissa * 2.0**56).astype(np.int64).tolist()
        for n, unit, e in zip(count.tolist(), units, exponent.tolist(), strict=True):
            total += (n * unit) << (e - low)
        return total, low - 56
    for start in range(0, mantissa.size, 1 << 24):
        fraction = mantissa[start : start + (1 << 24)]
        index = exponent[start : start + (1 << 24)].astype(np.intp)
        index -= low
        fraction *= 2.0**28
        whole = np.floor(fraction)
        fraction -= whole
        n_bins = int(index.max()) + 1
        wholes = np.bincount(index, weights=whole, minlength=n_bins)
        fractions = np.bincount(index, weights=fraction, minlength=n_bins)
        for b in np.flatnonzero(wholes + fractions).tolist():
            units = (int(wholes[b]) << 28) + int(fractions[b] * 2.0**28)
            total += units << b
    return total, low - 56


def _add_exact(a, a_exponent, b, b_exponent):
    """``a * 2**a_exponent + b * 2**b_exponent`` as (integer, exponent)."""
    if a == 0:
        return b, b_exponent
    if b == 0:
        return a, a_exponent
    exponent = min(a_exponent, b_exponent)
    return (a << (a_exponent - exponent)) + (b << (b_exponent - exponent)), exponent


def _squares(X, half_codewords, weight=None):
    """Each value's weighted squared error as a mantissa in ``[0, 1)`` (a
    multiple of ``2**-56``) and an exponent: the error halved (exactly, but
    for subnormal values and codewords), squared and weighted in float64,
    so that nothing overflows whatever the values."""
    error = np.multiply(X, 0.5, dtype=np.float64)
    error -= half_codewords
    mantissa, exponent = np.frexp(error, out=(error, None))
    mantissa *= mantissa
    exponent <<= 1
    exponent += 2
    if weight is not None:
        weight_mantissa, weight_exponent = np.frexp(weight)
        mantissa *= weight_mantissa[:, None]
        exponent += weight_exponent[:, None]
    return mantissa, exponent


def _is_short_integer(dtype):
    return dtype.kind == "b" or (dtype.kind in "iu" and dtype.itemsize <= 2)


def _squared_error_by_values(X, codebook, bin_edges):
    """Exact unweighted sum of squared errors of one-channel 8- or 16-bit
    integer (or boolean) ``X``: the count of every value (one pass into a
    histogram, by blocks), times its squared error."""
    if X.dtype == bool:
        X = X.view(np.uint8)
    dtype = X.dtype.newbyteorder("=")
    low = int(np.iinfo(dtype).min)
    counts = np.zeros(1 << (8 * dtype.itemsize), dtype=np.int64)
    for rows, columns, _ in _blocks(X.shape, 1, _BLOCK_VALUES):
        block = np.ascontiguousarray(X[rows, columns], dtype=dtype)
        add_value_counts(block.reshape(-1), low, counts)
    present = np.flatnonzero(counts)
    values = (present + low).astype(dtype)[None, :]
    half = np.take(codebook[:, 0] / 2, encode(values, codebook, bin_edges))
    return _exact_sum(*_squares(values, half), count=counts[present])


def squared_error(X, codebook, bin_edges=None, sample_weight=None, oklab_codebook=None):
    """Squared error of every value of ``X`` against its codeword, summed.

    Each value's error is squared (and weighted) in float64 in units that
    make no square or product overflow, and the sum of these is exact, so
    that the result depends on the values and their weights alone: not on
    the array's layout, dtype, or split into blocks (rows, columns or dask
    chunks in any order). Work proceeds by blocks (codes for about
    ``2**20`` values at a time, errors for ``2**16``), so that temporary
    memory stays a few megabytes; one-channel 8- and 16-bit integers
    without weights are counted by value instead.

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
    n_channels = codebook.shape[1]
    if sample_weight is None and n_channels == 1 and _is_short_integer(X.dtype):
        total, exponent = _squared_error_by_values(X, codebook, bin_edges)
        return SquaredError(total, exponent, X.size, 0)
    # Codewords are halved once, exactly as each would be.
    half_codebook = codebook / 2
    total, exponent = 0, 0
    for rows, columns, _ in _blocks(X.shape, n_channels, _ENCODED_VALUES):
        chunk = X[rows, columns]
        codes = encode(chunk, codebook, bin_edges, oklab_codebook)
        chunk_weight = None if sample_weight is None else sample_weight[rows]
        for block_rows, block_columns, pixels in _blocks(
            chunk.shape, n_channels, _BLOCK_VALUES
        ):
            block = chunk[block_rows, block_columns]
            half = np.take(half_codebook, codes[block_rows, pixels], axis=0)
            weight = None if chunk_weight is None else chunk_weight[block_rows]
            squares = _squares(block, half.reshape(block.shape), weight)
            total, exponent = _add_exact(total, exponent, *_exact_sum(*squares))
    if sample_weight is None:
        return SquaredError(total, exponent, X.size, 0)
    weight, weight_exponent = _exact_sum(
        *np.frexp(np.asarray(sample_weight, dtype=np.float64))
    )
    return SquaredError(total, exponent, weight * X.shape[1], weight_exponent)


def add_squared_errors(first, second):
    """The :class:`SquaredError` of the values of both, exactly."""
    return SquaredError(
        *_add_exact(first.sum, first.sum_exponent, second.sum, second.sum_exponent),
        *_add_exact(
            first.weight,
            first.weight_exponent,
            second.weight,
            second.weight_exponent,
        ),
    )


def mean_squared_error(error):
    """Weighted mean squared error of a :class:`SquaredError`.

    The exact mean of the exact sums, correctly rounded; a mean beyond the
    float64 range (errors near ``1e154`` or more) is honestly ``inf``.
    """
    check_total_weight(error.weight)
    numerator, denominator = error.sum, error.weight
    shift = error.sum_exponent - error.weight_exponent
    if shift >= 0:
        numerator <<= shift
    else:
        denominator <<= -shift
    try:
        # Python's integer division is correctly rounded.
        return numerator / denominator
    except OverflowError:
        return np.inf
