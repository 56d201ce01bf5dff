"""scikit-learn's common estimator checks, with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvq import ImageVectorQuantizer

ESTIMATORS = [
    ImageVectorQuantizer(),
    ImageVectorQuantizer(strategy="uniform", reconstruction="midpoint"),
    ImageVectorQuantizer(strategy="quantile", reconstruction="median"),
]


@pytest.mark.filterwarnings("ignore:X has .* distinct value")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
