"""The ``skvq`` command: quantize image files to palette PNG files.

Start-up stays light: this module imports only the standard library, so
that ``skvq --help`` answers at once; NumPy, Pillow, scikit-learn, SciPy,
tqdm and oxipng are imported when a command needs them.
"""

import argparse
import contextlib
import errno
import importlib.util
import math
import os
import stat
import sys
import warnings

from ._version import __version__

__all__ = ["main"]

_STRATEGIES = ("kmeans", "uniform", "quantile")
_MAX_BINS = 256  # a PNG palette holds at most 256 colours
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
_OPTIMIZE_LEVELS = range(7)  # oxipng's levels
# The command's oxipng level when none is given. On the photos of
# benchmarks/bench_pngquant.py, level 2 (oxipng's default, and
# write_palette_png's for optimize=True) made the dithered files 0.3% (16
# colours) to 5% (64 colours) smaller but took about twice as long, and
# writing is the slowest stage of a batch.
_DEFAULT_OPTIMIZE_LEVEL = 1
# The blurred error: both images through a Gaussian of this many pixels.
_BLUR_SIGMA = 1.0

_DESCRIPTION = """\
Image vector quantization from the command line.

Run "skvq quantize --help" for the options of the only command so far."""

_EPILOG = """\
examples:
  skvq quantize photo.jpg --n-bins 16 --output-dir small/
  skvq quantize scans/*.png --n-bins 4 --gray --output-dir out/ --shared-codebook
  python -m skvq quantize face.png -n 8 -o out/ --overwrite"""

_QUANTIZE_DESCRIPTION = """\
Quantize image files (PNG, JPEG, TIFF, anything Pillow reads) to indexed
(palette) PNG files with at most N colours, written to DIR and named after
their inputs (photo.jpg -> DIR/photo.png).

Gray inputs stay gray and colour inputs are quantized as RGB. 16-bit gray
images are scaled to 8 bits, as PNG palettes hold 8-bit values. Pixels are
dithered (Floyd-Steinberg error diffusion) unless --no-dither is given.

Transparency is kept unless every pixel is opaque: all fully transparent
pixels share one palette entry, alpha 0 and 255 are kept exactly, and the
other entries are chosen for the visible pixels, each colour error counting
in proportion to the pixel's alpha (colours premultiplied by alpha, as
pngquant does).

For each file, a row gives its size before and after (bytes on disk), bits
per pixel of the output file, the mean squared error (MSE, on the 0..255
scale, over every channel; premultiplied by alpha for transparent images)
and peak signal-to-noise ratio (PSNR) of the written image against the
input, and the PSNR of both images blurred by a Gaussian of 1 pixel, closer
to what the eye sees at a distance (dithering lowers it less than the plain
PSNR).

Inputs are never modified. An output that exists is kept unless --overwrite is
given, and each output is written to a temporary file that is renamed only
when complete. A file that cannot be read or written is reported on stderr;
the others are still done and the exit status is 1."""

_QUANTIZE_EPILOG = """\
examples:
  16 colours per photo, in the folder small/:
    skvq quantize holiday/*.jpg --n-bins 16 --output-dir small/

  4 gray levels shared by every page of a scan, found by k-means:
    skvq quantize page-*.png -n 4 --gray --shared-codebook -o out/

  no dithering, the smallest files oxipng can make:
    skvq quantize logo.png -n 8 --no-dither --optimize 6 -o out/

  redo a run, replacing its outputs, without the table:
    skvq quantize face.png -n 8 -s quantile -o out/ --overwrite -q

exit status: 0 if every file was written, 1 if some file failed, 2 for a
usage error."""


def _n_bins(text):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 2 <= value <= _MAX_BINS:
        raise argparse.ArgumentTypeError(
            f"must be an integer from 2 to {_MAX_BINS} (a PNG palette holds at "
            f"most {_MAX_BINS} colours), got {text!r}"
        )
    return value


def _strength(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    # "not 0 <= value <= 1" also refuses nan.
    if value is None or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"must be a number from 0 (no dithering) to 1 (full error "
            f"diffusion), got {text!r}"
        )
    return value


def _optimize_level(text):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value not in _OPTIMIZE_LEVELS:
        raise argparse.ArgumentTypeError(
            f"must be oxipng's level, an integer from 0 to 6, got {text!r}"
        )
    return value


def _default_strength():
    """The default strength of ``ImageVectorQuantizer.dither``, chosen by
    measurement there; read from its signature, never copied."""
    import inspect

    from ._quantizer import ImageVectorQuantizer

    parameter = inspect.signature(ImageVectorQuantizer.dither).parameters["strength"]
    return parameter.default


def _oxipng_installed():
    return importlib.util.find_spec("oxipng") is not None


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Fills in defaults that cost an import only when help is shown."""

    def _get_help_string(self, action):
        text = super()._get_help_string(action)
        if action.dest == "dither":
            text = text.replace("{default}", f"{_default_strength():g}")
        elif action.dest == "optimize":
            text = text.replace(
                "{default}",
                f"{_DEFAULT_OPTIMIZE_LEVEL}"
                if _oxipng_installed()
                else "none, as pyoxipng is not installed",
            )
        return text


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skvq",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skvq {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    quantize = commands.add_parser(
        "quantize",
        help="quantize image files to palette PNG files",
        description=_QUANTIZE_DESCRIPTION,
        epilog=_QUANTIZE_EPILOG,
        formatter_class=_HelpFormatter,
    )
    quantize.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files to quantize"
    )
    quantize.add_argument(
        "-n",
        "--n-bins",
        type=_n_bins,
        required=True,
        metavar="N",
        help="number of colours (gray levels) of each output, 2 to 256; PNG "
        "stores 1, 2, 4 or 8 bits per pixel, so 2, 4, 16 and 256 use a bit "
        "depth fully (e.g. --n-bins 16: 4 bits per pixel before compression)",
    )
    quantize.add_argument(
        "-s",
        "--strategy",
        choices=_STRATEGIES,
        default="kmeans",
        help="how the colours are chosen: 'kmeans' minimises the squared "
        "error (exactly, for gray images), 'uniform' spaces them evenly, "
        "'quantile' gives them equal numbers of pixels (median cut for "
        "colour); default: %(default)s",
    )
    quantize.add_argument(
        "--gray",
        action="store_true",
        help="convert colour inputs to gray first (ITU-R 601-2 luma)",
    )
    quantize.add_argument(
        "-o",
        "--output-dir",
        required=True,
        metavar="DIR",
        help="folder for the outputs, created if missing; e.g. --output-dir out/",
    )
    dither = quantize.add_mutually_exclusive_group()
    dither.add_argument(
        "--dither",
        type=_strength,
        metavar="STRENGTH",
        help="strength of the Floyd-Steinberg error diffusion, from 0 (none) "
        "to 1 (all of each pixel's error is passed on to its neighbours); "
        "dithering trades a higher MSE for less banding in smooth areas and "
        "somewhat larger files; default: {default}, the default of "
        "ImageVectorQuantizer.dither, chosen by measurement",
    )
    dither.add_argument(
        "--no-dither",
        dest="dither",
        action="store_const",
        const=0.0,
        help="no dithering: every pixel gets its nearest colour (the same as "
        "--dither 0)",
    )
    optimize = quantize.add_mutually_exclusive_group()
    optimize.add_argument(
        "--optimize",
        type=_optimize_level,
        metavar="LEVEL",
        help="make the files smaller with oxipng (pip install pyoxipng, or "
        "skvq[optimize]) at this level, 0 to 6, higher being slower and "
        "smaller; the pixels are unchanged; default: {default}",
    )
    optimize.add_argument(
        "--no-optimize",
        dest="optimize",
        action="store_const",
        const=False,
        help="write the files as Pillow encodes them, without oxipng",
    )
    quantize.add_argument(
        "--shared-codebook",
        action="store_true",
        help="fit one set of colours to all inputs together (streamed, one "
        "file at a time) and use it for every output, instead of one per file",
    )
    quantize.add_argument(
        "--overwrite",
        action="store_true",
        help="replace outputs that already exist (inputs are never replaced)",
    )
    quantize.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of k-means++, which colour k-means uses only when the "
        "initial variance split cannot make N colours; outputs are "
        "repeatable for a given seed; default: %(default)s",
    )
    verbosity = quantize.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing but errors: no table, no warnings, no progress bar",
    )
    verbosity.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print, per file, the output path and the number of colours "
        "and channels",
    )
    return parser, quantize


def main(argv=None):
    """Run the ``skvq`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    status : int
        0 on success, 1 if some file could not be read or written. Usage
        errors exit with status 2 (through :class:`argparse.ArgumentParser`).

    Examples
    --------
    >>> from skvq._cli import main
    >>> main(["--version"])
    Traceback (most recent call last):
        ...
    SystemExit: 0
    """
    parser, quantize = _build_parser()
    args = parser.parse_args(argv)
    if args.optimize is None:
        args.optimize = _DEFAULT_OPTIMIZE_LEVEL if _oxipng_installed() else False
    elif args.optimize is not False and not _oxipng_installed():
        quantize.error(
            "--optimize needs oxipng, which is not installed: pip install "
            "pyoxipng (or skvq[optimize]), or leave --optimize out"
        )
    if args.dither is None:
        args.dither = _default_strength()
    args.outputs = _output_paths(quantize, args.inputs, args.output_dir)
    report = _Report(quiet=args.quiet, verbose=args.verbose)
    try:
        return _quantize_files(args, report)
    except KeyboardInterrupt:
        report.error("interrupted; no output was left half-written")
        return 130


def _output_paths(parser, inputs, output_dir):
    """Map each input to its output, or stop with a usage error (status 2)."""
    outputs, taken = {}, {}
    for path in inputs:
        stem = os.path.splitext(os.path.basename(path))[0]
        output = os.path.join(output_dir, stem + ".png")
        key = os.path.normcase(os.path.realpath(output))
        if key in taken:
            parser.error(
                f"{_shown(taken[key])} and {_shown(path)} would both be written "
                f"to {_shown(output)}; rename one or quantize them into "
                "different --output-dir folders"
            )
        taken[key] = path
        outputs[path] = output
    for path in inputs:
        key = os.path.normcase(os.path.realpath(path))
        if key in taken or _same_file(path, outputs[path]):
            parser.error(
                f"the output for {_shown(taken.get(key, path))} would replace the "
                f"input {_shown(path)}; "
                "choose another --output-dir (inputs are never modified)"
            )
    return outputs


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _shown(text):
    """``text`` on one line: characters that are not printable (a newline or
    a tab in a file name, terminal escapes, undecodable bytes) as escapes."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in str(text)
    )


class _Report:
    """Where rows, warnings and errors go, and the optional progress bar."""

    def __init__(self, quiet, verbose):
        self.quiet = quiet
        self.verbose = verbose
        self._bar = None

    def progress(self, items, description):
        items = list(items)
        if self.quiet or len(items) < 2 or not _isatty(sys.stderr):
            return items
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is the optional extra skvq[cli]
            return items
        self._bar = tqdm(items, desc=description, unit="file", leave=False)
        return self._bar

    def close_progress(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _write(self, text, file):
        if self._bar is not None:
            self._bar.write(text, file=file)
        else:
            print(text, file=file)

    def row(self, text):
        if not self.quiet:
            self._write(text, sys.stdout)

    def detail(self, text):
        if self.verbose:
            self._write(_shown(text), sys.stdout)

    def warning(self, path, message):
        if not self.quiet:
            self._write(_shown(f"skvq: warning: {path}: {message}"), sys.stderr)

    def error(self, text):
        self._write(_shown(f"skvq: error: {text}"), sys.stderr)


class _Table:
    """The rows of the report; the header comes with the first row, so that
    a run that writes nothing prints no table at all."""

    def __init__(self, report, names):
        self.report = report
        self.width = max(len(_shown(name)) for name in names)
        self.n_rows = 0

    def add(self, name, before, after, bits, mse, psnr, blurred_psnr):
        if not self.n_rows:
            self.report.row(
                f"{'file':<{self.width}} {'before':>10} {'after':>10} "
                f"{'bits/px':>8} {'MSE':>9} {'PSNR dB':>8} {'blur PSNR':>9}"
            )
        self.n_rows += 1
        self.report.row(
            f"{_shown(name):<{self.width}} {before:>10} {after:>10} {bits:>8.3f} "
            f"{mse:>9.3f} {psnr:>8.2f} {blurred_psnr:>9.2f}"
        )

    def total(self, before, after):
        if self.n_rows > 1:
            self.report.row(
                f"{'total':<{self.width}} {before:>10} {after:>10}   "
                f"({self.n_rows} files, {after / before:.1%} of the input size)"
            )


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _FileError(Exception):
    """A file that cannot be read or written; the message says why."""


def _quantize_files(args, report):
    outputs = args.outputs
    inputs = list(outputs)
    failed = set()
    try:
        os.makedirs(args.output_dir, exist_ok=True)
    except OSError as exc:
        report.error(
            f"cannot create the output folder {args.output_dir}: {_reason(exc)}"
        )
        return 1
    if not args.overwrite:
        for path in inputs:
            if os.path.lexists(outputs[path]):
                report.error(
                    f"{path}: {outputs[path]} already exists "
                    "(use --overwrite to replace it)"
                )
                failed.add(path)
    todo = [path for path in inputs if path not in failed]

    shared = None
    if args.shared_codebook and todo:
        shared = _fit_shared(args, todo, failed, report)
        todo = [path for path in todo if path not in failed]

    table = _Table(report, inputs)
    totals = [0, 0]

    def finish(path, job):
        try:
            row, detail = job.result()
        except _FileError as exc:
            report.error(f"{path}: {exc}")
            failed.add(path)
            return
        report.detail(detail)
        totals[0] += row[0]
        totals[1] += row[1]
        table.add(path, *row)

    # A pipeline of two stages: while one thread measures and writes a file
    # (oxipng, SciPy's filters and zlib let other threads run), the main
    # thread reads, fits and encodes the next one. Rows keep the inputs'
    # order; at most two images are held at once.
    from concurrent.futures import ThreadPoolExecutor

    pending = None
    with ThreadPoolExecutor(max_workers=1) as writer:
        try:
            for path in report.progress(todo, "quantizing"):
                try:
                    pixels = _read_pixels(path, args.gray, report)
                    if shared is not None:
                        pixels = _with_channels(pixels, shared.n_channels)
                    palette, codes = _quantize_one(args, path, pixels, shared, report)
                except _FileError as exc:
                    report.error(f"{path}: {exc}")
                    failed.add(path)
                    continue
                job = writer.submit(
                    _measure_and_write, args, path, pixels, palette, codes
                )
                if pending is not None:
                    finish(*pending)
                pending = (path, job)
            if pending is not None:
                finish(*pending)
        except BaseException:
            writer.shutdown(cancel_futures=True)
            raise
    report.close_progress()
    table.total(*totals)
    return 1 if failed else 0


class _Palette:
    """The colours of one or more outputs, and how pixels find theirs.

    ``entries`` are what the file holds: 8-bit values, colours followed by
    alpha if any, not premultiplied. ``shown`` are the entries as errors are
    measured: the entries themselves, or for images with alpha, the entries
    premultiplied by alpha (:mod:`skvq._transparency`). Codes are the
    nearest ``codewords``, the quantizer's own (as its ``transform`` and
    ``dither`` find them) or, with alpha, ``shown``.
    """

    def __init__(self, entries, *, alpha, quantizer=None):
        from ._transparency import premultiply

        self.entries = entries
        self.alpha = alpha
        self.quantizer = quantizer
        self.n_channels = entries.shape[1]
        self.shown = premultiply(entries) if alpha else entries
        self.codewords = self.shown if alpha else quantizer.codebook_
        # Gray codes go by the quantizer's cells, as its transform finds them.
        self.inner_edges = None
        if not alpha and self.n_channels == 1:
            self.inner_edges = quantizer.bin_edges_[1:-1]

    @classmethod
    def of_quantizer(cls, quantizer):
        """The codebook of a quantizer fitted to opaque pixels, as 8 bits."""
        import numpy as np

        entries = np.clip(np.rint(quantizer.codebook_), 0, 255)
        return cls(entries, alpha=False, quantizer=quantizer)

    @classmethod
    def of_centres(cls, centres, transparent, opaque):
        """The palette of centres fitted to visible pixels (see
        :func:`skvq._transparency.palette_from_centres`)."""
        from ._transparency import palette_from_centres

        entries = palette_from_centres(centres, transparent=transparent, opaque=opaque)
        return cls(entries, alpha=True)

    def visible(self, pixels):
        """Pixels as errors are measured (see ``shown``)."""
        from ._transparency import premultiply

        return premultiply(pixels) if self.alpha else pixels

    def encode(self, pixels, strength):
        """Codes of an image of shape (height, width, n_channels)."""
        import numpy as np

        from ._dither import floyd_steinberg
        from ._encode import nearest_codeword
        from ._transparency import exact_alpha_codes

        height, width, n_channels = pixels.shape
        visible = self.visible(pixels)
        if strength > 0:
            codes = floyd_steinberg(
                visible.reshape(height, width * n_channels),
                self.codewords,
                self.inner_edges,
                strength,
                np.uint8,
            )
        elif self.alpha:
            codes = nearest_codeword(
                visible.reshape(-1, n_channels), self.codewords, np.uint8
            )
        else:
            codes = self.quantizer.transform(pixels.reshape(-1, n_channels))
        if self.alpha:
            codes = exact_alpha_codes(
                codes.reshape(-1), pixels.reshape(-1, n_channels), self.entries
            )
        return codes.reshape(height, width)


def _new_quantizer(args, n_bins, n_channels):
    from ._quantizer import ImageVectorQuantizer

    return ImageVectorQuantizer(
        n_bins=n_bins,
        n_channels=n_channels,
        strategy=args.strategy,
        random_state=args.random_state,
    )


def _has_alpha(n_channels):
    return n_channels in (2, 4)


def _fit_palette(args, pixels, report, path):
    """The palette of one image of shape (height, width, n_channels)."""
    import numpy as np

    from ._transparency import OPAQUE, visible_features

    n_channels = pixels.shape[-1]
    samples = pixels.reshape(-1, n_channels)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not _has_alpha(n_channels):
            quantizer = _new_quantizer(args, args.n_bins, n_channels).fit(samples)
            palette = _Palette.of_quantizer(quantizer)
        else:
            # One entry for all fully transparent pixels, the others for the
            # visible ones.
            alpha = samples[:, -1]
            transparent = bool(np.any(alpha == 0))
            features = visible_features(samples)
            n_fitted = args.n_bins - transparent
            if len(features) and n_fitted >= 2:
                quantizer = _new_quantizer(args, n_fitted, n_channels)
                centres = quantizer.fit(features).codebook_
            else:
                centres = features[:1].copy()
                centres[:] = features.mean(axis=0)
            opaque = bool(np.any(alpha == OPAQUE))
            palette = _Palette.of_centres(centres, transparent, opaque)
    _report_fit_warnings(report, path, args, caught, palette)
    return palette


def _report_fit_warnings(report, path, args, caught, palette):
    """Report the warnings of fitting ``palette`` in the command line's terms.

    skvq's estimator warns in its own parameters (``n_bins=16``); a command
    line user knows ``--n-bins``. When the image has fewer distinct colours
    than asked, one line says so, counting all transparent pixels as one
    colour.
    """
    import re

    messages = [str(warning.message) for warning in caught]
    if len(palette.entries) < args.n_bins:
        distinct = [m for m in messages if "distinct" in m and "n_bins" in m]
        if distinct:
            kind = "gray levels" if palette.n_channels <= 2 else "colours"
            report.warning(
                path,
                f"only {len(palette.entries)} distinct {kind}, fewer than "
                f"--n-bins {args.n_bins}: each has its own palette entry, "
                "without loss",
            )
            messages = [m for m in messages if m not in distinct]
    for message in messages:
        report.warning(
            path, re.sub(r"\bn_bins\b(=\d+)?", f"--n-bins {args.n_bins}", message)
        )


def _fit_shared(args, paths, failed, report):
    # A first pass finds the channels every file needs (any colour makes all
    # outputs colour, any transparency gives all an alpha channel) and
    # whether any pixel is fully transparent or opaque; a second streams the
    # pixels into one codebook. No two images are held at once.
    import numpy as np

    from ._transparency import OPAQUE, visible_features

    layouts = {}
    transparent = opaque = False
    for path in report.progress(paths, "reading"):
        try:
            pixels = _read_pixels(path, args.gray)
        except _FileError as exc:
            report.error(f"{path}: {exc}")
            failed.add(path)
            continue
        layouts[path] = pixels.shape[-1]
        if _has_alpha(pixels.shape[-1]):
            transparent |= bool(np.any(pixels[..., -1] == 0))
            opaque |= bool(np.any(pixels[..., -1] == OPAQUE))
        else:
            opaque = True
    report.close_progress()
    if not layouts:
        return None
    colour = any(n in (3, 4) for n in layouts.values())
    alpha = any(_has_alpha(n) for n in layouts.values())
    n_channels = (3 if colour else 1) + alpha
    n_fitted = args.n_bins - transparent
    # With --n-bins 2 and transparent pixels, one entry is left for the
    # visible pixels: their mean.
    quantizer = _new_quantizer(args, n_fitted, n_channels) if n_fitted >= 2 else None
    total, count = 0.0, 0
    fitted = []
    last_warnings = []
    for path in report.progress(list(layouts), "fitting"):
        try:
            pixels = _with_channels(_read_pixels(path, args.gray), n_channels)
        except _FileError as exc:
            report.error(f"{path}: {exc}")
            failed.add(path)
            continue
        samples = pixels.reshape(-1, n_channels)
        if alpha:
            samples = visible_features(samples)
        fitted.append(path)
        if quantizer is None:
            total = total + samples.sum(axis=0)
            count += len(samples)
        elif len(samples):
            # Only the last fit's warnings describe the shared codebook.
            with warnings.catch_warnings(record=True) as last_warnings:
                warnings.simplefilter("always")
                quantizer.partial_fit(samples)
    report.close_progress()
    if not fitted:
        return None
    if not alpha:
        palette = _Palette.of_quantizer(quantizer)
    elif quantizer is not None and hasattr(quantizer, "codebook_"):
        palette = _Palette.of_centres(quantizer.codebook_, transparent, opaque)
    elif count:
        palette = _Palette.of_centres((total / count)[None], transparent, opaque)
    else:  # nothing visible in any file
        palette = _Palette.of_centres(np.empty((0, n_channels)), transparent, opaque)
    _report_fit_warnings(report, fitted[-1], args, last_warnings, palette)
    report.detail(
        f"shared codebook: {len(palette.entries)} colours of {n_channels} "
        f"channel(s), fitted to {len(fitted)} files"
    )
    return palette


def _quantize_one(args, path, pixels, shared, report):
    """The palette and codes of an image of shape (height, width, n_channels)."""
    palette = _fit_palette(args, pixels, report, path) if shared is None else shared
    return palette, palette.encode(pixels, args.dither)


def _measure_and_write(args, path, pixels, palette, codes):
    """Write the output; return the report's row (without the file name)
    and the line that --verbose prints."""
    from ._png import write_palette_png

    output = args.outputs[path]
    height, width, n_channels = pixels.shape
    if args.quiet:
        # Nothing reports the errors: don't spend time measuring them.
        mse = blurred_mse = math.nan
    else:
        mse, blurred_mse = _errors(palette.visible(pixels), palette.shown, codes)
    try:
        write_palette_png(
            output,
            codes,
            palette.entries,
            overwrite=args.overwrite,
            optimize=args.optimize,
        )
    except FileExistsError:
        raise _FileError(
            f"{output} already exists (use --overwrite to replace it)"
        ) from None
    except OSError as exc:
        raise _FileError(f"cannot write {output}: {_reason(exc)}") from None
    before = os.path.getsize(path)
    after = os.path.getsize(output)
    detail = (
        f"{path} -> {output}: {len(palette.entries)} colours, {n_channels} "
        f"channel(s), {width}x{height} pixels"
    )
    bits = 8 * after / (height * width)
    return (before, after, bits, mse, _psnr(mse), _psnr(blurred_mse)), detail


def _psnr(mse):
    if math.isnan(mse):
        return math.nan
    return 10 * math.log10(255.0**2 / mse) if mse > 0 else math.inf


def _errors(visible, table, codes):
    """Mean squared error of ``table[codes]`` against ``visible``, plain and
    after a Gaussian blur of ``_BLUR_SIGMA`` pixels of both images.

    By blocks of rows, each blurred with the rows around it that reach it
    (the blur is linear, so blurring the difference is enough), so that no
    copy of a whole photo is made. Differences are float32: exact for 8-bit
    pixels and palettes, within 1e-7 relative otherwise, far below the
    digits the report shows; squares are summed in float64.
    """
    import numpy as np
    from scipy.ndimage import gaussian_filter

    height, width, n_channels = visible.shape
    table = table.astype(np.float32)
    truncate = 4.0  # gaussian_filter's default
    reach = int(truncate * _BLUR_SIGMA + 0.5)
    rows = max(1, 2**20 // (width * n_channels))
    total = blurred_total = 0.0
    for start in range(0, height, rows):
        stop = min(height, start + rows)
        low, high = max(0, start - reach), min(height, stop + reach)
        error = table[codes[low:high]]
        error -= visible[low:high]
        blurred = gaussian_filter(
            error, sigma=(_BLUR_SIGMA, _BLUR_SIGMA, 0), truncate=truncate
        )
        inner = slice(start - low, stop - low)
        total += float(np.sum(np.square(error[inner], dtype=np.float64)))
        blurred_total += float(np.sum(np.square(blurred[inner], dtype=np.float64)))
    size = visible.size
    return total / size, blurred_total / size


@contextlib.contextmanager
def _warnings_to(report, path):
    """Show warnings as one line each naming the file (none if report is None)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    if report is not None:
        for warning in caught:
            report.warning(path, str(warning.message))


def _reason(exc):
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _read_pixels(path, gray, report=None):
    """Decode an image file to an array of shape (height, width, n_channels).

    n_channels is 1 (gray), 2 (gray and alpha), 3 (RGB) or 4 (RGBA), on the
    0..255 scale; any other input raises :class:`_FileError`. Warnings go to
    ``report``, or nowhere when it is None (files read more than once).
    """
    with _warnings_to(report, path):
        return _decode(path, gray)


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
            raise _FileError(f"is not a regular file ({_file_kind(mode)})")
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


def _decode(path, gray):
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with _open_regular_file(path) as file, Image.open(file) as image:
            image.load()
            n_frames = getattr(image, "n_frames", 1)
            if n_frames > 1:
                warnings.warn(
                    f"only the first of its {n_frames} frames is quantized",
                    stacklevel=1,
                )
            # Cameras store the orientation apart from the pixels; the output
            # has no such tag, so the pixels are turned the way viewers show them.
            return _pixels(ImageOps.exif_transpose(image), gray)
    except _FileError:
        raise
    except FileNotFoundError:
        raise _FileError("no such file") from None
    except IsADirectoryError:
        raise _FileError("is a directory, not an image file") from None
    except PermissionError:
        raise _FileError("permission denied") from None
    except UnidentifiedImageError:
        raise _FileError(
            "not an image file that Pillow can read (unknown format or damaged header)"
        ) from None
    except Image.DecompressionBombError as exc:
        raise _FileError(str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.EIO and exc.strerror:
            raise _FileError(f"cannot read: {exc.strerror}") from None
        raise _FileError(f"damaged or truncated image: {exc}") from None
    # Pillow's decoders report some damaged files with other exceptions
    # (SyntaxError for a broken PNG, ValueError, EOFError, struct.error,
    # zlib.error); none of them should end the run for the other files.
    except Exception as exc:
        raise _FileError(
            f"damaged or truncated image: {exc or type(exc).__name__}"
        ) from None


_GRAY_MODES = ("1", "L", "LA", "La")


def _pixels(image, gray):
    import numpy as np

    mode = image.mode
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    if mode in _SIXTEEN_BIT_MODES or (mode == "I" and image.format == "PNG"):
        # PNG stores gray in at most 16 bits; Pillow reads it as "I;16" or
        # (older versions) "I".
        pixels = np.asarray(image, dtype=np.float64)[..., None] / 257.0
    elif mode in ("I", "F"):
        raise _FileError(
            f"images of mode {mode!r} (32-bit {'integer' if mode == 'I' else 'float'}"
            " pixels) are not supported: their value range is unknown"
        )
    else:
        if gray or mode in _GRAY_MODES:
            target = "LA" if has_alpha else "L"
        else:
            target = "RGBA" if has_alpha else "RGB"
        pixels = np.asarray(image.convert(target))
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        if has_alpha and np.all(pixels[..., -1] == 255):
            # Opaque images often carry an alpha channel; it holds nothing.
            pixels = pixels[..., :-1]
    return pixels


def _with_channels(pixels, n_channels):
    """Widen gray to RGB and add an opaque alpha channel as needed."""
    import numpy as np

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
