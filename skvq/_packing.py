"""Bit packing of quantization codes: ``n_bits`` bits per code, no waste.

A code image with 8 levels needs 3 bits per pixel, yet a ``uint8`` array spends
8. :func:`pack_codes` stores the codes back to back in a byte string and
:func:`unpack_codes` restores them exactly.

Layout
------
The codes are taken in C order (row-major, the order of ``codes.ravel()``).
Each code contributes its ``n_bits`` lowest bits, most significant bit first,
to one continuous bit stream, which is cut into bytes most significant bit
first; the last byte is padded with zero bits. This is the order of
:func:`numpy.packbits` (``bitorder="big"``) and of the pixel rows of PNG
images, so for ``n_bits`` in {1, 2, 4, 8} a row whose length fills whole bytes
is packed exactly as PNG stores it, and for ``n_bits=16`` each code is a
big-endian ``uint16``.
"""

from numbers import Integral

import numpy as np

from ._encode import code_dtype

__all__ = ["pack_codes", "unpack_codes"]

_MAX_BITS = 16


def _check_n_bits(n_bits):
    if isinstance(n_bits, bool) or not isinstance(n_bits, Integral):
        raise TypeError(
            f"n_bits must be an integer from 1 to {_MAX_BITS}, "
            f"got {n_bits!r} of type {type(n_bits).__name__}."
        )
    if not 1 <= n_bits <= _MAX_BITS:
        raise ValueError(
            f"n_bits must be an integer from 1 to {_MAX_BITS}, got {n_bits}."
        )
    return int(n_bits)


def _n_packed_bytes(n_codes, n_bits):
    return -(-n_codes * n_bits // 8)


def pack_codes(codes, n_bits):
    """Pack integer codes into a byte array, ``n_bits`` bits per code.

    Parameters
    ----------
    codes : array-like of int or bool, any shape
        Codes in ``[0, 2**n_bits)``, for example the output of
        ``ImageVectorQuantizer.transform``. They are read in C order; the
        array is not modified.
    n_bits : int
        Bits per code, from 1 to 16. ``ImageVectorQuantizer.n_bits_`` is the
        smallest value that holds every code of a fitted quantizer.

    Returns
    -------
    packed : ndarray of shape (ceil(codes.size * n_bits / 8),), dtype uint8
        The codes as one bit stream, most significant bit first (see the
        module's documentation); unused bits of the last byte are zero. The
        shape of ``codes`` is not stored: pass it to :func:`unpack_codes`.

    Raises
    ------
    TypeError
        If ``codes`` is not an integer (or boolean) array, or ``n_bits`` is
        not an integer.
    ValueError
        If ``n_bits`` is outside [1, 16] or a code is negative or does not
        fit in ``n_bits`` bits.

    See Also
    --------
    unpack_codes : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import pack_codes
    >>> codes = np.array([[0, 1, 2, 3], [4, 5, 6, 7]], dtype=np.uint8)
    >>> packed = pack_codes(codes, n_bits=3)
    >>> packed.nbytes  # 8 codes of 3 bits instead of 8 bytes
    3
    >>> [f"{byte:08b}" for byte in packed]
    ['00000101', '00111001', '01110111']
    """
    n_bits = _check_n_bits(n_bits)
    codes = np.asarray(codes)
    if codes.dtype == np.bool_:
        codes = codes.view(np.uint8)
    elif not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(
            f"codes must be an array of integers, got dtype {codes.dtype}; "
            "pass the output of ImageVectorQuantizer.transform or cast "
            "exactly-integral values with astype."
        )
    flat = codes.ravel()
    if flat.size:
        low, high = flat.min(), flat.max()
        if low < 0:
            raise ValueError(f"codes must be non-negative, found {low}.")
        if high >= 1 << n_bits:
            raise ValueError(
                f"codes must be smaller than 2**n_bits = {1 << n_bits} to fit "
                f"in n_bits={n_bits} bits, found {high}."
            )
    flat = flat.astype(code_dtype(1 << n_bits), copy=False)
    if n_bits == 8:
        return flat.copy() if np.shares_memory(flat, codes) else flat
    if n_bits == 16:
        return flat.astype(">u2").view(np.uint8)
    if n_bits == 1:
        return np.packbits(flat)
    if n_bits in (2, 4):
        return _pack_sub_byte(flat, n_bits)
    return _pack_groups_of_eight(flat, n_bits)


def _pack_sub_byte(flat, n_bits):
    per_byte = 8 // n_bits
    n_bytes = _n_packed_bytes(flat.size, n_bits)
    padded = np.zeros(n_bytes * per_byte, dtype=np.uint8)
    padded[: flat.size] = flat
    padded = padded.reshape(n_bytes, per_byte)
    packed = padded[:, 0] << (8 - n_bits)
    for i in range(1, per_byte):
        packed |= padded[:, i] << (8 - n_bits * (i + 1))
    return packed


# Eight codes of n_bits bits make exactly n_bits bytes, so the stream is cut
# into groups of eight codes and each byte of a group is assembled from the
# (at most three) codes that overlap it: a few shifts on whole columns, in the
# codes' own dtype, instead of one bit per byte.
def _overlaps(n_bits):
    """Yield (code index, byte index, shift) for each code/byte overlap.

    ``shift`` moves the code's bits to their place in the byte: a left shift
    when positive, a right shift when negative.
    """
    for code in range(8):
        first, last = code * n_bits, (code + 1) * n_bits
        for byte in range(first // 8, (last - 1) // 8 + 1):
            yield code, byte, 8 * (byte + 1) - last


def _shift(values, shift):
    return values << shift if shift >= 0 else values >> -shift


def _pack_groups_of_eight(flat, n_bits):
    n_groups = -(-flat.size // 8)
    padded = np.zeros(n_groups * 8, dtype=flat.dtype)
    padded[: flat.size] = flat
    codes = padded.reshape(n_groups, 8)
    groups = np.zeros((n_groups, n_bits), dtype=np.uint8)
    byte_mask = flat.dtype.type(0xFF)
    for code, byte, shift in _overlaps(n_bits):
        part = _shift(codes[:, code], shift)
        if flat.dtype != np.uint8:
            part &= byte_mask
        groups[:, byte] |= part.astype(np.uint8, copy=False)
    return groups.ravel()[: _n_packed_bytes(flat.size, n_bits)]


def unpack_codes(packed, n_bits, shape):
    """Unpack codes written by :func:`pack_codes`.

    Parameters
    ----------
    packed : array-like of uint8, 1-D
        The packed bytes, exactly ``ceil(prod(shape) * n_bits / 8)`` of them.
        ``bytes`` objects are accepted too.
    n_bits : int
        Bits per code, from 1 to 16; the value given to :func:`pack_codes`.
    shape : int or tuple of int
        Shape of the codes array that was packed.

    Returns
    -------
    codes : ndarray of the given shape, dtype uint8 (n_bits <= 8) or uint16
        The codes, equal to the packed ones.

    Raises
    ------
    TypeError
        If ``packed`` is not a uint8 array, or ``n_bits`` or ``shape`` is not
        made of integers.
    ValueError
        If ``packed`` is not 1-D, ``shape`` has a negative entry, ``n_bits``
        is outside [1, 16], or the number of bytes does not match ``shape``
        and ``n_bits``.

    See Also
    --------
    pack_codes : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import pack_codes, unpack_codes
    >>> codes = np.array([[0, 1, 2, 3], [4, 5, 6, 7]], dtype=np.uint8)
    >>> unpack_codes(pack_codes(codes, 3), n_bits=3, shape=(2, 4))
    array([[0, 1, 2, 3],
           [4, 5, 6, 7]], dtype=uint8)
    """
    n_bits = _check_n_bits(n_bits)
    shape = _check_shape(shape)
    if isinstance(packed, bytes | bytearray | memoryview):
        packed = np.frombuffer(packed, dtype=np.uint8)
    packed = np.asarray(packed)
    if packed.dtype != np.uint8:
        raise TypeError(
            f"packed must be an array of uint8 bytes as returned by pack_codes, "
            f"got dtype {packed.dtype}."
        )
    if packed.ndim != 1:
        raise ValueError(
            f"packed must be 1-D as returned by pack_codes, got an array of "
            f"shape {packed.shape}."
        )
    n_codes = int(np.prod(shape, dtype=np.int64))
    expected = _n_packed_bytes(n_codes, n_bits)
    if packed.size != expected:
        raise ValueError(
            f"packed has {packed.size} bytes but {n_codes} codes of shape "
            f"{shape} with n_bits={n_bits} take {expected} bytes; check shape "
            "and n_bits."
        )
    if n_bits == 8:
        flat = packed.copy()
    elif n_bits == 16:
        flat = packed.view(">u2").astype(np.uint16)
    elif n_bits == 1:
        flat = np.unpackbits(packed, count=n_codes)
    elif n_bits in (2, 4):
        flat = _unpack_sub_byte(packed, n_bits, n_codes)
    else:
        flat = _unpack_groups_of_eight(packed, n_bits, n_codes)
    return flat.reshape(shape)


def _check_shape(shape):
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(
            f"shape must be an int or a tuple of ints, got {shape!r}."
        ) from None
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, Integral):
            raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}.")
        if dim < 0:
            raise ValueError(f"shape must not have negative entries, got {shape!r}.")
    return tuple(int(dim) for dim in shape)


def _unpack_sub_byte(packed, n_bits, n_codes):
    per_byte = 8 // n_bits
    mask = np.uint8((1 << n_bits) - 1)
    codes = np.empty((packed.size, per_byte), dtype=np.uint8)
    for i in range(per_byte):
        codes[:, i] = (packed >> (8 - n_bits * (i + 1))) & mask
    return codes.ravel()[:n_codes]


def _unpack_groups_of_eight(packed, n_bits, n_codes):
    n_groups = -(-n_codes // 8)
    dtype = code_dtype(1 << n_bits)
    groups = np.zeros((n_groups, n_bits), dtype=dtype)
    groups.ravel()[: packed.size] = packed
    codes = np.zeros((n_groups, 8), dtype=dtype)
    for code, byte, shift in _overlaps(n_bits):
        # A code's bits go left where a byte's went right, and vice versa.
        codes[:, code] |= _shift(groups[:, byte], -shift)
    codes &= dtype.type((1 << n_bits) - 1)
    return codes.ravel()[:n_codes]
