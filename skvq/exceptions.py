"""Warnings of skvq, so that callers tell them apart by class, not by text.

They are :class:`UserWarning` subclasses, as scikit-learn's
:class:`~sklearn.exceptions.ConvergenceWarning` is, so existing filters on
``UserWarning`` keep catching them.
"""

__all__ = ["FewerCodewordsWarning", "SkvqWarning"]


class SkvqWarning(UserWarning):
    """Base class of the warnings skvq raises."""


class FewerCodewordsWarning(SkvqWarning):
    """The codebook has fewer codewords than asked for.

    Raised when the data have fewer distinct values (or pooled atoms) than
    ``n_bins``, so that each gets a codeword of its own, and when quantile
    bins of zero width are removed. The codebook's actual size is
    ``n_bins_`` (estimator) or ``Codebook.n_codes`` (functions).
    """
