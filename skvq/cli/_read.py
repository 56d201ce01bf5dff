"""Reading image files (or standard input) into pixel arrays.

An image is read as an array of shape ``(height, width, n_channels)``:
n_channels 1 (gray), 2 (gray and alpha), 3 (RGB) or 4 (RGBA). 8-bit images
are ``uint8``; 16-bit PNG files are ``uint16`` on the 0..65535 scale
(``scale`` 257), so that their palette is fitted on 16-bit values. Alpha
stays on the 0..255 scale in both (a 16-bit tRNS key gives 0 or 255).
"""

import errno
import io
import os
import stat
import sys
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ._arguments import STDIN
from ._write import FileError

_GRAY_MODES = ("1", "L", "LA", "La")
_SIXTEEN_BIT_GRAY = ("I;16", "I;16B", "I;16L", "I;16N")
# Pillow decodes 16-bit RGB(A) PNG files to 8 bits (the high bytes); decoded
# a second time with the little-endian raw mode, the same bytes give the low
# bytes (the PNG filters work on bytes, the same for both raw modes).
_LOW_BYTES = {"RGB;16B": "RGB;16L", "RGBA;16B": "RGBA;16L"}


@dataclass
class Picture:
    """Pixels of one input, with what the report needs."""

    pixels: np.ndarray
    scale: int  # 1 for 8-bit values, 257 for 16-bit
    n_bytes: int  # size of the input

    @property
    def has_alpha(self):
        return self.pixels.shape[-1] in (2, 4)


def read_picture(path, gray):
    """Decode ``path`` (or standard input for ``"-"``) to a :class:`Picture`.

    Warnings about the file (an animation of which one frame is used) are
    raised as :class:`UserWarning`; the caller reports them.

    Raises
    ------
    FileError
        With a message in the user's terms, if the file cannot be read or
        decoded.
    """
    if path == STDIN:
        data = sys.stdin.buffer.read()
        if not data:
            raise FileError("standard input is empty, not an image")
        return _decode(io.BytesIO(data), len(data), gray)
    try:
        file = _open_regular_file(path)
    except FileError:
        raise
    except OSError as exc:
        raise FileError(_open_error(path, exc)) from None
    with file:
        return _decode(file, os.fstat(file.fileno()).st_size, gray)


def _open_error(path, exc):
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not an image file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link loop (too many levels of symbolic links)"
    if exc.errno == errno.ENXIO:
        # Opening a Unix socket fails with "No such device or address".
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = 0
        if stat.S_ISSOCK(mode):
            return "is not a regular file (a socket)"
    return f"cannot open: {exc.strerror or exc}"


def _open_regular_file(path):
    """Open ``path`` for reading if it is a regular file.

    Opening does not wait (a FIFO would block until a writer came), and the
    check is made on the file opened, so nothing can swap it in between.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if not stat.S_ISREG(mode):
            raise FileError(f"is not a regular file ({_file_kind(mode)})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _file_kind(mode):
    kinds = [
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ]
    return next((name for test, name in kinds if test(mode)), "a special file")


def _decode(file, n_bytes, gray):
    try:
        with Image.open(file) as image:
            low_bytes = _low_bytes_raw_mode(image)
            image.load()
            n_frames = getattr(image, "n_frames", 1)
            if n_frames > 1:
                warnings.warn(
                    f"only the first of its {n_frames} frames is quantized",
                    stacklevel=1,
                )
            if low_bytes is not None:
                return _sixteen_bit_colour(file, image, low_bytes, n_bytes, gray)
            # Cameras store the orientation apart from the pixels; the output
            # has no such tag, so the pixels are turned the way viewers show them.
            with ImageOps.exif_transpose(image) as turned:
                return _picture(turned, n_bytes, gray)
    except FileError:
        raise
    except UnidentifiedImageError:
        raise FileError(
            "not an image file that Pillow can read (unknown format or damaged header)"
        ) from None
    except Image.DecompressionBombError as exc:
        raise FileError(str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.EIO and exc.strerror:
            raise FileError(f"cannot read: {exc.strerror}") from None
        raise FileError(f"damaged or truncated image: {exc}") from None
    # Pillow's decoders report some damaged files with other exceptions
    # (SyntaxError for a broken PNG, ValueError, EOFError, struct.error,
    # zlib.error); none of them should end the run for the other files.
    except Exception as exc:
        raise FileError(
            f"damaged or truncated image: {exc or type(exc).__name__}"
        ) from None


def _low_bytes_raw_mode(image):
    """For a 16-bit RGB(A) PNG, the raw mode that decodes its low bytes."""
    if image.format != "PNG" or len(image.tile) != 1:
        return None
    # A tile is (decoder, extents, offset, args): a plain tuple before
    # Pillow 11, a named tuple since.
    return _LOW_BYTES.get(image.tile[0][3])


def _sixteen_bit_colour(file, image, low_bytes, n_bytes, gray):
    """The 16-bit values of an RGB(A) PNG, its tRNS key applied exactly."""
    high = np.asarray(image, dtype=np.uint16)
    file.seek(0)
    with Image.open(file) as again:
        tile = again.tile[0]
        again.tile = [
            tile._replace(args=low_bytes)
            if hasattr(tile, "_replace")
            else (*tile[:3], low_bytes)
        ]
        again.load()
        values = (high << 8) | np.asarray(again, dtype=np.uint16)
    n_colour = 3
    alpha = None
    if values.shape[-1] == 4:
        alpha = np.rint(values[..., 3] / 257.0).astype(np.uint16)
    key = image.info.get("transparency")
    if isinstance(key, tuple) and alpha is None:
        is_key = np.all(values[..., :n_colour] == np.array(key, np.uint16), axis=-1)
        alpha = np.where(is_key, 0, 255).astype(np.uint16)
    colour = values[..., :n_colour]
    if gray:
        # ITU-R 601-2 luma, as Pillow's convert("L") (on 16-bit values).
        luma = colour @ np.array([0.299, 0.587, 0.114])
        colour = np.rint(luma).astype(np.uint16)[..., None]
    pixels = colour if alpha is None else np.dstack([colour, alpha])
    return _without_opaque_alpha(Picture(pixels, 257, n_bytes))


def _picture(image, n_bytes, gray):
    mode = image.mode
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    if mode in _SIXTEEN_BIT_GRAY or (mode == "I" and image.format == "PNG"):
        # PNG stores gray in at most 16 bits; Pillow reads it as "I;16" or
        # (older versions) "I".
        values = np.asarray(image).astype(np.uint16)
        key = image.info.get("transparency")
        if isinstance(key, int):
            alpha = np.where(values == key, 0, 255).astype(np.uint16)
            pixels = np.dstack([values, alpha])
            return _without_opaque_alpha(Picture(pixels, 257, n_bytes))
        return Picture(values[..., None], 257, n_bytes)
    if mode in ("I", "F"):
        raise FileError(
            f"images of mode {mode!r} (32-bit {'integer' if mode == 'I' else 'float'}"
            " pixels) are not supported: their value range is unknown"
        )
    if gray or mode in _GRAY_MODES:
        target = "LA" if has_alpha else "L"
    else:
        target = "RGBA" if has_alpha else "RGB"
    if mode == target:
        pixels = np.asarray(image)
    else:
        with image.convert(target) as converted:
            pixels = np.asarray(converted)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    return _without_opaque_alpha(Picture(pixels, 1, n_bytes))


def _without_opaque_alpha(picture):
    """Opaque images often carry an alpha channel; it holds nothing."""
    if picture.has_alpha and np.all(picture.pixels[..., -1] == 255):
        picture.pixels = picture.pixels[..., :-1]
    return picture


def with_channels(pixels, n_channels):
    """Widen gray to RGB and add an opaque alpha channel as needed."""
    has = pixels.shape[-1]
    colour = pixels[..., : 3 if has in (3, 4) else 1]
    if n_channels in (3, 4) and colour.shape[-1] == 1:
        colour = np.repeat(colour, 3, axis=-1)
    if n_channels in (2, 4):
        alpha = (
            pixels[..., -1:] if has in (2, 4) else np.full_like(pixels[..., :1], 255)
        )
        return np.concatenate([colour, alpha], axis=-1)
    return colour
