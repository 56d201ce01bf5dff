"""
======================
Rate-distortion curves
======================

How much quality does each bit per pixel buy? This example quantizes the
raccoon face with 1 to 8 bits per pixel (2 to 256 gray levels) and plots the
peak signal-to-noise ratio of each strategy,

.. math:: \\mathrm{PSNR} = 10 \\log_{10} \\frac{255^2}{\\mathrm{MSE}},

beside two references: :class:`~sklearn.preprocessing.KBinsDiscretizer` with
the same strategies, and the exact optimum, computed here from scratch by a
few lines of dynamic programming so that skvq's ``"kmeans"`` can be checked
against it.
"""

# %%
# The image and its histogram
# ---------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.datasets import face
from sklearn.preprocessing import KBinsDiscretizer

from skvq import ImageVectorQuantizer

raccoon_face = face(gray=True)
values, counts = np.unique(raccoon_face, return_counts=True)
print(f"{raccoon_face.size} pixels, {len(values)} distinct gray levels")

all_bits = np.arange(1, 9)


def mse(restored):
    return float(np.mean((restored - raccoon_face) ** 2))


# %%
# The exact optimum, independently
# --------------------------------
#
# In one dimension the best ``K`` levels split the sorted gray levels into
# ``K`` runs, so the optimum follows from a dynamic programme over the
# histogram (Wang and Song 2011): ``E[k, j]``, the least squared error of
# ``k`` runs covering the ``j`` smallest levels, is the minimum over the start
# ``i`` of the last run of ``E[k - 1, i] + cost(i, j)``. Prefix sums give the
# cost of any run at once. One pass up to 256 runs yields the optimum for
# every ``K``.
w = np.concatenate([[0], np.cumsum(counts)]).astype(float)
s = np.concatenate([[0], np.cumsum(counts * values.astype(float))])
q = np.concatenate([[0], np.cumsum(counts * values.astype(float) ** 2)])
m = len(values)
start, stop = np.meshgrid(np.arange(m + 1), np.arange(m + 1), indexing="ij")
with np.errstate(divide="ignore", invalid="ignore"):
    # cost[i, j]: squared error of the levels i .. j - 1 around their mean.
    cost = (
        q[stop] - q[start] - (s[stop] - s[start]) ** 2 / (w[stop] - w[start])
    )
cost[start >= stop] = np.inf

best_error = np.full(257, np.nan)
error = cost[0].copy()  # one run covering levels 0 .. j - 1
best_error[1] = error[m]
for k in range(2, 257):
    error = np.min(error[:, None] + cost, axis=0)
    best_error[k] = error[m] if k <= m else 0.0
optimum_mse = np.maximum(best_error, 0) / raccoon_face.size

# %%
# skvq and KBinsDiscretizer at every rate
# ---------------------------------------
#
# For each number of bits, each strategy of each library with ``2 ** bits``
# levels. ``KBinsDiscretizer`` quantizes the single column of all pixels and
# decodes with its ``inverse_transform``. At 8 bits both libraries are asked
# for 256 levels, more than the image has distinct values (counted above).
# skvq then gives each value its own code, whatever the strategy, and decodes
# without loss. ``KBinsDiscretizer`` does not: with ``"quantile"`` and
# ``"kmeans"`` it removes the bins narrower than ``1e-8``, and with
# ``"uniform"`` it keeps 256 equal bins, each narrower than one gray level,
# and decodes every value to the midpoint of its bin, off by a fraction of a
# level. Both libraries warn; the loop silences the warnings, and the last
# table of this page records how many levels each method kept.
strategies = ["kmeans", "quantile", "uniform"]
rows = []
for bits in all_bits:
    n_bins = 2**bits
    for strategy in strategies:
        quantizer = ImageVectorQuantizer(n_bins=n_bins, strategy=strategy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            codes = quantizer.fit_transform(raccoon_face)
        rows.append(
            {
                "bits": bits,
                "method": f"skvq {strategy}",
                "levels": quantizer.n_bins_,
                "MSE": mse(quantizer.inverse_transform(codes)),
            }
        )
        kbins = KBinsDiscretizer(
            n_bins=n_bins, encode="ordinal", strategy=strategy, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kbins_codes = kbins.fit_transform(raccoon_face.reshape(-1, 1))
        restored = kbins.inverse_transform(kbins_codes).reshape(
            raccoon_face.shape
        )
        rows.append(
            {
                "bits": bits,
                "method": f"KBinsDiscretizer {strategy}",
                "levels": int(kbins.n_bins_[0]),
                "MSE": mse(restored),
            }
        )
    rows.append(
        {
            "bits": bits,
            "method": "exact optimum",
            "levels": min(n_bins, m),
            "MSE": optimum_mse[n_bins],
        }
    )

results = pd.DataFrame(rows)
with np.errstate(divide="ignore"):
    results["PSNR (dB)"] = 10 * np.log10(255**2 / results["MSE"])

# %%
# skvq's ``"kmeans"`` against the independent optimum, at every rate (the
# relative difference is rounding error when skvq reaches the optimum):
kmeans = results[results["method"] == "skvq kmeans"].set_index("bits")["MSE"]
optimum = results[results["method"] == "exact optimum"].set_index("bits")[
    "MSE"
]
relative_gap = ((kmeans - optimum) / optimum.where(optimum > 0, 1)).abs()
print(f"Largest relative gap to the optimum: {relative_gap.max():.2e}")

# %%
# The curves
# ----------
#
# A method that keeps every gray level of the image has zero error, an infinite
# PSNR that no axis can show. Those methods, at 8 bits:
lossless = results[(results["bits"] == 8) & (results["MSE"] == 0)]
print("Lossless at 8 bits:", ", ".join(lossless["method"]))

# %%
# The plot draws a lossless point (infinite PSNR) on a line of its own at the
# top of the axis, marked "lossless", above every finite PSNR and not joined
# to the curve below it: a method on that line is better than any below it,
# however high.
finite_psnr = results["PSNR (dB)"][np.isfinite(results["PSNR (dB)"])]
lossless_y = 10 * np.ceil(finite_psnr.max() / 10) + 10

# %%
styles = {"skvq": "-", "KBinsDiscretizer": "--"}
colors = {
    "kmeans": "tab:blue",
    "quantile": "tab:orange",
    "uniform": "tab:green",
}
fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
ax.axhline(lossless_y, color="0.6", lw=1)
for method, curve in results.groupby("method", sort=False):
    finite = curve[np.isfinite(curve["PSNR (dB)"])]
    lossless_bits = curve["bits"][~np.isfinite(curve["PSNR (dB)"])]
    if method == "exact optimum":
        ax.plot(finite["bits"], finite["PSNR (dB)"], "k:", lw=3, label=method)
        color, marker = "k", "^"
    else:
        library, strategy = method.split(" ")
        color = colors[strategy]
        marker = "o" if library == "skvq" else "x"
        ax.plot(
            finite["bits"],
            finite["PSNR (dB)"],
            styles[library],
            color=color,
            marker=marker,
            label=method,
        )
    # No line up to the lossless line: the distance to it is no number of dB.
    ax.plot(
        lossless_bits,
        np.full(len(lossless_bits), lossless_y),
        marker,
        color=color,
        ms=9 if marker == "^" else 7,
    )
# The markers on the lossless line overlap: name their methods.
ax.text(
    8,
    lossless_y - 2,
    "lossless at 8 bits: " + ", ".join(lossless["method"]),
    ha="right",
    va="top",
    fontsize=9,
)
ticks = np.arange(10, lossless_y, 10)
ax.set_yticks(
    [*ticks, lossless_y], labels=[f"{t:.0f}" for t in ticks] + ["lossless"]
)
ax.set_ylim(top=lossless_y + 4)
ax.set_xlabel("Bits per pixel")
ax.set_ylabel("PSNR (dB)")
ax.set_title("Raccoon face: PSNR against bits per pixel")
# Lower right, below the curves; the top holds the lossless line.
_ = ax.legend(loc="lower right")

# %%
# The numbers behind the curves, PSNR in dB:
table = results.pivot(index="method", columns="bits", values="PSNR (dB)")
table.round(2)

# %%
# and how many levels each method actually used, out of ``2 ** bits``:
results.pivot(index="method", columns="bits", values="levels")
