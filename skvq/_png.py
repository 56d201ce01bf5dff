"""Quantized images as indexed (palette) PNG files.

A PNG file of colour type 3 stores one palette index per pixel with 1, 2, 4
or 8 bits, and a palette of at most 256 colours. That is exactly a code image
plus a codebook, so a quantized image costs ``n_bits_`` bits per pixel before
compression, instead of 8 (gray) or 24 (colour).

Pillow encodes the files; oxipng (PyPI ``pyoxipng``, the extra
``skvq[optimize]``), when asked, then makes them smaller. Pillow and oxipng
are imported only when a file is written or read.
"""

import io
import os

import numpy as np

from ._atomic_write import write_atomically
from ._oxipng import optimize as optimize_png

__all__ = ["read_palette_png", "write_palette_png"]

_MAX_COLOURS = 256
# Gray, gray + alpha, RGB, RGBA.
_N_CHANNELS = (1, 2, 3, 4)
# oxipng's optimisation levels, and the one optimize=True means: oxipng's own
# default. Level 1 takes about three quarters of its time and is within 0.4%
# of its size on dithered photos, but 14% larger on a smooth synthetic ramp
# (tests/test_png.py); level 0 is larger than skvq's former encoder on the
# gray raccoon (benchmarks/bench_pngquant.py).
_OPTIMIZE_LEVELS = range(7)
DEFAULT_OPTIMIZE_LEVEL = 2
# PNG's row filters predict a byte from its neighbours' values, which the
# indices of a colour palette are not (neighbouring entries need not be
# similar colours). Up to this level, oxipng's trials of filters found no
# better file than unfiltered rows for colour palettes: on the 36 dithered
# files of benchmarks/bench_pngquant.py's photos (16, 64 and 256 colours),
# levels 0 and 1 gave the same files unfiltered and level 2 files 0-0.8%
# smaller, in 33-65% of the time. Level 3 and above, whose search pays
# (2-3% smaller at 64 and 256 colours), and gray palettes, whose indices
# are ordered like their levels, keep oxipng's search.
_UNFILTERED_UP_TO_LEVEL = 2


def write_palette_png(path, codes, codebook, *, overwrite=False, optimize=False):
    """Write a code image and its codebook as an indexed (palette) PNG file.

    The PNG's bit depth is the smallest one PNG allows for the number of
    codebook entries: 1 bit for up to 2 entries, 2 bits for up to 4, 4 bits
    for up to 16 and 8 bits for up to 256.

    Parameters
    ----------
    path : str or os.PathLike
        File to write.
    codes : array-like of int, shape (height, width)
        Codebook indices, in ``[0, n_colours)``; for example
        ``ImageVectorQuantizer.transform`` of an image.
    codebook : array-like of float, shape (n_colours, n_channels)
        The palette, ``n_colours`` from 1 to 256. ``n_channels`` is 1 (gray),
        2 (gray and alpha), 3 (RGB) or 4 (RGBA). Values are on the 0..255
        scale; PNG palettes hold 8-bit values, so they are rounded to the
        nearest integer and clipped to [0, 255]. Alpha, if any, is written as
        the PNG's ``tRNS`` chunk, and colours are not premultiplied by it.
    overwrite : bool, default=False
        Whether to replace ``path`` if it already exists.
    optimize : bool or int, default=False
        Whether to make the file smaller with oxipng, which needs the extra
        ``skvq[optimize]`` (``pip install pyoxipng``). ``False``: the file as
        Pillow encodes it. An int from 0 to 6: oxipng's optimisation level,
        higher being slower and smaller; ``True`` means level 2, oxipng's
        default. oxipng tries PNG's row filters and other compression
        settings, and may reorder the palette, drop unused entries, shorten
        the ``tRNS`` chunk and change the bit depth; every pixel keeps its
        colour and alpha, and the file stays indexed, so that
        :func:`read_palette_png` reads it, but the codes and codebook it
        returns may be a permutation of those written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        If the shapes or values of ``codes`` and ``codebook`` do not make a
        palette image, or ``optimize`` is not a level from 0 to 6.
    TypeError
        If ``codes`` is not an integer array, ``codebook`` not numeric or
        ``optimize`` neither a bool nor an int.
    ImportError
        If ``optimize`` asks for oxipng and pyoxipng is not installed.
    OSError
        If the file cannot be written; no partial file is left behind.

    See Also
    --------
    read_palette_png : Read such a file back.

    Notes
    -----
    The file is written to a temporary file in the same folder, flushed to
    disk, then given its name, so ``path`` either keeps its old content (or
    does not exist) or gets the complete new file, even if the process is
    interrupted or the disk fills up. Without ``overwrite``, the name is
    given by a hard link that fails if ``path`` exists, so a file created
    there meanwhile by another process is kept too (on file systems without
    hard links, a rename, which elsewhere than on Windows can replace a file
    created between the check and the rename).

    Pillow deflates the rows of indices at its highest compression level but
    never filters the rows of palette images. Filters pay when neighbouring
    indices mean similar colours, as with the sorted codebooks of gray
    images: for the raccoon at 64 gray levels, oxipng's file is about 25%
    smaller than Pillow's. Trailing opaque entries are left out of the
    ``tRNS`` chunk, as the PNG specification (ISO/IEC 15948:2004, clause
    11.3.2.1) allows.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skvq import read_palette_png, write_palette_png
    >>> codes = np.array([[0, 1, 2], [2, 1, 0]])
    >>> codebook = np.array([[12.3], [127.5], [250.0]])  # three gray levels
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "levels.png")
    >>> write_palette_png(path, codes, codebook)
    >>> read_codes, read_codebook = read_palette_png(path)
    >>> read_codes
    array([[0, 1, 2],
           [2, 1, 0]], dtype=uint8)
    >>> read_codebook
    array([[ 12.],
           [128.],
           [250.]])
    >>> folder.cleanup()
    """
    codes = _check_codes(codes)
    palette = _palette_bytes(codebook)
    level = _optimize_level(optimize)
    n_colours = palette.shape[0]
    high = int(codes.max())
    if high >= n_colours:
        raise ValueError(
            f"codes must be smaller than the number of codebook entries "
            f"({n_colours}), found {high}."
        )
    data = encode_palette_png(codes, palette, level)
    write_atomically(path, lambda file: file.write(data), overwrite=overwrite)


def _optimize_level(optimize):
    """oxipng's level for ``optimize``, or None for no optimisation."""
    if isinstance(optimize, (bool, np.bool_)):
        return DEFAULT_OPTIMIZE_LEVEL if optimize else None
    if not isinstance(optimize, (int, np.integer)):
        raise TypeError(
            "optimize must be a bool or an int (oxipng's level, 0 to 6), got "
            f"{type(optimize).__name__} {optimize!r}."
        )
    if optimize not in _OPTIMIZE_LEVELS:
        raise ValueError(
            f"optimize must be False, True or oxipng's level from 0 to 6, got "
            f"{optimize}."
        )
    _import_oxipng(f"optimize={optimize}")
    return int(optimize)


def _import_oxipng(asked_by):
    try:
        import oxipng
    except ImportError as exc:
        raise ImportError(
            f"{asked_by} optimises PNG files with oxipng, which is not "
            "installed: pip install pyoxipng (or skvq[optimize])."
        ) from exc
    return oxipng


def encode_palette_png(
    codes, palette, level=None, *, keep_palette=False, optimizer=optimize_png
):
    """The bytes of an indexed PNG file, from checked codes and palette.

    Parameters
    ----------
    codes : ndarray of int, shape (height, width)
        Indices into ``palette``, checked by the caller.
    palette : ndarray of uint8, shape (n_colours, n_channels)
        Gray, gray + alpha, RGB or RGBA entries.
    level : int or None
        oxipng's optimisation level, or None for Pillow's file as it is.
    keep_palette : bool, default=False
        Forbid oxipng to reorder the palette or drop unused entries (a
        palette given by the user stays as given).
    optimizer : callable, default=skvq._oxipng.optimize
        ``optimizer(data, options)`` runs oxipng on Pillow's file with
        plain-data options; the command line passes one that runs it in a
        process of its own (:mod:`skvq.cli._optimizer`).

    Returns
    -------
    data : bytes
    """
    from PIL import Image

    height, width = codes.shape
    gray = palette.shape[1] in (1, 2)
    rgb = np.repeat(palette[:, :1], 3, axis=1) if gray else palette[:, :3]
    options = {}
    if palette.shape[1] in (2, 4):
        alpha = palette[:, -1]
        not_opaque = np.flatnonzero(alpha != 255)
        # At least one byte, so that a reader still sees an alpha channel.
        n_kept = not_opaque[-1] + 1 if not_opaque.size else 1
        options["transparency"] = alpha[:n_kept].tobytes()
    # Pillow writes the smallest bit depth that holds the palette's length.
    indices = np.ascontiguousarray(codes, dtype=np.uint8).tobytes()
    image = Image.frombytes("P", (width, height), indices)
    image.putpalette(np.ascontiguousarray(rgb).tobytes(), "RGB")
    buffer = io.BytesIO()
    if level is None:
        # Pillow's optimize=True cuts the palette after the last index used.
        compression = {"compress_level": 9} if keep_palette else {"optimize": True}
        image.save(buffer, format="PNG", **compression, **options)
        return buffer.getvalue()
    # oxipng deflates the rows again: Pillow stores them undeflated (the
    # same files as from its fastest level, in less time).
    image.save(buffer, format="PNG", compress_level=0, **options)
    _import_oxipng(f"optimisation level {level}")
    # The file stays indexed (colour type 3): read_palette_png reads only
    # palette files, and a gray file rarely gains over a palette of gray.
    options = {"level": level, "color_type_reduction": False}
    if keep_palette:
        options["palette_reduction"] = False
    if not gray and level <= _UNFILTERED_UP_TO_LEVEL:
        options["filter"] = ["NoOp"]
    return optimizer(buffer.getvalue(), options)


def _check_codes(codes):
    codes = np.asarray(codes)
    if not (np.issubdtype(codes.dtype, np.integer) or codes.dtype == np.bool_):
        raise TypeError(f"codes must be an array of integers, got dtype {codes.dtype}.")
    if codes.ndim != 2:
        raise ValueError(
            f"codes must be a 2-D image of shape (height, width), got shape "
            f"{codes.shape}."
        )
    if codes.size == 0:
        raise ValueError(
            f"a PNG image needs at least one row and one column, got codes of "
            f"shape {codes.shape}."
        )
    low = int(codes.min())
    if low < 0:
        raise ValueError(f"codes must be non-negative, found {low}.")
    return codes


def _palette_bytes(codebook):
    codebook = np.asarray(codebook)
    if not (
        np.issubdtype(codebook.dtype, np.integer)
        or np.issubdtype(codebook.dtype, np.floating)
        or codebook.dtype == np.bool_
    ):
        raise TypeError(
            f"codebook must be an array of real numbers, got dtype {codebook.dtype}."
        )
    if codebook.ndim != 2 or codebook.shape[1] not in _N_CHANNELS:
        raise ValueError(
            f"codebook must have shape (n_colours, n_channels) with n_channels "
            f"1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA), got shape "
            f"{codebook.shape}."
        )
    if not 1 <= codebook.shape[0] <= _MAX_COLOURS:
        raise ValueError(
            f"a PNG palette holds 1 to {_MAX_COLOURS} colours, the codebook has "
            f"{codebook.shape[0]}."
        )
    if not np.all(np.isfinite(codebook)):
        raise ValueError("codebook must contain only finite values.")
    return np.clip(np.rint(codebook), 0, 255).astype(np.uint8)


def read_palette_png(path):
    """Read an indexed (palette) PNG file as a code image and its codebook.

    Parameters
    ----------
    path : str or os.PathLike
        An indexed PNG file, such as one written by
        :func:`write_palette_png`.

    Returns
    -------
    codes : ndarray of shape (height, width), dtype uint8
        The palette index of each pixel.
    codebook : ndarray of shape (n_colours, n_channels), dtype float64
        The palette entries, one per colour of the file's palette. The
        columns are gray (``n_channels=1``) when every entry has equal red,
        green and blue, else RGB (3); a further alpha column is added when the
        file has transparency (a ``tRNS`` chunk).

    Raises
    ------
    ValueError
        If the file is not a PNG, not an indexed PNG, or has pixels that
        refer to missing palette entries.
    OSError
        If the file cannot be read or is damaged.

    See Also
    --------
    write_palette_png : Write such a file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skvq import read_palette_png, write_palette_png
    >>> codes = np.array([[0, 1], [1, 0]])
    >>> codebook = np.array([[255, 0, 0], [0, 0, 255]])  # red and blue
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "checker.png")
    >>> write_palette_png(path, codes, codebook)
    >>> read_codes, read_codebook = read_palette_png(path)
    >>> read_codebook
    array([[255.,   0.,   0.],
           [  0.,   0., 255.]])
    >>> folder.cleanup()
    """
    from PIL import Image

    with Image.open(path) as image:
        if image.format != "PNG":
            raise ValueError(
                f"{os.fspath(path)} is not a PNG file (Pillow reads it as "
                f"{image.format})."
            )
        if image.mode != "P":
            raise ValueError(
                f"{os.fspath(path)} is not an indexed (palette) PNG: its pixels "
                f"are stored as mode {image.mode!r}, not palette indices."
            )
        image.load()
        codes = np.asarray(image, dtype=np.uint8).copy()
        rgb = np.frombuffer(bytes(image.getpalette("RGB")), dtype=np.uint8)
        transparency = image.info.get("transparency")
    rgb = rgb.reshape(-1, 3).astype(np.float64)
    n_colours = rgb.shape[0]
    high = int(codes.max())
    if high >= n_colours:
        raise ValueError(
            f"{os.fspath(path)} is damaged: a pixel refers to palette entry "
            f"{high} but the palette has {n_colours} entries."
        )
    gray = np.all(rgb == rgb[:, :1])
    codebook = rgb[:, :1] if gray else rgb
    if transparency is not None:
        alpha = np.full((n_colours, 1), 255.0)
        if isinstance(transparency, bytes):
            given = np.frombuffer(transparency, dtype=np.uint8)[:n_colours]
            alpha[: given.size, 0] = given
        elif 0 <= transparency < n_colours:
            alpha[transparency, 0] = 0.0
        codebook = np.hstack([codebook, alpha])
    return codes, codebook
