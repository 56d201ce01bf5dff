"""Vector quantization of images as plain functions on arrays.

The public, scikit-learn-free core of skvq: summarise pixels into statistics
that add up, learn a codebook from them, code pixels (plainly or with error
diffusion), decode codes and score the result. :class:`ImageVectorQuantizer`
is the scikit-learn layer over these functions, as
:class:`sklearn.cluster.KMeans` is over :func:`sklearn.cluster.k_means`.

Importing this module, and calling its functions, imports NumPy and skvq's
compiled kernels only (no scikit-learn, SciPy or pandas), so that
applications such as ``skvq quantize`` start quickly.

Pixel arrays are laid out as the estimator takes them: 2-D arrays of shape
``(n_rows, n_pixels * n_channels)``, one image row (or one sample) per row
and ``n_channels`` consecutive values per pixel. A 3-D array of shape
``(n_rows, n_columns, n_channels)`` (an RGB image as Pillow and imageio give
it) is taken as the 2-D array ``X.reshape(n_rows, -1)``.
"""

import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np

from ._codec import decode as _decode
from ._codec import encode as _encode
from ._codec import mean_squared_error as _mean_of
from ._codec import squared_error as _squared_error
from ._color_space import (
    check_color_space,
    check_srgb,
    check_srgb_pixels,
    oklab_summary,
    oklab_to_srgb,
    pixels_to_oklab,
    srgb_to_oklab,
)
from ._dither import _kernel_input, fill_smoothness_map, floyd_steinberg
from ._encode import code_dtype, nearest_codeword
from ._ordered_dither import METHODS as _ORDERED_METHODS
from ._ordered_dither import codeword_spacing, ordered_dither
from ._scalar_codebook import scalar_codebook
from ._summary import PixelSummary, one_atom_per_codeword
from ._summary import merge_summaries as _merge_summaries
from ._summary import summarize_rows as _summarize_rows
from ._validation import (
    check_codes,
    check_pixels,
    check_total_weight,
    check_weight,
)
from ._vector_codebook import vector_codebook
from .exceptions import FewerCodewordsWarning

__all__ = [
    "Codebook",
    "PixelSummary",
    "decode",
    "dither",
    "dither_frames",
    "encode",
    "learn_codebook",
    "learn_codebook_from_frames",
    "mean_squared_error",
    "merge_summaries",
    "summarize",
]

STRATEGIES = ("kmeans", "uniform", "quantile")
RECONSTRUCTIONS = ("centroid", "midpoint", "median")
MAX_CODES = 65536
DEFAULT_DITHER_STRENGTH = 1.0
DITHER_METHODS = ("floyd-steinberg", *_ORDERED_METHODS)


@dataclass(frozen=True, eq=False)
class Codebook:
    """A learned (or given) codebook: the codewords and how pixels find them.

    Returned by :func:`learn_codebook`, taken by :func:`encode`,
    :func:`dither`, :func:`decode` and :func:`mean_squared_error`.

    Parameters
    ----------
    codewords : ndarray of shape (n_codes, n_channels)
        The code vectors, float64; ascending when ``n_channels == 1``.
    bin_edges : ndarray of shape (n_codes + 1,) or None
        With one channel, the ascending thresholds of the cells learned with
        the codewords: a value gets the number of inner edges at or below
        it. ``None`` gives every pixel its nearest codeword (squared
        Euclidean distance, the first of equals), as always with several
        channels.
    n_iter : int, default=1
        Lloyd iterations spent learning the codewords (1 when one pass over
        the statistics sufficed).
    color_space : {"rgb", "oklab"}, default="rgb"
        The space whose Euclidean distances rank the codewords. With
        "oklab", ``codewords`` are sRGB values in [0, 255] (3 channels) and
        pixels, taken as sRGB values in [0, 255] too, get the codeword
        nearest in Oklab; see :ref:`color_spaces`.

    Attributes
    ----------
    working_codewords : ndarray of shape (n_codes, n_channels)
        The codewords in ``color_space``, float64: ``codewords`` itself for
        "rgb", their Oklab values for "oklab" (what codes are chosen by).
    n_codes : int
    n_channels : int
    n_bits : int
        Bits needed to store one code, ``ceil(log2(n_codes))``, at least 1.
    code_dtype : numpy.dtype
        ``uint8`` up to 256 codes, else ``uint16``.

    See Also
    --------
    Codebook.from_codewords : A codebook of given codewords (a fixed palette).
    """

    codewords: np.ndarray
    bin_edges: np.ndarray | None = None
    n_iter: int = 1
    color_space: str = "rgb"
    working_codewords: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        check_color_space(self.color_space, self.codewords.shape[1])
        if self.color_space == "oklab":
            if self.bin_edges is not None:
                raise ValueError("An Oklab codebook has no bin_edges.")
            check_srgb(self.codewords.min(axis=0), self.codewords.max(axis=0))
            working = srgb_to_oklab(self.codewords)
        else:
            working = self.codewords
        object.__setattr__(self, "working_codewords", working)

    @classmethod
    def from_codewords(cls, codewords, *, color_space="rgb"):
        """The codebook that codes every pixel to its nearest codeword.

        Parameters
        ----------
        codewords : array-like of shape (n_codes, n_channels)
            Finite real code vectors, in the order their codes should have.
        color_space : {"rgb", "oklab"}, default="rgb"
            The space in which pixels find their nearest codeword; with
            "oklab", the codewords are sRGB values in [0, 255].

        Returns
        -------
        codebook : Codebook

        Examples
        --------
        >>> from skvq import Codebook, encode
        >>> codebook = Codebook.from_codewords([[0], [100], [255]])
        >>> encode([[10, 60, 200]], codebook)
        array([[0, 1, 2]], dtype=uint8)
        """
        codewords = _check_codeword_array(
            codewords, "codewords", max_rows=MAX_CODES, max_label=str(MAX_CODES)
        )
        return cls(codewords, color_space=color_space)

    @property
    def n_codes(self):
        return self.codewords.shape[0]

    @property
    def n_channels(self):
        return self.codewords.shape[1]

    @property
    def n_bits(self):
        return max(1, int(self.n_codes - 1).bit_length())

    @property
    def code_dtype(self):
        return code_dtype(self.n_codes)

    def __repr__(self):
        space = (
            "" if self.color_space == "rgb" else f", color_space={self.color_space!r}"
        )
        return f"Codebook(n_codes={self.n_codes}, n_channels={self.n_channels}{space})"


def _check_random_state(seed):
    """A RandomState from None, an int or a RandomState (as scikit-learn's
    ``check_random_state``, without importing it)."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, Integral) and not isinstance(seed, bool):
        if not 0 <= seed < 2**32:
            raise ValueError(
                f"random_state must be an int in [0, 2**32 - 1], got {seed}."
            )
        return np.random.RandomState(int(seed))
    if isinstance(seed, np.random.RandomState):
        return seed
    raise TypeError(
        f"random_state must be None, an int or a numpy RandomState, got {seed!r}."
    )


def _check_int(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an int {allowed}, got {value}.")
    return int(value)


def _check_option(value, name, options):
    if value not in options:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}."
        )


def summarize(X, sample_weight=None, *, n_channels=1, max_atoms=65536):
    """Sufficient statistics of the pixels of ``X``, which add up.

    A summary holds each distinct pixel value (or, past ``max_atoms``
    distinct values, each cell of the finest power-of-two grid that fits)
    with its weight, sum and sum of squares. Summaries of parts of the data
    merge into the summary of the whole (:func:`merge_summaries`), so a
    codebook can be learned from data that never sit in memory at once.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_pixels * n_channels)
        Pixels, ``n_channels`` consecutive values each; or an array of shape
        ``(n_rows, n_columns, n_channels)``. Finite real or boolean values.
    sample_weight : array-like of shape (n_rows,), default=None
        Non-negative weight of each row, shared by its pixels.
    n_channels : int, default=1
        Values per pixel.
    max_atoms : int, default=65536
        Most atoms kept; 8- and 16-bit gray images never reach it.

    Returns
    -------
    summary : PixelSummary

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import summarize, merge_summaries, learn_codebook
    >>> a = summarize(np.array([[0, 10], [20, 200]], dtype=np.uint8))
    >>> b = summarize(np.array([[210, 220], [250, 255]], dtype=np.uint8))
    >>> learn_codebook(merge_summaries(a, b), n_bins=2).codewords.ravel()
    array([ 10., 227.])
    """
    n_channels = _check_int(n_channels, "n_channels", 1)
    max_atoms = _check_int(max_atoms, "max_atoms", 2)
    X = check_pixels(X, n_channels)
    if sample_weight is not None:
        sample_weight = check_weight(sample_weight, X.shape[0])
    return _summarize_rows(X, sample_weight, n_channels=n_channels, max_atoms=max_atoms)


def merge_summaries(first, second, *, max_atoms=65536):
    """The summary of the pixels of two summaries together.

    Exact for integer pixels and integer weights: any split of the data
    gives, bit for bit, the summary of all of it.

    Parameters
    ----------
    first, second : PixelSummary
        Summaries of pixels of the same number of channels.
    max_atoms : int, default=65536
        Most atoms kept, as for :func:`summarize`.

    Returns
    -------
    summary : PixelSummary
    """
    for summary in (first, second):
        if not isinstance(summary, PixelSummary):
            raise TypeError(
                f"merge_summaries takes PixelSummary objects, got {summary!r}."
            )
    if first.n_channels != second.n_channels:
        raise ValueError(
            f"Cannot merge summaries of {first.n_channels} and "
            f"{second.n_channels} channels."
        )
    max_atoms = _check_int(max_atoms, "max_atoms", 2)
    return _merge_summaries(first, second, max_atoms)


def learn_codebook(
    X,
    n_bins=8,
    *,
    n_channels=1,
    strategy="kmeans",
    reconstruction="centroid",
    sample_weight=None,
    max_atoms=65536,
    max_iter=300,
    random_state=None,
    color_space="rgb",
    fixed_codewords=None,
):
    """Learn a codebook shared by all pixels of ``X``, or from a summary.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_pixels * n_channels) or PixelSummary
        Pixels as for :func:`summarize`, or their summary.
    n_bins : int, default=8
        Number of codewords, from 2 to 65536.
    n_channels : int, default=1
        Values per pixel (ignored for a summary, which knows it).
    strategy : {"kmeans", "uniform", "quantile"}, default="kmeans"
        As for :class:`ImageVectorQuantizer`: with one channel "kmeans" is
        the exact minimum-MSE codebook.
    reconstruction : {"centroid", "midpoint", "median"}, default="centroid"
        The codeword of each cell.
    sample_weight : array-like of shape (n_rows,), default=None
        Weight of each row of ``X`` (not with a summary).
    max_atoms : int, default=65536
        Most atoms of the summary made from ``X``.
    max_iter : int, default=300
        Most Lloyd iterations per k-means run (several channels).
    random_state : int, RandomState instance or None, default=None
        Seeds k-means++, used only when the variance split cannot cut
        ``n_bins`` boxes.
    color_space : {"rgb", "oklab"}, default="rgb"
        The space whose squared distances the strategy minimises. "oklab"
        takes 3-channel sRGB values in [0, 255] and learns from the Oklab
        values of the summary's atoms (see :ref:`color_spaces`); the
        codewords are returned as sRGB values.
    fixed_codewords : array-like of shape (n_fixed, n_channels), default=None
        Codewords that the codebook must hold, 1 to ``n_bins`` of them
        (a fixed palette, or colours to keep while the others are learned).
        They come first, bit for bit and in their order, followed by the
        ``n_bins - n_fixed`` learned ones; every pixel goes to its nearest
        codeword (``bin_edges`` is None). Only with ``color_space="rgb"``.
        See Notes.

    Returns
    -------
    codebook : Codebook

    Notes
    -----
    With ``fixed_codewords``, the learned codewords start from the codebook
    of ``n_bins`` codewords learned as usual, less the one nearest to each
    fixed codeword; with ``strategy="kmeans"``, Lloyd's iterations then move
    only them (each to the weighted mean of the atoms nearest to it), which
    never increases the error. This is a local optimum, not the exact one,
    even with one channel.

    Warns
    -----
    FewerCodewordsWarning
        When the data have fewer distinct values than ``n_bins``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import learn_codebook, encode, decode
    >>> image = np.array([[0, 10, 20, 200], [210, 220, 250, 255]],
    ...                  dtype=np.uint8)
    >>> codebook = learn_codebook(image, n_bins=2)
    >>> codebook.codewords.ravel()
    array([ 10., 227.])
    >>> encode(image, codebook)
    array([[0, 0, 0, 1],
           [1, 1, 1, 1]], dtype=uint8)
    """
    n_bins = _check_int(n_bins, "n_bins", 2, MAX_CODES)
    _check_option(strategy, "strategy", STRATEGIES)
    _check_option(reconstruction, "reconstruction", RECONSTRUCTIONS)
    max_iter = _check_int(max_iter, "max_iter", 1)
    max_atoms = _check_int(max_atoms, "max_atoms", 2)
    if max_atoms < n_bins:
        raise ValueError(
            f"max_atoms must be at least n_bins={n_bins}, got max_atoms={max_atoms}."
        )
    random_state = _check_random_state(random_state)
    check_color_space(color_space)
    if isinstance(X, PixelSummary):
        if sample_weight is not None:
            raise ValueError(
                "sample_weight applies to pixels, not to a summary: pass it to "
                "summarize."
            )
        summary = X
    else:
        summary = summarize(
            X, sample_weight, n_channels=n_channels, max_atoms=max_atoms
        )
    check_color_space(color_space, summary.n_channels)
    check_total_weight(np.sum(summary.weight))
    if fixed_codewords is not None:
        fixed_codewords = check_fixed_codewords(
            fixed_codewords, n_bins, summary.n_channels
        )
    return codebook_from_summary(
        summary,
        n_bins,
        strategy,
        reconstruction,
        max_iter,
        random_state,
        color_space,
        fixed_codewords=fixed_codewords,
    )


def check_fixed_codewords(fixed_codewords, n_bins, n_channels):
    """``fixed_codewords`` as a float64 array of shape (n_fixed, n_channels)
    with 1 <= n_fixed <= n_bins and finite values, or a ValueError/TypeError
    saying what is wrong."""
    return _check_codeword_array(
        fixed_codewords,
        "fixed_codewords",
        rows="n_fixed",
        max_rows=n_bins,
        max_label=f"n_bins={n_bins}",
        n_channels=n_channels,
    )


def _check_codeword_array(
    codewords, name, *, max_rows, max_label, rows="n_codes", n_channels=None
):
    """``codewords`` as a float64 array of shape (n, n_channels), with
    ``1 <= n <= max_rows`` and finite values, or a ValueError or TypeError
    naming ``name`` and saying what is allowed (``max_label`` and ``rows``
    are how the caller's user knows the bound and the number of rows)."""
    array = np.asarray(codewords)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {array.dtype}.")
    if array.ndim != 2 or (n_channels is not None and array.shape[1] != n_channels):
        channels = "" if n_channels is None else f" with n_channels={n_channels}"
        raise ValueError(
            f"{name} must be a 2-D array of shape ({rows}, n_channels)"
            f"{channels}, got shape {array.shape}."
        )
    if not 1 <= array.shape[0] <= max_rows:
        raise ValueError(
            f"{name} must hold 1 to {max_label} codewords, got {array.shape[0]}."
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity).")
    return array


def learn_codebook_from_frames(
    frames,
    n_bins=8,
    *,
    strategy="kmeans",
    reconstruction="centroid",
    max_atoms=65536,
    max_iter=300,
    random_state=None,
    color_space="rgb",
):
    """Learn one codebook shared by all the frames of an animation.

    The frames are summarised one at a time and their summaries merged
    (:func:`summarize`, :func:`merge_summaries`), so an iterator (a reader
    decoding frame after frame) is never held in memory at once: at most
    the frame being summarised and the summary of the frames before it.
    The summaries of integer pixels add up exactly, so the codebook is,
    bit for bit, that of :func:`learn_codebook` on all the frames stacked
    into one image.

    Parameters
    ----------
    frames : array-like of shape (n_frames, height, width[, n_channels]) or \
            iterable of arrays of shape (height, width[, n_channels])
        The frames: 2-D frames are gray, 3-D ones have ``n_channels``
        values per pixel (3 for RGB), the same for every frame. Frames may
        differ in size.
    n_bins : int, default=8
        Number of codewords, from 2 to 65536.
    strategy, reconstruction, max_atoms, max_iter, random_state, color_space
        As for :func:`learn_codebook`.

    Returns
    -------
    codebook : Codebook

    Raises
    ------
    ValueError
        If there are no frames, a frame is neither 2-D nor 3-D, frames
        differ in their number of channels, or ``color_space`` does not
        apply to them.

    See Also
    --------
    learn_codebook : The codebook of one image, or of a summary.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import learn_codebook_from_frames
    >>> frames = np.zeros((3, 2, 2), dtype=np.uint8)
    >>> frames[1] = 200
    >>> frames[2] = [[10, 200], [210, 255]]
    >>> learn_codebook_from_frames(iter(frames), n_bins=2).codewords.ravel()
    array([  2.        , 209.28571429])
    """
    max_atoms = _check_int(max_atoms, "max_atoms", 2)
    check_color_space(color_space)
    if isinstance(frames, np.ndarray) and frames.ndim not in (3, 4):
        raise ValueError(
            "frames must be an array of shape (n_frames, height, width) or "
            f"(n_frames, height, width, n_channels), got shape {frames.shape}."
        )
    if isinstance(frames, np.ndarray) and frames.size:
        return learn_codebook(
            _summarize_frame_array(frames, max_atoms),
            n_bins,
            strategy=strategy,
            reconstruction=reconstruction,
            max_atoms=max_atoms,
            max_iter=max_iter,
            random_state=random_state,
            color_space=color_space,
        )
    summary = None
    n_channels = None
    # A counter, not enumerate, whose cached result tuple would hold the
    # previous frame while the iterator makes the next one.
    index = -1
    for frame in frames:
        index += 1
        frame = np.asarray(frame)
        if frame.ndim not in (2, 3):
            raise ValueError(
                f"frame {index} has shape {frame.shape}: a frame must be 2-D "
                "(height, width) for gray or 3-D (height, width, n_channels)."
            )
        channels = 1 if frame.ndim == 2 else frame.shape[2]
        if n_channels is None:
            n_channels = channels
        elif channels != n_channels:
            raise ValueError(
                f"frame {index} has {channels} channel(s), frame 0 has "
                f"{n_channels}: all frames must have the same number."
            )
        part = summarize(
            frame.reshape(frame.shape[0], -1),
            n_channels=n_channels,
            max_atoms=max_atoms,
        )
        del frame
        summary = (
            part
            if summary is None
            else merge_summaries(summary, part, max_atoms=max_atoms)
        )
    if summary is None:
        raise ValueError("frames holds no frame: at least one is needed.")
    return learn_codebook(
        summary,
        n_bins,
        strategy=strategy,
        reconstruction=reconstruction,
        max_atoms=max_atoms,
        max_iter=max_iter,
        random_state=random_state,
        color_space=color_space,
    )


# An array of frames is summarised this many values at a time: merging
# summaries frame by frame costs about 40 ms per merge of 40,000 colours, far
# more than summarising 48 frames of 320 x 240 at once (0.09 s), and views
# of consecutive frames need no copy.
_VALUES_PER_SUMMARY = 2**24


def _summarize_frame_array(frames, max_atoms):
    """Summary of an array of frames, a few frames (views) at a time."""
    n_frames, height, width = frames.shape[:3]
    n_channels = 1 if frames.ndim == 3 else frames.shape[3]
    values_per_frame = max(1, height * width * n_channels)
    step = max(1, _VALUES_PER_SUMMARY // values_per_frame)
    summary = None
    for start in range(0, n_frames, step):
        rows = frames[start : start + step].reshape(-1, width * n_channels)
        part = summarize(rows, n_channels=n_channels, max_atoms=max_atoms)
        summary = (
            part
            if summary is None
            else merge_summaries(summary, part, max_atoms=max_atoms)
        )
    return summary


def dither_frames(frames, codebook, *, method="blue-noise", strength=1.0):
    """Codes of every frame of an animation, one frame after another.

    The codes of each frame are those of :func:`dither` on the frame alone.
    With an ordered method a pixel's code depends on its value and position
    only, so only the rectangle holding the pixels that changed since the
    previous frame is dithered again, the rest keeping its codes; static
    areas cost nothing and never flicker. At most two frames (the current
    and the previous one) are held.

    Parameters
    ----------
    frames : array-like of shape (n_frames, height, width[, n_channels]) or \
            iterable of arrays of shape (height, width[, n_channels])
        The frames, with the codebook's number of channels (2-D frames for
        one channel).
    codebook : Codebook
    method : {"floyd-steinberg", "bayer", "blue-noise"}, default="blue-noise"
        As for :func:`dither`; error diffusion dithers every frame whole.
    strength : float in [0, 1], default=1.0
        As for :func:`dither`. The ordered methods keep a flat area's mean
        at 1, their default here.

    Yields
    ------
    codes : ndarray of shape (height, width)
        In ``codebook.code_dtype``, a new array for every frame.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import dither, dither_frames, learn_codebook_from_frames
    >>> frames = np.zeros((3, 64, 64), dtype=np.uint8)
    >>> frames[:] = np.arange(64)  # a still ramp, and a square that brightens
    >>> frames[:, 20:30, 20:30] = np.array([100, 200, 255])[:, None, None]
    >>> codebook = learn_codebook_from_frames(frames, n_bins=4)
    >>> all(np.array_equal(codes, dither(frame, codebook, strength=1,
    ...                                  method="blue-noise"))
    ...     for codes, frame in zip(dither_frames(frames, codebook), frames))
    True
    """
    _check_codebook(codebook)
    strength = check_strength(strength)
    check_dither_method(method)
    n_channels = codebook.n_channels
    # Of the codebook alone: found once, not for every frame.
    spacing = codeword_spacing(codebook.working_codewords) if n_channels > 1 else None
    previous = previous_codes = None
    index = -1
    for frame in frames:
        index += 1
        frame = np.asarray(frame)
        expected_ndim = 2 if n_channels == 1 else 3
        if frame.ndim != expected_ndim or (
            n_channels > 1 and frame.shape[2] != n_channels
        ):
            raise ValueError(
                f"frame {index} has shape {frame.shape}; with a codebook of "
                f"{n_channels} channel(s) a frame must have shape (height, width"
                + (")" if n_channels == 1 else f", {n_channels})")
                + "."
            )
        X = check_pixels(frame.reshape(frame.shape[0], -1), n_channels)
        if (
            method == "floyd-steinberg"
            or strength == 0
            or previous is None
            or previous.shape != frame.shape
        ):
            codes = dither_checked(X, codebook, strength, method)
        else:
            # Compared as rows of values (reducing a pixel's channels along
            # a short last axis would take most of the time).
            changed = X != previous.reshape(X.shape)
            codes = previous_codes.copy()
            rows = np.flatnonzero(changed.any(axis=1))
            if rows.size:
                in_rows = changed[rows[0] : rows[-1] + 1].any(axis=0)
                columns = np.flatnonzero(in_rows.reshape(-1, n_channels).any(axis=1))
                top, bottom = rows[0], rows[-1] + 1
                left, right = columns[0], columns[-1] + 1
                part = X[top:bottom, left * n_channels : right * n_channels]
                codes[top:bottom, left:right] = _ordered_codes(
                    part,
                    codebook,
                    strength,
                    method,
                    origin=(int(top), int(left)),
                    spacing=spacing,
                )
        previous, previous_codes = frame, codes
        yield codes.copy()


def codebook_from_summary(
    summary,
    n_bins,
    strategy,
    reconstruction,
    max_iter,
    random_state,
    color_space="rgb",
    *,
    fixed_codewords=None,
):
    """:func:`learn_codebook` on a summary of positive weight, with checked
    parameters (the estimator's path)."""
    if fixed_codewords is not None:
        if color_space != "rgb":
            raise ValueError(
                "fixed_codewords are kept in the input's units and learned "
                "around by squared distances there: use color_space='rgb' "
                f"with them, not {color_space!r}."
            )
        return _codebook_with_fixed(
            summary,
            n_bins,
            strategy,
            reconstruction,
            max_iter,
            random_state,
            fixed_codewords,
        )
    if color_space == "oklab":
        check_srgb(summary.low, summary.high)
        codebook = _codebook_of(
            oklab_summary(summary),
            n_bins,
            strategy,
            reconstruction,
            max_iter,
            random_state,
        )
        return Codebook(
            oklab_to_srgb(codebook.codewords), None, codebook.n_iter, "oklab"
        )
    return _codebook_of(
        summary, n_bins, strategy, reconstruction, max_iter, random_state
    )


def _codebook_of(summary, n_bins, strategy, reconstruction, max_iter, random_state):
    """The codebook of a summary, in the summary's units."""
    if one_atom_per_codeword(summary, n_bins) and summary.n_atoms < n_bins:
        warnings.warn(
            f"X has {summary.n_atoms} distinct value(s), fewer than "
            f"n_bins={n_bins}; using {summary.n_atoms} codeword(s), one "
            "per value.",
            FewerCodewordsWarning,
        )
    if summary.n_channels == 1:
        bin_edges, codewords = scalar_codebook(
            summary, n_bins, strategy, reconstruction
        )
        return Codebook(codewords[:, None], bin_edges)
    codewords, n_iter = vector_codebook(
        summary,
        n_bins,
        strategy,
        reconstruction,
        max_iter=max_iter,
        random_state=random_state,
    )
    return Codebook(codewords, None, n_iter)


def _codebook_with_fixed(
    summary, n_bins, strategy, reconstruction, max_iter, random_state, fixed
):
    """The codebook of ``fixed`` (checked) followed by the learned codewords
    (see the Notes of :func:`learn_codebook`)."""
    n_fixed = fixed.shape[0]
    if n_fixed == n_bins:
        return Codebook(fixed.copy())
    learned = codebook_from_summary(
        summary, n_bins, strategy, reconstruction, max_iter, random_state
    ).codewords
    free = np.ones(learned.shape[0], dtype=bool)
    for codeword in fixed:
        if not free.any():
            break
        distance = np.sum((learned - codeword) ** 2, axis=1)
        distance[~free] = np.inf
        free[np.argmin(distance)] = False
    learned = learned[free]
    n_iter = 0
    if strategy == "kmeans" and learned.shape[0]:
        means, weight = summary.mean, summary.weight
        for n_iter in range(1, max_iter + 1):  # noqa: B007
            codewords = np.vstack([fixed, learned])
            cells = nearest_codeword(means, codewords, code_dtype(len(codewords)))
            cells = cells.astype(np.intp) - n_fixed
            moved = cells >= 0
            n_free = learned.shape[0]
            total = np.bincount(cells[moved], weight[moved], minlength=n_free)
            sums = np.column_stack(
                [
                    np.bincount(
                        cells[moved], weight[moved] * means[moved, c], minlength=n_free
                    )
                    for c in range(means.shape[1])
                ]
            )
            with np.errstate(invalid="ignore", divide="ignore"):
                updated = np.where(total[:, None] > 0, sums / total[:, None], learned)
            if np.array_equal(updated, learned):
                break
            learned = updated
    return Codebook(np.vstack([fixed, learned]), None, max(n_iter, 1))


def _check_codebook(codebook):
    if not isinstance(codebook, Codebook):
        raise TypeError(
            "codebook must be a Codebook (from learn_codebook or "
            f"Codebook.from_codewords), got {type(codebook).__name__}."
        )


def encode(X, codebook):
    """Code of every pixel of ``X``: the index of its cell.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_pixels * n_channels)
        Pixels with the codebook's number of channels, or an array of shape
        ``(n_rows, n_columns, n_channels)``.
    codebook : Codebook

    Returns
    -------
    codes : ndarray of shape (n_rows, n_pixels)
        In ``codebook.code_dtype``.
    """
    _check_codebook(codebook)
    X = check_pixels(X, codebook.n_channels)
    return _encode(X, codebook.codewords, codebook.bin_edges, _oklab_of(codebook))


def _oklab_of(codebook):
    """The Oklab codewords the functions of skvq._codec take (None: rgb)."""
    return codebook.working_codewords if codebook.color_space == "oklab" else None


def check_strength(strength):
    """Refuse a dithering strength that is not a real number in [0, 1]."""
    if isinstance(strength, (bool, np.bool_)) or not isinstance(strength, Real):
        raise TypeError(f"strength must be a real number in [0, 1], got {strength!r}.")
    if not 0 <= strength <= 1:
        raise ValueError(
            "strength must be in [0, 1] (0: no dithering, 1: full "
            f"Floyd-Steinberg), got {strength!r}."
        )
    return float(strength)


def check_adaptive(adaptive):
    """Refuse an ``adaptive`` that is not a boolean."""
    if not isinstance(adaptive, (bool, np.bool_)):
        raise TypeError(f"adaptive must be True or False, got {adaptive!r}.")
    return bool(adaptive)


def dither(
    X,
    codebook,
    *,
    strength=DEFAULT_DITHER_STRENGTH,
    method="floyd-steinberg",
    adaptive=True,
):
    r"""Codes of the pixels of one image with dithering.

    By default Floyd–Steinberg error diffusion: each pixel is coded from its
    value plus a share of the errors of the pixels coded before it, so that
    smooth areas are rendered by a mix of codewords instead of bands. See
    :meth:`ImageVectorQuantizer.dither` for what the result keeps, and for
    the ordered methods.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_columns * n_channels)
        One image, one image row per row, or an array of shape
        ``(n_rows, n_columns, n_channels)``. Never modified.
    codebook : Codebook
    strength : float in [0, 1], default=1.0
        Fraction of each pixel's error passed on (error diffusion; in smooth
        areas, with ``adaptive``), or scale of the mask's offsets (ordered
        methods); 0 gives :func:`encode`'s codes. With an Oklab codebook
        pixels are dithered in Oklab.
    method : {"floyd-steinberg", "bayer", "blue-noise"}, default="floyd-steinberg"
        Error diffusion, or ordered dithering by the 8 x 8 Bayer matrix or a
        64 x 64 blue-noise mask: a pixel's code then depends on its value
        and position only, so pixels that do not change between the frames
        of an animation keep their codes.
    adaptive : bool, default=True
        With error diffusion, pass on less of the error at edges and in
        texture (down to 0.7 times ``strength``), where dithering adds noise
        that the image's own detail already hides; ``False`` passes
        ``strength`` everywhere. Ignored by the ordered methods.

    Returns
    -------
    codes : ndarray of shape (n_rows, n_columns)
        In ``codebook.code_dtype``.

    Notes
    -----
    Ordered dithering adds to each pixel the offset :math:`m` of its cell
    of the mask, tiled from the image's top-left pixel, and codes the
    result as :func:`encode` does. The cell of rank :math:`r` in a mask of
    :math:`n` cells holds :math:`m = (r + 1/2) / n - 1/2`, so the offsets
    are symmetric about zero.

    With one channel (a codebook with bin edges), a value :math:`x` between
    consecutive codewords :math:`a \le x \le b` is offset by
    :math:`\text{strength} \cdot (b - a)\, m` and kept within
    :math:`[a, b]`. At strength 1, a flat area gets :math:`b` on a fraction
    :math:`(x - a) / (b - a)` of each tile, up to the mask's resolution,
    wherever the edge between the two cells is their midpoint (as for
    k-means codebooks): its mean is kept. With several channels, all
    channels of a pixel are offset by :math:`\text{strength} \cdot s\, m`,
    where :math:`s` is the median distance from a codeword to its nearest
    other one, and kept within the codebook's range; codes are the nearest
    codewords.

    The Bayer matrix is Bayer's (1973); the blue-noise mask was made by
    Ulichney's (1993) void-and-cluster method from a fixed seed and ships
    with skvq, so it is the same in every run.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import Codebook, dither
    >>> flat = np.full((4, 4), 64)  # a quarter of the way from 0 to 255
    >>> codes = dither(flat, Codebook.from_codewords([[0], [255]]),
    ...                strength=1, method="bayer")
    >>> print(codes.mean())
    0.25
    """
    _check_codebook(codebook)
    strength = check_strength(strength)
    check_dither_method(method)
    adaptive = check_adaptive(adaptive)
    X = check_pixels(X, codebook.n_channels)
    return dither_checked(X, codebook, strength, method, adaptive)


def check_dither_method(method):
    """Refuse a dithering method that skvq does not offer."""
    if not isinstance(method, str) or method not in DITHER_METHODS:
        raise ValueError(
            f"method must be one of {', '.join(map(repr, DITHER_METHODS))}, "
            f"got {method!r}."
        )
    return method


def dither_checked(X, codebook, strength, method="floyd-steinberg", adaptive=True):
    """:func:`dither` of validated input (the estimator's path)."""
    if strength == 0:
        # The kernels dither in float64, which rounds integers beyond
        # 2**53; undithered codes are encode's, exact for every dtype.
        return _encode(X, codebook.codewords, codebook.bin_edges, _oklab_of(codebook))
    if method != "floyd-steinberg":
        return _ordered_codes(X, codebook, strength, method)
    X, codewords, bin_edges = _working_pixels(X, codebook)
    inner_edges = None if bin_edges is None else bin_edges[1:-1]
    return floyd_steinberg(
        X, codewords, inner_edges, strength, codebook.code_dtype, adaptive=adaptive
    )


def _working_pixels(X, codebook):
    """Pixels, codewords and bin edges in the codebook's working space.

    In Oklab, pixels are converted (uint8 through a table of 256 linear
    values) and coded against the Oklab codewords.
    """
    if codebook.color_space == "oklab":
        check_srgb_pixels(X)
        return pixels_to_oklab(X), codebook.working_codewords, None
    return X, codebook.codewords, codebook.bin_edges


def _ordered_codes(X, codebook, strength, method, origin=(0, 0), spacing=None):
    """Codes of validated pixels by an ordered method.

    A pixel's code depends on its value and on its position in the image
    alone, so a rectangle of an image is coded on its own with ``origin``,
    the position of its first pixel; ``spacing``: the codeword spacing of
    the working codewords, if the caller has it.
    """
    X, codewords, bin_edges = _working_pixels(X, codebook)
    return ordered_dither(
        X, codewords, bin_edges, strength, method, origin=origin, spacing=spacing
    )


def decode(codes, codebook, *, dtype=None):
    """Codewords of codes, one pixel's channels after another.

    Parameters
    ----------
    codes : array-like of int, shape (n_rows, n_pixels)
        Codes in ``[0, codebook.n_codes)``.
    codebook : Codebook
    dtype : dtype or None, default=None
        ``None`` gives the float64 codewords; an integer dtype rounds and
        clips them to its range, a narrower float dtype clips them to it.

    Returns
    -------
    values : ndarray of shape (n_rows, n_pixels * n_channels)
    """
    _check_codebook(codebook)
    codes = np.asarray(codes)
    n_columns = codes.shape[1] if codes.ndim == 2 else None
    codes = check_codes(codes, codebook.n_codes, n_columns)
    if dtype is not None:
        try:
            kind = np.dtype(dtype).kind
        except TypeError as exc:
            raise TypeError(f"dtype must be a numpy dtype, got {dtype!r}.") from exc
        if kind not in "biuf":
            raise TypeError(f"dtype must be a numeric dtype, got {dtype!r}.")
    return _decode(codes, codebook.codewords, dtype)


def smoothness_weights(X, *, n_channels=1, scale=16.0, floor=0.3):
    r"""Weights of the pixels of one image for learning its palette: 1 in
    smooth areas, less at edges and in texture.

    Errors show most where the picture is smooth (skies, skin, walls:
    there, too few colours make bands) and least at edges and in texture,
    which hide them. Passed as ``sample_weight`` to :func:`learn_codebook`
    (or :meth:`ImageVectorQuantizer.fit`), these weights spend the palette's
    colours where errors show, as pngquant's importance map does. The
    codebook then minimises the weighted squared error: the claims of
    optimality hold for that error, not for the plain one.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_columns * n_channels)
        One image, one image row per row, or an array of shape
        ``(n_rows, n_columns, n_channels)``. Never modified.
    n_channels : int, default=1
    scale : float, default=16.0
        The activity, in the units of ``X``, at which a pixel's weight is
        half way between 1 and ``floor``. The default suits values on the
        0..255 scale.
    floor : float in (0, 1], default=0.3
        The weight that pixels tend to as their activity grows.

    Returns
    -------
    weights : ndarray of shape (n_rows * n_columns,)
        float64, in ``[floor, 1]``, one per pixel in the order of
        ``X.reshape(-1, n_channels)``.

    See Also
    --------
    dither : Its adaptive mode measures edges and texture the same way.

    Notes
    -----
    The activity :math:`a` of a pixel is the largest absolute second
    difference :math:`|x_{j-1} - 2 x_j + x_{j+1}|`, along its row or its
    column, over its channels and its 3 x 3 neighbourhood: 0 on flat areas
    and linear gradients, where quantization shows as bands. Its weight is
    :math:`f + (1 - f) / (1 + (a / s)^2)`, with :math:`f` = ``floor`` and
    :math:`s` = ``scale``. The defaults were chosen by SSIMULACRA2 on the
    benchmark photos (``benchmarks/bench_pngquant.py``): with them, colour
    palettes at 16 to 256 colours score higher, dithered, on every photo.

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import smoothness_weights
    >>> image = np.zeros((4, 6), dtype=np.uint8)
    >>> image[:, 3:] = 255  # an edge between two flat areas
    >>> print(smoothness_weights(image).reshape(4, 6)[0].round(2).tolist())
    [1.0, 0.3, 0.3, 0.3, 0.3, 1.0]
    """
    n_channels = _check_int(n_channels, "n_channels", 1)
    for value, name in ((scale, "scale"), (floor, "floor")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a real number, got {value!r}.")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}.")
    if not 0 < floor <= 1:
        raise ValueError(f"floor must be in (0, 1], got {floor!r}.")
    X = check_pixels(X, n_channels)
    n_rows, n_columns = X.shape[0], X.shape[1] // n_channels
    weights = np.empty((n_rows, n_columns), dtype=np.float32)
    fill_smoothness_map(
        _kernel_input(X), n_channels, 1.0 / float(scale), float(floor), weights
    )
    return weights.reshape(-1).astype(np.float64)


def mean_squared_error(X, codebook, *, sample_weight=None):
    """Mean squared error of the pixels of ``X`` coded by ``codebook``.

    The mean over all values (channels of all pixels) of
    ``(X - decode(encode(X, codebook), codebook)) ** 2``, weighted by
    ``sample_weight`` (in the units of ``X`` whatever the codebook's
    ``color_space``); taken in scaled units so that nothing overflows, and
    ``inf`` only if the mean itself is beyond the float64 range.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_pixels * n_channels)
    codebook : Codebook
    sample_weight : array-like of shape (n_rows,), default=None

    Returns
    -------
    mse : float
    """
    _check_codebook(codebook)
    X = check_pixels(X, codebook.n_channels)
    if sample_weight is not None:
        sample_weight = check_weight(sample_weight, X.shape[0])
    return _mean_of(
        _squared_error(
            X,
            codebook.codewords,
            codebook.bin_edges,
            sample_weight,
            _oklab_of(codebook),
        )
    )
