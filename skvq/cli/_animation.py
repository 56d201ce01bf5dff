"""Animated inputs (GIF, APNG, animated WebP, multi-page TIFF) to GIF or APNG.

One file is one task of the pipeline, as a still image is. Its frames are
read twice, one after another (:func:`skvq.iter_frames`): once to count the
colours of all frames (:class:`_RunningCounts`, which holds two frames and
the changes between them, and gives the summary :func:`skvq.summarize`
would give of all frames at once) and learn one codebook of them, once to
dither them (:func:`skvq.dither_frames`) as they are written.

The options of still images apply to all frames together: ``--quality``
(the bisection of :mod:`skvq.cli._quality`, its error over every visible
pixel of every frame), ``--map``, ``--posterize`` and gray (``--gray``, gray
frames, and frames of three equal channels) through the palettes of
:mod:`skvq.cli._palette`; ``--color-space`` when given; ``--optimize`` runs
oxipng on APNG outputs.

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
- colours are fitted and coded in Oklab unless --color-space rgb is given,
  as for still images (on benchmarks/bench_animation.py's clips, Oklab
  scored 1-19 points of SSIMULACRA2 higher at about the same bytes);
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
MAX_ENTRIES = 256  # of a GIF or PNG palette
# The atoms of skvq.learn_codebook's summaries (its max_atoms default).
MAX_ATOMS = 65536
# Changed pixels kept before they are added up (3 bytes each, and 8 for
# their weight when they are).
_PENDING_PIXELS = 1 << 20
_OUTPUT_FORMATS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG"}
# The library names its limits as its keywords; the command line as options.
_LIMITS = {
    "(max_frames)": "(--max-frames)",
    "(max_total_pixels)": "(--max-total-pixels)",
}


def is_animation(path, gif_stills=True):
    """Whether ``path`` goes through this module: every GIF (its output is
    a GIF; with ``gif_stills`` False, only GIFs of several frames), and
    APNG, WebP and TIFF files of more than one frame. Files Pillow cannot
    open are left to the still-image reader, which reports them."""
    if path == STDIN:
        return False
    from PIL import Image

    from ._read import _open_regular_file

    try:
        # Opened as the reader does: a FIFO or a device is never waited on.
        with _open_regular_file(path) as file, Image.open(file) as image:
            if image.format == "GIF" and gif_stills:
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


def quantize_animation(path, output, args, map_entries=None):
    """Quantize the animation ``path`` and write it to ``output``.

    Parameters
    ----------
    path, output : str
    args : argparse.Namespace
        The command's options.
    map_entries : ndarray of shape (n_colours, n_channels), default=None
        The colours of ``--map``, 8-bit values.

    Returns
    -------
    row : tuple or None
        The report's row (bytes before and after, bits per pixel, MSE and
        the two PSNR), None if the file was skipped or refused.
    detail : str
        The verbose line, or why it was skipped.
    messages : list of str
        Warnings in the command line's terms.
    refused : str or None
        Why ``--quality`` refused the file (nothing written), or None.

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
        job = _Job(_Frames(file, info), args, map_entries)
        return job.run(n_bytes, image_format, path, output)


class _Job:
    """One animation: how its frames are seen (gray or colour, which pixels
    are visible), its palette (or palettes), its codes."""

    def __init__(self, frames, args, map_entries):
        info = frames.info
        self.frames = frames
        self.info = info
        self.args = args
        self.map_entries = map_entries
        if map_entries is not None and map_entries.shape[1] in (2, 4):
            raise FileError(
                "--map: animations take palettes without alpha (their pixels "
                "are opaque or fully transparent, which takes one entry of its "
                "own); give a palette of colours or gray levels"
            )
        # Gray as still images are: frames of gray modes stay gray, --gray
        # makes them gray (ITU-R 601-2 luma, as Pillow), and so does a --map
        # of gray levels; a --map of colours takes colours.
        if map_entries is not None:
            self.gray = map_entries.shape[1] == 1
        else:
            self.gray = args.gray or info.gray
        # Whether the frames' three channels are equal: set once the fit's
        # pass has seen every frame so (GIFs of gray are read as colour
        # after their first frame).
        self.gray_content = info.gray
        self.transparent = info.has_transparency
        self.space = "rgb" if self.gray else args.color_space

    # ---------------------------------------------------------- the frames

    def seen(self):
        """Each frame as it is coded: ``(values, alpha)``, values of shape
        (height, width) for gray or (height, width, 3), uint8, and the
        frame's alpha, or None without transparency (pixels of alpha below
        128 are transparent, the others opaque)."""
        for frame in self.frames:
            alpha = None
            if frame.shape[-1] == 4:
                alpha = frame[..., 3]
                frame = frame[..., :3]
            if self.gray:
                frame = _luma(frame, already_gray=self.gray_content)
            yield frame, alpha

    # ---------------------------------------------------------- the run

    def run(self, n_bytes, image_format, path, output):
        from .._animation import write_animation
        from ._pipeline import collected
        from ._report import psnr

        args, info = self.args, self.info
        n_colours = args.n_bins
        if self.transparent and n_colours < 3 and self.map_entries is None:
            raise FileError(
                "has transparency, which takes one palette entry: use --n-bins 3 "
                "or more for at least two colours"
            )
        if (
            image_format == "GIF"
            and not self.transparent
            and n_colours > 2
            and self.map_entries is None
        ):
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
        n_fitted = n_colours - self.transparent
        refused = None
        with collected() as caught:
            if args.per_frame_palette:
                palettes = self._per_frame(n_fitted)
            else:
                palettes, refused = self._one_palette(n_fitted)
        messages = _messages(caught, palettes, n_fitted, self.gray)
        if refused is not None:
            return None, "", messages, refused
        totals = [0.0, 0.0]
        buffer = io.BytesIO()
        with collected() as caught_dither:
            try:
                write_animation(
                    buffer,
                    self._measured(self._coded(palettes, method, strength), totals),
                    palettes.written(),
                    durations=info.durations,
                    loop=info.loop,
                    disposal=info.disposal,
                    format=image_format,
                )
            except ValueError as exc:  # a frame of another size, read twice
                raise FileError(_in_cli_terms(exc)) from None
        data = buffer.getvalue()
        messages += [str(warning.message) for warning in caught_dither]
        data = self._optimized(data, image_format, messages)
        if args.skip_if_larger and len(data) >= n_bytes:
            skipped = (
                f"skipped: its output ({len(data)} bytes) would not be smaller "
                f"than the input ({n_bytes} bytes), --skip-if-larger"
            )
            return None, skipped, messages, None
        write_output(output, data, args.overwrite)
        n_pixels = info.n_frames * info.width * info.height
        if args.quiet:
            mse = blurred_mse = float("nan")
        else:
            mse, blurred_mse = totals[0] / info.n_frames, totals[1] / info.n_frames
        if args.per_frame_palette:
            kind = "per-frame palettes of up to"
        elif self.map_entries is not None:
            kind = "the --map palette of"
        else:
            kind = "one palette of"
        detail = (
            f"{path} -> {output}: {image_format if image_format == 'GIF' else 'APNG'}"
            f", {info.n_frames} frames of {info.width}x{info.height} pixels, {kind} "
            f"{palettes.n_colours} {'gray levels' if self.gray else 'colours'}"
            + (" (one transparent)" if self.transparent else "")
            + f", {method} dithering at {strength}"
        )
        row = (n_bytes, len(data), 8 * len(data) / n_pixels, mse, psnr(mse))
        return (*row, psnr(blurred_mse)), detail, messages, None

    def _optimized(self, data, image_format, messages):
        """An APNG through oxipng at --optimize's level (the pixels and the
        palette unchanged); a GIF as Pillow writes it."""
        level = self.args.optimize
        if level is False:
            return data
        if image_format == "GIF":
            if getattr(self.args, "optimize_given", False):
                messages.append(
                    "--optimize applies to PNG and APNG outputs (oxipng); the "
                    "GIF is written as Pillow optimizes it"
                )
            return data
        from .._oxipng import optimize
        from .._png import _import_oxipng

        _import_oxipng(f"--optimize {level}")
        # No reduction: oxipng's reductions are made on the default image
        # only, and every frame shares its palette and bit depth.
        options = {
            "level": level,
            "bit_depth_reduction": False,
            "color_type_reduction": False,
            "palette_reduction": False,
            "grayscale_reduction": False,
        }
        return optimize(data, options)

    def _measured(self, coded, totals):
        """The codes as the writer takes them, frame by frame, with the
        errors against the palette as written (8-bit entries) added to
        ``totals``; all frames have one size, so the mean of the frames'
        means is the mean of all pixels."""
        from ._report import errors

        for frame, table, frame_codes in coded:
            if not self.args.quiet:
                mse, blurred = errors(frame, _visible, _visible(table), frame_codes)
                totals[0] += mse
                totals[1] += blurred
            yield frame_codes

    # ---------------------------------------------------------- palettes

    def _palette(self, summary, n_colours):
        """The palette of ``n_colours`` at most fitted to ``summary``, with
        --posterize applied as for still images."""
        from ._palette import learn, opaque_palette

        codebook = learn(summary, n_colours, self.args, space=self.space)
        return opaque_palette(codebook, 1, self.args.posterize)

    def _map_palette(self):
        from .._quantize import Codebook
        from ._palette import Palette

        entries = self.map_entries
        if self.transparent and len(entries) >= MAX_ENTRIES:
            raise FileError(
                f"has transparency, which takes one palette entry, and the --map "
                f"palette has {len(entries)} colours: give at most "
                f"{MAX_ENTRIES - 1}"
            )
        space = "rgb" if self.gray else self.args.color_space
        codebook = Codebook.from_codewords(entries, color_space=space)
        return Palette(entries, codebook, alpha=False, color_space=space)

    def _summary(self, seen):
        """The exact summary of the visible pixels of ``seen``, or None.

        Colour frames that are all gray (equal channels) are then
        quantized as gray, as gray images are: the summary is of their gray
        levels (the exact 1-D k-means is also the best of the colours), and
        the frames are coded in gray.
        """
        counts = _RunningCounts(1 if self.gray else 3, self.info.n_frames)
        for values, alpha in seen:
            counts.add(values, alpha)
        if not self.gray and counts.all_gray:
            self.gray = self.gray_content = True
            self.space = "rgb"
            return counts.summary(gray=True)
        return counts.summary()

    def _one_palette(self, n_fitted):
        """One palette of all frames, and why --quality refused it (or
        None)."""
        palettes = _Palettes(self.transparent, per_frame=False)
        if self.map_entries is not None:
            palettes.add(self._map_palette())
            return palettes, None
        summary = self._summary(self.seen())
        if summary is None:
            raise FileError("has no visible pixel: every frame is transparent")
        if self.args.quality is None:
            palettes.add(self._palette(summary, n_fitted))
            return palettes, None
        palette, refused = self._quality(summary, n_fitted)
        palettes.add(palette)
        return palettes, refused

    def _quality(self, summary, most):
        """--quality over all frames: the fewest colours reaching MAX, by
        the bisection still images use, and the refusal below MIN."""
        from ._quality import fewest_colours, quality_to_mse

        least, best = self.args.quality
        palette, mse = fewest_colours(
            lambda n: self._palette(summary, n),
            lambda palette: self._error(palette, summary),
            most,
            quality_to_mse(best),
        )
        if mse > quality_to_mse(least):
            return palette, (
                f"refused: its error with {len(palette.entries)} colours (MSE "
                f"{mse:.3f}, over the visible pixels of all frames) is above the "
                f"bound of --quality minimum {least} (MSE "
                f"{quality_to_mse(least):.3f}); nothing written"
            )
        return palette, None

    def _error(self, palette, summary):
        """MSE (0..255 scale) of every visible pixel of every frame on its
        nearest codeword: what --quality bounds, as for still images.

        While the summary's atoms are the distinct colours (up to 65536),
        from them, weighted by their counts: the same sum as over every
        pixel; else by a pass over the frames.
        """
        from .._quantize import mean_squared_error

        codebook = palette.codebook
        if summary.cell_exponent is None:
            return mean_squared_error(
                summary.key, codebook, sample_weight=summary.weight
            )
        total = n_pixels = 0.0
        for values, alpha in self.seen():
            pixels = values.reshape(-1, codebook.n_channels)
            if alpha is not None:
                pixels = pixels[alpha.reshape(-1) >= ALPHA_THRESHOLD]
            if len(pixels):
                total += mean_squared_error(pixels, codebook) * len(pixels)
                n_pixels += len(pixels)
        return total / n_pixels

    def _per_frame(self, n_fitted):
        """A palette per frame (GIF local palettes), learned in a first pass
        over the frames (the writer needs every palette before the first
        frame)."""
        from .._quantize import Codebook
        from ._palette import Palette

        palettes = _Palettes(self.transparent, per_frame=True)
        for values, alpha in self.seen():
            counts = _RunningCounts(1 if self.gray else 3, 1)
            counts.add(values, alpha)
            summary = counts.summary()
            if summary is None:  # a frame with nothing visible
                zeros = np.zeros((1, 1 if self.gray else 3))
                palette = Palette(zeros, Codebook.from_codewords(zeros), alpha=False)
            else:
                palette = self._palette(summary, n_fitted)
            palettes.add(palette)
        return palettes

    def _coded(self, palettes, method, strength):
        """``(frame, palette entries, codes)`` of each frame, the frame as
        the report measures it (values, and alpha if any)."""
        from .._quantize import dither, dither_frames

        if palettes.per_frame:
            for index, (values, alpha) in enumerate(self.seen()):
                codebook = palettes.palettes[index].codebook
                codes = dither(values, codebook, method=method, strength=strength)
                yield self._coded_frame(palettes, index, values, alpha, codes)
            return
        pending = collections.deque()

        def values_of():
            # The frames as read, kept until their codes come back:
            # dither_frames takes one frame at a time, so at most two wait
            # here.
            for values, alpha in self.seen():
                pending.append((values, alpha))
                yield values

        codebook = palettes.palettes[0].codebook
        for codes in dither_frames(
            values_of(), codebook, method=method, strength=strength
        ):
            values, alpha = pending.popleft()
            yield self._coded_frame(palettes, 0, values, alpha, codes)

    @staticmethod
    def _coded_frame(palettes, index, values, alpha, codes):
        entries = palettes(index)
        frame = values[..., None] if values.ndim == 2 else values
        if alpha is not None:
            codes = codes.astype(np.uint8)
            codes[alpha < ALPHA_THRESHOLD] = len(entries) - 1
            frame = np.concatenate([frame, alpha[..., None]], axis=-1)
        return frame, entries, codes


def _luma(rgb, already_gray=False):
    """Gray values of RGB frames: the first channel of frames read from
    gray ones (all three equal), else ITU-R 601-2 luma as Pillow's
    ``convert("L")``, which still images take for --gray."""
    if already_gray:
        return np.ascontiguousarray(rgb[..., 0])
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).convert("L"))


def _messages(caught, palettes, n_fitted, gray):
    from ..exceptions import FewerCodewordsWarning

    messages, fewer = [], False
    for warning in caught:
        if issubclass(warning.category, FewerCodewordsWarning):
            fewer = True
        else:
            messages.append(str(warning.message))
    if fewer and not palettes.per_frame and palettes.n_fitted < n_fitted:
        kind = "gray levels" if gray else "colours"
        messages.append(
            f"only {palettes.n_fitted} distinct {kind} in all frames, fewer "
            "than --n-bins: each has its own palette entry, without loss"
        )
    return messages


def _visible(pixels):
    """Pixels as the report measures them: gray or RGB, or with alpha the
    colour premultiplied by alpha and alpha made 0 or 255 (what the output
    can show)."""
    pixels = pixels.astype(np.float32)
    if pixels.shape[-1] in (2, 4):
        opaque = pixels[..., -1:] >= ALPHA_THRESHOLD
        pixels[..., :-1] *= pixels[..., -1:] / 255.0
        pixels[..., -1:] = np.where(opaque, 255.0, 0.0)
    return pixels


class _Palettes:
    """The palette (or palettes, :class:`skvq.cli._palette.Palette`) of the
    output, and their entries as written: 8-bit values, and the transparent
    entry last when the frames have transparency."""

    def __init__(self, transparent, per_frame):
        self.transparent = transparent
        self.per_frame = per_frame
        self.palettes = []
        self.entries = []

    def add(self, palette):
        entries = palette.entries
        if self.transparent:
            opaque = np.full((len(entries), 1), 255.0)
            entries = np.vstack(
                [np.hstack([entries, opaque]), np.zeros((1, entries.shape[1] + 1))]
            )
        self.palettes.append(palette)
        self.entries.append(entries)

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


class _RunningCounts:
    """Exact counts of the visible colours (or gray levels) of all the
    frames of an animation, from each frame's changes.

    The counts of all frames are the sum over frames ``k`` (from 0) of the
    change from frame ``k - 1`` to frame ``k`` (frame 0's change being all
    of it) times ``n_frames - k``, the frames it is part of. Only the pixels
    that change are counted, so static areas cost one comparison per frame;
    the changed pixels wait and are added up (integers, exactly)
    when they reach ``_PENDING_PIXELS``, not merged frame by frame. The
    summary made at the end is bit for bit :func:`skvq.summarize`'s of
    every visible pixel of every frame at once: the same distinct values
    and counts, and the same grid beyond 65536 of them.
    """

    def __init__(self, n_channels, n_frames):
        self.n_channels = n_channels
        self.remaining = n_frames
        self.previous = None
        # Whether every colour frame so far has three equal channels.
        self.all_gray = n_channels == 3
        if n_channels == 1:
            self.dense = np.zeros(256, dtype=np.int64)
        else:
            self.dense = None
            # The colours counted so far, ascending by key, and their counts
            # (integers, exact in float64).
            self.colours = np.empty((0, 3), dtype=np.uint8)
            self.counts = np.empty(0)
            self.pending = []
            self.n_pending = 0

    def add(self, values, alpha):
        """Count a frame: ``values`` uint8 of shape (height, width) or
        (height, width, 3), and its ``alpha`` (or None)."""
        if self.remaining < 1:
            raise FileError("changed while it was read: more frames than before")
        weight = self.remaining
        self.remaining -= 1
        visible = None if alpha is None else alpha >= ALPHA_THRESHOLD
        if self.all_gray:
            self.all_gray = np.array_equal(
                values[..., 0], values[..., 1]
            ) and np.array_equal(values[..., 0], values[..., 2])
        previous = self.previous
        self.previous = values, visible
        if previous is None:
            self._add(values if visible is None else values[visible], weight)
            return
        before, was_visible = previous
        if values.shape != before.shape:
            raise FileError("changed while it was read: frames of another size")
        different = values != before
        if different.ndim == 3:
            # Faster than any(axis=2), which reduces along the short axis.
            changed = different[..., 0] | different[..., 1] | different[..., 2]
        else:
            changed = different
        if visible is not None:
            changed |= visible != was_visible
            self._add(before[changed & was_visible], -weight)
            self._add(values[changed & visible], weight)
        else:
            self._add(before[changed], -weight)
            self._add(values[changed], weight)

    def _add(self, values, weight):
        if not values.size:
            return
        if self.dense is not None:
            self.dense += np.bincount(values.reshape(-1), minlength=256) * weight
            return
        values = values.reshape(-1, 3)
        self.pending.append((values, weight))
        self.n_pending += len(values)
        if self.n_pending >= _PENDING_PIXELS:
            self._add_up()

    def _add_up(self):
        """Add the pending changes to the counts, by the colour histogram
        that :func:`skvq.summarize` uses (a bitmap of the colours present,
        then counts in key order): no sort, no merge."""
        from .._colour_kernels import count_colours, mark_colours
        from .._openmp_helpers import effective_n_threads

        if not self.pending:
            return
        # The kernel adds positive weights only: the pixels leaving (of
        # negative weight) are counted apart, on the same bitmap.
        added = [(self.colours, self.counts)]
        removed = []
        for values, weight in self.pending:
            if weight > 0:
                added.append((values, np.full(len(values), float(weight))))
            else:
                removed.append((values, np.full(len(values), float(-weight))))
        self.pending, self.n_pending = [], 0
        parts = [
            np.concatenate([v for v, _ in group]) for group in (added, removed) if group
        ]
        present = np.empty(1 << 18, dtype=np.uint64)  # a bit per 24-bit colour
        low, high = np.empty(3, dtype=np.uint8), np.empty(3, dtype=np.uint8)
        n_threads = effective_n_threads()
        # Every colour leaving was counted before (it was in the previous
        # frame), so the colours added hold them all.
        n_colours = mark_colours(parts[0], None, present, low, high, n_threads)
        keys = np.empty(n_colours, dtype=np.uint32)
        rank = np.empty(present.shape[0], dtype=np.uint32)
        counts = np.empty(n_colours)
        weights = np.concatenate([w for _, w in added])
        count_colours(parts[0], weights, present, rank, keys, counts, n_threads)
        if removed:
            leaving = np.empty(n_colours)
            weights = np.concatenate([w for _, w in removed])
            count_colours(parts[1], weights, present, rank, keys, leaving, n_threads)
            counts -= leaving
        keep = counts > 0  # colours seen in some frame and in none since
        keys, self.counts = keys[keep], counts[keep]
        self.colours = np.empty((len(keys), 3), dtype=np.uint8)
        self.colours[:, 0] = keys >> 16
        self.colours[:, 1] = (keys >> 8) & 255
        self.colours[:, 2] = keys & 255

    def summary(self, gray=False):
        """The summary of every visible pixel counted, None if none; with
        ``gray`` (colours of equal channels only), of their first channel."""
        from .._summary import _exact_summary

        if self.remaining:
            raise FileError("changed while it was read: fewer frames than before")
        if self.dense is not None:
            present = np.flatnonzero(self.dense > 0)
            values = present.astype(np.float64)[:, None]
            counts = self.dense[present].astype(np.float64)
        else:
            self._add_up()
            # Gray colours ascend by key as their levels do.
            colours = self.colours[:, :1] if gray else self.colours
            values = colours.astype(np.float64)
            counts = self.counts
        if not len(values):
            return None
        low, high = values.min(axis=0), values.max(axis=0)
        return _exact_summary(values, counts, low, high, MAX_ATOMS)
