"""
===========================================
Colour quantization of the summer palace
===========================================

scikit-learn's *Color Quantization using K-Means* example reduces a photo of
the summer palace in China from tens of thousands of distinct colours to a
palette of 64: it fits :class:`~sklearn.cluster.KMeans` on a random sample of
1000 pixels, assigns every pixel to its nearest centre, and compares with a
palette drawn at random from the image.

Here the same photo goes through :class:`skvq.ImageVectorQuantizer` with each
of its strategies, beside both of those approaches: the images, their mean
squared error and the time to fit.
"""

# %%
# The image
# ---------
#
# ``load_sample_image`` returns an array of shape ``(height, width, 3)`` of
# ``uint8``. skvq takes it with each row's pixels side by side,
# ``(height, width * 3)``, and ``n_channels=3`` says that three consecutive
# values make a pixel.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image
from sklearn.metrics import pairwise_distances_argmin
from sklearn.utils import shuffle

from skvq import ImageVectorQuantizer

china = load_sample_image("china.jpg")
height, width, depth = china.shape
pixels = china.reshape(-1, depth)
n_colors = 64

print(f"Image shape: {china.shape}, dtype {china.dtype}")
print(f"Distinct colours: {len(np.unique(pixels, axis=0))}")


def mse(restored):
    """Mean squared error per value, on the 0-255 scale of the image."""
    return float(np.mean((np.asarray(restored, dtype=float) - china) ** 2))


results = {}
images = {}

# %%
# skvq, each strategy
# -------------------
#
# One estimator per strategy:
#
# - ``"kmeans"`` starts from the 64 boxes of Wu's greedy variance split, then
#   runs Lloyd iterations, not on every pixel but on the distinct colours,
#   each weighted by its number of pixels and spread over its two nearest
#   codewords (see the :ref:`user guide <strategies>`). The split is
#   deterministic; ``random_state`` only matters in the rare case where it
#   cannot make 64 boxes and k-means++ draws the missing centres.
# - ``"quantile"`` is Heckbert's median cut.
# - ``"uniform"`` is a regular grid over the bounding box of the colours.
for strategy in ["kmeans", "quantile", "uniform"]:
    quantizer = ImageVectorQuantizer(
        n_bins=n_colors, n_channels=depth, strategy=strategy, random_state=0
    )
    start = perf_counter()
    quantizer.fit(china.reshape(height, -1))
    fit_time = perf_counter() - start
    codes = quantizer.transform(china.reshape(height, -1))
    restored = quantizer.inverse_transform(codes).reshape(china.shape)
    name = f"skvq {strategy}"
    images[name] = restored
    results[name] = {
        "colours": quantizer.n_bins_,
        "MSE": mse(restored),
        "fit time (s)": fit_time,
    }
    print(
        f"{name}: codes {codes.shape} {codes.dtype}, {quantizer.n_bits_} bits"
    )

# %%
# scikit-learn's K-Means example
# ------------------------------
#
# As in scikit-learn's example: scale to [0, 1], fit ``KMeans`` on 1000 pixels
# drawn at random, then predict the nearest centre of every pixel. The fit time
# counts the sampling and the fit, as skvq's counts its pass over all pixels.
scaled = pixels / 255
start = perf_counter()
sample = shuffle(scaled, random_state=0, n_samples=1_000)
kmeans = KMeans(n_clusters=n_colors, random_state=0).fit(sample)
fit_time = perf_counter() - start
labels = kmeans.predict(scaled)
restored = (kmeans.cluster_centers_[labels] * 255).reshape(china.shape)
images["KMeans, 1000-pixel sample"] = restored
results["KMeans, 1000-pixel sample"] = {
    "colours": n_colors,
    "MSE": mse(restored),
    "fit time (s)": fit_time,
}

# %%
# And the example's baseline: 64 colours picked at random from the image, each
# pixel mapped to the nearest of them.
start = perf_counter()
codebook_random = shuffle(scaled, random_state=0, n_samples=n_colors)
fit_time = perf_counter() - start
labels_random = pairwise_distances_argmin(codebook_random, scaled, axis=0)
restored = (codebook_random[labels_random] * 255).reshape(china.shape)
images["random codebook"] = restored
results["random codebook"] = {
    "colours": n_colors,
    "MSE": mse(restored),
    "fit time (s)": fit_time,
}

# %%
# The images
# ----------
fig, axes = plt.subplots(
    nrows=2, ncols=3, figsize=(15, 8.6), layout="constrained"
)
axes = axes.ravel()
axes[0].imshow(china)
# (Titles in large type: the figure is shown shrunk to the page's width.)
n_colours_original = len(np.unique(pixels, axis=0))
axes[0].set_title(f"Original\n{n_colours_original} colours", fontsize=17)
for axis, (name, restored) in zip(axes[1:], images.items(), strict=True):
    axis.imshow(np.clip(restored, 0, 255).astype(np.uint8))
    axis.set_title(f"{name}\nMSE {results[name]['MSE']:.1f}", fontsize=17)
for axis in axes:
    axis.axis("off")

# %%
# At this size the palettes look alike. Zoomed in on the top of the roof and
# the sky, each pixel drawn as a block, they do not: the uniform grid has so
# few cells among the blues of the sky that its gradient falls into two flat
# bands, and the random palette, with no colour near the orange of the left
# slope, paints it olive.
rows, columns = slice(25, 115), slice(170, 305)
fig, axes = plt.subplots(nrows=3, ncols=2, figsize=(11, 11))
for axis, (name, restored) in zip(
    axes.ravel(), [("Original", china), *images.items()], strict=True
):
    crop = np.clip(restored[rows, columns], 0, 255).astype(np.uint8)
    axis.imshow(crop, interpolation="nearest")
    axis.set_title(name, fontsize=15)
    axis.axis("off")
fig.tight_layout()

# %%
# Error and time
# --------------
#
# Fit times are measured on the machine that built this page, and vary from run
# to run.
table = pd.DataFrame.from_dict(results, orient="index")
table["MSE / skvq kmeans"] = table["MSE"] / table.loc["skvq kmeans", "MSE"]
table.round(3)

# %%
# skvq's k-means sees every pixel, through the statistics of the distinct
# colours, where scikit-learn's example fits on a sample; the last column
# gives each method's error relative to it. The uniform grid ignores where the
# colours are: it spends its cells evenly over their bounding box, most of
# which the photo never uses.
