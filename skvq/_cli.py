"""The ``skvq`` command: quantize image files to palette PNG files."""

import argparse
import contextlib
import errno
import os
import sys
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ._png import write_palette_png
from ._quantizer import ImageVectorQuantizer
from ._version import __version__

__all__ = ["main"]

_STRATEGIES = ("kmeans", "uniform", "quantile")
_MAX_BINS = 256  # a PNG palette holds at most 256 colours
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")

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

Gray inputs stay gray and colour inputs are quantized as RGB; transparency is
kept (quantized as a fourth channel) unless every pixel is opaque. 16-bit gray
images are scaled to 8 bits, as PNG palettes hold 8-bit values.

For each file, a row gives its size before and after (bytes on disk), bits per
pixel of the output file, and the mean squared error (MSE, on the 0..255
scale, over every channel) and peak signal-to-noise ratio (PSNR) of the
written image against the input.

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
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        help="seed of the randomised parts (colour k-means), for repeatable "
        "outputs; default: %(default)s",
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
    outputs = _output_paths(quantize, args.inputs, args.output_dir)
    report = _Report(quiet=args.quiet, verbose=args.verbose)
    try:
        return _quantize_files(args, outputs, report)
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
                f"{taken[key]} and {path} would both be written to {output}; "
                "rename one or quantize them into different --output-dir folders"
            )
        taken[key] = path
        outputs[path] = output
    for path in inputs:
        key = os.path.normcase(os.path.realpath(path))
        if key in taken or _same_file(path, outputs[path]):
            parser.error(
                f"the output for {taken.get(key, path)} would replace the input "
                f"{path}; "
                "choose another --output-dir (inputs are never modified)"
            )
    return outputs


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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
            self._write(text, sys.stdout)

    def warning(self, path, message):
        if not self.quiet:
            self._write(f"skvq: warning: {path}: {message}", sys.stderr)

    def error(self, text):
        self._write(f"skvq: error: {text}", sys.stderr)


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _FileError(Exception):
    """A file that cannot be read or written; the message says why."""


def _quantize_files(args, outputs, report):
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

    width = max(len(path) for path in inputs)
    if todo:
        report.row(
            f"{'file':<{width}} {'before':>10} {'after':>10} {'bits/px':>8} "
            f"{'MSE':>9} {'PSNR dB':>8}"
        )
    totals = [0, 0]
    for path in report.progress(todo, "quantizing"):
        try:
            pixels = _read_pixels(path, args.gray, report)
            if shared is not None:
                pixels = _with_channels(pixels, shared.n_channels)
            result = _quantize_one(args, path, pixels, outputs[path], shared, report)
        except _FileError as exc:
            report.error(f"{path}: {exc}")
            failed.add(path)
            continue
        before, after, bits, mse, psnr = result
        totals[0] += before
        totals[1] += after
        report.row(
            f"{path:<{width}} {before:>10} {after:>10} {bits:>8.3f} "
            f"{mse:>9.3f} {psnr:>8.2f}"
        )
    report.close_progress()
    done = len(inputs) - len(failed)
    if done > 1:
        report.row(
            f"{'total':<{width}} {totals[0]:>10} {totals[1]:>10}   "
            f"({done} files, {totals[1] / totals[0]:.1%} of the input size)"
        )
    return 1 if failed else 0


def _new_quantizer(args, n_channels):
    return ImageVectorQuantizer(
        n_bins=args.n_bins,
        n_channels=n_channels,
        strategy=args.strategy,
        random_state=args.random_state,
    )


def _fit_shared(args, paths, failed, report):
    # A first pass finds the channels every file needs (any colour makes all
    # outputs colour, any transparency gives all an alpha channel), a second
    # streams the pixels into one codebook; no two images are held at once.
    layouts = {}
    for path in report.progress(paths, "reading"):
        try:
            layouts[path] = _read_pixels(path, args.gray).shape[-1]
        except _FileError as exc:
            report.error(f"{path}: {exc}")
            failed.add(path)
    report.close_progress()
    if not layouts:
        return None
    colour = any(n in (3, 4) for n in layouts.values())
    alpha = any(n in (2, 4) for n in layouts.values())
    n_channels = (3 if colour else 1) + alpha
    quantizer = _new_quantizer(args, n_channels)
    for path in report.progress(list(layouts), "fitting"):
        try:
            pixels = _with_channels(_read_pixels(path, args.gray), n_channels)
        except _FileError as exc:
            report.error(f"{path}: {exc}")
            failed.add(path)
            continue
        with _warnings_to(report, path):
            quantizer.partial_fit(pixels.reshape(-1, n_channels))
    report.close_progress()
    if not hasattr(quantizer, "codebook_"):
        return None
    report.detail(
        f"shared codebook: {quantizer.n_bins_} colours of {n_channels} "
        f"channel(s), fitted to {len(layouts) - len(failed & set(layouts))} files"
    )
    return quantizer


def _quantize_one(args, path, pixels, output, shared, report):
    height, width, n_channels = pixels.shape
    samples = pixels.reshape(-1, n_channels)
    with _warnings_to(report, path):
        if shared is None:
            quantizer = _new_quantizer(args, n_channels).fit(samples)
        else:
            quantizer = shared
        codes = quantizer.transform(samples).reshape(height, width)
    # The error is measured against what the file holds: the palette is
    # rounded to 8 bits when written.
    palette = np.clip(np.rint(quantizer.codebook_), 0, 255)
    mse = _mean_squared_error(pixels, palette, codes)
    psnr = 10 * np.log10(255.0**2 / mse) if mse > 0 else float("inf")
    try:
        write_palette_png(output, codes, palette, overwrite=args.overwrite)
    except FileExistsError:
        raise _FileError(
            f"{output} already exists (use --overwrite to replace it)"
        ) from None
    except OSError as exc:
        raise _FileError(f"cannot write {output}: {_reason(exc)}") from None
    before = os.path.getsize(path)
    after = os.path.getsize(output)
    report.detail(
        f"{path} -> {output}: {quantizer.n_bins_} colours, {n_channels} "
        f"channel(s), {width}x{height} pixels"
    )
    return before, after, 8 * after / (height * width), mse, psnr


def _mean_squared_error(pixels, palette, codes):
    # By blocks of rows: a float64 copy of a whole photo can take gigabytes.
    rows = max(1, 2**20 // pixels.shape[1])
    total = 0.0
    for start in range(0, pixels.shape[0], rows):
        block = slice(start, start + rows)
        error = palette[codes[block]] - pixels[block]
        total += float(np.vdot(error, error))
    return total / pixels.size


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


def _decode(path, gray):
    try:
        with Image.open(path) as image:
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
