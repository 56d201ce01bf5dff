"""Where ImageVectorQuantizer's values equal KBinsDiscretizer's, and the four
documented cases where they differ on purpose (user guide, "Where the values
differ from KBinsDiscretizer's", which names this file): the estimator's
public behaviour, kept apart from test_quantizer.py for the user guide."""

import inspect
import warnings
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.preprocessing import KBinsDiscretizer

from skvq import ImageVectorQuantizer

HAS_QUANTILE_METHOD = (
    "quantile_method" in inspect.signature(KBinsDiscretizer).parameters
)


def _kbins(X, n_bins, strategy):
    params = dict(n_bins=n_bins, strategy=strategy, encode="ordinal", subsample=None)
    if strategy == "quantile":
        if not HAS_QUANTILE_METHOD:
            pytest.skip("KBinsDiscretizer has quantile_method from scikit-learn 1.7")
        params["quantile_method"] = "averaged_inverted_cdf"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return KBinsDiscretizer(**params).fit(X)


def _skvq(X, n_bins, strategy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return ImageVectorQuantizer(
            n_bins, strategy=strategy, reconstruction="midpoint"
        ).fit(X)


def exact_averaged_inverted_cdf(sorted_values, q):
    """The averaged inverted CDF of unit-weight data at level ``q`` (a
    Fraction): where ``n * q`` is a whole number ``j``, the mean of the
    ``j``-th and ``j + 1``-th values, else the ``ceil(n * q)``-th."""
    n = len(sorted_values)
    position = n * q
    if position.denominator == 1:
        j = int(position)
        low = sorted_values[max(j - 1, 0)]
        high = sorted_values[min(j, n - 1)]
        return (low + high) / 2
    return sorted_values[min(int(np.ceil(float(position))) - 1, n - 1)]


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [2, 5, 8])
def test_equal_to_kbins_on_one_feature_with_many_values(strategy, n_bins):
    rng = np.random.default_rng(n_bins)
    X = rng.normal(100, 30, (997, 1)).round(3)
    ours, theirs = _skvq(X, n_bins, strategy), _kbins(X, n_bins, strategy)
    assert_allclose(ours.bin_edges_, theirs.bin_edges_[0], rtol=1e-14)
    codes = ours.transform(X)
    assert_array_equal(codes, theirs.transform(X))
    assert_allclose(
        ours.inverse_transform(codes), theirs.inverse_transform(codes), rtol=1e-14
    )


@pytest.mark.parametrize("n", range(8, 40))
@pytest.mark.parametrize("n_bins", [3, 5, 6, 7])
def test_quantile_edges_follow_the_exact_definition(n, n_bins):
    X = np.arange(n, dtype=float)[:, None]
    ours = _skvq(X, n_bins, "quantile")
    values = [Fraction(v) for v in range(n)]
    exact = [
        float(exact_averaged_inverted_cdf(values, Fraction(k, n_bins)))
        for k in range(1, n_bins)
    ]
    assert_array_equal(ours.bin_edges_[1:-1], exact)
    # KBinsDiscretizer agrees wherever NumPy's rounded level n * q lands
    # where the exact one does, and differs where it does not.
    theirs = _kbins(X, n_bins, "quantile")
    levels = np.linspace(0, 100, n_bins + 1)[1:-1] / 100 * n
    rounding = levels != np.round(levels)
    exact_whole = np.array([(n * k) % n_bins == 0 for k in range(1, n_bins)])
    agree = ~(exact_whole & rounding)
    assert_array_equal(theirs.bin_edges_[0][1:-1][agree], np.array(exact)[agree])
    assert np.all(theirs.bin_edges_[0][1:-1][~agree] != np.array(exact)[~agree])


@pytest.mark.parametrize("strategy", ["uniform", "quantile", "kmeans"])
def test_few_distinct_values_decode_losslessly_unlike_kbins(strategy):
    X = np.array([[19.0], [113.0], [19.0]])
    ours = _skvq(X, 3, strategy)
    assert_array_equal(ours.inverse_transform(ours.transform(X)), X)
    if strategy == "uniform":
        theirs = _kbins(X, 3, strategy)
        assert not np.array_equal(theirs.inverse_transform(theirs.transform(X)), X)


def test_constant_feature_decodes_to_the_constant_unlike_kbins():
    X = np.full((5, 1), 7.0)
    ours = _skvq(X, 3, "uniform")
    assert_array_equal(ours.inverse_transform(ours.transform(X)), X)
    theirs = _kbins(X, 3, "uniform")
    with np.errstate(invalid="ignore"):
        # inf - inf in KBinsDiscretizer's midpoints.
        decoded = theirs.inverse_transform(theirs.transform(X))
    assert np.isnan(decoded).all()


def test_narrow_bins_are_kept_unlike_kbins():
    # Values of magnitude 1e-9: KBinsDiscretizer drops bins narrower than
    # 1e-8, skvq keeps every bin of positive width.
    X = (np.arange(40, dtype=float) * 1e-10)[:, None]
    ours = _skvq(X, 4, "quantile")
    assert ours.n_bins_ == 4
    theirs = _kbins(X, 4, "quantile")
    assert theirs.n_bins_[0] < 4
