"""
=============================
Grid-searching the bin count
=============================

:class:`skvq.ImageVectorQuantizer` is a scikit-learn transformer, so the
number of gray levels is a hyper-parameter like any other. This example
chooses it twice: first for a classifier, by cross-validated accuracy in a
:class:`~sklearn.pipeline.Pipeline`; then without labels, for compression, by
trading distortion against bits per pixel.
"""

# %%
# Supervised: the bins a classifier needs
# ---------------------------------------
#
# The digits data set holds 8 x 8 images of hand-written digits, one image per
# row of 64 gray levels from 0 to 16. A quantizer in front of a logistic
# regression replaces the 17 levels by ``n_bins`` codes; because skvq sorts its
# gray-level codebook, the codes keep the order of the levels and a linear
# model can use them directly.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skvq import ImageVectorQuantizer

X, y = load_digits(return_X_y=True)
levels = np.unique(X).astype(int)
print(f"X: {X.shape}, {levels.size} gray levels, {levels[0]} to {levels[-1]}")

pipeline = make_pipeline(
    ImageVectorQuantizer(strategy="kmeans"), LogisticRegression(max_iter=2000)
)
param_grid = {"imagevectorquantizer__n_bins": [2, 3, 4, 5, 6, 8, 12, 17]}
search = GridSearchCV(pipeline, param_grid, cv=5).fit(X, y)

results = pd.DataFrame(search.cv_results_)
n_bins = results["param_imagevectorquantizer__n_bins"].astype(int)
print(f"Best n_bins: {search.best_params_['imagevectorquantizer__n_bins']}")
print(f"Best mean accuracy: {search.best_score_:.3f}")

# %%
# Accuracy against the number of bins, with one standard deviation over the
# five folds. With 17 bins nothing is lost, so the last point is the accuracy
# on the raw gray levels.
fig, ax = plt.subplots(figsize=(7, 4))
ax.errorbar(
    n_bins,
    results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
    capsize=3,
)
ax.set_xscale("log", base=2)
ax.set_xticks(n_bins, labels=n_bins.astype(str))
ax.set_xlabel("n_bins")
ax.set_ylabel("Cross-validated accuracy")
ax.set_title("Digits: quantizer + logistic regression")
fig.tight_layout()

# %%
# How many levels are needed before the accuracy is within one standard
# deviation of the best:
best = results.loc[search.best_index_]
threshold = best["mean_test_score"] - best["std_test_score"]
fewest = n_bins[results["mean_test_score"] >= threshold].min()
print(f"Fewest bins within one standard deviation of the best: {fewest}")

# %%
# Unsupervised: the bins worth their bits
# ---------------------------------------
#
# Without labels, the question for compression is how much distortion each bit
# per pixel buys. With ``n_bits`` bits per pixel the best codebook has
# ``2 ** n_bits`` levels (fewer would leave codes unused), so the candidates
# are 2, 4, ..., 256 levels. A rate-distortion cost
#
# .. math:: J = \mathrm{MSE} + \lambda \cdot \text{bits per pixel}
#
# turns the trade-off into one number; :math:`\lambda` is the price, in squared
# gray levels, of one bit per pixel. Since ``score`` is minus the MSE and the
# fitted quantizer knows its ``n_bits_``, :math:`-J` is a scorer, and
# :class:`~sklearn.model_selection.GridSearchCV` selects ``n_bins`` with no
# labels: the codebook is fitted on some rows of the raccoon and judged on the
# others. The raccoon has fewer distinct gray levels than the largest
# candidate, for which skvq keeps one level per value and warns; the warning is
# silenced here.
import warnings

from scipy.datasets import face

raccoon_face = face(gray=True)
candidates = [2**bits for bits in range(1, 9)]


def rate_distortion_scorer(lam):
    def score(estimator, X, y=None):
        return estimator.score(X) - lam * estimator.n_bits_

    return score


lambdas = [1, 10, 100]
chosen = {}
curves = {}
for lam in lambdas:
    search = GridSearchCV(
        ImageVectorQuantizer(strategy="kmeans"),
        {"n_bins": candidates},
        scoring=rate_distortion_scorer(lam),
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(raccoon_face)
    chosen[lam] = search.best_params_["n_bins"]
    curves[lam] = -search.cv_results_["mean_test_score"]
    n_bits = int(np.log2(chosen[lam]))
    best = chosen[lam]
    print(f"lambda = {lam:>3}: n_bins = {best:>3} ({n_bits} bits per pixel)")

# %%
# The cost curves, with the minimum of each marked: the higher the price of a
# bit, the fewer levels are worth keeping.
bits = np.log2(candidates)
fig, ax = plt.subplots(figsize=(7, 4))
for lam in lambdas:
    (line,) = ax.plot(
        bits, curves[lam], marker="o", label=f"$\\lambda$ = {lam}"
    )
    best_bits = np.log2(chosen[lam])
    ax.plot(
        best_bits,
        curves[lam][candidates.index(chosen[lam])],
        "*",
        ms=16,
        color=line.get_color(),
    )
ax.set_yscale("log")
ax.set_xlabel("Bits per pixel")
ax.set_ylabel("Held-out MSE + $\\lambda$ x bits per pixel")
ax.set_title("Raccoon face: rate-distortion cost")
ax.legend()
fig.tight_layout()
