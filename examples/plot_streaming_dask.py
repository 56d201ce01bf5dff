"""
===========================================================
Quantizing an image larger than memory: streaming and Dask
===========================================================

:class:`~skvq.ImageVectorQuantizer` learns its codebook from statistics that
add up (for a gray image, the histogram of its values), so it never needs all
the pixels at once. This page quantizes a 200-megapixel mosaic that is never
held in memory: first by streaming it band by band through
:meth:`~skvq.ImageVectorQuantizer.partial_fit`, then as a Dask array, fitted
block by block and encoded lazily. The memory used stays that of one band or
one block, and both routes give exactly the codebook of a fit on the whole
image.
"""

# %%
# A mosaic made on demand
# -----------------------
#
# The image is a 16 x 16 mosaic of raccoon faces, each with its own
# brightness: 12288 x 16384 pixels. A tile is computed from the raccoon when
# it is asked for, so the mosaic exists only as a function that makes any of
# its tiles.

# sphinx_gallery_thumbnail_number = 2
import numpy as np
from scipy.datasets import face

raccoon = face(gray=True)
tile_rows, tile_columns = raccoon.shape
n_tiles = 16
height, width = n_tiles * tile_rows, n_tiles * tile_columns


def make_tile(i, j):
    """Tile (i, j) of the mosaic: the raccoon with a brightness gain."""
    gain = 0.55 + 0.03 * (i + j)
    levels = np.clip(np.arange(256) * gain, 0, 255).astype(np.uint8)
    return levels[raccoon]


def make_band(i):
    """Row band i of the mosaic: 16 tiles side by side."""
    return np.hstack([make_tile(i, j) for j in range(n_tiles)])


megapixels = height * width / 1e6
print(f"The mosaic has {height} x {width} = {megapixels:.0f} megapixels")
print(f"Held in memory as uint8 it would take {height * width / 1e6:.0f} MB")
print(f"One band takes {make_band(0).nbytes / 1e6:.1f} MB")

# %%
# Streaming the bands through ``partial_fit``
# -------------------------------------------
#
# Each call adds the histogram of one band to the statistics and refreshes the
# codebook. We trace the memory allocated (by Python and NumPy) during each
# call, and keep the peak.
import tracemalloc

from skvq import ImageVectorQuantizer

n_bins = 8
streamed = ImageVectorQuantizer(n_bins=n_bins)
peaks = []
tracemalloc.start()
for i in range(n_tiles):
    tracemalloc.reset_peak()
    band = make_band(i)
    streamed.partial_fit(band)
    del band
    peaks.append(tracemalloc.get_traced_memory()[1])
tracemalloc.stop()

print(f"Peak memory of a streaming step: {max(peaks) / 1e6:.1f} MB")
print(f"Codebook: {np.round(streamed.codebook_.ravel(), 1)}")

# %%
# The memory of a step is about twice that of one band (the band and the
# tiles it is stacked from), however many bands came before: the statistics
# kept between calls are one histogram of 256 values.
import matplotlib.pyplot as plt

megapixels = np.arange(1, n_tiles + 1) * tile_rows * width / 1e6
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.plot(
    megapixels, np.array(peaks) / 1e6, marker="o", label="peak of each step"
)
ax.axhline(
    make_band(0).nbytes / 1e6, color="gray", linestyle="--", label="one band"
)
ax.set_xlabel("Megapixels streamed so far")
ax.set_ylabel("Memory (MB)")
ax.set_ylim(0, None)
ax.set_title(f"Streaming {height * width / 1e6:.0f} megapixels in flat memory")
# Below the band's line, where no point lies.
_ = ax.legend(loc="lower right")

# %%
# The mosaic as a Dask array
# --------------------------
#
# With Dask the mosaic becomes an array of 256 lazy blocks, one per tile, made
# by ``map_blocks`` when a computation needs them. Fitting it summarises each
# block in its own task and merges the summaries in a tree: here on Dask's
# threaded scheduler; with a ``distributed.Client`` the very same call runs on
# a cluster, the blocks staying on the workers.
import dask
import dask.array as da


def tile_block(block_id=None):
    return make_tile(*block_id)


mosaic = da.map_blocks(
    tile_block,
    chunks=((tile_rows,) * n_tiles, (tile_columns,) * n_tiles),
    dtype=np.uint8,
    meta=np.empty((0, 0), dtype=np.uint8),
)


def describe(array):
    """A Dask array's shape, dtype and blocks, in lines that fit the page."""
    return (
        f"Dask array of shape {array.shape}, dtype {array.dtype}\n"
        f"{array.npartitions} blocks of {array.chunksize}, none computed yet"
    )


print(describe(mosaic))

with dask.config.set(scheduler="threads"):
    tracemalloc.start()
    quantizer = ImageVectorQuantizer(n_bins=n_bins).fit(mosaic)
    fit_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

print(f"Peak memory of the Dask fit: {fit_peak / 1e6:.1f} MB")
print(
    "Same codebook as streaming:",
    np.array_equal(quantizer.codebook_, streamed.codebook_),
)

# %%
# For integer images the two routes are not close but equal: statistics of
# integers add up exactly, whatever the order and the split. So they also
# equal a fit on the whole mosaic, which we can afford to check on a quarter
# of it (4 x 16 tiles, 50 MB).
quarter = np.vstack([make_band(i) for i in range(4)])
direct = ImageVectorQuantizer(n_bins=n_bins).fit(quarter)
del quarter
by_blocks = ImageVectorQuantizer(n_bins=n_bins).fit(mosaic[: 4 * tile_rows])
print(
    "Dask fit of the quarter equals the in-memory fit:",
    np.array_equal(direct.codebook_, by_blocks.codebook_)
    and np.array_equal(direct.bin_edges_, by_blocks.bin_edges_),
)

# %%
# Lazy codes
# ----------
#
# ``transform`` of a Dask array returns a Dask array of codes at once, without
# computing anything; so does ``inverse_transform`` of codes. Both work block
# by block, keeping the tiles of the mosaic. Only what is asked for is
# computed: here every 8th pixel of the decoded mosaic, as a preview.
codes = quantizer.transform(mosaic)
print(describe(codes))

preview = quantizer.inverse_transform(codes)[::8, ::8]
with dask.config.set(scheduler="threads"):
    tracemalloc.start()
    preview = preview.compute()
    preview_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
print(f"Preview of {preview.shape[0]} x {preview.shape[1]} pixels computed")
print(f"Peak memory of the preview: {preview_peak / 1e6:.1f} MB")

fig, ax = plt.subplots(figsize=(8, 6))
ax.imshow(preview, cmap=plt.cm.gray, vmin=0, vmax=255)
ax.axis("off")
_ = ax.set_title(
    f"The mosaic with {quantizer.n_bins_} gray levels (every 8th pixel)"
)

# %%
# The codes of the whole mosaic can be reduced where they are made, for
# example to the share of pixels of each gray level, without ever holding
# them all.
shares = [(codes == code).mean() for code in range(quantizer.n_bins_)]
with dask.config.set(scheduler="threads"):
    shares = dask.compute(*shares)
for level, share in zip(quantizer.codebook_.ravel(), shares, strict=True):
    print(f"gray level {level:6.1f}: {share:6.1%} of the pixels")

# %%
# Beyond one machine
# ------------------
#
# Nothing above depends on the threaded scheduler. With a cluster,
# ``client = distributed.Client(...)`` makes it the default scheduler and the
# same ``fit``, ``transform`` and ``compute`` calls run on its workers: only
# the statistics of each block (at most ``max_atoms`` values, 256 here) travel
# to be merged. And since ``partial_fit`` is all a streaming wrapper needs,
# dask-ml's ``Incremental`` works too, though it is not needed: it feeds the
# blocks to ``partial_fit`` one after the other, where ``fit`` on the Dask
# array summarises them in parallel and gives the same codebook.
