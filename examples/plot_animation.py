"""
=====================================
Animations: one palette, no shimmer
=====================================

A GIF holds at most 256 colours per frame. Quantizing every frame on its own
gives each frame its own palette, and error diffusion (Floyd–Steinberg)
gives each pixel a code that depends on the errors of all pixels before it:
either way, areas that do not move change colour from frame to frame, the
"shimmer" of animated GIFs, and every changed pixel costs bytes.

skvq learns **one palette for all frames** exactly: the statistics of the
frames add up (:func:`skvq.learn_codebook_from_frames` streams them through
:func:`skvq.summarize` and :func:`skvq.merge_summaries`), so the palette is
the one learned from all frames at once. With **ordered dithering** (a
blue-noise mask, ``method="blue-noise"``), a pixel's code depends on its
value and position only, so a pixel that does not change keeps its code.

This example makes a short animation from the raccoon face, a still picture
with an inset zooming into the nose, and quantizes it four ways: one palette
or a palette per frame, error diffusion or blue-noise dithering.
"""

# %%
# The animation
# -------------
#
# Sixteen frames of 256 x 192 pixels: the face, shrunk, with a 96 x 96 inset
# that zooms in. Everything outside the inset stays still.
import importlib.util
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image
from scipy import datasets

from skvq import (
    dither,
    dither_frames,
    learn_codebook,
    learn_codebook_from_frames,
    read_animation,
    write_animation,
)

face = datasets.face()
n_frames, height, width = 16, 192, 256
background = np.asarray(Image.fromarray(face).resize((width, height)))
frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
for k in range(n_frames):
    half = 150 - 7 * k  # half the side of the window, shrinking: a zoom
    window = face[380 - half : 380 + half, 660 - half : 660 + half]
    frames[k] = background
    frames[k, 40:136, 120:216] = np.asarray(
        Image.fromarray(window).resize((96, 96), Image.Resampling.LANCZOS)
    )
still = np.all(frames[1:] == frames[:-1], axis=3)  # pixels that do not change
print(f"{still[0].mean():.0%} of the pixels never change")

# %%
# Four GIFs
# ---------
#
# 32 colours, so that the differences show. The codes of every frame come
# from :func:`skvq.dither_frames`; one palette is written once as the GIF's
# global colour table, per-frame palettes as local tables.
n_colours = 32
folder = pathlib.Path(tempfile.mkdtemp())
methods = {
    "error diffusion": ("floyd-steinberg", 0.8),
    "blue noise": ("blue-noise", 1.0),
}
shared = learn_codebook_from_frames(frames, n_bins=n_colours, random_state=0)
per_frame = [
    learn_codebook(frame, n_bins=n_colours, n_channels=3, random_state=0)
    for frame in frames
]


def quantize(one_palette, method, strength):
    """GIF bytes and the frames as Pillow shows them."""
    if one_palette:
        codes = dither_frames(frames, shared, method=method, strength=strength)
        palette = shared.codewords
    else:
        codes = [
            dither(frame, codebook, method=method, strength=strength)
            for frame, codebook in zip(frames, per_frame, strict=True)
        ]
        palette = [codebook.codewords for codebook in per_frame]
    path = folder / f"{one_palette}-{method}.gif"
    write_animation(path, codes, palette, durations=80)
    shown, _ = read_animation(path)
    return path.stat().st_size, shown


results = {}
for one_palette in (True, False):
    for label, (method, strength) in methods.items():
        name = (
            f"{'one palette' if one_palette else 'palette per frame'}, {label}"
        )
        results[name] = quantize(one_palette, method, strength)

# %%
# Bytes, flicker and quality
# --------------------------
#
# *Flicker* counts the pixels, over all pairs of consecutive frames, that do
# not change in the animation but change colour in the GIF. SSIMULACRA2
# (higher is better; PyPI ``ssimulacra2``) is the mean over every fourth
# frame, when that package is installed.
has_ssimulacra2 = importlib.util.find_spec("ssimulacra2") is not None


def ssimulacra2(shown):
    from ssimulacra2 import compute_ssimulacra2

    scores = []
    for k in range(0, n_frames, 4):
        Image.fromarray(frames[k]).save(folder / "a.png")
        Image.fromarray(shown[k]).save(folder / "b.png")
        scores.append(compute_ssimulacra2(folder / "a.png", folder / "b.png"))
    return np.mean(scores)


rows = []
for name, (size, shown) in results.items():
    changed = np.any(shown[1:] != shown[:-1], axis=3)
    row = {
        "GIF": name,
        "kB": size / 1000,
        "flicker (pixels)": (still & changed).sum(),
    }
    if has_ssimulacra2:
        row["SSIMULACRA2"] = ssimulacra2(shown)
    rows.append(row)
table = pd.DataFrame(rows).set_index("GIF")
print(table.round(1).to_string())

# %%
# One palette with blue-noise dithering is the only GIF whose still pixels
# never change: its flicker is 0, and Pillow stores each frame after the
# first as the small rectangle that changed, so the file is the smallest.
# Error diffusion shimmers even with one palette (errors travel from the
# moving inset into the still background); palettes per frame shift every
# colour a little from frame to frame.
#
# Frames side by side
# -------------------
#
# Frame 8 of each GIF (a crop around the inset) and, in white, the still
# pixels whose colour changes between frames 8 and 9 (the moving inset in
# gray).
fig, axes = plt.subplots(
    len(results), 2, figsize=(9, 3.3 * len(results)), layout="constrained"
)
crop = (slice(20, 160), slice(60, 250))
for row, (name, (size, shown)) in zip(axes, results.items(), strict=True):
    row[0].imshow(shown[8][crop], interpolation="nearest")
    flicker = still[8] & np.any(shown[9] != shown[8], axis=2)
    # 0: still and unchanged (black), 0.5: the moving inset (gray), 1: flicker.
    pixels = np.where(still[8], flicker.astype(float), 0.5)
    row[1].imshow(
        pixels[crop], cmap="gray", vmin=0, vmax=1, interpolation="nearest"
    )
    row[0].set_title(f"{name}\n{size / 1000:.0f} kB", fontsize=16)
    row[1].set_title(f"flicker 8 → 9\n{flicker.sum():,} pixels", fontsize=16)
    for axis in row:
        axis.set_axis_off()
plt.show()

# %%
# In code
# -------
#
# The same for a file of any length, with at most two frames in memory
# while the palette is learned::
#
#     from skvq import iter_frames, read_animation_info
#
#     info = read_animation_info("in.gif")
#     codebook = learn_codebook_from_frames(
#         iter_frames("in.gif", info), n_bins=255
#     )
#     codes = dither_frames(iter_frames("in.gif", info), codebook)
#     write_animation("out.gif", codes, codebook.codewords,
#                     durations=info.durations, loop=info.loop)
