"""Animated inputs (GIF, APNG, animated WebP, multi-page TIFF) to GIF or APNG.

One file is one task of the pipeline, as a still image is. Its frames are
read twice, one after another (:func:`skvq.iter_frames`): once to learn one
codebook of all frames (:func:`skvq.learn_codebook_from_frames`, which
holds one frame and the summary of those before it), once to dither them
(:func:`skvq.dither_frames`) as they are written.

Choices, in the command line's terms:

- the output follows the input: a GIF gives a GIF, everything else an APNG
  (an APNG keeps 256 colours in its one palette, and WebP and TIFF frames
  are more often photographic, where a GIF's 255 colours and 1-bit alpha
  lose more); an output named ``.gif`` or ``.png``/``.apng`` (``--output``,
  ``--ext``) says otherwise;
- GIF outputs get ``N - 1`` colours and one palette entry free (as
  ffmpeg's palettegen): the free entry lets Pillow store the pixels that
  do not change from the previous frame as transparent, so static areas
  cost almost nothing;
- the default dithering of animations is ordered (blue noise at strength
  0.5), not error diffusion: benchmarks/bench_animation.py measured 0
  pixels of static areas changing colour between frames and under half of
  ffmpeg's bytes, where error diffusion makes static areas shimmer;
- transparency: pixels of alpha below 128 share one transparent palette
  entry, the others are opaque (GIF has nothing in between); the other
  ``N - 1`` entries are fitted to the opaque pixels.
"""

import collections
import io
import os
import re

import numpy as np

from ._arguments import STDIN
from ._write import FileError, write_output

# The default of --dither-method for animations, and its strength when
# --dither is not given: see the module's docstring for the measurement.
DEFAULT_METHOD = "blue-noise"
DEFAULT_STRENGTH = 0.5
# Pixels with alpha below this are transparent, the others opaque (the
# threshold of ffmpeg's paletteuse and of gifsicle).
ALPHA_THRESHOLD = 128
_ANIMATED_FORMATS = ("GIF", "PNG", "WEBP", "TIFF")
_OUTPUT_FORMATS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG"}
# The library names its limits as its keywords; the command line as options.
_LIMITS = {
    "(max_frames)": "(--max-frames)",
    "(max_total_pixels)": "(--max-total-pixels)",
}


def is_animation(path):
    """Whether ``path`` goes through this module: every GIF (its output is
    a GIF), and APNG, WebP and TIFF files of more than one frame. Files
    Pillow cannot open are left to the still-image reader, which reports
    them."""
    if path == STDIN:
        return False
    from PIL import Image

    from ._read import _open_regular_file

    try:
        # Opened as the reader does: a FIFO or a device is never waited on.
        with _open_regular_file(path) as file, Image.open(file) as image:
            if image.format == "GIF":
                return True
            return (
                image.format in _ANIMATED_FORMATS and getattr(image, "n_frames", 1) > 1
            )
    except Exception:
        return False


def output_format(input_format, output):
    """``"GIF"`` or ``"PNG"`` (APNG) for ``output``: from its suffix, or from
    the input for standard output."""
    if output == STDIN:
        return "GIF" if input_format == "GIF" else "PNG"
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in _OUTPUT_FORMATS:
        raise FileError(
            f"cannot write an animation to {output}: animations are written as "
            "GIF (.gif) or APNG (.png, .apng); choose one with --output or --ext"
        )
    return _OUTPUT_FORMATS[suffix]


def _in_cli_terms(exc):
    text = str(exc)
    for name, option in _LIMITS.items():
        text = text.replace(name, option)
    # The file is named by the row; the library says "the file".
    return re.sub(r"\.$", "", text)


class _Frames:
    """The frames of an open file, read again each time it is iterated,
    with the library's errors as :class:`FileError`."""

    def __init__(self, file, info):
        self.file = file
        self.info = info

    def __iter__(self):
        from .._animation import iter_frames

        self.file.seek(0)
        frames = iter_frames(self.file, self.info)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                return
            except ValueError as exc:
                raise FileError(_in_cli_terms(exc)) from None
            yield frame


def quantize_animation(path, output, args):
    """Quantize the animation ``path`` and write it to ``output``.

    Returns
    -------
    row : tuple or None
        The report's row (bytes before and after, bits per pixel, MSE and
        the two PSNR), None if ``--skip-if-larger`` skipped it.
    detail : str
        The verbose line, or why it was skipped.
    messages : list of str
        Warnings in the command line's terms.

    Raises
    ------
    FileError
        If the file cannot be read (truncated, no frames, frames of another
        size or mode, more than --max-frames frames or --max-total-pixels
        pixels) or written; nothing is written then.
    """
    from .._animation import read_animation_info
    from ._read import _open_error, _open_regular_file

    try:
        file = _open_regular_file(path)
    except FileError:
        raise
    except OSError as exc:
        raise FileError(_open_error(path, exc)) from None
    with file:
        n_bytes = os.fstat(file.fileno()).st_size
        try:
            info = read_animation_info(
                file,
                max_frames=args.max_frames,
                max_total_pixels=args.max_total_pixels,
            )
        except ValueError as exc:
            raise FileError(_in_cli_terms(exc)) from None
        image_format = output_format(info.format, output)
        if args.per_frame_palette and image_format != "GIF":
            raise FileError(
                f"--per-frame-palette needs a GIF output, and {output} is an "
                "APNG, which has one palette for all frames (name it .gif)"
            )
        return _quantize(_Frames(file, info), n_bytes, image_format, path, output, args)


def _quantize(frames, n_bytes, image_format, path, output, args):
    from .._animation import write_animation
    from ._pipeline import collected
    from ._report import errors, psnr

    info = frames.info
    n_colours = args.n_bins
    transparent = info.has_transparency
    if transparent and n_colours < 3:
        raise FileError(
            "has transparency, which takes one palette entry: use --n-bins 3 "
            "or more for at least two colours"
        )
    if image_format == "GIF" and not transparent and n_colours > 2:
        # One entry of the N left free, as ffmpeg's palettegen does: Pillow
        # then stores the pixels unchanged since the previous frame as
        # transparent, so static areas cost almost nothing.
        n_colours -= 1
    method = args.dither_method or DEFAULT_METHOD
    # --dither's default (1.0) is error diffusion's; the ordered methods
    # default to the strength measured for animations.
    if args.dither_given or method == "floyd-steinberg":
        strength = args.dither
    else:
        strength = DEFAULT_STRENGTH
    n_fitted = n_colours - transparent
    with collected() as caught:
        if args.per_frame_palette:
            palettes, codes = _per_frame(frames, n_fitted, method, strength, args)
        else:
            palettes, codes = _one_palette(frames, n_fitted, method, strength, args)
    totals = [0.0, 0.0]

    def measured(codes):
        # Errors against the palette as written (8-bit entries), frame by
        # frame as the writer takes the codes; all frames have one size, so
        # the mean of the frames' means is the mean of all pixels.
        for index, (frame, frame_codes) in enumerate(codes):
            if not args.quiet:
                table = palettes(index)
                mse, blurred = errors(frame, _visible, _shown(table), frame_codes)
                totals[0] += mse
                totals[1] += blurred
            yield frame_codes

    buffer = io.BytesIO()
    with collected() as caught_dither:
        try:
            write_animation(
                buffer,
                measured(codes),
                palettes.written(),
                durations=info.durations,
                loop=info.loop,
                disposal=info.disposal,
                format=image_format,
            )
        except ValueError as exc:  # a frame of another size, read twice
            raise FileError(_in_cli_terms(exc)) from None
    data = buffer.getvalue()
    messages = _messages(caught + caught_dither, palettes, n_fitted)
    if args.skip_if_larger and len(data) >= n_bytes:
        skipped = (
            f"skipped: its output ({len(data)} bytes) would not be smaller "
            f"than the input ({n_bytes} bytes), --skip-if-larger"
        )
        return None, skipped, messages
    write_output(output, data, args.overwrite)
    n_pixels = info.n_frames * info.width * info.height
    if args.quiet:
        mse = blurred_mse = float("nan")
    else:
        mse, blurred_mse = totals[0] / info.n_frames, totals[1] / info.n_frames
    kind = "per-frame palettes of up to" if args.per_frame_palette else "one palette of"
    detail = (
        f"{path} -> {output}: {image_format if image_format == 'GIF' else 'APNG'}"
        f", {info.n_frames} frames of {info.width}x{info.height} pixels, {kind} "
        f"{palettes.n_colours} colours"
        + (" (one transparent)" if transparent else "")
        + f", {method} dithering at {strength}"
    )
    row = (n_bytes, len(data), 8 * len(data) / n_pixels, mse, psnr(mse))
    return (*row, psnr(blurred_mse)), detail, messages


def _messages(caught, palettes, n_fitted):
    from ..exceptions import FewerCodewordsWarning

    messages, fewer = [], False
    for warning in caught:
        if issubclass(warning.category, FewerCodewordsWarning):
            fewer = True
        else:
            messages.append(str(warning.message))
    if fewer and not palettes.per_frame and palettes.n_fitted < n_fitted:
        messages.append(
            f"only {palettes.n_fitted} distinct colours in all frames, fewer "
            "than --n-bins: each has its own palette entry, without loss"
        )
    return messages


def _visible(pixels):
    """Pixels as the report measures them: RGB, or RGBA with the colour
    premultiplied by alpha and alpha made 0 or 255 (what the output can
    show)."""
    pixels = pixels.astype(np.float32)
    if pixels.shape[-1] == 4:
        opaque = pixels[..., 3:] >= ALPHA_THRESHOLD
        pixels[..., :3] *= pixels[..., 3:] / 255.0
        pixels[..., 3:] = np.where(opaque, 255.0, 0.0)
    return pixels


def _shown(entries):
    """Palette entries as :func:`_visible` shows them."""
    return _visible(entries)


class _Palettes:
    """The palette (or palettes) of the output: the fitted colours, rounded
    to 8 bits, and the transparent entry last."""

    def __init__(self, transparent, per_frame):
        self.transparent = transparent
        self.per_frame = per_frame
        self.entries = []

    def add(self, codewords):
        entries = np.clip(np.rint(codewords), 0, 255)
        if self.transparent:
            entries = np.vstack(
                [np.hstack([entries, np.full((len(entries), 1), 255.0)]), np.zeros(4)]
            )
        self.entries.append(entries)
        return len(entries) - 1  # the transparent index, when there is one

    @property
    def n_colours(self):
        return max(len(entries) for entries in self.entries)

    @property
    def n_fitted(self):
        return self.n_colours - self.transparent

    def __call__(self, index):
        return self.entries[index if self.per_frame else 0]

    def written(self):
        return self.entries if self.per_frame else self.entries[0]


def _opaque_pixels(frames):
    """The opaque pixels of each frame, as images of one column."""
    for frame in frames:
        if frame.shape[-1] == 4:
            frame = frame[frame[..., 3] >= ALPHA_THRESHOLD][:, None, :3]
            if not frame.size:
                continue
        yield frame


def _one_palette(frames, n_fitted, method, strength, args):
    """One codebook of all frames, and the codes of each frame with it."""
    from .._quantize import dither_frames, learn_codebook_from_frames

    try:
        codebook = learn_codebook_from_frames(
            _opaque_pixels(frames),
            n_fitted,
            strategy=args.strategy,
            random_state=args.random_state,
        )
    except ValueError as exc:
        if "no frame" not in str(exc):
            raise
        raise FileError("has no visible pixel: every frame is transparent") from None
    palettes = _Palettes(frames.info.has_transparency, per_frame=False)
    transparent_index = palettes.add(codebook.codewords)
    pending = collections.deque()

    def colours():
        # The frames as read, kept until their codes come back: dither_frames
        # takes one frame at a time, so at most two wait here.
        for frame in frames:
            pending.append(frame)
            yield frame[..., :3] if palettes.transparent else frame

    def coded():
        for codes in dither_frames(
            colours(), codebook, method=method, strength=strength
        ):
            frame = pending.popleft()
            if palettes.transparent:
                codes = codes.astype(np.uint8)
                codes[frame[..., 3] < ALPHA_THRESHOLD] = transparent_index
            yield frame, codes

    return palettes, coded()


def _per_frame(frames, n_fitted, method, strength, args):
    """A codebook per frame (GIF local palettes), learned in a first pass
    over the frames (the writer needs every palette before the first frame),
    and each frame's codes in a second."""
    from .._quantize import Codebook, dither, learn_codebook_from_frames

    palettes = _Palettes(frames.info.has_transparency, per_frame=True)
    codebooks, transparent_indices = [], []
    for frame in frames:
        opaque = next(_opaque_pixels([frame]), None)
        if opaque is None:  # a frame with nothing visible
            codebook = Codebook.from_codewords(np.zeros((1, 3)))
        else:
            codebook = learn_codebook_from_frames(
                [opaque],
                n_fitted,
                strategy=args.strategy,
                random_state=args.random_state,
            )
        codebooks.append(codebook)
        transparent_indices.append(palettes.add(codebook.codewords))

    def coded():
        for index, frame in enumerate(frames):
            codes = dither(
                frame[..., :3], codebooks[index], method=method, strength=strength
            )
            if palettes.transparent:
                codes = codes.astype(np.uint8)
                codes[frame[..., 3] < ALPHA_THRESHOLD] = transparent_indices[index]
            yield frame, codes

    return palettes, coded()
