"""Animations in and out through Pillow: every frame, its timing, loop and disposal.

Readers give every frame of an animated GIF, APNG, animated WebP or
multi-page TIFF as a full RGB (or RGBA) image, as it shows on screen once
the frames before it are drawn (Pillow composites partial frames and applies
their disposal); writers store frames of palette codes as GIF or APNG with
their durations, loop count and disposal.

A quantized animation is then: one codebook for all frames
(:func:`skvq.learn_codebook_from_frames` over :func:`iter_frames`), codes of
each frame (:func:`skvq.dither` with ``method="blue-noise"`` or ``"bayer"``
keeps the codes of static areas from changing between frames), and
:func:`write_animation`::

    info = read_animation_info(path)
    codebook = learn_codebook_from_frames(iter_frames(path, info), n_bins=255)
    codes = (dither(frame, codebook, method="blue-noise")
             for frame in iter_frames(path, info))
    write_animation(out, codes, codebook.codewords, durations=info.durations,
                    loop=info.loop, disposal=info.disposal)

Pillow is imported only when a file is read or written.
"""

import os
from dataclasses import dataclass

import numpy as np

from ._atomic_write import write_atomically
from ._png import _palette_bytes

__all__ = [
    "AnimationInfo",
    "iter_frames",
    "read_animation",
    "read_animation_info",
    "write_animation",
]

# Guards against files that decode into far more pixels than their size
# suggests (decompression bombs), in the caller's terms: most frames, and
# most pixels of all frames together (2**30: 4 GiB as RGBA). The pixels of
# one frame are limited by Pillow's own Image.MAX_IMAGE_PIXELS, read (never
# changed) when a file is opened.
DEFAULT_MAX_FRAMES = 10_000
DEFAULT_MAX_TOTAL_PIXELS = 2**30
# Frames of formats without timing (multi-page TIFF) last this long (ms).
DEFAULT_DURATION = 100
DISPOSALS = ("none", "background", "previous")
# Pillow's disposal numbers, per format, by name: GIF's disposal method
# (0: unspecified, 1: do not dispose, 2: restore to background, 3: restore
# to previous) and APNG's dispose_op (0: none, 1: background, 2: previous).
_GIF_DISPOSAL = {0: "none", 1: "none", 2: "background", 3: "previous"}
_APNG_DISPOSAL = {0: "none", 1: "background", 2: "previous"}
_DISPOSAL_CODE = {
    "GIF": {"none": 1, "background": 2, "previous": 3},
    "PNG": {"none": 0, "background": 1, "previous": 2},
}
# The 8-bit modes a frame may have; 16-bit and float pages (TIFF) are
# refused rather than silently rounded to 8 bits.
_EIGHT_BIT_MODES = ("1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX")
_ALPHA_MODES = ("LA", "La", "PA", "RGBA", "RGBa")
_GRAY_MODES = ("1", "L", "LA", "La")
_WRITE_FORMATS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG"}
_GIF_CENTISECOND = 10


@dataclass(frozen=True)
class AnimationInfo:
    """What an animation file says besides its pixels.

    Attributes
    ----------
    format : str
        Pillow's name of the format: ``"GIF"``, ``"PNG"`` (APNG), ``"WEBP"``
        or ``"TIFF"``.
    width, height : int
        Size of every frame, in pixels.
    n_channels : int
        3 (RGB), or 4 (RGBA) when some frame has transparency.
    durations : tuple of int
        How long each frame shows, in milliseconds.
    loop : int or None
        Times the animation repeats after playing once, 0 for ever (GIF's
        convention, whatever the format: an APNG's ``num_plays`` of 3 is a
        loop of 2); ``None`` when it plays once.
    disposal : tuple of str
        What happens to each frame's area before the next is drawn:
        ``"none"`` (left as is), ``"background"`` (cleared) or
        ``"previous"`` (restored). The frames read are already composited,
        so this matters only to a writer of partial frames.
    gray : bool
        Whether every frame is gray (Pillow mode ``"1"``, ``"L"`` or
        ``"LA"``): its frames are still read as RGB(A), with three equal
        channels.
    """

    format: str
    width: int
    height: int
    n_channels: int
    durations: tuple
    loop: int | None
    disposal: tuple
    gray: bool = False

    @property
    def n_frames(self):
        return len(self.durations)

    @property
    def has_transparency(self):
        return self.n_channels == 4


def _display(path):
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else "the file"


def _check_limit(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}.")
    return int(value)


def _open(path):
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ValueError(
            f"{_display(path)} is refused as a possible decompression bomb: {exc}"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ValueError(
            f"{_display(path)} is not an image Pillow can read (animated GIF, "
            "APNG, WebP or multi-page TIFF)."
        ) from exc


def _damaged(path, index, n_frames, exc):
    return ValueError(
        f"{_display(path)} is truncated or damaged: frame {index + 1} of "
        f"{n_frames} could not be read ({type(exc).__name__}: {exc})."
    )


def _seek(image, path, index, n_frames):
    try:
        image.seek(index)
    except (OSError, EOFError, SyntaxError, ValueError) as exc:
        raise _damaged(path, index, n_frames, exc) from exc


def _load(image, path, index, n_frames):
    try:
        image.load()
    except (OSError, EOFError, SyntaxError, ValueError) as exc:
        raise _damaged(path, index, n_frames, exc) from exc


def _frame_disposal(image):
    if image.format == "GIF":
        return _GIF_DISPOSAL.get(getattr(image, "disposal_method", 0), "none")
    if image.format == "PNG":
        return _APNG_DISPOSAL.get(image.info.get("disposal", 0), "none")
    return "none"


def _frame_has_alpha(image):
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def read_animation_info(
    path,
    *,
    max_frames=DEFAULT_MAX_FRAMES,
    max_total_pixels=DEFAULT_MAX_TOTAL_PIXELS,
):
    """Read an animation's frame count, size, timing, loop and disposal.

    Every frame is visited (Pillow decodes GIF frames to find the next), so
    a truncated file is found here, before anything is written.

    Parameters
    ----------
    path : str, os.PathLike or file object
        An animated GIF, APNG, animated WebP or multi-page TIFF; a still
        image is an animation of one frame.
    max_frames : int, default=10000
        Most frames accepted.
    max_total_pixels : int, default=2**30
        Most pixels of all frames together (frames times width times
        height). One frame's pixels are limited by Pillow's
        ``Image.MAX_IMAGE_PIXELS``.

    Returns
    -------
    info : AnimationInfo

    Raises
    ------
    ValueError
        If the file is not an image, is truncated or damaged, has more
        frames or pixels than allowed, or frames of different sizes or of a
        mode that is not 8-bit.
    """
    from PIL import Image

    max_frames = _check_limit(max_frames, "max_frames")
    max_total_pixels = _check_limit(max_total_pixels, "max_total_pixels")
    with _open(path) as image:
        try:
            n_frames = getattr(image, "n_frames", 1)
        except (OSError, EOFError, SyntaxError, ValueError) as exc:
            raise _damaged(path, 0, "an unknown number", exc) from exc
        if n_frames < 1:
            raise ValueError(f"{_display(path)} has no frames.")
        width, height = image.size
        # Pillow refuses twice its limit when opening, and only warns
        # between once and twice: refused here too.
        limit = Image.MAX_IMAGE_PIXELS
        if limit is not None and width * height > limit:
            raise ValueError(
                f"{_display(path)} is refused as a possible decompression bomb: "
                f"its frames are {width} x {height} pixels, more than Pillow's "
                f"limit of {limit} (PIL.Image.MAX_IMAGE_PIXELS)."
            )
        if n_frames > max_frames:
            raise ValueError(
                f"{_display(path)} has {n_frames} frames, more than the "
                f"{max_frames} allowed (max_frames)."
            )
        total = n_frames * width * height
        if total > max_total_pixels:
            raise ValueError(
                f"{_display(path)} has {n_frames} frames of {width} x {height} "
                f"pixels, {total} in all, more than the {max_total_pixels} "
                "allowed (max_total_pixels): it would take too much memory."
            )
        durations, disposal = [], []
        has_alpha = False
        gray = True
        loop = image.info.get("loop")
        for index in range(n_frames):
            _seek(image, path, index, n_frames)
            if image.size != (width, height):
                raise ValueError(
                    f"{_display(path)}: frame {index + 1} is {image.size[0]} x "
                    f"{image.size[1]} pixels, frame 1 is {width} x {height}; "
                    "all frames of an animation must have one size."
                )
            if image.mode not in _EIGHT_BIT_MODES:
                raise ValueError(
                    f"{_display(path)}: frame {index + 1} has mode "
                    f"{image.mode!r}; frames are read as 8-bit RGB or RGBA, so "
                    "only 8-bit modes (L, LA, P, RGB, RGBA, ...) are taken."
                )
            gray &= image.mode in _GRAY_MODES
            if image.format == "WEBP":
                # Pillow sets a WebP frame's duration when it decodes it, and
                # gives RGBA frames whether or not a pixel is transparent.
                _load(image, path, index, n_frames)
                has_alpha |= image.mode == "RGBA" and image.getextrema()[3][0] < 255
            else:
                has_alpha |= _frame_has_alpha(image)
            duration = image.info.get("duration")
            if image.format == "TIFF" or duration is None:
                duration = DEFAULT_DURATION
            durations.append(round(float(duration)))
            disposal.append(_frame_disposal(image))
        image_format = image.format
    if image_format == "TIFF":
        loop = 0
    elif image_format in ("PNG", "WEBP") and loop:
        # APNG's num_plays and WebP's loop count plays (0: for ever); the
        # GIF convention used here counts repeats after the first play.
        loop = None if loop == 1 else loop - 1
    return AnimationInfo(
        format=image_format,
        width=width,
        height=height,
        n_channels=4 if has_alpha else 3,
        durations=tuple(durations),
        loop=None if loop is None else int(loop),
        disposal=tuple(disposal),
        gray=gray,
    )


def iter_frames(path, info=None):
    """Every frame of an animation, one after another, as shown on screen.

    Only the frame being decoded is held (Pillow keeps the canvas it draws
    partial frames on), so the frames of a long animation never sit in
    memory at once.

    Parameters
    ----------
    path : str, os.PathLike or file object
        As for :func:`read_animation_info`.
    info : AnimationInfo, default=None
        The file's :func:`read_animation_info`, which checks the limits and
        sets the channels; read here when not given.

    Yields
    ------
    frame : ndarray of shape (height, width, info.n_channels), dtype uint8
        RGB or RGBA, a new array for every frame.

    Raises
    ------
    ValueError
        As :func:`read_animation_info`, and if the file changed since.
    """
    if info is None:
        info = read_animation_info(path)
    mode = "RGBA" if info.has_transparency else "RGB"
    with _open(path) as image:
        for index in range(info.n_frames):
            _seek(image, path, index, info.n_frames)
            if image.size != (info.width, info.height):
                raise ValueError(
                    f"{_display(path)} changed while it was read: frame "
                    f"{index + 1} is not {info.width} x {info.height} pixels."
                )
            _load(image, path, index, info.n_frames)
            try:
                frame = image.convert(mode)
            except (OSError, EOFError, SyntaxError, ValueError) as exc:
                raise _damaged(path, index, info.n_frames, exc) from exc
            yield np.asarray(frame, dtype=np.uint8).copy()


def read_animation(path, **limits):
    """Every frame of an animation and what the file says about them.

    Parameters
    ----------
    path : str, os.PathLike or file object
        As for :func:`read_animation_info`.
    **limits
        ``max_frames`` and ``max_total_pixels``, as for
        :func:`read_animation_info`.

    Returns
    -------
    frames : ndarray of shape (n_frames, height, width, n_channels), uint8
    info : AnimationInfo

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from skvq import read_animation, write_animation
    >>> codes = np.array([[[0, 1]], [[1, 0]]])  # two frames of 1 x 2 pixels
    >>> palette = [[255, 0, 0], [0, 0, 255]]
    >>> file = io.BytesIO()
    >>> write_animation(file, codes, palette, durations=[100, 250], format="GIF")
    >>> frames, info = read_animation(file)
    >>> frames.shape, info.durations, info.loop
    ((2, 1, 2, 3), (100, 250), 0)
    >>> frames[1].tolist()
    [[[0, 0, 255], [255, 0, 0]]]
    """
    info = read_animation_info(path, **limits)
    frames = np.empty(
        (info.n_frames, info.height, info.width, info.n_channels), dtype=np.uint8
    )
    for index, frame in enumerate(iter_frames(path, info)):
        frames[index] = frame
    return frames, info


def _duration_values(durations):
    """Durations as a list of whole milliseconds, checked."""
    values = np.atleast_1d(np.asarray(durations))
    if values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
        raise TypeError(
            f"durations must be numbers of milliseconds, got {durations!r}."
        )
    if values.ndim != 1:
        raise ValueError(
            f"durations must be one number or a sequence, got shape {values.shape}."
        )
    if np.any(values < 0):
        raise ValueError("durations must be non-negative milliseconds.")
    return [round(float(value)) for value in values]


def _check_durations(durations, n_frames):
    values = _duration_values(durations)
    if len(values) == 1:
        return values * n_frames
    if len(values) != n_frames:
        raise ValueError(
            f"durations must be one number or one per frame ({n_frames}), got "
            f"{len(values)}."
        )
    return values


def _split_palette(palette):
    """RGB entries of a palette of 1 to 4 channels, and its alpha or None."""
    n_channels = palette.shape[1]
    rgb = np.repeat(palette[:, :1], 3, axis=1) if n_channels < 3 else palette[:, :3]
    alpha = palette[:, -1] if n_channels in (2, 4) else None
    return np.ascontiguousarray(rgb), alpha


def _gif_transparency(alpha):
    """The one transparent index of a GIF palette's alpha, or None."""
    if alpha is None:
        return None
    transparent = np.flatnonzero(alpha == 0)
    if np.any((alpha != 0) & (alpha != 255)) or transparent.size > 1:
        raise ValueError(
            "a GIF has at most one transparent palette entry and no "
            "translucent ones: every alpha must be 255, except 0 for one "
            f"entry; got alpha values {np.unique(alpha).tolist()}. Write an "
            "APNG (.png) to keep translucent colours."
        )
    return int(transparent[0]) if transparent.size else None


def write_animation(
    path,
    codes,
    palette,
    *,
    durations,
    loop=0,
    disposal=None,
    format=None,
    overwrite=False,
):
    """Write frames of palette codes as an animated GIF or APNG.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        File to write: ``.gif`` gives a GIF, ``.png`` or ``.apng`` an APNG,
        unless ``format`` says. A path is written to a temporary file that is
        renamed over it once complete, so it never holds half an animation.
    codes : array-like of shape (n_frames, height, width) or iterable
        Codes of each frame, indices into ``palette``, all frames of one
        size; an iterable (a generator dithering frame after frame) is
        consumed once.
    palette : array-like of shape (n_colours, n_channels), or a sequence of them
        1 to 256 entries, gray (1 channel), gray + alpha (2), RGB (3) or
        RGBA (4), on the 0..255 scale (rounded and clipped). A GIF takes one
        fully transparent entry (alpha 0) at most and no translucent ones.
        A GIF also takes one palette per frame (a list, or an array of
        shape (n_frames, n_colours, n_channels)), each written as that
        frame's local colour table; one palette is written once, as the
        global colour table.
    durations : int or sequence of int
        Milliseconds each frame shows (one value for all). GIF stores
        hundredths of a second, so its durations are rounded to 10 ms.
    loop : int or None, default=0
        Times to repeat after playing once, 0 for ever (as
        :attr:`AnimationInfo.loop`); ``None`` plays once (a GIF then has no
        loop extension).
    disposal : sequence of {"none", "background", "previous"}, default=None
        What viewers do with each frame before the next; ``None`` is
        ``"none"`` throughout. Frames are written whole, so the look does
        not depend on it; except that a GIF with a transparent entry clears
        every frame ("background"), so that its transparent pixels show
        what is behind the animation and not the frame before.
    format : {"GIF", "PNG"} or None, default=None
        ``None``: from the file's suffix (required for file objects).
    overwrite : bool, default=False
        Whether to replace ``path`` if it exists.

    Notes
    -----
    Pillow writes each frame as the rectangle that differs from the
    previous one and stores a frame identical to the previous once, with
    the two durations added. GIF frames are written with ``optimize``, which
    also makes unchanged pixels transparent when the palette has a free
    entry (fewer than 256 colours): static areas then cost almost nothing,
    provided their codes do not change (ordered dithering).

    Pillow keeps every frame it is given until the file is complete (to add
    the durations of repeated frames), so writing takes one byte per pixel
    of all frames, a third of the RGB frames, even when ``codes`` is a
    generator.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError, TypeError
        If the codes, palette, durations, loop or disposal are not valid,
        or frames differ in size; nothing is written then.
    """
    image_format = _write_format(path, format)
    per_frame = _is_per_frame(palette)
    if per_frame and image_format != "GIF":
        raise ValueError(
            "an APNG has one palette for all frames (a single PLTE chunk): "
            "give one palette, or write a GIF for a palette per frame."
        )
    palettes = [_palette_bytes(p) for p in palette] if per_frame else None
    if not per_frame:
        palette = _palette_bytes(palette)
    split = [_split_palette(p) for p in (palettes or [palette])]
    if image_format == "GIF":
        transparent = [_gif_transparency(alpha) for _, alpha in split]
    if isinstance(codes, np.ndarray) or not _is_iterator(codes):
        codes = np.asarray(codes)
        if codes.ndim != 3 or codes.shape[0] == 0:
            raise ValueError(
                "codes must hold frames, shape (n_frames, height, width) with "
                f"at least one frame, got shape {codes.shape}."
            )
        n_frames = codes.shape[0]
    else:
        n_frames = None
    if n_frames is not None:
        durations = _check_durations(durations, n_frames)
    if loop is not None and (
        isinstance(loop, bool)
        or not isinstance(loop, (int, np.integer))
        or not 0 <= loop <= 65534
    ):
        raise ValueError(
            f"loop must be None (play once) or an int from 0 (for ever) to "
            f"65534, got {loop!r}."
        )
    if disposal is not None:
        disposal = list(disposal)
        for value in disposal:
            if value not in DISPOSALS:
                raise ValueError(
                    f"disposal must hold {', '.join(map(repr, DISPOSALS))}, "
                    f"got {value!r}."
                )
    if per_frame and n_frames is not None and len(split) != n_frames:
        raise ValueError(
            f"palette holds {len(split)} palettes for {n_frames} frames: give "
            "one palette, or one per frame."
        )
    frames = _frame_images(codes, [rgb.shape[0] for rgb, _ in split], per_frame)
    first = next(frames, None)
    if first is None:
        raise ValueError("codes holds no frame: at least one is needed.")

    def with_palette(index, image):
        rgb, _ = split[index if per_frame else 0]
        image.putpalette(rgb.tobytes(), "RGB")
        if per_frame and transparent[index] is not None:
            image.info["transparency"] = transparent[index]
        return image

    # Frames are consumed as Pillow writes them; every frame is checked
    # before Pillow sees it, and an error leaves no file behind.
    rest = (with_palette(index, image) for index, image in enumerate(frames, 1))
    if image_format == "PNG":
        # Pillow's APNG writer goes through the frames twice (first for
        # their modes and sizes), so it needs them all: one byte per pixel.
        rest = list(rest)
    options = {"save_all": True, "append_images": rest, "format": image_format}
    if n_frames is None:
        # The durations of an iterable's frames are checked once all are
        # known: Pillow reads them by index as it goes.
        durations = _LazyDurations(durations)
    options["duration"] = durations
    if disposal is None:
        disposal = "none"
    if image_format == "GIF":
        if loop is not None:
            options["loop"] = loop
        options["optimize"] = True
        if not per_frame:
            # One global colour table, instead of a local one in every frame.
            options["palette"] = split[0][0].tobytes()
            if transparent[0] is not None:
                options["transparency"] = transparent[0]
        if any(index is not None for index in transparent):
            disposal = "background"
    else:
        options["loop"] = 1 if loop is None else (0 if loop == 0 else loop + 1)
        options["blend"] = 0  # OP_SOURCE: a frame replaces what is under it
        alpha = split[0][1]
        if alpha is not None:
            options["transparency"] = alpha.tobytes()
    codes_of = _DISPOSAL_CODE[image_format]
    if isinstance(disposal, str):
        options["disposal"] = codes_of[disposal]
    else:
        options["disposal"] = [codes_of[value] for value in disposal]
    first = with_palette(0, first)

    def write(file):
        first.save(file, **options)
        if isinstance(durations, _LazyDurations):
            durations.check_used()

    if hasattr(path, "write"):
        write(path)
        path.seek(0)
    else:
        write_atomically(path, write, overwrite=overwrite)


class _LazyDurations(list):
    """Durations of frames whose number is not known in advance: one value
    for all, or one per frame, checked as Pillow reads them."""

    def __init__(self, durations):
        values = _duration_values(durations)
        self.single = len(values) == 1
        self.used = 0
        super().__init__(values)

    def __getitem__(self, index):
        self.used = max(self.used, index + 1)
        if self.single:
            return super().__getitem__(0)
        if index >= len(self):
            raise ValueError(
                f"durations has {len(self)} values but codes has more frames."
            )
        return super().__getitem__(index)

    def check_used(self):
        if not self.single and self.used != len(self):
            raise ValueError(
                f"durations has {len(self)} values but codes has {self.used} frames."
            )


def _is_iterator(codes):
    return iter(codes) is codes


def _write_format(path, format):
    if format is not None:
        if format not in ("GIF", "PNG"):
            raise ValueError(f"format must be 'GIF' or 'PNG' (APNG), got {format!r}.")
        return format
    if hasattr(path, "write"):
        raise ValueError("format is needed to write to a file object: 'GIF' or 'PNG'.")
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in _WRITE_FORMATS:
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)} from its suffix: "
            "animations are written as .gif, .png or .apng (or pass format)."
        )
    return _WRITE_FORMATS[suffix]


def _is_per_frame(palette):
    """Whether ``palette`` is a sequence of palettes, one per frame."""
    if isinstance(palette, np.ndarray):
        return palette.ndim == 3
    return (
        isinstance(palette, (list, tuple))
        and len(palette) > 0
        and np.ndim(palette[0]) == 2
    )


def _frame_images(codes, n_colours_of, per_frame):
    """Each frame of codes, checked, as a Pillow "P" image; ``n_colours_of``
    holds the number of colours of each frame's palette (``per_frame``) or
    of the one palette."""
    from PIL import Image

    shape = None
    for index, frame in enumerate(codes):
        if per_frame and index >= len(n_colours_of):
            raise ValueError(
                f"codes has more frames than palette has palettes "
                f"({len(n_colours_of)})."
            )
        n_colours = n_colours_of[index if per_frame else 0]
        frame = np.asarray(frame)
        if not (np.issubdtype(frame.dtype, np.integer) or frame.dtype == np.bool_):
            raise TypeError(
                f"codes must be integers, frame {index + 1} has dtype {frame.dtype}."
            )
        if frame.ndim != 2 or frame.size == 0:
            raise ValueError(
                f"frame {index + 1} of codes has shape {frame.shape}; each frame "
                "must be a 2-D (height, width) array of codes."
            )
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise ValueError(
                f"frame {index + 1} of codes has shape {frame.shape}, frame 1 has "
                f"{shape}: all frames of an animation must have one size."
            )
        low, high = int(frame.min()), int(frame.max())
        if low < 0 or high >= n_colours:
            raise ValueError(
                f"frame {index + 1} of codes has codes from {low} to {high}; "
                f"they must be in [0, {n_colours}) for a palette of {n_colours} "
                "entries."
            )
        indices = np.ascontiguousarray(frame, dtype=np.uint8)
        yield Image.frombytes("P", (shape[1], shape[0]), indices.tobytes())
