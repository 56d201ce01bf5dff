"""Ordered dithering: each pixel perturbed by a fixed threshold mask, then coded.

Ordered dithering adds to each pixel an offset read from a small threshold
mask tiled over the image, anchored at its top-left pixel, and codes the
perturbed value exactly as ``transform`` codes a pixel. The offset depends
on the pixel's position and value only, never on its neighbours' errors, so
a pixel that does not change between two frames of an animation keeps its
code (error diffusion, in which every error travels along the scan, makes
static areas shimmer).

The mask holds ``(rank + 0.5) / n - 0.5`` for the ranks ``0 .. n - 1`` of
its ``n`` cells, so offsets are symmetric about zero and, over one tile, a
flat value between two codewords gets the upper one in proportion to its
distance from the lower one (exactly, when the edge between their cells is
their midpoint).

The kernels only perturb: they fill a float64 array the caller allocated,
and the caller codes it (:func:`skvq._codec.encode`). They validate nothing;
:func:`ordered_dither` prepares their arguments.

References: Bayer, B. E. (1973), An optimum method for two-level rendition of
continuous-tone pictures, IEEE International Conference on Communications,
26-11 to 26-15; Ulichney, R. (1993), The void-and-cluster method for dither
array generation, Proceedings of SPIE 1913, 332-343.
"""

import os
from functools import lru_cache

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t

from ._codec import encode
from ._dither import _kernel_input

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    int32_t
    int64_t
    float
    double


def perturb_scalar(
    const pixel_t[:, ::1] X,  # IN
    const double[:, ::1] mask,  # IN
    const double[::1] codewords,  # IN
    double strength,
    double[:, ::1] out,  # OUT
):
    """Perturb gray pixels by the mask, each within its two codewords.

    A value ``x`` with ``a <= x <= b``, ``a`` and ``b`` consecutive
    codewords, becomes ``x + strength * (b - a) * m`` clipped to ``[a, b]``,
    where ``m`` in ``(-1/2, 1/2)`` is the mask's cell at the pixel's position
    (row ``i % mask.shape[0]``, column ``j % mask.shape[1]``). Values below
    the first codeword or above the last one are left as they are.

    Parameters
    ----------
    X : memoryview of shape (n_rows, n_columns)
        Pixel values.
    mask : memoryview of shape (mask_rows, mask_columns)
        Offsets in ``(-1/2, 1/2)``.
    codewords : memoryview of shape (n_codes,)
        Ascending codewords.
    strength : float in [0, 1]
    out : memoryview of shape (n_rows, n_columns)
        Written with the perturbed values.
    """
    cdef Py_ssize_t n_rows = X.shape[0], n_columns = X.shape[1]
    cdef Py_ssize_t mask_rows = mask.shape[0], mask_columns = mask.shape[1]
    cdef Py_ssize_t n_codes = codewords.shape[0]
    cdef Py_ssize_t i, j, low, high, middle
    cdef double x, a, b, v
    with nogil:
        for i in range(n_rows):
            for j in range(n_columns):
                x = <double>X[i, j]
                # Invariant of the search: codewords[low] <= x < codewords[high].
                if not (codewords[0] <= x < codewords[n_codes - 1]):
                    out[i, j] = x
                    continue
                low = 0
                high = n_codes - 1
                while high - low > 1:
                    middle = (low + high) // 2
                    if codewords[middle] <= x:
                        low = middle
                    else:
                        high = middle
                a = codewords[low]
                b = codewords[high]
                # Halves first, so that b - a cannot overflow.
                v = x + strength * 2.0 * mask[i % mask_rows, j % mask_columns] * (
                    0.5 * b - 0.5 * a
                )
                out[i, j] = a if v < a else (b if v > b else v)


def perturb_vector(
    const pixel_t[:, ::1] X,  # IN
    const double[:, ::1] mask,  # IN
    const double[::1] low,  # IN
    const double[::1] high,  # IN
    double amplitude,
    double[:, ::1] out,  # OUT
):
    """Perturb pixels of several channels by the mask, all channels alike.

    Channel ``c`` of a pixel at row ``i`` and column ``j`` becomes
    ``x + amplitude * m`` clipped to ``[min(low[c], x), max(high[c], x)]``,
    where ``m`` is the mask's cell at ``(i % mask_rows, j % mask_columns)``:
    the offset can pull a value toward the codebook's range, never push it
    beyond it.

    Parameters
    ----------
    X : memoryview of shape (n_rows, n_columns * n_channels)
        Pixels, ``n_channels`` consecutive values each.
    mask : memoryview of shape (mask_rows, mask_columns)
        Offsets in ``(-1/2, 1/2)``.
    low, high : memoryview of shape (n_channels,)
        Smallest and largest codeword coordinate of each channel.
    amplitude : float
        Offset of a mask cell of 1 (the caller's strength times the
        codebook's spacing).
    out : memoryview of shape (n_rows, n_columns * n_channels)
        Written with the perturbed values.
    """
    cdef Py_ssize_t n_rows = X.shape[0], n_values = X.shape[1]
    cdef Py_ssize_t n_channels = low.shape[0]
    cdef Py_ssize_t mask_rows = mask.shape[0], mask_columns = mask.shape[1]
    cdef Py_ssize_t i, j, c
    cdef double x, v, offset, floor, ceiling
    with nogil:
        for i in range(n_rows):
            for j in range(n_values // n_channels):
                offset = amplitude * mask[i % mask_rows, j % mask_columns]
                for c in range(n_channels):
                    x = <double>X[i, j * n_channels + c]
                    floor = low[c] if low[c] < x else x
                    ceiling = high[c] if high[c] > x else x
                    v = x + offset
                    out[i, j * n_channels + c] = (
                        floor if v < floor else (ceiling if v > ceiling else v)
                    )


METHODS = ("bayer", "blue-noise")
# Side of the Bayer matrix, as ffmpeg's paletteuse (dither=bayer): 64 levels.
BAYER_SIZE = 8
# Side of the blue-noise mask: 4,096 levels. Making it takes 0.1-0.25 s, as
# long as learning and dithering a 48-frame animation, so skvq ships it
# (8 KiB) and tests/test_ordered_dither.py checks the file against
# make_blue_noise_mask.
BLUE_NOISE_SIZE = 64
BLUE_NOISE_FILE = os.path.join(os.path.dirname(__file__), "_blue_noise_64.npy")
# Standard deviation (in pixels) of the Gaussian filter by which
# void-and-cluster finds clusters and voids, Ulichney's (1993) choice.
BLUE_NOISE_SIGMA = 1.5
# Codebooks of more codewords estimate their spacing from this many of them.
_SPACING_SAMPLE = 1024


def ordered_dither(
    X, codebook, bin_edges, strength, method, origin=(0, 0), spacing=None
):
    """Codes of the pixels of ``X`` by ordered dithering.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_columns * n_channels)
        Finite real pixel values, rows of the image. Never modified.
    codebook : ndarray of shape (n_codes, n_channels)
        The codewords, finite; ascending with one channel.
    bin_edges : ndarray of shape (n_codes + 1,) or None
        As for :func:`skvq._codec.encode`: the cells of one channel, or
        ``None`` for the nearest codeword.
    strength : float in [0, 1]
        Scale of the offsets; 0 gives :func:`skvq._codec.encode`'s codes.
    method : {"bayer", "blue-noise"}
        The threshold mask: the 8 x 8 Bayer matrix, or a 64 x 64 blue-noise
        mask made by void-and-cluster (:func:`make_blue_noise_mask`).
    origin : (int, int), default=(0, 0)
        The position in the image of ``X``'s first pixel, which the mask's
        tiling follows.
    spacing : float or None, default=None
        :func:`codeword_spacing` of ``codebook``, when the caller has it
        (several channels); ``None`` computes it.

    Returns
    -------
    codes : ndarray of shape (n_rows, n_columns)
        uint8 up to 256 codewords, else uint16.

    Notes
    -----
    With one channel a value between consecutive codewords ``a <= x <= b``
    is offset by ``strength * (b - a) * m``, ``m`` in ``(-1/2, 1/2)`` the
    mask's cell, and kept within ``[a, b]``; where the edge of the two
    cells is their midpoint (k-means and midpoint codebooks), a flat area
    then gets ``b`` on a fraction ``(x - a) / (b - a)`` of each tile at
    strength 1 and keeps its mean. With several channels every channel is
    offset by ``strength * s * m``, where ``s`` is the median distance
    from a codeword to its nearest other codeword (:func:`codeword_spacing`),
    and kept within the codebook's range; codes are then the nearest
    codewords.
    """
    if strength == 0:
        return encode(X, codebook, bin_edges)
    X = _kernel_input(X)
    mask = threshold_mask(method)
    if origin != (0, 0):
        mask = np.ascontiguousarray(
            np.roll(mask, (-origin[0], -origin[1]), axis=(0, 1))
        )
    perturbed = np.empty(X.shape, dtype=np.float64)
    codebook = np.asarray(codebook, dtype=np.float64)
    if bin_edges is not None:
        perturb_scalar(
            X, mask, np.ascontiguousarray(codebook[:, 0]), strength, perturbed
        )
    else:
        perturb_vector(
            X,
            mask,
            np.ascontiguousarray(codebook.min(axis=0)),
            np.ascontiguousarray(codebook.max(axis=0)),
            strength * (codeword_spacing(codebook) if spacing is None else spacing),
            perturbed,
        )
    return encode(perturbed, codebook, bin_edges)


def codeword_spacing(codebook):
    """Median distance from a codeword to its nearest other codeword.

    Taken over at most 1,024 codewords (evenly spaced in the codebook's
    order) against all of them, in units of a power of two above every
    coordinate so that no square overflows; 0 for a single codeword.
    """
    n_codes = codebook.shape[0]
    if n_codes < 2:
        return 0.0
    largest = float(np.max(np.abs(codebook)))
    exponent = int(np.frexp(largest)[1]) if largest > 0 else 0
    scaled = np.ldexp(codebook, -exponent)
    positions = np.linspace(0, n_codes - 1, min(n_codes, _SPACING_SAMPLE))
    sample = np.unique(positions.astype(np.intp))
    nearest = np.empty(sample.size)
    for start in range(0, sample.size, 64):
        rows = sample[start : start + 64]
        squared = np.square(scaled[rows, None, :] - scaled[None, :, :]).sum(axis=2)
        squared[np.arange(rows.size), rows] = np.inf
        nearest[start : start + 64] = np.sqrt(squared.min(axis=1))
    spacing = float(np.ldexp(np.median(nearest), exponent))
    return min(spacing, float(np.finfo(np.float64).max))


def threshold_mask(method):
    """The mask of ``method`` as offsets ``(rank + 0.5) / n - 0.5``, read-only."""
    ranks = bayer_matrix(BAYER_SIZE) if method == "bayer" else blue_noise_mask()
    mask = (ranks + 0.5) / ranks.size - 0.5
    mask.flags.writeable = False
    return mask


def bayer_matrix(size):
    """The Bayer (1973) index matrix of side ``size`` (a power of two).

    Each cell holds its rank, 0 to ``size**2 - 1``, built by the recursion
    ``M(2n) = [[4 M(n), 4 M(n) + 2], [4 M(n) + 3, 4 M(n) + 1]]``, so that
    every threshold's pixels are spread as evenly as the grid allows.

    Examples
    --------
    >>> from skvq._ordered_dither import bayer_matrix
    >>> bayer_matrix(4)
    array([[ 0,  8,  2, 10],
           [12,  4, 14,  6],
           [ 3, 11,  1,  9],
           [15,  7, 13,  5]])
    """
    matrix = np.zeros((1, 1), dtype=np.int64)
    while matrix.shape[0] < size:
        matrix = np.block(
            [[4 * matrix, 4 * matrix + 2], [4 * matrix + 3, 4 * matrix + 1]]
        )
    return matrix


@lru_cache(maxsize=1)
def blue_noise_mask():
    """The shipped 64 x 64 blue-noise rank matrix, read-only.

    The ranks of :func:`make_blue_noise_mask` with its defaults, stored as
    uint16 in ``skvq/_blue_noise_64.npy`` (written by
    ``np.save(BLUE_NOISE_FILE, make_blue_noise_mask().astype(np.uint16))``)
    and read once per process.
    """
    ranks = np.load(BLUE_NOISE_FILE, allow_pickle=False).astype(np.int64)
    ranks.flags.writeable = False
    return ranks


def make_blue_noise_mask(size=BLUE_NOISE_SIZE, sigma=BLUE_NOISE_SIGMA):
    """A blue-noise rank matrix by Ulichney's (1993) void-and-cluster method.

    Each cell holds its rank, 0 to ``size**2 - 1``; the cells of the ``r``
    lowest ranks form, for every ``r``, a pattern without clumps or holes
    (energy under a periodic Gaussian filter as even as the method finds),
    so the mask tiles without seams.

    The method: a starting pattern of ``size**2 // 10`` cells (from
    ``numpy.random.RandomState(1993)``, whose stream NumPy keeps the same in
    every version) is relaxed by moving the pixel of the tightest cluster
    (highest filtered energy) to the largest void (lowest energy) until the
    two coincide; its cells are ranked by removing tightest clusters one by
    one, and the remaining cells by filling largest voids one by one.
    Energies are sums of the filter rounded to multiples of ``2**-30``, so
    the sums are exact integers and the mask the same on every machine.
    Ties go to the first cell in row-major order.

    Returns
    -------
    ranks : ndarray of shape (size, size), dtype int64
        About 0.2 s for 64 x 64: :func:`blue_noise_mask` reads the shipped
        copy instead.
    """
    n_cells = size * size
    offset = np.minimum(np.arange(size), size - np.arange(size))
    squared = offset[:, None] ** 2 + offset[None, :] ** 2
    kernel = np.rint(np.exp(-squared / (2.0 * sigma**2)) * 2.0**30).astype(np.int64)

    def energy_of(pattern):
        energy = np.zeros((size, size), dtype=np.int64)
        for y, x in zip(*np.nonzero(pattern)):
            energy += np.roll(kernel, (y, x), axis=(0, 1))
        return energy

    def tightest_cluster(pattern, energy):
        return int(np.argmax(np.where(pattern, energy, np.iinfo(np.int64).min)))

    def largest_void(pattern, energy):
        return int(np.argmin(np.where(pattern, np.iinfo(np.int64).max, energy)))

    pattern = np.zeros((size, size), dtype=bool)
    chosen = np.random.RandomState(1993).permutation(n_cells)[: n_cells // 10]
    pattern.flat[chosen] = True
    energy = energy_of(pattern)
    for _ in range(n_cells):
        cluster = tightest_cluster(pattern, energy)
        pattern.flat[cluster] = False
        energy -= np.roll(kernel, divmod(cluster, size), axis=(0, 1))
        void = largest_void(pattern, energy)
        pattern.flat[void] = True
        energy += np.roll(kernel, divmod(void, size), axis=(0, 1))
        if void == cluster:
            break
    ranks = np.empty(n_cells, dtype=np.int64)
    start = pattern.copy()
    start_energy = energy.copy()
    n_start = int(pattern.sum())
    for rank in range(n_start - 1, -1, -1):
        cluster = tightest_cluster(pattern, energy)
        pattern.flat[cluster] = False
        energy -= np.roll(kernel, divmod(cluster, size), axis=(0, 1))
        ranks[cluster] = rank
    pattern, energy = start, start_energy
    for rank in range(n_start, n_cells):
        void = largest_void(pattern, energy)
        pattern.flat[void] = True
        energy += np.roll(kernel, divmod(void, size), axis=(0, 1))
        ranks[void] = rank
    return ranks.reshape(size, size)
