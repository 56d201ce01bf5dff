"""Oklab, a perceptual colour space, as plain functions on arrays.

Under ``color_space="oklab"`` skvq learns its codebook, codes pixels and
diffuses dithering errors by Euclidean distances in Oklab (Ottosson 2020),
where equal distances look about equally different, while codewords,
decoded pixels and palettes stay sRGB values on the 8-bit scale.

Pixels are never converted wholesale to learn: the distinct sRGB colours of
the summary (:mod:`skvq._summary`) are converted, one atom each
(:func:`oklab_summary`), and integer images are coded through their distinct
colours (:func:`encode_oklab`).

Conventions
-----------
- sRGB values are on the 8-bit scale, 0 (black) to 255 (full intensity),
  whatever the dtype (booleans are 0 and 1 on it): a float image in [0, 1]
  or a 16-bit image must be scaled first. Values outside [0, 255] are
  refused (:func:`check_srgb`), so that no clipping happens silently.
- The conversion is the published one: the sRGB transfer function
  (IEC 61966-2-1) to linear light, then Ottosson's two matrices with a cube
  root between them. The inverse matrices are the float64 inverses of the
  published forward ones, so round trips hold to float rounding; they agree
  with Ottosson's printed (10-digit) inverses to 1e-6 in linear light.
- Every arithmetic step is elementwise (no BLAS), so the Oklab value of a
  colour is bit for bit the same whichever function converts it, on
  whatever array shape: the codes of :func:`encode_oklab` and of the
  dithering kernel at strength 0 agree.

References: Ottosson, B. (2020), A perceptual color space for image
processing, https://bottosson.github.io/posts/oklab/; IEC 61966-2-1:1999,
Multimedia systems and equipment - Colour measurement and management -
Default RGB colour space - sRGB.
"""

import numpy as np

from ._encode import BY_COLOUR_PIXELS, by_colour, nearest_codeword
from ._summary import PixelSummary, _exact_summary, _max_exponent

COLOR_SPACES = ("rgb", "oklab")
# The value of full intensity of every channel.
SRGB_WHITE = 255.0

# Linear sRGB -> cone responses (Ottosson 2020, "M1" composed with the sRGB
# primaries, as printed in his reference code).
_LINEAR_SRGB_TO_LMS = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
# Cube roots of the cone responses -> Lab ("M2").
_LMS_TO_OKLAB = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_OKLAB_TO_LMS = np.linalg.inv(_LMS_TO_OKLAB)
_LMS_TO_LINEAR_SRGB = np.linalg.inv(_LINEAR_SRGB_TO_LMS)


def check_color_space(color_space, n_channels=None):
    """Refuse an unknown colour space, or Oklab for pixels that are not RGB.

    Parameters
    ----------
    color_space : str
    n_channels : int or None
        Values per pixel; ``None`` skips that check.
    """
    if color_space not in COLOR_SPACES:
        raise ValueError(
            "color_space must be one of "
            f"{', '.join(map(repr, COLOR_SPACES))}, got {color_space!r}."
        )
    if color_space == "oklab" and n_channels is not None and n_channels != 3:
        raise ValueError(
            "color_space='oklab' takes pixels of 3 channels (sRGB red, green, "
            f"blue), got n_channels={n_channels}. Quantize other data, gray "
            "levels or RGBA (whose alpha is no colour) with color_space='rgb'."
        )


def check_srgb(low, high):
    """Refuse sRGB values outside [0, 255], given their per-channel extremes."""
    low, high = np.min(low, initial=0.0), np.max(high, initial=0.0)
    if low < 0 or high > SRGB_WHITE:
        raise ValueError(
            "color_space='oklab' takes sRGB values from 0 to 255 (the 8-bit "
            f"scale, whatever the dtype), got values from {low} to {high}. "
            "Scale a float image in [0, 1] by 255 and a 16-bit one by "
            "255 / 65535; clip values that overshoot with np.clip(X, 0, 255)."
        )


def check_srgb_pixels(X):
    """:func:`check_srgb` of an array of pixels (free for uint8 and bool)."""
    if X.dtype == bool or X.dtype == np.uint8 or X.size == 0:
        return
    check_srgb(np.min(X), np.max(X))


def _combine(matrix, planes):
    """The rows of ``matrix`` applied to three planes (arrays of one channel
    each): ``[sum_j matrix[i, j] * planes[j] for i in 0, 1, 2]``, summed in
    that order, elementwise (see the module's notes)."""
    return [
        matrix[i, 0] * planes[0] + matrix[i, 1] * planes[1] + matrix[i, 2] * planes[2]
        for i in range(3)
    ]


def _planes(x):
    return [np.asarray(x[..., c], dtype=np.float64) for c in range(3)]


def _stacked(planes):
    out = np.empty((*planes[0].shape, 3))
    for c in range(3):
        out[..., c] = planes[c]
    return out


def srgb_to_linear(encoded):
    """The sRGB transfer function: encoded values in [0, 1] to linear light.

    Examples
    --------
    >>> from skvq._color_space import srgb_to_linear
    >>> float(srgb_to_linear(0.5))
    0.21404114048223255
    """
    encoded = np.asarray(encoded, dtype=np.float64)
    return np.where(
        encoded <= 0.04045,
        encoded / 12.92,
        ((np.maximum(encoded, 0.04045) + 0.055) / 1.055) ** 2.4,
    )


def linear_to_srgb(linear):
    """The inverse sRGB transfer function: linear light in [0, 1] to encoded
    values in [0, 1]."""
    linear = np.asarray(linear, dtype=np.float64)
    return np.where(
        linear <= 0.0031308,
        12.92 * linear,
        1.055 * np.maximum(linear, 0.0031308) ** (1 / 2.4) - 0.055,
    )


# The linear light of every 8-bit value: uint8 pixels are converted through
# it, and every other dtype gives the same float64 for the same value.
_LINEAR_OF_UINT8 = srgb_to_linear(np.arange(256) / SRGB_WHITE)


def _linear_planes_to_oklab(planes):
    lms = [np.cbrt(plane) for plane in _combine(_LINEAR_SRGB_TO_LMS, planes)]
    return _stacked(_combine(_LMS_TO_OKLAB, lms))


def linear_srgb_to_oklab(linear):
    """Linear sRGB (rows of 3 values in [0, 1]) to Oklab (L, a, b)."""
    return _linear_planes_to_oklab(_planes(np.asarray(linear, dtype=np.float64)))


def oklab_to_linear_srgb(lab):
    """Oklab (rows of L, a, b) to linear sRGB, not clipped to the gamut."""
    lms = [plane**3 for plane in _combine(_OKLAB_TO_LMS, _planes(lab))]
    return _stacked(_combine(_LMS_TO_LINEAR_SRGB, lms))


def srgb_to_oklab(values):
    """sRGB values on the 8-bit scale to Oklab.

    Parameters
    ----------
    values : array-like of shape (..., 3)
        sRGB values in [0, 255] (checked by the callers); uint8 values go
        through a table of the 256 linear values.

    Returns
    -------
    lab : ndarray of shape (..., 3), float64
        L from 0 (black) to 1 (white), a and b within about +-0.32.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq._color_space import srgb_to_oklab
    >>> np.round(srgb_to_oklab([255, 255, 255]), 6) + 0.0
    array([1., 0., 0.])
    """
    values = np.asarray(values)
    if values.dtype == bool:
        values = values.view(np.uint8)
    if values.dtype == np.uint8:
        planes = [_LINEAR_OF_UINT8[values[..., c]] for c in range(3)]
    else:
        planes = [srgb_to_linear(plane / SRGB_WHITE) for plane in _planes(values)]
    return _linear_planes_to_oklab(planes)


def oklab_to_srgb(lab):
    """Oklab to sRGB values on the 8-bit scale, clipped to [0, 255].

    Colours outside the sRGB gamut (a centroid of colours can be, the gamut
    not being convex in Oklab) are clipped per channel in linear light.
    """
    linear = np.clip(oklab_to_linear_srgb(np.asarray(lab, dtype=np.float64)), 0, 1)
    return np.clip(linear_to_srgb(linear) * SRGB_WHITE, 0.0, SRGB_WHITE)


def oklab_summary(summary):
    """The summary, in Oklab, of an sRGB summary's atoms.

    An atom that is one distinct colour becomes that colour in Oklab, with
    its weight: exact. An atom that pools several colours (when there were
    more than ``max_atoms``) becomes one point at the Oklab value of its sRGB
    mean, with its weight; the spread of its colours about that mean is
    dropped (its Oklab spread is not a function of the sRGB sums). Either
    way the result is a function of the sRGB summary alone, and that is the
    same whatever the split of the data, so ``partial_fit`` and Dask give
    the codebook of ``fit``.

    Parameters
    ----------
    summary : PixelSummary
        Of 3-channel sRGB pixels in [0, 255], with at least one atom.

    Returns
    -------
    summary : PixelSummary
        Atoms as distinct points (``cell_exponent`` of the sRGB summary, so
        that a pooled summary still says so), in Oklab units.
    """
    # Distinct colours have distinct Oklab values but for rounding; atoms
    # that round to one point are harmless (k-means takes them as two).
    key = srgb_to_oklab(summary.mean)
    weight = summary.weight
    low = np.array([column.min() for column in key.T])
    high = np.array([column.max() for column in key.T])
    exact = _exact_summary(key, weight, low, high, max_atoms=key.shape[0])
    if summary.cell_exponent is not None:
        # Pooled atoms: points with no spread. As grid cells in name only,
        # their means are their sums over their weights.
        value_exponent = _max_exponent(key)
        exact = PixelSummary(
            key=key,
            weight=exact.weight,
            sum=exact.sum,
            sumsq=np.einsum("ij,ij->i", exact.sum, exact.sum) / exact.weight,
            value_exponent=value_exponent,
            low=low,
            high=high,
            cell_exponent=summary.cell_exponent,
        )
    return exact._replace(weight_exponent=summary.weight_exponent)


def encode_oklab(pixels, lab_codewords, dtype):
    """Index of the codeword nearest in Oklab of every sRGB pixel.

    "Nearest" is by the squared Euclidean distance between the float64
    Oklab value of the pixel (:func:`srgb_to_oklab`) and the float64 Oklab
    codewords, ranked exactly as :func:`skvq._encode.nearest_codeword`
    ranks them, the first of equals. uint8 pixels, when there are many, are
    coded once per distinct colour (found by the colour histogram's kernels)
    and the codes spread to the pixels by the colours' ranks; others are
    converted and coded one by one.

    Parameters
    ----------
    pixels : ndarray of shape (n_pixels, 3)
        sRGB values in [0, 255].
    lab_codewords : ndarray of shape (n_codes, 3)
    dtype : dtype
        uint8 or uint16.

    Returns
    -------
    codes : ndarray of shape (n_pixels,)
    """
    if pixels.dtype == bool:
        pixels = pixels.view(np.uint8)
    if pixels.dtype != np.uint8 or pixels.shape[0] < BY_COLOUR_PIXELS:
        return nearest_codeword(srgb_to_oklab(pixels), lab_codewords, dtype)

    def codes(colours):
        return nearest_codeword(srgb_to_oklab(colours), lab_codewords, dtype)

    return by_colour(codes, pixels, dtype, 1)[:, 0]


def pixels_to_oklab(X):
    """Rows of sRGB pixels (``n_columns * 3`` values each) in Oklab, same
    shape, float64 and C-contiguous: what the dithering kernel diffuses."""
    pixels = X.reshape(-1, 3)
    if pixels.dtype == bool:
        pixels = pixels.view(np.uint8)
    if pixels.dtype == np.uint8 and pixels.shape[0] >= BY_COLOUR_PIXELS:
        # Converted once per distinct colour: the same values as converting
        # every pixel (the conversion is elementwise), fewer conversions.
        return by_colour(srgb_to_oklab, pixels, np.float64, 3).reshape(X.shape)
    lab = srgb_to_oklab(X.reshape(X.shape[0], -1, 3))
    return np.ascontiguousarray(lab.reshape(X.shape))
