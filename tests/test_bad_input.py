"""The catalogue of bad input to ImageVectorQuantizer, kept apart from
test_quantizer.py because it is one table of the estimator's public
behaviour across all its methods: every entry raises ValueError, TypeError or
NotFittedError with a message naming the problem (and, where it is ours, what
is allowed), and leaves the input untouched.

Each row is (description, estimator parameters, method, input, keyword
arguments, exception type, message regex). The method may carry a suffix:
``"transform:unfitted"`` calls it on a new estimator, ``"partial_fit:fitted"``
after a fit, ``"transform:n_channels=2"`` after a fit followed by
``set_params(n_channels=2)``, ``"transform:names"`` after a fit on a
DataFrame with columns "a" to "f". Other methods than ``fit`` and ``partial_fit``
are called on an estimator fitted to ``X`` (4 images of 6 features, 24
distinct values). Where the message is scikit-learn's or NumPy's (their
input validation, which ``check_estimator`` covers), only the exception type
is asserted (``THEIRS``), so that their rewording breaks nothing here; for
parameters, the message must name the parameter and what skvq allows
(``_mentions``), not scikit-learn's phrasing of it; skvq's own messages are
pinned.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from skvq import ImageVectorQuantizer

X = np.arange(24, dtype=np.float64).reshape(4, 6)
CODES = np.zeros((4, 6), dtype=np.int64)


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


def _dataframe(columns):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(X, columns=columns)


def _wide_longdouble():
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("long double has no wider range than float64 here")
    return _with(X.astype(np.longdouble), (0, 0), np.longdouble(1e308) * 16)


NAN = _with(X, (1, 2), np.nan)
POS_INF = _with(X, (1, 2), np.inf)
NEG_INF = _with(X, (1, 2), -np.inf)
WORDS = np.array([["a", "b"], ["c", "d"]])
# Messages worded by scikit-learn or NumPy: the exception type alone.
THEIRS = None


def _mentions(*words):
    """A regex matching a message that mentions ``words`` in this order."""
    return "(?s)" + ".*".join(rf"\b{word}\b" for word in words)


# Parameter constraints are skvq's, their wording scikit-learn's.
N_BINS = _mentions("n_bins", "2", "65536")
N_CHANNELS = _mentions("n_channels", "1")
MAX_ATOMS = _mentions("max_atoms", "2")
MAX_ITER = _mentions("max_iter", "1")
STRATEGY = _mentions("strategy") + "(?=.*'kmeans')(?=.*'uniform')(?=.*'quantile')"
RECONSTRUCTION = (
    _mentions("reconstruction") + "(?=.*'centroid')(?=.*'midpoint')(?=.*'median')"
)
# skvq's own description of the dtypes it allows.
INVERSE_DTYPE = _mentions("inverse_dtype") + (
    r".*a numeric numpy dtype \(bool, integer or float, e.g. np.uint8 or "
    r"'float32'\)"
)
RANDOM_STATE = _mentions("random_state")
# skvq checks the total weight of a fit or score itself, with every version
# of scikit-learn (>= 1.7 would refuse all-zero weights of any one call).
ZERO_WEIGHT = "sample_weight sums to zero: it must have at least one positive entry"
REAL = r"X must hold real numbers \(bool, integer or float\), got dtype "
DIM_3 = (
    r"X must be a 2-D array \(n_samples, n_features\), got an array of shape .*"
    r"reshape it to one image row per row"
)
V, T = ValueError, TypeError

# fmt: off
CATALOGUE = [
    # Non-finite values.
    ("NaN in fit", {}, "fit", NAN, {}, V, THEIRS),
    ("NaN in partial_fit", {}, "partial_fit", NAN, {}, V, THEIRS),
    ("NaN in transform", {}, "transform", NAN, {}, V, THEIRS),
    ("NaN in score", {}, "score", NAN, {}, V, THEIRS),
    ("NaN float32 in fit", {}, "fit", NAN.astype(np.float32), {}, V, THEIRS),
    ("+inf in fit", {}, "fit", POS_INF, {}, V, THEIRS),
    ("-inf in fit", {}, "fit", NEG_INF, {}, V, THEIRS),
    ("+inf in partial_fit", {}, "partial_fit", POS_INF, {}, V, THEIRS),
    ("+inf in transform", {}, "transform", POS_INF, {}, V, THEIRS),
    ("-inf in transform", {}, "transform", NEG_INF, {}, V, THEIRS),
    # Gray levels are checked by the coding kernels themselves, with
    # scikit-learn's wording.
    ("NaN float32 in transform", {}, "transform", NAN.astype(np.float32), {}, V,
     "Input X contains NaN"),
    ("+inf float16 in transform", {}, "transform", POS_INF.astype(np.float16), {},
     V, r"Input X contains infinity or a value too large for dtype\('float16'\)"),
    ("-inf longdouble in transform", {}, "transform",
     NEG_INF.astype(np.longdouble), {}, V, "Input X contains infinity"),
    ("-inf in score", {}, "score", NEG_INF, {}, V, THEIRS),
    ("NaN code", {}, "inverse_transform", _with(CODES * 1.0, 0, np.nan), {}, V,
     "Codes must be finite integers; got NaN or infinity"),
    ("+inf code", {}, "inverse_transform", _with(CODES * 1.0, 0, np.inf), {}, V,
     "Codes must be finite integers; got NaN or infinity"),
    ("-inf code", {}, "inverse_transform", _with(CODES * 1.0, 0, -np.inf), {}, V,
     "Codes must be finite integers; got NaN or infinity"),
    # Arrays that do not hold real numbers.
    # NumPy's message, as scikit-learn's estimators give it.
    ("object strings in fit", {}, "fit", WORDS.astype(object), {}, V,
     THEIRS),
    ("object strings in transform", {}, "transform",
     np.full((4, 6), "a", dtype=object), {}, V,
     THEIRS),
    ("object None in fit", {}, "fit", _with(X.astype(object), (0, 0), None), {}, V,
     THEIRS),
    ("str in fit", {}, "fit", WORDS, {}, V,
     THEIRS),
    ("numeric str in fit", {}, "fit", X.astype(str), {}, V,
     THEIRS),
    ("str in transform", {}, "transform", X.astype(str), {}, V,
     THEIRS),
    ("bytes in fit", {}, "fit", X.astype(bytes), {}, V,
     THEIRS),
    ("complex in fit", {}, "fit", X.astype(complex), {}, V,
     THEIRS),
    ("complex in transform", {}, "transform", X.astype(complex), {}, V,
     THEIRS),
    ("complex codes", {}, "inverse_transform", CODES.astype(complex), {}, T,
     "Codes must be an array of integers, got dtype complex128"),
    ("datetime64 in fit", {}, "fit", np.ones((4, 6), "M8[D]"), {}, T,
     REAL + r"datetime64\[D\]"),
    ("timedelta64 in transform", {}, "transform", np.ones((4, 6), "m8[s]"), {}, T,
     REAL + r"timedelta64\[s\]"),
    ("long double beyond float64 in fit", {}, "fit", _wide_longdouble, {}, V,
     r"X has values beyond the float64 range \(magnitudes up to 1.798e\+308\)"),
    ("masked array in fit", {}, "fit", np.ma.masked_greater(X, 20), {}, T,
     r"X is a masked array, whose mask would be ignored: pass a plain array"),
    ("masked array in transform", {}, "transform", np.ma.masked_greater(X, 20), {}, T,
     "X is a masked array"),
    ("np.matrix in fit", {}, "fit", np.asmatrix(X), {}, T,
     THEIRS),
    ("ragged list in fit", {}, "fit", [[1, 2], [3]], {}, V,
     THEIRS),
    # Shapes.
    ("1-D in fit", {}, "fit", np.arange(6.0), {}, V, THEIRS),
    ("1-D in transform", {}, "transform", np.arange(6.0), {}, V, THEIRS),
    ("1-D codes", {}, "inverse_transform", np.zeros(6, np.int64), {}, V,
     r"Codes must be a 2-D array \(n_samples, 6\), got an array of shape \(6,\)"),
    ("scalar in fit", {}, "fit", np.float64(3.0), {}, V,
     THEIRS),
    ("3-D in fit", {}, "fit", np.zeros((2, 3, 4)), {}, V, DIM_3),
    ("3-D in transform", {}, "transform", X[:, :, None], {}, V, DIM_3),
    ("3-D codes", {}, "inverse_transform", CODES[:, :, None], {}, V,
     r"Codes must be a 2-D array \(n_samples, 6\), got an array of shape \(4, 6, 1\)"),
    ("zero samples in fit", {}, "fit", np.zeros((0, 6)), {}, V,
     THEIRS),
    ("zero samples in partial_fit", {}, "partial_fit", np.zeros((0, 6)), {}, V,
     THEIRS),
    ("zero samples in transform", {}, "transform", np.zeros((0, 6)), {}, V,
     THEIRS),
    ("zero samples of codes", {}, "inverse_transform", np.zeros((0, 6), int), {}, V,
     "Codes have no rows: there is nothing to decode"),
    ("zero features in fit", {}, "fit", np.zeros((4, 0)), {}, V,
     THEIRS),
    ("zero features of codes", {}, "inverse_transform", np.zeros((4, 0), int), {}, V,
     r"Codes have 0 columns, but this quantizer produces 6"),
    # Sparse input: pixels are dense.
    ("csr_matrix in fit", {}, "fit", sp.csr_matrix(X), {}, T, THEIRS),
    ("csc_matrix in fit", {}, "fit", sp.csc_matrix(X), {}, T, THEIRS),
    ("csr_array in fit", {}, "fit", sp.csr_array(X), {}, T, THEIRS),
    ("coo_array in partial_fit", {}, "partial_fit", sp.coo_array(X), {}, T, THEIRS),
    ("csr_matrix in transform", {}, "transform", sp.csr_matrix(X), {}, T, THEIRS),
    ("csr_array in score", {}, "score", sp.csr_array(X), {}, T, THEIRS),
    ("csr_array codes", {}, "inverse_transform", sp.csr_array(CODES), {}, T,
     "Codes must be a dense array, got a sparse matrix"),
    # n_bins.
    ("n_bins=1", {"n_bins": 1}, "fit", X, {}, V, N_BINS),
    ("n_bins=0", {"n_bins": 0}, "fit", X, {}, V, N_BINS),
    ("n_bins=-3", {"n_bins": -3}, "fit", X, {}, V, N_BINS),
    ("n_bins=65537", {"n_bins": 65537}, "fit", X, {}, V, N_BINS),
    ("n_bins=2.5", {"n_bins": 2.5}, "fit", X, {}, T, N_BINS),
    ("n_bins=8.0", {"n_bins": 8.0}, "fit", X, {}, T, N_BINS),
    ("n_bins=np.float64", {"n_bins": np.float64(8)}, "fit", X, {}, T, N_BINS),
    ("n_bins='8'", {"n_bins": "8"}, "fit", X, {}, T, N_BINS),
    ("n_bins=None", {"n_bins": None}, "fit", X, {}, T, N_BINS),
    ("n_bins=True", {"n_bins": True}, "fit", X, {}, V, N_BINS),
    ("n_bins=[8]", {"n_bins": [8]}, "fit", X, {}, T, N_BINS),
    ("n_bins=65537 in partial_fit", {"n_bins": 65537}, "partial_fit", X, {}, V, N_BINS),
    # strategy and reconstruction.
    ("strategy='KMeans'", {"strategy": "KMeans"}, "fit", X, {}, V,
     STRATEGY),
    ("strategy='median'", {"strategy": "median"}, "fit", X, {}, V, STRATEGY),
    ("strategy=None", {"strategy": None}, "fit", X, {}, T, STRATEGY),
    ("strategy=1", {"strategy": 1}, "fit", X, {}, T, STRATEGY),
    ("reconstruction='mean'", {"reconstruction": "mean"}, "fit", X, {}, V,
     RECONSTRUCTION),
    ("reconstruction='kmeans'", {"reconstruction": "kmeans"}, "fit", X, {}, V,
     RECONSTRUCTION),
    ("reconstruction=None", {"reconstruction": None}, "fit", X, {}, T, RECONSTRUCTION),
    # n_channels.
    ("n_channels=0", {"n_channels": 0}, "fit", X, {}, V, N_CHANNELS),
    ("n_channels=-1", {"n_channels": -1}, "fit", X, {}, V, N_CHANNELS),
    ("n_channels=1.5", {"n_channels": 1.5}, "fit", X, {}, T, N_CHANNELS),
    ("n_channels='3'", {"n_channels": "3"}, "fit", X, {}, T, N_CHANNELS),
    ("n_channels=None", {"n_channels": None}, "fit", X, {}, T, N_CHANNELS),
    ("n_channels=4 with 6 features", {"n_channels": 4}, "fit", X, {}, V,
     "X has 6 features, which is not a multiple of n_channels=4: every pixel "
     "must have 4 consecutive features"),
    ("n_channels=5 with 6 features", {"n_channels": 5}, "partial_fit", X, {}, V,
     "not a multiple of n_channels=5"),
    ("n_channels=7 with 6 features", {"n_channels": 7}, "fit", X, {}, V,
     "X has 6 features, which is not a multiple of n_channels=7"),
    ("n_channels changed before partial_fit", {"n_channels": 3},
     "partial_fit:n_channels=2", X, {}, V,
     r"n_channels changed from 3 to 2 after fit: the codebook has 3 channel\(s\); "
     "call fit again"),
    ("n_channels changed before transform", {"n_channels": 3},
     "transform:n_channels=2", X, {}, V,
     r"n_channels changed from 3 to 2 after fit: the codebook has 3 channel\(s\); "
     "call fit again"),
    ("n_channels changed before inverse_transform", {"n_channels": 3},
     "inverse_transform:n_channels=1", np.zeros((4, 2), int), {}, V,
     "n_channels changed from 3 to 1 after fit"),
    # max_atoms, max_iter, inverse_dtype, random_state.
    ("max_atoms < n_bins", {"max_atoms": 4}, "fit", X, {}, V,
     "max_atoms must be at least n_bins=8, got max_atoms=4"),
    ("max_atoms < n_bins=256", {"n_bins": 256, "max_atoms": 255}, "fit", X, {}, V,
     "max_atoms must be at least n_bins=256, got max_atoms=255"),
    ("max_atoms=1", {"max_atoms": 1}, "fit", X, {}, V, MAX_ATOMS),
    ("max_atoms=2.5", {"max_atoms": 2.5}, "fit", X, {}, T, MAX_ATOMS),
    ("max_atoms=None", {"max_atoms": None}, "fit", X, {}, T, MAX_ATOMS),
    ("max_iter=0", {"max_iter": 0}, "fit", X, {}, V, MAX_ITER),
    ("max_iter=2.5", {"max_iter": 2.5}, "fit", X, {}, T, MAX_ITER),
    ("max_atoms=True", {"max_atoms": True}, "fit", X, {}, V,
     MAX_ATOMS),
    ("inverse_dtype='foo'", {"inverse_dtype": "foo"}, "fit", X, {}, V,
     INVERSE_DTYPE),
    ("inverse_dtype=object", {"inverse_dtype": object}, "fit", X, {}, V,
     INVERSE_DTYPE),
    ("inverse_dtype='U8'", {"inverse_dtype": "U8"}, "fit", X, {}, V,
     INVERSE_DTYPE),
    ("inverse_dtype=complex", {"inverse_dtype": complex}, "fit", X, {}, V,
     INVERSE_DTYPE),
    ("inverse_dtype='M8[s]'", {"inverse_dtype": "M8[s]"}, "fit", X, {}, V,
     INVERSE_DTYPE),
    ("inverse_dtype=3", {"inverse_dtype": 3}, "fit", X, {}, T,
     INVERSE_DTYPE),
    ("inverse_dtype=True", {"inverse_dtype": True}, "fit", X, {}, T,
     INVERSE_DTYPE),
    ("inverse_dtype structured", {"inverse_dtype": [("a", "u1")]}, "fit", X, {}, V,
     INVERSE_DTYPE),
    ("inverse_dtype in partial_fit", {"inverse_dtype": "U8"}, "partial_fit", X, {}, V,
     INVERSE_DTYPE),
    ("random_state='seed'", {"random_state": "seed"}, "fit", X, {}, V, RANDOM_STATE),
    ("random_state=-1", {"random_state": -1}, "fit", X, {}, V, RANDOM_STATE),
    ("random_state=1.5", {"random_state": 1.5}, "fit", X, {}, T, RANDOM_STATE),
    # sample_weight.
    ("sample_weight too short", {}, "fit", X, {"sample_weight": np.ones(3)}, V,
     r"sample_weight must have shape \(4,\), one weight per row of X, got shape "
     r"\(3,\)"),
    ("sample_weight too long", {}, "partial_fit", X, {"sample_weight": np.ones(24)},
     V, r"sample_weight must have shape \(4,\), one weight per row of X"),
    ("sample_weight negative", {}, "fit", X,
     {"sample_weight": np.array([1.0, -1.0, 1.0, 1.0])}, V,
     "sample_weight must be non-negative"),
    ("sample_weight negative, partial_fit", {}, "partial_fit", X,
     {"sample_weight": -np.ones(4)}, V, "sample_weight must be non-negative"),
    ("sample_weight all zero", {}, "fit", X, {"sample_weight": np.zeros(4)}, V,
     ZERO_WEIGHT),
    ("sample_weight zero scalar", {}, "fit", X, {"sample_weight": 0.0}, V,
     ZERO_WEIGHT),
    ("sample_weight NaN", {}, "fit", X,
     {"sample_weight": np.array([1.0, np.nan, 1.0, 1.0])}, V,
     r"sample_weight must be finite \(no NaN or infinity\)"),
    ("sample_weight +inf", {}, "fit", X,
     {"sample_weight": np.array([1.0, np.inf, 1.0, 1.0])}, V,
     r"sample_weight must be finite \(no NaN or infinity\)"),
    ("sample_weight 2-D", {}, "fit", X, {"sample_weight": np.ones((4, 1))}, V,
     r"sample_weight must have shape \(4,\), one weight per row of X, got shape "
     r"\(4, 1\)"),
    ("sample_weight strings", {}, "fit", X, {"sample_weight": np.array(["a"] * 4)},
     T, "sample_weight must be real numbers"),
    ("score sample_weight too short", {}, "score", X, {"sample_weight": np.ones(3)},
     V, r"sample_weight must have shape \(4,\), one weight per row of X"),
    ("score sample_weight negative", {}, "score", X,
     {"sample_weight": np.array([1.0, -1.0, 1.0, 1.0])}, V,
     "sample_weight must be non-negative"),
    ("score sample_weight all zero", {}, "score", X, {"sample_weight": np.zeros(4)},
     V, ZERO_WEIGHT),
    ("score sample_weight NaN", {}, "score", X,
     {"sample_weight": np.array([1.0, np.nan, 1.0, 1.0])}, V,
     r"sample_weight must be finite \(no NaN or infinity\)"),
    # A different number of features than fit.
    ("transform 5 features after 6", {}, "transform", X[:, :5], {}, V,
     THEIRS),
    ("transform 7 features after 6", {}, "transform", np.zeros((4, 7)), {}, V,
     THEIRS),
    ("score 5 features after 6", {}, "score", X[:, :5], {}, V,
     THEIRS),
    ("partial_fit 5 features after 6", {}, "partial_fit:fitted", X[:, :5], {}, V,
     THEIRS),
    ("transform 9 features, 3 channels", {"n_channels": 3}, "transform",
     np.zeros((4, 9)), {}, V, THEIRS),
    ("transform other feature names", {}, "transform:names",
     lambda: _dataframe(list("abcdeZ")), {}, V,
     THEIRS),
    # Codes for inverse_transform (n_bins_ = 8, 6 columns; 2 with 3 channels).
    ("code out of range", {}, "inverse_transform", _with(CODES, (2, 3), 8), {}, V,
     r"Codes must be integers in \[0, 8\); got values from 0 to 8"),
    ("code far out of range", {}, "inverse_transform",
     np.full((4, 6), 2**64 - 1, dtype=np.uint64), {}, V,
     r"Codes must be integers in \[0, 8\); got values from 1.84467e\+19 to"),
    ("code negative", {}, "inverse_transform", _with(CODES, (0, 0), -1), {}, V,
     r"Codes must be integers in \[0, 8\); got values from -1 to 0"),
    ("code negative int8", {}, "inverse_transform", np.full((4, 6), -128, np.int8),
     {}, V, r"Codes must be integers in \[0, 8\); got values from -128 to -128"),
    ("code fractional", {}, "inverse_transform", _with(CODES * 1.0, (1, 1), 2.5), {},
     V, "Codes must be integers; got fractional values"),
    ("code fractional float16", {}, "inverse_transform",
     np.full((4, 6), 0.5, np.float16), {}, V, "Codes must be integers; got fractional"),
    ("codes too wide", {}, "inverse_transform", np.zeros((4, 7), int), {}, V,
     r"Codes have 7 columns, but this quantizer produces 6 \(n_features_in_ // "
     r"n_channels\)"),
    ("codes too narrow", {}, "inverse_transform", np.zeros((4, 5), int), {}, V,
     "Codes have 5 columns, but this quantizer produces 6"),
    ("codes of pixels, not features", {"n_channels": 3}, "inverse_transform",
     CODES, {}, V, "Codes have 6 columns, but this quantizer produces 2"),
    ("codes strings", {}, "inverse_transform", np.full((4, 6), "1"), {}, T,
     "Codes must be an array of integers, got dtype <U1"),
    ("codes object", {}, "inverse_transform", CODES.astype(object), {}, T,
     "Codes must be an array of integers, got dtype object"),
    # Unfitted.
    ("transform unfitted", {}, "transform:unfitted", X, {}, NotFittedError,
     THEIRS),
    ("inverse_transform unfitted", {}, "inverse_transform:unfitted", CODES, {},
     NotFittedError, THEIRS),
    ("score unfitted", {}, "score:unfitted", X, {}, NotFittedError, THEIRS),
    ("get_feature_names_out unfitted", {}, "get_feature_names_out:unfitted", None,
     {}, NotFittedError, THEIRS),
]
# fmt: on


def _snapshot(value):
    if sp.issparse(value):
        return value.toarray()
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    return None


def _call(params, method, data, kwargs):
    name, _, state = method.partition(":")
    estimator = ImageVectorQuantizer(**params)
    if state == "names":
        estimator.fit(_dataframe(list("abcdef")))
    elif state != "unfitted" and (name not in ("fit", "partial_fit") or state):
        estimator.fit(X)
    if "=" in state:
        key, value = state.split("=")
        estimator.set_params(**{key: int(value)})
    if data is None:
        return getattr(estimator, name)()
    return getattr(estimator, name)(data, **kwargs)


@pytest.mark.parametrize(
    "params, method, data, kwargs, exception, message",
    [pytest.param(*row[1:], id=row[0]) for row in CATALOGUE],
)
def test_bad_input_is_refused_with_a_clear_message(
    params, method, data, kwargs, exception, message
):
    if callable(data):
        data = data()
    before = _snapshot(data)
    weight_before = _snapshot(kwargs.get("sample_weight"))
    with pytest.raises(exception, match=message) as info:
        _call(params, method, data, kwargs)
    # Obscure errors (IndexError, ZeroDivisionError...) are never acceptable,
    # even as subclasses.
    assert isinstance(info.value, ValueError | TypeError | NotFittedError)
    if before is not None:
        after = data.toarray() if sp.issparse(data) else data
        np.testing.assert_array_equal(after, before)
    if weight_before is not None:
        np.testing.assert_array_equal(kwargs["sample_weight"], weight_before)


def test_catalogue_descriptions_are_unique():
    descriptions = [row[0] for row in CATALOGUE]
    assert len(descriptions) == len(set(descriptions))
