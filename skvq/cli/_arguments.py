"""The options of ``skvq quantize``, their checks and the output names.

Imports only the standard library: ``skvq --help`` must answer at once.
Every check that a user can fail is a usage error (exit status 2) in the
option's own terms.
"""

import argparse
import importlib.util
import os

from .._version import __version__

STRATEGIES = ("kmeans", "uniform", "quantile")
# skvq._color_space.COLOR_SPACES, copied so that --help imports no NumPy.
COLOR_SPACES = ("rgb", "oklab")
# Chosen by benchmarks/bench_pngquant.py --cli (SSIMULACRA2 first, bytes
# second): mean SSIMULACRA2 32.2 / 68.5 / 83.9 at 16 / 64 / 256 colours
# against rgb's 22.9 / 61.2 / 79.4 (dithered; undithered -1.3 / 54.1 / 78.6
# against -11.7 / 42.1 / 71.7), on the six benchmark images.
DEFAULT_COLOR_SPACE = "oklab"
MAX_COLOURS = 256  # a PNG palette holds at most 256 colours
OPTIMIZE_LEVELS = range(7)  # oxipng's levels
# The command's oxipng level when none is given. On the photos of
# benchmarks/bench_pngquant.py, level 2 (oxipng's default, and
# write_palette_png's for optimize=True) made the dithered files 0.3% (16
# colours) to 5% (64 colours) smaller but took about twice as long, and
# writing is the slowest stage of a batch.
DEFAULT_OPTIMIZE_LEVEL = 1
# skvq._quantize.DEFAULT_DITHER_STRENGTH, copied so that --help imports no
# NumPy; tests/cli/test_arguments.py checks that the two agree.
DEFAULT_DITHER_STRENGTH = 1.0
MAX_SEED = 2**32 - 1  # NumPy's RandomState takes seeds below 2**32
MAX_POSTERIZE = 4  # pngquant's limit
STDIN = "-"
DITHER_METHODS = ("floyd-steinberg", "bayer", "blue-noise")
# skvq._animation's limits, copied so that --help imports no NumPy.
DEFAULT_MAX_FRAMES = 10_000
DEFAULT_MAX_TOTAL_PIXELS = 2**30
# pngquant's suffixes for outputs written beside their inputs.
DITHERED_EXT, PLAIN_EXT = "-fs8.png", "-or8.png"

# Exit statuses: pngquant's for a refused quality and a skipped file.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_SKIPPED, EXIT_QUALITY = 98, 99
EXIT_INTERRUPTED = 130

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
(palette) PNG files with at most N colours (256 unless -n is given). With
--output-dir DIR the outputs go to DIR, named after their inputs
(photo.jpg -> DIR/photo.png); without it, beside their inputs with
pngquant's suffix (photo-fs8.png, or photo-or8.png without dithering).
"-" reads one image from standard input and writes it to standard output
(or to --output FILE).

Gray inputs stay gray and colour inputs are quantized as RGB colours, by
distances in the perceptual space Oklab unless --color-space rgb is given.
The colours of a still picture's palette are fitted with the pixels of
smooth areas counting up to 3.3 times those at edges and in texture, where
errors show less (as pngquant's importance map); gray levels are the exact
minimum of the plain squared error. 16-bit inputs are fitted on all 16
bits of their values (in Oklab, divided by 257 and unrounded); only the
palette is rounded to the 8 bits PNG palettes hold. Pixels are dithered
(Floyd-Steinberg error diffusion, less at edges and in texture) unless
--no-dither is given.

Animations (GIF, APNG, animated WebP, multi-page TIFF) keep every frame,
its timing, the loop and the disposal, with one palette fitted exactly to
all frames (or one per frame, --per-frame-palette, GIF only): a GIF gives a
GIF (N - 1 colours and one entry free, as ffmpeg's palettegen, for the
pixels unchanged since the previous frame), the others an APNG, unless
--output or --ext ends in .gif, .png or .apng. They are dithered by blue
noise at strength 0.5 unless --dither-method or --dither says otherwise:
ordered dithering keeps the colour of pixels that do not change between
frames (measured in benchmarks/bench_animation.py: no static pixel
flickers, and under half of ffmpeg's bytes), where error diffusion
shimmers. Pixels of alpha below 128 share one transparent entry. --quality,
--map, --posterize and --gray apply to all frames together, gray animations
stay gray, and APNG outputs go through oxipng (--optimize); --color-space
applies as to still images; --shared-codebook takes still images only.

Transparency is kept unless every pixel is opaque (tRNS keys of 8- and 16-bit
files included): all fully transparent pixels share one palette entry,
alpha 0 and 255 are kept exactly, and the other entries are chosen for the
visible pixels, each colour error counting in proportion to the pixel's
alpha (colours premultiplied by alpha, as pngquant does).

For each file, a row gives its size before and after (bytes), bits per pixel
of the output, the mean squared error (MSE, on the 0..255 scale, over every
channel; premultiplied by alpha for transparent images) and peak
signal-to-noise ratio (PSNR) of the written image against the input, and the
PSNR of both images blurred by a Gaussian of 1 pixel, closer to what the eye
sees at a distance (dithering lowers it less than the plain PSNR). Rows
keep the order of the inputs; when the image goes to standard output, the
table goes to standard error.

Inputs are never modified. An output that exists is kept unless --overwrite
(or --force) is given, even against another skvq writing it at the same time:
each output is written to a temporary file that is linked to its name only
if that name is free (on file systems without hard links, the check and the
rename are two steps). A file that cannot be read or written is reported on
stderr; the others are still done.

Options shared with pngquant keep pngquant's meaning, except -o, which is
--output-dir here (pngquant's -o is --output FILE), and --strip, which
changes nothing: skvq never copies metadata."""

_QUANTIZE_EPILOG = """\
examples:
  16 colours per photo, in the folder small/:
    skvq quantize holiday/*.jpg --n-bins 16 --output-dir small/

  the fewest colours reaching quality 80, refused below 60 (as pngquant):
    skvq quantize photo.png --quality 60-80 --output small.png

  4 gray levels shared by every page of a scan, found by k-means:
    skvq quantize page-*.png -n 4 --gray --shared-codebook -o out/

  remap to the colours of a palette file, in its order:
    skvq quantize sprite.png --map palette.png -o out/

  in a pipe:
    convert photo.jpg png:- | skvq quantize - -n 64 > small.png

exit status: 0 if every file was written, 1 if some file failed (or the
report could not be written), 2 for a usage error, 98 if some file was
skipped by --skip-if-larger, 99 if some file was refused by --quality (when
several apply: 1, then 99, then 98), 130 if interrupted."""


def _integer(text, low, high, what):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def n_colours(text):
    return _integer(
        text,
        2,
        MAX_COLOURS,
        f"an integer from 2 to {MAX_COLOURS} (a PNG palette holds at most "
        f"{MAX_COLOURS} colours)",
    )


def strength(text):
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


def positive(text):
    return _integer(text, 1, 2**62, "a positive integer")


def optimize_level(text):
    return _integer(text, 0, 6, "oxipng's level, an integer from 0 to 6")


def seed(text):
    return _integer(text, 0, MAX_SEED, f"an integer from 0 to {MAX_SEED} (2**32 - 1)")


def posterize_bits(text):
    return _integer(text, 0, MAX_POSTERIZE, f"an integer from 0 to {MAX_POSTERIZE}")


def jobs(text):
    return _integer(text, 1, 1024, "an integer from 1 to 1024")


def quality(text):
    """``MIN-MAX`` or ``MAX`` (pngquant: ``MAX`` alone means ``0-MAX``)."""
    low, sep, high = text.partition("-")
    try:
        bounds = (int(low), int(high)) if sep else (0, int(low))
    except ValueError:
        bounds = None
    if bounds is None or not 0 <= bounds[0] <= bounds[1] <= 100:
        raise argparse.ArgumentTypeError(
            "must be MIN-MAX (or MAX), integers with 0 <= MIN <= MAX <= 100, "
            f"e.g. 60-80, got {text!r}"
        )
    return bounds


class _Given(argparse.Action):
    """Stores the value, and that the option was given (``NAME_given``):
    animations tell --optimize's scope by it."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def oxipng_installed():
    return importlib.util.find_spec("oxipng") is not None


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Fills in a default that costs a look-up only when help is shown."""

    def _get_help_string(self, action):
        text = super()._get_help_string(action)
        if action.dest == "optimize":
            text = text.replace(
                "{default}",
                f"{DEFAULT_OPTIMIZE_LEVEL}"
                if oxipng_installed()
                else "none, as pyoxipng is not installed",
            )
        return text


def build_parser():
    """The ``skvq`` parser and its ``quantize`` subparser."""
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
    add = quantize.add_argument
    add(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help='image files to quantize; "-" for standard input',
    )
    add(
        "-n",
        "--n-bins",
        type=n_colours,
        default=MAX_COLOURS,
        metavar="N",
        help="number of colours (gray levels) of each output, 2 to 256; PNG "
        "stores 1, 2, 4 or 8 bits per pixel, so 2, 4, 16 and 256 use a bit "
        "depth fully; with --quality, the most colours; default: %(default)s "
        "(pngquant's; pngquant also takes N as its first argument, skvq only "
        "as -n)",
    )
    add(
        "-s",
        "--strategy",
        choices=STRATEGIES,
        default="kmeans",
        help="how the colours are chosen: 'kmeans' minimises the squared "
        "error (exactly, for gray images), 'uniform' spaces them evenly, "
        "'quantile' gives them equal numbers of pixels (median cut for "
        "colour); default: %(default)s",
    )
    add(
        "--color-space",
        choices=COLOR_SPACES,
        default=DEFAULT_COLOR_SPACE,
        help="the space in which colours are chosen, pixels find their "
        "nearest colour and dithering spreads its error: 'oklab' "
        "(Ottosson's perceptual space, where equal distances look about "
        "equally different) or 'rgb' (the file's own sRGB values, where "
        "k-means minimises the MSE the table shows); the palette is sRGB "
        "either way. oklab applies to RGB images and to RGBA images whose "
        "alpha is only 0 or 255 (their opaque pixels); gray images, and "
        "images with translucent pixels (fitted on premultiplied colours and "
        "alpha), are always quantized in their own values, as with rgb; "
        "default: %(default)s, for still images and animations",
    )
    add(
        "--gray",
        action="store_true",
        help="convert colour inputs to gray first (ITU-R 601-2 luma)",
    )
    add(
        "-o",
        "--output-dir",
        metavar="DIR",
        help="folder for the outputs, created if missing (pngquant's -o is "
        "--output FILE); default: beside each input, with --ext's suffix",
    )
    add(
        "--output",
        metavar="FILE",
        help='the output file of a single input ("-": standard output)',
    )
    add(
        "--ext",
        metavar="EXT",
        help="suffix of output names in place of the input's extension; "
        f"default: .png in --output-dir, else pngquant's {DITHERED_EXT} "
        f"({PLAIN_EXT} without dithering)",
    )
    add(
        "--quality",
        type=quality,
        metavar="MIN-MAX",
        help="pngquant's quality, 0 to 100: use the fewest colours (up to N) "
        "whose palette reaches MAX, and refuse the file (nothing written, "
        "exit status 99) if N colours stay below MIN. Quality q stands for an "
        "MSE bound on the 0..255 scale, libimagequant's quality_to_mse(q) * "
        "65536 / 6 (about 6.1 at 80, 2.2 at 90, 0 at 100); skvq measures it "
        "as the mean over channels of the palette's squared error with every "
        "pixel on its nearest colour, before dithering and before the 8-bit "
        "rounding of the palette (libimagequant measures in its own "
        "gamma-weighted units, so the same q need not give the same file). "
        "Gray images: a bisection over the number of levels, each solved "
        "exactly, finds the fewest exactly (the optimal error never grows "
        "with more levels). Colour: the same bisection over k-means "
        "palettes, whose error is not exactly monotone: a small number of "
        "colours, not provably the fewest",
    )
    add(
        "--posterize",
        type=posterize_bits,
        metavar="BITS",
        help="pngquant's --posterize: palette values on 8 - BITS significant "
        "bits (e.g. 4 for ARGB4444 displays), 0 to 4",
    )
    add(
        "--map",
        metavar="PALETTE_FILE",
        help="use the colours of this image instead of learning them: the "
        "palette of an indexed PNG in its order, or the distinct colours of "
        "another image in the order they first appear (at most 256); every "
        "output gets them bit for bit, in that order",
    )
    dither = quantize.add_mutually_exclusive_group()
    dither.add_argument(
        "--dither",
        type=strength,
        metavar="STRENGTH",
        help="strength of the Floyd-Steinberg error diffusion, from 0 (none) "
        "to 1 (all of each pixel's error is passed on to its neighbours in "
        "smooth areas, down to 0.7 of it at edges and in texture, where "
        "dithering would add noise), or of the ordered methods' offsets "
        "(--dither-method); in Oklab with --color-space oklab; "
        "dithering trades a higher MSE for less banding in smooth areas and "
        f"somewhat larger files; default: {DEFAULT_DITHER_STRENGTH}, the "
        "default of skvq.dither (SSIMULACRA2 above 0.8's at 16, 64 and 256 "
        "colours), and 0.5 for the ordered methods of animations",
    )
    dither.add_argument(
        "--no-dither",
        "--nofs",
        dest="dither",
        action="store_const",
        const=0.0,
        help="no dithering: every pixel gets its nearest colour (the same as "
        "--dither 0; --nofs is pngquant's name)",
    )
    add(
        "--dither-method",
        choices=DITHER_METHODS,
        help="how pixels are dithered: Floyd-Steinberg error diffusion, or "
        "ordered dithering by the 8 x 8 Bayer matrix or a 64 x 64 blue-noise "
        "mask, where a pixel's colour depends on its value and place only, "
        "so that pixels that do not change between the frames of an "
        "animation keep their colour; default: floyd-steinberg for images, "
        "blue-noise at strength 0.5 for animations (measured by "
        "benchmarks/bench_animation.py: no static pixel flickers, and under "
        "half of ffmpeg's bytes; error diffusion shimmers)",
    )
    add(
        "--per-frame-palette",
        action="store_true",
        help="animations: fit a palette to each frame (GIF local colour "
        "tables) instead of one palette of all frames; GIF outputs only, "
        "and not with --map or --quality",
    )
    add(
        "--max-frames",
        type=positive,
        default=DEFAULT_MAX_FRAMES,
        metavar="N",
        help="refuse animations of more frames; default: %(default)s",
    )
    add(
        "--max-total-pixels",
        type=positive,
        default=DEFAULT_MAX_TOTAL_PIXELS,
        metavar="N",
        help="refuse animations of more pixels in all frames together "
        "(frames x width x height), which would take too much memory; "
        "default: %(default)s (2**30)",
    )
    optimize = quantize.add_mutually_exclusive_group()
    optimize.add_argument(
        "--optimize",
        action=_Given,
        type=optimize_level,
        metavar="LEVEL",
        help="make the files smaller with oxipng (pip install pyoxipng, or "
        "skvq[optimize]) at this level, 0 to 6, higher being slower and "
        "smaller; the pixels are unchanged; PNG and APNG outputs (a GIF is "
        "written as Pillow optimizes it); default: {default}",
    )
    optimize.add_argument(
        "--no-optimize",
        dest="optimize",
        action="store_const",
        const=False,
        help="write the files as Pillow encodes them, without oxipng",
    )
    add(
        "--shared-codebook",
        action="store_true",
        help="fit one set of colours to all inputs together (streamed, one "
        "file at a time) and use it for every output, instead of one per "
        "file; still images only (an input of several frames is a usage "
        "error)",
    )
    add(
        "--overwrite",
        "-f",
        "--force",
        dest="overwrite",
        action="store_true",
        help="replace outputs that already exist (inputs are never replaced); "
        "--force and -f are pngquant's names",
    )
    add(
        "--skip-if-larger",
        action="store_true",
        help="write an output only if it is smaller than its input; a file "
        "skipped gives exit status 98 (as pngquant)",
    )
    add(
        "--strip",
        action="store_true",
        help="accepted for pngquant's users; changes nothing, as skvq never "
        "copies metadata (EXIF, ICC profiles, text) to its outputs",
    )
    add(
        "--jobs",
        "-j",
        type=jobs,
        metavar="N",
        help="files quantized at once; default: the cores this process may "
        "use (its CPU affinity and cgroup quota)",
    )
    add(
        "--random-state",
        type=seed,
        default=0,
        metavar="SEED",
        help="seed of k-means++, which colour k-means uses only when the "
        "initial variance split cannot make N colours, 0 to 2**32 - 1; "
        "outputs are repeatable for a given seed; default: %(default)s",
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


def check_arguments(quantize, args):
    """Checks that involve several options; usage errors (exit status 2)."""
    # Animations' ordered dithering has its own default strength.
    args.dither_given = args.dither is not None
    if args.dither is None:
        args.dither = DEFAULT_DITHER_STRENGTH
    # Told once in the report's footer: files are larger without oxipng.
    args.oxipng_missing = args.optimize is None and not oxipng_installed()
    if args.optimize is None:
        args.optimize = False if args.oxipng_missing else DEFAULT_OPTIMIZE_LEVEL
    elif args.optimize is not False and not oxipng_installed():
        quantize.error(
            "--optimize needs oxipng, which is not installed: pip install "
            "pyoxipng (or skvq[optimize]), or leave --optimize out"
        )
    if STDIN in args.inputs and len(args.inputs) > 1:
        quantize.error('"-" (standard input) must be the only INPUT')
    if args.output is not None:
        if len(args.inputs) > 1:
            quantize.error(
                f"--output names the file of one input, got {len(args.inputs)} "
                "inputs; use --output-dir for several"
            )
        if args.output_dir is not None:
            quantize.error("--output and --output-dir cannot be used together")
    if args.map is not None and (args.quality or args.shared_codebook):
        other = "--quality" if args.quality else "--shared-codebook"
        quantize.error(f"--map gives the colours; it cannot be used with {other}")
    if args.quality and args.shared_codebook:
        quantize.error(
            "--quality chooses the colours of each file; it cannot be used "
            "with --shared-codebook"
        )
    if args.per_frame_palette and (args.map is not None or args.quality):
        other = "--map" if args.map is not None else "--quality"
        quantize.error(
            f"{other} chooses one palette for all frames; it cannot be used "
            "with --per-frame-palette"
        )
    if args.ext is not None and (not args.ext or os.sep in args.ext):
        quantize.error(f"--ext must be a file name suffix, got {args.ext!r}")
    args.outputs = output_paths(quantize, args)


# Options that animations do not take: with them, inputs of several frames
# are a usage error (skvq.cli._main), and a GIF of one frame is a still
# image, written as a PNG.
STILL_ONLY_OPTIONS = ("shared_codebook",)


def takes_animations(args):
    """Whether animated inputs are quantized as animations (all frames)."""
    return not any(getattr(args, name) for name in STILL_ONLY_OPTIONS)


def _output_of(args, path):
    if args.output is not None:
        return args.output
    if path == STDIN:
        return STDIN
    stem, suffix = os.path.splitext(os.path.basename(path))
    # A GIF gives a GIF (skvq.cli._animation): the output follows the input.
    is_gif = suffix.lower() == ".gif" and takes_animations(args)
    written = ".gif" if is_gif else ".png"
    if args.output_dir is not None:
        return os.path.join(args.output_dir, stem + (args.ext or written))
    ext = args.ext or (DITHERED_EXT if args.dither > 0 else PLAIN_EXT)
    if args.ext is None:
        ext = ext[: -len(".png")] + written
    return os.path.join(os.path.dirname(path), stem + ext)


def output_paths(parser, args):
    """Map each input to its output, or stop with a usage error (status 2)."""
    outputs, taken = {}, {}
    for path in args.inputs:
        output = _output_of(args, path)
        if output == STDIN:
            outputs[path] = output
            continue
        key = os.path.normcase(os.path.realpath(output))
        if key in taken:
            parser.error(
                f"{shown(taken[key])} and {shown(path)} would both be written "
                f"to {shown(output)}; rename one or quantize them into "
                "different --output-dir folders"
            )
        taken[key] = path
        outputs[path] = output
    for path in args.inputs:
        if path == STDIN:
            continue
        key = os.path.normcase(os.path.realpath(path))
        if key in taken or _same_file(path, outputs[path]):
            parser.error(
                f"the output for {shown(taken.get(key, path))} would replace the "
                f"input {shown(path)}; "
                "choose another --output-dir (inputs are never modified)"
            )
    return outputs


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def shown(text):
    """``text`` on one line: characters that are not printable (a newline or
    a tab in a file name, terminal escapes, undecodable bytes) as escapes."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in str(text)
    )
