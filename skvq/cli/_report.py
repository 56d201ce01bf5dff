"""What the command prints: the table of rows, warnings, errors, the progress
bar, and the errors that the rows show.

A closed or full standard output (``skvq ... | head``, ``> /dev/full``) is
not an error of the files: the rows stop, the files are still written, and
one line on stderr says why the report is short (exit status 1).
"""

import math
import sys

import numpy as np

from ._arguments import shown

# The blurred error: both images through a Gaussian of this many pixels, cut
# at 4 sigma (scipy.ndimage.gaussian_filter's default truncation).
BLUR_SIGMA = 1.0
_BLUR_RADIUS = int(4.0 * BLUR_SIGMA + 0.5)
# The table's footer when the files were written without oxipng because it
# is not installed (not asked for by --no-optimize): 15% larger for china.jpg
# at 16 colours with the defaults, 4% at 256.
OXIPNG_MISSING = (
    "oxipng is not installed: files are encoded by Pillow alone and are "
    'larger (pip install "skvq[optimize]")'
)


class Report:
    """Where rows, warnings and errors go, and the optional progress bar.

    Parameters
    ----------
    quiet, verbose : bool
    rows_to_stderr : bool
        Rows go to stderr (when the image itself goes to stdout).
    """

    def __init__(self, quiet, verbose, rows_to_stderr=False):
        self.quiet = quiet
        self.verbose = verbose
        self.rows_to_stderr = rows_to_stderr
        self.stdout_error = None  # the OSError that closed the report
        self._bar = None

    def progress(self, n_items, description):
        """Start a progress bar of ``n_items`` (on a terminal, with tqdm)."""
        if self.quiet or n_items < 2 or not isatty(sys.stderr):
            return
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is the optional extra skvq[cli]
            return
        self._bar = tqdm(total=n_items, desc=description, unit="file", leave=False)

    def advance(self):
        if self._bar is not None:
            self._bar.update()

    def close_progress(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _write(self, text, file):
        if file is sys.stdout and self.stdout_error is not None:
            return
        try:
            if self._bar is not None:
                self._bar.write(text, file=file)
            else:
                print(text, file=file)
            if file is sys.stdout:
                file.flush()
        except OSError as exc:
            if file is not sys.stdout:
                raise
            self.stdout_error = exc

    def row(self, text):
        if not self.quiet:
            self._write(text, sys.stderr if self.rows_to_stderr else sys.stdout)

    def detail(self, text):
        if self.verbose:
            self._write(shown(text), sys.stderr if self.rows_to_stderr else sys.stdout)

    def warning(self, path, message):
        if not self.quiet:
            self._write(shown(f"skvq: warning: {path}: {message}"), sys.stderr)

    def error(self, text):
        self._write(shown(f"skvq: error: {text}"), sys.stderr)


def isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Table:
    """The rows of the report; the header comes with the first row, so that
    a run that writes nothing prints no table at all."""

    def __init__(self, report, names):
        self.report = report
        self.width = max(len(shown(name)) for name in names)
        self.n_rows = 0
        self.before = self.after = 0

    def add(self, name, before, after, bits, mse, psnr, blurred_psnr):
        if not self.n_rows:
            self.report.row(
                f"{'file':<{self.width}} {'before':>10} {'after':>10} "
                f"{'bits/px':>8} {'MSE':>9} {'PSNR dB':>8} {'blur PSNR':>9}"
            )
        self.n_rows += 1
        self.before += before
        self.after += after
        self.report.row(
            f"{shown(name):<{self.width}} {before:>10} {after:>10} {bits:>8.3f} "
            f"{mse:>9.3f} {psnr:>8.2f} {blurred_psnr:>9.2f}"
        )

    def total(self, oxipng_missing=False):
        """The total row (several files), then the footer: a line saying
        that oxipng is missing, if it is and some file was written."""
        if self.n_rows > 1:
            self.report.row(
                f"{'total':<{self.width}} {self.before:>10} {self.after:>10}   "
                f"({self.n_rows} files, {self.after / self.before:.1%} of the "
                "input size)"
            )
        if self.n_rows and oxipng_missing:
            self.report.row(OXIPNG_MISSING)


def psnr(mse):
    if math.isnan(mse):
        return math.nan
    return 10 * math.log10(255.0**2 / mse) if mse > 0 else math.inf


def gaussian_kernel(sigma=BLUR_SIGMA, radius=_BLUR_RADIUS):
    """The normalised 1-D Gaussian of ``scipy.ndimage.gaussian_filter``."""
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def blur(image, kernel):
    """Separable Gaussian blur of the first two axes of ``image`` (float32,
    shape (height, width, n_channels)), edges mirrored as
    ``scipy.ndimage.gaussian_filter``'s default mode "reflect" does."""
    radius = len(kernel) // 2
    for axis in (0, 1):
        width = [(0, 0)] * image.ndim
        width[axis] = (radius, radius)
        padded = np.pad(image, width, mode="symmetric")
        size = image.shape[axis]
        out = np.zeros_like(image)
        for tap, weight in enumerate(kernel):
            index = [slice(None)] * image.ndim
            index[axis] = slice(tap, tap + size)
            out += np.float32(weight) * padded[tuple(index)]
        image = out
    return image


def errors(pixels, visible, table, codes):
    """Mean squared error of ``table[codes]`` against ``visible(pixels)``,
    plain and after a Gaussian blur of ``BLUR_SIGMA`` pixels of both images.

    By blocks of rows, each blurred with the rows around it that reach it
    (the blur is linear, so blurring the difference is enough), so that no
    copy of a whole photo is made. Differences are float32: exact for 8-bit
    pixels and palettes, within 1e-7 relative otherwise, far below the
    digits the report shows; squares are summed in float64.

    The blur is NumPy's (9 taps per axis), not SciPy's: the command line
    imports no SciPy, and this costs about as much as the plain error.
    """
    height, width, n_channels = pixels.shape
    table = table.astype(np.float32)
    kernel = gaussian_kernel()
    reach = len(kernel) // 2
    rows = max(1, 2**20 // (width * n_channels))
    total = blurred_total = 0.0
    for start in range(0, height, rows):
        stop = min(height, start + rows)
        low, high = max(0, start - reach), min(height, stop + reach)
        error = table[codes[low:high]]
        error -= visible(pixels[low:high])
        blurred = blur(error, kernel)
        inner = slice(start - low, stop - low)
        total += float(np.sum(np.square(error[inner], dtype=np.float64)))
        blurred_total += float(np.sum(np.square(blurred[inner], dtype=np.float64)))
    size = pixels.size
    return total / size, blurred_total / size
