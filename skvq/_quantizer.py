"""The scikit-learn estimator: validation, fitted state, and the API."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._codec import decode, encode, mean_squared_error, squared_error
from ._color_space import check_color_space
from ._quantize import (
    DEFAULT_DITHER_STRENGTH,
    Codebook,
    check_adaptive,
    check_dither_method,
    check_fixed_codewords,
    check_strength,
    codebook_from_summary,
    dither_checked,
)
from ._summary import merge_summaries, summarize_rows
from ._validation import (
    check_codes,
    check_float64_range,
    check_pixel_dtype,
    check_total_weight,
    check_weight,
    dimension_hint,
)


class NumericDtype(Options):
    """Parameter constraint: anything :class:`numpy.dtype` reads as a bool,
    integer or float dtype (``np.uint8``, ``"float32"``, ``np.dtype("<u2")``,
    ``int``...).

    A subclass of :class:`~sklearn.utils._param_validation.Options` only
    because scikit-learn's parameter validation accepts its own constraint
    classes alone; the set of options is not enumerable and not used.
    """

    def __init__(self):
        super().__init__(type=object, options=set())

    def is_satisfied_by(self, val):
        if val is None or isinstance(val, (bool, np.bool_)):
            # np.dtype(None) is float64; a bool is no dtype.
            return False
        try:
            return np.dtype(val).kind in "biuf"
        except (TypeError, ValueError):
            return False

    def __str__(self):
        return (
            "a numeric numpy dtype (bool, integer or float, e.g. np.uint8 or 'float32')"
        )


def _is_dask_collection(X):
    """True for a dask array, detected without importing dask."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


class ImageVectorQuantizer(TransformerMixin, BaseEstimator):
    """Quantize pixels to a codebook shared by all of them.

    Learns ``n_bins`` code vectors of length ``n_channels`` from all the
    pixels of ``X`` (gray levels when ``n_channels=1``, colours when
    ``n_channels=3``), maps each pixel to the index of its cell (its *code*,
    in the smallest unsigned integer dtype that holds it) and maps codes back
    to codewords. Fitting reads the pixels once, into sufficient statistics
    that add up (a histogram of distinct values with per-cell weights and
    sums), so :meth:`partial_fit` streams exactly and the codebook of
    ``strategy="kmeans"`` with one channel is the exact global optimum.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    n_bins : int, default=8
        Number of codewords, from 2 to 65536.

    n_channels : int, default=1
        Number of consecutive features forming one pixel. ``n_features`` must
        be a multiple of it. Use 3 for RGB images reshaped to
        ``(n_rows, n_columns * 3)`` or ``(n_pixels, 3)``.

    strategy : {"kmeans", "uniform", "quantile"}, default="kmeans"
        How cells are chosen.

        - "kmeans": minimum mean squared error. With one channel, the exact
          global optimum by dynamic programming; with several, weighted
          k-means on the pixel statistics: a greedy variance split (Wu 1991b)
          for the initial centres, then Lloyd's iterations in which atoms
          straddling a boundary are split, on a coarse grid and then on all
          atoms.
        - "uniform": cells of equal width (a per-channel grid for vectors).
        - "quantile": cells of equal weight (median cut for vectors).

    reconstruction : {"centroid", "midpoint", "median"}, default="centroid"
        The codeword of each cell: the weighted mean of the training pixels
        in it (the minimum-MSE decoder for the cells), the middle of the cell
        (the bin centres of :class:`~sklearn.preprocessing.KBinsDiscretizer`
        for one channel and one feature, except in the cases listed in the
        :ref:`User Guide <kbins_differences>`), or the weighted per-channel
        median.

    max_atoms : int, default=65536
        Most distinct values (atoms) kept in the statistics. Beyond it,
        values are pooled in the cells of the finest power-of-two grid that
        fits, keeping their counts and sums; the codebook is then optimal up
        to the grid's resolution. 8- and 16-bit gray images never reach it.

    max_iter : int, default=300
        Maximum number of Lloyd iterations per k-means run (vectors only).

    inverse_dtype : dtype or None, default=None
        dtype of :meth:`inverse_transform`'s output. ``None`` returns the
        float64 codewords; an integer dtype (e.g. ``np.uint8``) rounds and
        clips them to its range, a narrower float dtype clips them to its
        range.

    random_state : int, RandomState instance or None, default=None
        Seeds k-means++, used only to complete the initial centres when the
        variance split cannot cut ``n_bins`` boxes (vectors with
        ``strategy="kmeans"``); otherwise the codebook does not depend on it.

    color_space : {"rgb", "oklab"}, default="rgb"
        The space whose squared distances learn the codebook, code pixels
        and steer :meth:`dither`'s error diffusion. "rgb": the input's own
        values, where the minimum-MSE claims hold. "oklab": Oklab (Ottosson
        2020), a perceptual space, for ``n_channels=3`` sRGB values from 0
        to 255 (the 8-bit scale, whatever the dtype; values outside are
        refused); ``codebook_``, :meth:`inverse_transform` and :meth:`score`
        stay in the input's sRGB units. Read more in
        :ref:`color_spaces`.

    fixed_codewords : array-like of shape (n_fixed, n_channels), default=None
        Codewords the codebook must hold, 1 to ``n_bins`` of them: a fixed
        palette (``n_fixed == n_bins``: nothing is learned but the
        statistics), or colours kept while the other ``n_bins - n_fixed``
        are learned. They come first in ``codebook_``, bit for bit and in
        their order, and every pixel takes its nearest codeword (no
        ``bin_edges_``). See :func:`skvq.learn_codebook`.

    Attributes
    ----------
    codebook_ : ndarray of shape (`n_bins_`, n_channels)
        The codewords; ascending when ``n_channels == 1`` (unless
        ``fixed_codewords`` is given).

    n_bins_ : int
        Number of codewords. Smaller than ``n_bins`` when the training data
        have fewer distinct pixel values (with a warning), when quantile bins
        collapse, or for the largest balanced grid of ``strategy="uniform"``
        with several channels.

    n_bits_ : int
        Bits needed to store one code, ``ceil(log2(n_bins_))`` (at least 1).

    bin_edges_ : ndarray of shape (`n_bins_` + 1,)
        Thresholds between cells, the outer ones being the training minimum
        and maximum. Only with ``n_channels == 1`` and no ``fixed_codewords``.

    n_iter_ : int
        Lloyd iterations of k-means, on the coarse grid and on all atoms
        together, for vectors with ``strategy="kmeans"``; 1 otherwise (one
        pass over the statistics).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.preprocessing.KBinsDiscretizer : Per-feature binning with float
        codes and a local k-means.
    sklearn.cluster.KMeans : General k-means, on all samples.

    Notes
    -----
    Codes of one channel are found by bin lookup: ``bin_edges_`` are the
    strategy's cells (for "kmeans", the midpoints between codewords, so every
    pixel gets its nearest codeword). Codes of several channels are the
    nearest codeword, which never has a larger error than the strategy's cell.
    With ``color_space="oklab"`` every distance, in the k-means, the codes
    and the error diffusion, is taken in Oklab (Ottosson 2020, "A perceptual
    color space for image processing"), and the k-means minimises the Oklab
    error, not the sRGB one.

    The exact 1-D k-means follows Wang & Song (2011) and Wu (1991a), with the
    divide-and-conquer evaluation of Grønlund et al. (2017); the colour
    k-means starts from Wu's (1991b) variance split; median cut follows
    Heckbert (1982).

    Examples
    --------
    >>> import numpy as np
    >>> from skvq import ImageVectorQuantizer
    >>> image = np.array([[0, 10, 20, 200], [210, 220, 250, 255]],
    ...                  dtype=np.uint8)
    >>> quantizer = ImageVectorQuantizer(n_bins=2).fit(image)
    >>> codes = quantizer.transform(image)
    >>> codes
    array([[0, 0, 0, 1],
           [1, 1, 1, 1]], dtype=uint8)
    >>> quantizer.codebook_.ravel()
    array([ 10., 227.])
    >>> quantizer.inverse_transform(codes)
    array([[ 10.,  10.,  10., 227.],
           [227., 227., 227., 227.]])
    """

    _parameter_constraints: dict = {
        "n_bins": [Interval(Integral, 2, 65536, closed="both")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"kmeans", "uniform", "quantile"})],
        "reconstruction": [StrOptions({"centroid", "midpoint", "median"})],
        "max_atoms": [Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "inverse_dtype": [None, NumericDtype()],
        "random_state": ["random_state"],
        "color_space": [StrOptions({"rgb", "oklab"})],
        "fixed_codewords": ["array-like", None],
    }

    def __init__(
        self,
        n_bins=8,
        *,
        n_channels=1,
        strategy="kmeans",
        reconstruction="centroid",
        max_atoms=65536,
        max_iter=300,
        inverse_dtype=None,
        random_state=None,
        color_space="rgb",
        fixed_codewords=None,
    ):
        self.n_bins = n_bins
        self.n_channels = n_channels
        self.strategy = strategy
        self.reconstruction = reconstruction
        self.max_atoms = max_atoms
        self.max_iter = max_iter
        self.inverse_dtype = inverse_dtype
        self.random_state = random_state
        self.color_space = color_space
        self.fixed_codewords = fixed_codewords

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Learn the codebook from all pixels of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Images, one per row, or any 2-D array of pixel values; a dask
            array is summarised block by block on its workers.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample, shared by its pixels.

        Returns
        -------
        self : object
            Fitted quantizer.
        """
        self._accumulate(X, sample_weight, reset=True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Add the pixels of X to the statistics and refresh the codebook.

        For integer-valued data with integer ``sample_weight``, any sequence
        of calls gives exactly the codebook :meth:`fit` gives on all the data
        at once. For float data the atoms of the statistics (distinct values
        or grid cells, and their weights) are the same too, but the sums of
        the values in each atom are added in another order, so codewords and
        bin edges may differ from those of :meth:`fit` by rounding: at most
        about ``n * 2**-53`` relative for a cell of ``n`` pixels of one sign.
        A dask array is summarised on its workers; dask-ml's ``Incremental``
        works too, but ``fit`` on the dask array does the same in parallel.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Images, one per row.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample, shared by its pixels.

        Returns
        -------
        self : object
            The updated quantizer.
        """
        self._accumulate(X, sample_weight, reset=not hasattr(self, "_summary"))
        return self

    def _check_n_channels(self, n_features):
        if n_features % self.n_channels:
            raise ValueError(
                f"X has {n_features} features, which is not a multiple of "
                f"n_channels={self.n_channels}: every pixel must have "
                f"{self.n_channels} consecutive features."
            )

    def _check_n_channels_unchanged(self):
        """Refuse n_channels (or color_space) set to another value than the
        codebook's since it was learned, for every method that uses the
        codebook."""
        if self.n_channels != self.codebook_.shape[1]:
            raise ValueError(
                f"n_channels changed from {self.codebook_.shape[1]} to "
                f"{self.n_channels} after fit: the codebook has "
                f"{self.codebook_.shape[1]} channel(s); call fit again."
            )
        fitted = getattr(self, "_fitted_color_space", "rgb")
        if self.color_space != fitted:
            raise ValueError(
                f"color_space changed from {fitted!r} to {self.color_space!r} "
                "after fit: the codebook was learned in the former; call fit "
                "again."
            )

    def _validate_pixels(self, X, reset, ensure_all_finite=True):
        """validate_data, then refuse what is not real numbers in float64's
        range; without ``ensure_all_finite``, the caller's kernels refuse
        NaN and infinity in the pass that reads the values."""
        if isinstance(X, np.ma.MaskedArray):
            raise TypeError(
                "X is a masked array, whose mask would be ignored: pass a plain "
                "array, e.g. X.filled(value)."
            )
        if getattr(X, "ndim", None) == 3:
            raise ValueError(
                f"X must be a 2-D array (n_samples, n_features), got an array "
                f"of shape {X.shape}." + dimension_hint(X.shape)
            )
        # scikit-learn's finiteness check first sums X, which for finite
        # values near the float64 limits overflows to inf - inf: a spurious
        # warning, since it then checks every value.
        with np.errstate(over="ignore", invalid="ignore"):
            X = validate_data(
                self, X, reset=reset, dtype="numeric",
                ensure_all_finite=ensure_all_finite,
            )  # fmt: skip
        check_pixel_dtype(X.dtype)
        return check_float64_range(X)

    def _validate_dask_pixels(self, X, reset):
        """The checks of :meth:`_validate_pixels` that need only a dask
        array's metadata; its values are checked block by block. With
        ``reset``, the caller records ``n_features_in_`` once the values
        proved valid."""
        from ._dask import check_dask_array

        check_dask_array(X, type(self).__name__)
        check_pixel_dtype(X.dtype)
        if not reset:
            validate_data(self, X, reset=False, skip_check_array=True)

    def _accumulate(self, X, sample_weight, reset):
        """Add the pixels of X to the statistics (or start anew with
        ``reset``) and learn the codebook; returns X as validated."""
        # The parameters' own checks are scikit-learn's (_fit_context).
        if self.max_atoms < self.n_bins:
            raise ValueError(
                f"max_atoms must be at least n_bins={self.n_bins}, "
                f"got max_atoms={self.max_atoms}."
            )
        if self.fixed_codewords is not None:
            check_fixed_codewords(
                self.fixed_codewords, self.n_bins, int(self.n_channels)
            )
        if not reset:
            self._check_n_channels_unchanged()
        # The constraints accept a bool as an int, as scikit-learn's do;
        # NumPy's reshape does not.
        n_channels = int(self.n_channels)
        check_color_space(self.color_space, n_channels)
        if _is_dask_collection(X):
            from ._dask import summarize_dask

            self._validate_dask_pixels(X, reset=reset)
            self._check_n_channels(X.shape[1])
            summary = summarize_dask(
                X,
                sample_weight,
                n_channels=n_channels,
                max_atoms=self.max_atoms,
            )
            if reset:
                validate_data(self, X, reset=True, skip_check_array=True)
        else:
            X = self._validate_pixels(X, reset=reset)
            self._check_n_channels(X.shape[1])
            if sample_weight is not None:
                sample_weight = check_weight(sample_weight, X.shape[0])
            summary = summarize_rows(
                X, sample_weight, n_channels=n_channels, max_atoms=self.max_atoms
            )
        if not reset:
            summary = merge_summaries(self._summary, summary, self.max_atoms)
        check_total_weight(np.sum(summary.weight))
        self._summary = summary
        self._learn_codebook()
        return X

    def _learn_codebook(self):
        if hasattr(self, "bin_edges_"):
            # Refreshed below with one channel; left over from an earlier fit
            # with one channel otherwise.
            del self.bin_edges_
        codebook = codebook_from_summary(
            self._summary,
            self.n_bins,
            self.strategy,
            self.reconstruction,
            int(self.max_iter),
            check_random_state(self.random_state),
            self.color_space,
            fixed_codewords=None
            if self.fixed_codewords is None
            else check_fixed_codewords(
                self.fixed_codewords, self.n_bins, int(self.n_channels)
            ),
        )
        self._fitted_color_space = codebook.color_space
        self._oklab_codebook = (
            codebook.working_codewords if codebook.color_space == "oklab" else None
        )
        self.codebook_ = codebook.codewords
        if codebook.bin_edges is not None:
            self.bin_edges_ = codebook.bin_edges
        self.n_iter_ = codebook.n_iter
        self.n_bins_ = codebook.n_codes
        self.n_bits_ = codebook.n_bits

    def _codebook(self):
        """The fitted codebook, as the functions of :mod:`skvq._quantize`
        take it."""
        return Codebook(
            self.codebook_, self._bin_edges(), self.n_iter_, self._fitted_color_space
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, sample_weight=None):
        """Learn the codebook from X and return the code of every pixel.

        Equal to ``fit(X, sample_weight=sample_weight).transform(X)``, with
        X validated once.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Images, one per row; a dask array gives a lazy dask array of
            codes.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample, shared by its pixels.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_features // n_channels)
            As for :meth:`transform`.
        """
        X = self._accumulate(X, sample_weight, reset=True)
        if _is_dask_collection(X):
            from ._dask import encode_dask

            return encode_dask(
                X, self.codebook_, self._bin_edges(), self._oklab_codebook
            )
        return encode(X, self.codebook_, self._bin_edges(), self._oklab_codebook)

    def transform(self, X):
        """Code of every pixel of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pixels to encode, with the features seen in :meth:`fit`.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_features // n_channels)
            Codes in ``[0, n_bins_)``, as uint8 when ``n_bins_ <= 256``, else
            uint16. A dask array gives a lazy dask array.
        """
        check_is_fitted(self)
        self._check_n_channels_unchanged()
        if _is_dask_collection(X):
            from ._dask import encode_dask

            self._validate_dask_pixels(X, reset=False)
            return encode_dask(
                X, self.codebook_, self._bin_edges(), self._oklab_codebook
            )
        bin_edges = self._bin_edges()
        # Gray levels are coded by the edge kernels, which count NaN and
        # infinite values as they code them (skvq._encode.encode_scalar):
        # scikit-learn's separate check would be a pass of its own, serial,
        # a third of the time of coding 12.6 megapixels on two threads.
        X = self._validate_pixels(X, reset=False, ensure_all_finite=bin_edges is None)
        return encode(X, self.codebook_, bin_edges, self._oklab_codebook)

    def _bin_edges(self):
        """``bin_edges_`` with one channel, else None, as the functions of
        :mod:`skvq._codec` take them."""
        # No bin_edges_ with fixed_codewords: every pixel takes its nearest.
        return getattr(self, "bin_edges_", None) if self.n_channels == 1 else None

    def dither(
        self,
        X,
        *,
        strength=DEFAULT_DITHER_STRENGTH,
        method="floyd-steinberg",
        adaptive=True,
    ):
        """Codes of the pixels of X with error diffusion or ordered dithering.

        Each pixel is coded from its value plus a share of the errors of the
        pixels coded before it, so that smooth areas are rendered by a mix
        of codewords instead of bands. The rows of X are the rows of one
        image (a pixel being ``n_channels`` consecutive features, as in
        :meth:`transform`), scanned in serpentine order: even rows left to
        right, odd rows right to left.

        Read more in the :ref:`User Guide <dithering>`.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            One image, one image row per row, with the features seen in
            :meth:`fit`: ``img`` for a gray image, ``img.reshape(h, -1)`` for
            a colour one. Never modified.
        strength : float in [0, 1], default=1.0
            Fraction of each pixel's error passed on to its neighbours (in
            smooth areas, with ``adaptive``). ``0`` gives the codes of
            :meth:`transform`; ``1`` with ``adaptive=False`` is classic
            Floyd–Steinberg. With an ordered method, the scale of the mask's
            offsets (0 again gives the codes of :meth:`transform`).
        method : {"floyd-steinberg", "bayer", "blue-noise"}, \
                default="floyd-steinberg"
            Error diffusion (below), or ordered dithering: each pixel is
            offset by the cell of a threshold mask tiled over the image (the
            8 x 8 Bayer matrix, or a 64 x 64 blue-noise mask made by
            Ulichney's void-and-cluster method) and then coded as by
            :meth:`transform`. An ordered code depends on the pixel's value
            and position only, so the static areas of an animation's frames
            keep their codes from frame to frame, where error diffusion
            makes them shimmer; see :func:`skvq.dither` for the offsets.
        adaptive : bool, default=True
            With error diffusion, pass on less of the error at edges and in
            texture, down to 0.7 times ``strength``; ``False`` passes
            ``strength`` everywhere. Ignored by the ordered methods.

        Returns
        -------
        codes : ndarray of shape (n_rows, n_features // n_channels)
            Codes in ``[0, n_bins_)``, as uint8 when ``n_bins_ <= 256``, else
            uint16, like those of :meth:`transform`.

        Notes
        -----
        What the codes are: pixel by pixel, the code :meth:`transform` gives
        to the value :math:`v`, the pixel plus the errors diffused to it,
        with each channel of :math:`v` kept within the range of the codebook
        widened to the pixel itself (so errors never run away). The error
        :math:`s (v - c)`, where :math:`c` is the codeword of :math:`v`,
        goes to the uncoded neighbours with Floyd and Steinberg's (1976)
        weights 7/16 (next in the row), 3/16, 5/16 and 1/16 (the row below).

        The share :math:`s` is ``strength``, or with ``adaptive`` ``strength``
        times a factor from 1 down to 0.8 that falls with the pixel's
        *activity*, its largest second difference (along the row or the
        column, over its channels and its 3 x 3 neighbourhood) measured
        against the distance between neighbouring codewords: 1 on flat
        areas and smooth gradients, where quantization shows as bands, 0.8
        at edges and in texture, which hide the bands and where diffusing
        the whole error only adds noise. Dithering selectively follows
        pngquant (libimagequant's edge and noise maps); passing on less than
        the whole error, as pngquant also does, avoids the accumulation of
        small errors into visible patterns.

        What a user can rely on:

        - ``strength=0`` gives exactly the codes of :meth:`transform`, for
          every dtype.
        - The mean of a flat area is kept (to within what its size allows)
          only where the whole error is passed on: at ``strength=1``, that
          is everywhere with ``adaptive=False`` and on flat areas with
          ``adaptive=True`` (the default). With less, the error kept back
          pulls the area toward its nearest codeword.
        - The codes are deterministic, and an image made of codewords is
          coded without error.
        - Values are diffused in float64: integers beyond ``2**53`` are
          rounded to float64 where ``strength > 0``.

        The :ref:`benchmarks <benchmarks>` compare the defaults with
        uniform diffusion, Pillow and pngquant by SSIMULACRA2, FLIP and the
        mean squared error on each photograph.

        With ``color_space="oklab"``, the pixels are converted to Oklab and
        the error is diffused there, against the Oklab codewords; the codes
        at ``strength=0`` are still those of :meth:`transform`.

        The error diffusion is sequential: a dask array is refused, since
        blocks dithered apart would show seams; compute it first.
        """
        check_is_fitted(self)
        if _is_dask_collection(X):
            raise TypeError(
                "dither does not take a dask array: error diffusion runs "
                "through the whole image in order, so blocks dithered apart "
                "would show seams. Compute the image first (X.compute())."
            )
        strength = check_strength(strength)
        check_dither_method(method)
        adaptive = check_adaptive(adaptive)
        self._check_n_channels_unchanged()
        X = self._validate_pixels(X, reset=False)
        return dither_checked(X, self._codebook(), strength, method, adaptive)

    def inverse_transform(self, X):
        """Codewords of codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_in_` // n_channels)
            Integer codes in ``[0, n_bins_)``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            The codewords, as float64 unless ``inverse_dtype`` is set. A dask
            array gives a lazy dask array.
        """
        check_is_fitted(self)
        self._check_n_channels_unchanged()
        n_columns = self.n_features_in_ // self.n_channels
        if _is_dask_collection(X):
            from ._dask import check_dask_array, decode_dask

            check_dask_array(X, type(self).__name__, what="codes")
            return decode_dask(X, n_columns, self.codebook_, self.inverse_dtype)
        codes = check_codes(X, self.n_bins_, n_columns)
        return decode(codes, self.codebook_, self.inverse_dtype)

    def score(self, X, y=None, sample_weight=None):
        """Negative mean squared reconstruction error of X (larger is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pixels to encode and decode.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's squared error.

        Returns
        -------
        score : float
            ``-mean((X - inverse_transform(transform(X))) ** 2)``, weighted
            by ``sample_weight``, against the float64 codewords (not a
            rounded ``inverse_dtype`` output); ``-inf`` if the mean is beyond
            the float64 range. A dask array is scored block by block on its
            workers, and the blocks' sums added.
        """
        check_is_fitted(self)
        self._check_n_channels_unchanged()
        if _is_dask_collection(X):
            from ._dask import mean_squared_error_dask

            self._validate_dask_pixels(X, reset=False)
            return -mean_squared_error_dask(
                X,
                sample_weight,
                self.codebook_,
                self._bin_edges(),
                self._oklab_codebook,
            )
        X = self._validate_pixels(X, reset=False)
        if sample_weight is not None:
            sample_weight = check_weight(sample_weight, X.shape[0])
        error = squared_error(
            X, self.codebook_, self._bin_edges(), sample_weight, self._oklab_codebook
        )
        return -mean_squared_error(error)

    def get_feature_names_out(self, input_features=None):
        """Names of the code features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; with one channel they name the codes.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input names with one channel, else
            ``"imagevectorquantizer0"``, ``"imagevectorquantizer1"``, ...
            one per pixel.
        """
        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        if self.n_channels == 1:
            return names
        prefix = self.__class__.__name__.lower()
        n_pixels = self.n_features_in_ // self.n_channels
        return np.asarray([f"{prefix}{i}" for i in range(n_pixels)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Codes are unsigned integers whatever the input's dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags
