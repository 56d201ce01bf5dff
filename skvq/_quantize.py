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
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ._codec import decode as _decode
from ._codec import encode as _encode
from ._codec import mean_squared_error as _mean_of
from ._codec import squared_error as _squared_error
from ._dither import floyd_steinberg
from ._encode import code_dtype, nearest_codeword
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
    "encode",
    "learn_codebook",
    "mean_squared_error",
    "merge_summaries",
    "summarize",
]

STRATEGIES = ("kmeans", "uniform", "quantile")
RECONSTRUCTIONS = ("centroid", "midpoint", "median")
MAX_CODES = 65536
DEFAULT_DITHER_STRENGTH = 0.8


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

    Attributes
    ----------
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

    @classmethod
    def from_codewords(cls, codewords):
        """The codebook that codes every pixel to its nearest codeword.

        Parameters
        ----------
        codewords : array-like of shape (n_codes, n_channels)
            Finite real code vectors, in the order their codes should have.

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
        codewords = np.asarray(codewords)
        if codewords.ndim != 2 or codewords.shape[0] == 0:
            raise ValueError(
                "codewords must be a 2-D array (n_codes, n_channels) with at "
                f"least one row, got shape {codewords.shape}."
            )
        if codewords.dtype.kind not in "biuf":
            raise TypeError(
                f"codewords must be real numbers, got dtype {codewords.dtype}."
            )
        if codewords.shape[0] > MAX_CODES:
            raise ValueError(
                f"A codebook holds at most {MAX_CODES} codewords, got "
                f"{codewords.shape[0]}."
            )
        codewords = codewords.astype(np.float64)
        if not np.isfinite(codewords).all():
            raise ValueError("codewords must be finite (no NaN or infinity).")
        return cls(codewords)

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
        return f"Codebook(n_codes={self.n_codes}, n_channels={self.n_channels})"


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
    fixed_codewords : array-like of shape (n_fixed, n_channels), default=None
        Codewords that the codebook must hold, 1 to ``n_bins`` of them
        (a fixed palette, or colours to keep while the others are learned).
        They come first, bit for bit and in their order, followed by the
        ``n_bins - n_fixed`` learned ones; every pixel goes to its nearest
        codeword (``bin_edges`` is None). See Notes.

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
    >>> image = np.array([[0, 10, 20, 200], [210, 220, 250, 255]], dtype=np.uint8)
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
        fixed_codewords=fixed_codewords,
    )


def check_fixed_codewords(fixed_codewords, n_bins, n_channels):
    """``fixed_codewords`` as a float64 array of shape (n_fixed, n_channels)
    with 1 <= n_fixed <= n_bins and finite values, or a ValueError/TypeError
    saying what is wrong."""
    fixed = np.asarray(fixed_codewords)
    if fixed.dtype.kind not in "biuf":
        raise TypeError(
            f"fixed_codewords must be real numbers, got dtype {fixed.dtype}."
        )
    if fixed.ndim != 2 or fixed.shape[1] != n_channels:
        raise ValueError(
            "fixed_codewords must have shape (n_fixed, n_channels) with "
            f"n_channels={n_channels}, got shape {fixed.shape}."
        )
    if not 1 <= fixed.shape[0] <= n_bins:
        raise ValueError(
            f"fixed_codewords must hold 1 to n_bins={n_bins} codewords, got "
            f"{fixed.shape[0]}."
        )
    fixed = fixed.astype(np.float64)
    if not np.isfinite(fixed).all():
        raise ValueError("fixed_codewords must be finite (no NaN or infinity).")
    return fixed


def codebook_from_summary(
    summary,
    n_bins,
    strategy,
    reconstruction,
    max_iter,
    random_state,
    *,
    fixed_codewords=None,
):
    """:func:`learn_codebook` on a summary of positive weight, with checked
    parameters (the estimator's path)."""
    if fixed_codewords is not None:
        return _codebook_with_fixed(
            summary,
            n_bins,
            strategy,
            reconstruction,
            max_iter,
            random_state,
            fixed_codewords,
        )
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
    return _encode(X, codebook.codewords, codebook.bin_edges)


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


def dither(X, codebook, *, strength=DEFAULT_DITHER_STRENGTH):
    """Codes of the pixels of one image with Floyd–Steinberg error diffusion.

    See :meth:`ImageVectorQuantizer.dither` for the method.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_columns * n_channels)
        One image, one image row per row, or an array of shape
        ``(n_rows, n_columns, n_channels)``. Never modified.
    codebook : Codebook
    strength : float in [0, 1], default=0.8
        Fraction of each pixel's error passed on; 0 gives :func:`encode`'s
        codes.

    Returns
    -------
    codes : ndarray of shape (n_rows, n_columns)
        In ``codebook.code_dtype``.
    """
    _check_codebook(codebook)
    strength = check_strength(strength)
    X = check_pixels(X, codebook.n_channels)
    return dither_checked(X, codebook, strength)


def dither_checked(X, codebook, strength):
    """:func:`dither` of validated input (the estimator's path)."""
    inner_edges = None if codebook.bin_edges is None else codebook.bin_edges[1:-1]
    return floyd_steinberg(
        X, codebook.codewords, inner_edges, strength, codebook.code_dtype
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


def mean_squared_error(X, codebook, *, sample_weight=None):
    """Mean squared error of the pixels of ``X`` coded by ``codebook``.

    The mean over all values (channels of all pixels) of
    ``(X - decode(encode(X, codebook), codebook)) ** 2``, weighted by
    ``sample_weight``; taken in scaled units so that nothing overflows, and
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
        _squared_error(X, codebook.codewords, codebook.bin_edges, sample_weight)
    )
