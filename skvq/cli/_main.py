"""``skvq quantize``: the run of the command, file by file.

Imports only the standard library at start-up; NumPy, Pillow and skvq's
core come in when a command needs them, inside the guard that turns an
interruption into one line.
"""

import contextlib
import os
import signal
import sys
import threading
from dataclasses import dataclass, field

from .._oxipng import optimize as optimize_png
from ._arguments import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_QUALITY,
    EXIT_SKIPPED,
    STDIN,
    build_parser,
    check_arguments,
)

__all__ = ["main"]

_EXIT_TERMINATED = 128 + 15


# Set by SIGTERM (stopping is also set by SIGINT).
_terminated = threading.Event()


def main(argv=None):
    """Run the ``skvq`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    status : int
        0 on success, 1 if some file could not be read or written, 98 if
        some file was skipped by ``--skip-if-larger``, 99 if some file was
        refused by ``--quality``, 130 if interrupted. Usage errors exit with
        status 2 (through :class:`argparse.ArgumentParser`).

    Examples
    --------
    >>> from skvq.cli import main
    >>> main(["--version"])
    Traceback (most recent call last):
        ...
    SystemExit: 0
    """
    previous = {}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_interrupts(previous_hook)
    try:
        from ._write import stopping

        stopping.clear()
        _terminated.clear()
        previous = _catch_signals(stopping)
        parser, quantize = build_parser()
        args = parser.parse_args(argv)
        check_arguments(quantize, args)
        _check_animations(quantize, args)
        from ._report import Report

        report = Report(
            quiet=args.quiet,
            verbose=args.verbose,
            rows_to_stderr=STDIN in args.outputs.values(),
        )
        from ._write import Stopped

        try:
            status = _Run(args, report).run()
        except (KeyboardInterrupt, Stopped):
            if _terminated.is_set():
                return _EXIT_TERMINATED
            report.error("interrupted; no output was left half-written")
            return EXIT_INTERRUPTED
        if report.stdout_error is not None:
            report.error(
                "cannot write the report to standard output: "
                f"{report.stdout_error.strerror or report.stdout_error}"
            )
            _silence_stdout()
            status = EXIT_FAILED
        return status
    except KeyboardInterrupt:  # before the run began (imports, arguments)
        print("skvq: error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        # An import interrupted by Ctrl-C can fail with another exception
        # (NumPy's C modules turn it into an ImportError).
        if previous and _interrupted():
            print("skvq: error: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        raise
    finally:
        _restore_signals(previous)
        sys.unraisablehook = previous_hook


def _check_animations(quantize, args):
    """Usage errors of options that animations do not take: the inputs are
    looked at (opened, not decoded) only when such an option is given."""
    from ._arguments import takes_animations

    if takes_animations(args):
        return
    from ._animation import is_animation

    for path in args.inputs:
        if is_animation(path, gif_stills=False):
            from ._arguments import shown

            quantize.error(
                f"--shared-codebook fits still images only, and {shown(path)} "
                "is an animation: quantize animations without it (each gets one "
                "palette of all its frames)"
            )


def _quiet_interrupts(previous_hook):
    """An unraisable-exception hook that drops KeyboardInterrupt and passes
    the rest to ``previous_hook``.

    Ctrl-C can land while Python runs a callback that may not raise (the
    weak reference of an import's module lock, most often during the
    imports of start-up): Python then prints the interrupt's traceback as
    "Exception ignored" and goes on. The handler has already told the run
    to stop, which it does at its next check, with one line; the traceback
    would only add noise. Installed for the duration of :func:`main`.
    """

    def hook(unraisable):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    return hook


def _interrupted():
    from ._write import stopping

    return stopping.is_set()


def _catch_signals(stopping):
    """Turn SIGINT and SIGTERM into exceptions of the main thread, after
    telling the writers to stop; the previous handlers are returned (the
    command leaves the process as it found it)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def interrupted(signum, frame):
        stopping.set()
        raise KeyboardInterrupt

    def terminated(signum, frame):
        # No exception from here: raised in the middle of an import or a
        # callback, Python would print it and go on. The writers and the
        # batch see the flag: no file is named after it, no task started.
        stopping.set()
        _terminated.set()

    previous = {}
    for number, handler in [(signal.SIGINT, interrupted), (signal.SIGTERM, terminated)]:
        with contextlib.suppress(ValueError, OSError):
            previous[number] = signal.signal(number, handler)
    return previous


def _restore_signals(previous):
    for number, handler in previous.items():
        with contextlib.suppress(ValueError, OSError, TypeError):
            signal.signal(number, handler)


def _silence_stdout():
    """After stdout failed, point the process's stdout at /dev/null, so that
    Python's flush at exit does not print a second error (not done when
    stdout was replaced, as in tests)."""
    if sys.stdout is not sys.__stdout__:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@dataclass
class _Done:
    """What one file's task gives back to the main thread."""

    row: tuple | None = None
    detail: str = ""
    warnings: list = field(default_factory=list)
    skipped: str | None = None
    refused: str | None = None


class _Run:
    """One run of ``skvq quantize``: the files, their palettes, the report."""

    def __init__(self, args, report):
        from .._openmp_helpers import usable_cpu_count

        self.args = args
        self.report = report
        self.jobs = args.jobs or usable_cpu_count()
        self.failed = set()
        self.skipped = self.refused = False
        self.map_entries = None
        # What runs oxipng; run() may hand it to a worker process.
        self.optimizer = optimize_png

    # ------------------------------------------------------------ the run

    def run(self):
        from ._optimizer import Optimizer
        from ._pipeline import in_order, routed_warnings
        from ._report import Table
        from ._write import reason

        args, report = self.args, self.report
        inputs = list(args.outputs)
        with routed_warnings():
            if args.map is not None:
                from ._write import FileError

                try:
                    self.map_entries = _read_map(args.map)
                except FileError as exc:
                    report.error(f"--map {args.map}: {exc}")
                    return EXIT_FAILED
            if args.output_dir is not None:
                try:
                    os.makedirs(args.output_dir, exist_ok=True)
                except OSError as exc:
                    report.error(
                        f"cannot create the output folder {args.output_dir}: "
                        f"{reason(exc)}"
                    )
                    return EXIT_FAILED
            todo = []
            for path in inputs:
                output = args.outputs[path]
                if not args.overwrite and output != STDIN and os.path.lexists(output):
                    report.error(
                        f"{path}: {output} already exists (use --overwrite to "
                        "replace it)"
                    )
                    self.failed.add(path)
                else:
                    todo.append(path)
            shared = None
            if args.shared_codebook and todo:
                shared = self._fit_shared(todo)
                todo = [path for path in todo if path not in self.failed]
                if shared is None:
                    todo = []
            table = Table(report, inputs)
            report.progress(len(todo), "quantizing")
            # No more threads than files: one file runs without a pool.
            jobs = max(1, min(self.jobs, len(todo)))
            # oxipng holds the GIL: with several threads, it runs in a
            # process of its own (see ._optimizer).
            in_worker = jobs > 1 and args.optimize is not False
            with Optimizer(in_worker) as self.optimizer:
                tasks = in_order(
                    lambda path: self._quantize(path, shared), todo, jobs, _file_size
                )
                with contextlib.closing(tasks):
                    for path, (done, exc) in tasks:
                        report.advance()
                        self._finish(path, done, exc, table)
            report.close_progress()
            table.total(oxipng_missing=args.oxipng_missing)
        if self.failed:
            return EXIT_FAILED
        if self.refused:
            return EXIT_QUALITY
        if self.skipped:
            return EXIT_SKIPPED
        return EXIT_OK

    def _finish(self, path, done, exc, table):
        from ._write import FileError

        report = self.report
        if exc is not None:
            if not isinstance(exc, FileError):
                raise exc
            report.error(f"{path}: {exc}")
            self.failed.add(path)
            return
        for message in done.warnings:
            report.warning(path, message)
        if done.refused is not None:
            self.refused = True
            report.error(f"{path}: {done.refused}")
            return
        if done.skipped is not None:
            self.skipped = True
            report.warning(path, done.skipped)
            return
        report.detail(done.detail)
        table.add(path, *done.row)

    # ------------------------------------------------------------ one file

    def _read(self, path):
        from ._read import read_picture

        gray = self.args.gray or (
            self.map_entries is not None and self.map_entries.shape[1] in (1, 2)
        )
        return read_picture(path, gray)

    def _quantize(self, path, shared):
        """The task of one file, run by a worker thread."""
        from ._animation import is_animation
        from ._arguments import takes_animations
        from ._pipeline import collected

        done = _Done()
        if takes_animations(self.args) and is_animation(path):
            return self._animation(path, done)
        with collected() as caught:
            picture = self._read(path)
            palette = self._palette(picture, shared, done)
        done.warnings += [str(warning.message) for warning in caught]
        if palette is None:
            return done
        return self._write(path, picture, palette, done)

    def _animation(self, path, done):
        """The task of an animated file (skvq.cli._animation)."""
        from ._animation import quantize_animation
        from ._pipeline import collected

        with collected() as caught:
            row, detail, messages, refused = quantize_animation(
                path, self.args.outputs[path], self.args, self.map_entries
            )
        done.warnings += messages + [str(warning.message) for warning in caught]
        if refused is not None:
            done.refused = refused
        elif row is None:
            done.skipped = detail
        else:
            done.row, done.detail = row, detail
        return done

    def _palette(self, picture, shared, done):
        from ._palette import fit_palette, map_palette
        from ._pipeline import collected

        args = self.args
        if self.map_entries is not None:
            return map_palette(self.map_entries, picture, args.color_space)
        if shared is not None:
            picture.pixels, picture.scale = _rescaled(picture, shared)
            return shared.palette
        if args.quality is None:
            with collected() as caught:
                palette = fit_palette(picture, args.n_bins, args)
            done.warnings += self._fit_warnings(caught, palette, args.n_bins)
            return palette
        from ._quality import fewest_colours, quality_to_mse

        fits = {}  # number of colours asked: (palette, its fit's warnings)

        def fit(n_colours):
            with collected() as caught:
                palette = fit_palette(picture, n_colours, args)
            fits[n_colours] = palette, caught
            return palette

        least, most = args.quality
        palette, mse = fewest_colours(
            fit,
            lambda palette: palette.error(picture.pixels),
            args.n_bins,
            quality_to_mse(most),
        )
        if mse > quality_to_mse(least):
            done.refused = (
                f"refused: its error with {len(palette.entries)} colours (MSE "
                f"{mse:.3f}) is above the bound of --quality minimum {least} "
                f"(MSE {quality_to_mse(least):.3f}); nothing written"
            )
            return None
        n_asked, caught = next(
            (n, caught) for n, (fitted, caught) in fits.items() if fitted is palette
        )
        done.warnings += self._fit_warnings(caught, palette, n_asked)
        return palette

    def _fit_warnings(self, caught, palette, n_asked):
        """The fit's warnings in the command line's terms: fewer colours than
        asked is told by its class, FewerCodewordsWarning."""
        from ..exceptions import FewerCodewordsWarning

        messages = []
        fewer = False
        for warning in caught:
            if issubclass(warning.category, FewerCodewordsWarning):
                fewer = True
            else:
                messages.append(str(warning.message))
        n_entries = len(palette.entries)
        if fewer and n_entries < n_asked:
            if self.args.strategy == "quantile":
                messages.append(
                    f"--strategy quantile made only {n_entries} palette entries, "
                    f"fewer than --n-bins {n_asked} (bins of zero width removed)"
                )
            else:
                kind = "gray levels" if palette.n_channels <= 2 else "colours"
                messages.append(
                    f"only {n_entries} distinct {kind}, fewer than --n-bins "
                    f"{n_asked}: each has its own palette entry, without loss"
                )
        return messages

    def _write(self, path, picture, palette, done):
        import math

        import numpy as np

        from .._png import encode_palette_png
        from ._report import errors, psnr
        from ._write import write_output

        args = self.args
        pixels = picture.pixels
        height, width, n_channels = pixels.shape
        codes = palette.encode(
            pixels, args.dither, args.dither_method or "floyd-steinberg"
        )
        if args.quiet:
            # Nothing reports the errors: don't spend time measuring them.
            mse = blurred_mse = math.nan
        else:
            mse, blurred_mse = errors(pixels, palette.visible, palette.shown, codes)
        del pixels
        picture.pixels = None
        entries = palette.entries.astype(np.uint8)
        level = args.optimize if args.optimize is not False else None
        # A --map palette is written as given: all of it, in its order.
        keep = self.map_entries is not None
        data = encode_palette_png(
            codes, entries, level, keep_palette=keep, optimizer=self.optimizer
        )
        if args.skip_if_larger and len(data) >= picture.n_bytes:
            done.skipped = (
                f"skipped: its output ({len(data)} bytes) would not be smaller "
                f"than the input ({picture.n_bytes} bytes), --skip-if-larger"
            )
            return done
        output = args.outputs[path]
        write_output(output, data, args.overwrite)
        after = len(data)
        done.detail = (
            f"{path} -> {output}: {len(palette.entries)} colours, {n_channels} "
            f"channel(s), {width}x{height} pixels"
        )
        bits = 8 * after / (height * width)
        done.row = (picture.n_bytes, after, bits, mse, psnr(mse), psnr(blurred_mse))
        return done

    # ------------------------------------------------------------ shared

    def _read_quietly(self, path):
        """The picture of ``path``; its warnings are reported when the file
        is quantized, not here."""
        from ._pipeline import collected

        with collected():
            return self._read(path)

    def _each_file(self, function, paths, label):
        """``(path, function(path))`` for each path, in order, run by the
        pool with a progress bar named ``label``; a file that fails is
        reported, marked failed and left out."""
        from ._pipeline import in_order
        from ._write import FileError

        report = self.report
        report.progress(len(paths), label)
        with contextlib.closing(in_order(function, paths, self.jobs)) as tasks:
            for path, (result, exc) in tasks:
                report.advance()
                if exc is not None:
                    if not isinstance(exc, FileError):
                        raise exc
                    report.error(f"{path}: {exc}")
                    self.failed.add(path)
                    continue
                yield path, result
        report.close_progress()

    def _fit_shared(self, paths):
        """One palette fitted to all files together, by summaries that add
        up (:func:`skvq.merge_summaries`), one file per task."""
        import numpy as np

        from .._quantize import learn_codebook, merge_summaries, summarize
        from .._transparency import OPAQUE
        from ._palette import (
            alpha_palette,
            colour_weights,
            learn,
            opaque_palette,
            visible_mean,
            working_space,
        )
        from ._palette import visible_summary as alpha_summary
        from ._pipeline import collected

        args, report = self.args, self.report

        def layout(path):
            picture = self._read_quietly(path)
            pixels = picture.pixels
            if picture.has_alpha:
                alpha = pixels[..., -1]
                kinds = bool(np.any(alpha == 0)), bool(np.any(alpha == OPAQUE))
            else:
                kinds = False, True
            return pixels.shape[-1], picture.scale, kinds

        layouts = {}
        transparent = opaque = False
        for path, result in self._each_file(layout, paths, "reading"):
            layouts[path] = result
            transparent |= result[2][0]
            opaque |= result[2][1]
        if not layouts:
            return None
        channels = [n for n, _, _ in layouts.values()]
        colour = any(n in (3, 4) for n in channels)
        alpha = any(n in (2, 4) for n in channels)
        n_channels = (3 if colour else 1) + alpha
        # Oklab for shared RGB palettes; with alpha, premultiplied sRGB.
        space = working_space(args.color_space, n_channels, translucent=alpha)
        # 16-bit values are fitted as they are if every file has them; with
        # 8-bit files too, or in Oklab (defined on the 0..255 scale), on the
        # 0..255 scale (as floats, unrounded).
        sixteen = all(s == 257 for _, s, _ in layouts.values())
        scale = 257 if sixteen and space == "rgb" else 1
        target = _Shared(None, n_channels, scale)

        def summary_of(path):
            picture = self._read_quietly(path)
            pixels, pixel_scale = _rescaled(picture, target)
            if alpha:
                return alpha_summary(pixels, pixel_scale)
            weights = colour_weights(pixels, pixel_scale)
            return summarize(
                pixels.reshape(-1, n_channels), weights, n_channels=n_channels
            )

        summary = None
        fitted = []
        for path, part in self._each_file(summary_of, list(layouts), "fitting"):
            fitted.append(path)
            if part is not None:
                summary = part if summary is None else merge_summaries(summary, part)
        if not fitted:
            return None
        with collected() as caught:
            if not alpha:
                codebook = learn(summary, args.n_bins, args, space=space)
                palette = opaque_palette(codebook, scale, args.posterize)
            else:
                n_fitted = args.n_bins - transparent
                if summary is None:  # nothing visible in any file
                    centres = np.empty((0, n_channels))
                elif n_fitted >= 2:
                    centres = learn_codebook(
                        summary,
                        n_fitted,
                        strategy=args.strategy,
                        random_state=args.random_state,
                    ).codewords
                else:
                    centres = visible_mean(summary)
                palette = alpha_palette(
                    centres, transparent, opaque, scale, args.posterize
                )
        for message in self._fit_warnings(caught, palette, args.n_bins):
            report.warning(fitted[-1], message)
        report.detail(
            f"shared codebook: {len(palette.entries)} colours of {n_channels} "
            f"channel(s), fitted to {len(fitted)} files"
        )
        return _Shared(palette, n_channels, scale)


@dataclass
class _Shared:
    palette: object
    n_channels: int
    scale: int


def _rescaled(picture, shared):
    """The pixels of ``picture`` with the shared palette's channels and
    scale, and that scale."""
    from ._palette import on_8_bit_scale
    from ._read import with_channels

    pixels = with_channels(picture.pixels, shared.n_channels)
    if picture.scale == shared.scale:
        return pixels, picture.scale
    if shared.n_channels in (2, 4):
        return on_8_bit_scale(pixels, picture.scale), 1
    return pixels / float(picture.scale), 1


def _file_size(path):
    """Bytes of an input file, the pipeline's guess of its work (0 for
    standard input or a file it cannot see, which then start last)."""
    if path == STDIN:
        return 0
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _read_map(path):
    """The colours of a --map file: (n_colours, n_channels) 8-bit values."""
    import numpy as np

    from .._png import read_palette_png
    from ._read import read_picture
    from ._write import FileError

    try:
        _, entries = read_palette_png(path)
        return entries
    except (ValueError, OSError):
        pass  # not an indexed PNG: its distinct colours
    picture = read_picture(path, gray=False)
    pixels = picture.pixels
    if picture.scale != 1:
        pixels = np.rint(pixels / picture.scale)
    samples = pixels.reshape(-1, pixels.shape[-1])
    colours, first = np.unique(samples, axis=0, return_index=True)
    if len(colours) > 256:
        raise FileError(
            f"has {len(colours)} distinct colours; a palette holds at most 256"
        )
    entries = colours[np.argsort(first)].astype(np.float64)
    if entries.shape[1] in (3, 4) and np.all(entries[:, :1] == entries[:, 1:3]):
        entries = entries[:, [0, *range(3, entries.shape[1])]]
    return entries
