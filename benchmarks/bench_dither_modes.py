"""Dithering modes: skvq's adaptive and uniform error diffusion against
Pillow and pngquant, by SSIMULACRA2, FLIP and MSE.

Every colour photo of the benchmarks (china, flower, the colour raccoon) at
16, 64 and 256 colours. skvq's palette is its k-means codebook rounded to
integers (fitted once); skvq's modes and Pillow's Floyd–Steinberg use that
same palette, so that only the dithering differs; pngquant runs with its
defaults (its own palette and its selective dithering) at the same number of
colours, as a user would run it:

- ``transform``: no dithering;
- ``uniform 0.8``: ``dither(strength=0.8, adaptive=False)``, the former
  default;
- ``adaptive``: ``dither()``, the defaults (strength 1, adaptive);
- ``adaptive, texture t``: the adaptive mode with the strength at edges and
  in texture set to ``t`` (``skvq._dither.TEXTURE_STRENGTH``), the
  measurements from which the default was chosen;
- Pillow's ``quantize(palette=..., dither=FLOYDSTEINBERG)`` and ``pngquant``.

SSIMULACRA2 (PyPI ``ssimulacra2``, higher is better, 100 is identical) and
FLIP (PyPI ``flip-evaluator``, lower is better) are independent perceptual
metrics; MSE is over all pixels and channels. Each photo is reported on its
own, not averaged. A flat-area check prints the mean of a flat colour
between the levels of a two-level palette at the defaults.

Run: ``python benchmarks/bench_dither_modes.py [--smoke]`` (needs the
``benchmark`` extra).
"""

import argparse
import os
import shutil
import subprocess
import tempfile

import images
import numpy as np
import skvq._dither
from PIL import Image
from tables import Table

from skvq import Codebook, ImageVectorQuantizer, dither, encode

COLOURS = (16, 64, 256)
TEXTURE_STRENGTHS = (0.6, 1.0)  # beside the default
SEED = 0


def ssimulacra2_score(reference, distorted, directory):
    from ssimulacra2 import compute_ssimulacra2

    paths = [os.path.join(directory, name) for name in ("ref.png", "dist.png")]
    Image.fromarray(reference).save(paths[0])
    Image.fromarray(distorted).save(paths[1])
    return float(compute_ssimulacra2(*paths))


def flip_score(reference, distorted):
    import flip_evaluator

    result = flip_evaluator.evaluate(
        reference.astype(np.float32) / 255, distorted.astype(np.float32) / 255, "LDR"
    )
    return float(result[1])


def pngquant_output(image, n_colours, directory):
    source = os.path.join(directory, "in.png")
    target = os.path.join(directory, "pngquant.png")
    Image.fromarray(image).save(source)
    subprocess.run(
        ["pngquant", str(n_colours), "--force", "--output", target, source],
        check=True,
    )
    return np.asarray(Image.open(target).convert("RGB"))


def outputs(image, n_colours, directory):
    """(label, output image) of every method at ``n_colours``."""
    rows = image.reshape(image.shape[0], -1)
    quantizer = ImageVectorQuantizer(n_bins=n_colours, n_channels=3, random_state=SEED)
    colours = np.clip(np.rint(quantizer.fit(rows).codebook_), 0, 255)
    codebook = Codebook.from_codewords(colours)
    palette = colours.astype(np.uint8)

    def shown(codes):
        return palette[codes].reshape(image.shape)

    yield "skvq transform", shown(encode(rows, codebook))
    yield (
        "skvq uniform 0.8",
        shown(dither(rows, codebook, strength=0.8, adaptive=False)),
    )
    yield "skvq adaptive (defaults)", shown(dither(rows, codebook))
    default = skvq._dither.TEXTURE_STRENGTH
    for texture in TEXTURE_STRENGTHS:
        skvq._dither.TEXTURE_STRENGTH = texture
        try:
            codes = dither(rows, codebook)
        finally:
            skvq._dither.TEXTURE_STRENGTH = default
        yield f"skvq adaptive, texture {texture:g}", shown(codes)
    pillow_palette = Image.new("P", (1, 1))
    pillow_palette.putpalette(palette.ravel().tolist())
    indices = Image.fromarray(image).quantize(
        palette=pillow_palette, dither=Image.Dither.FLOYDSTEINBERG
    )
    yield "Pillow Floyd-Steinberg", palette[np.asarray(indices)]
    if shutil.which("pngquant"):
        yield "pngquant (defaults)", pngquant_output(image, n_colours, directory)


def flat_area_means():
    """Means of flat colours coded with the corners of the RGB cube."""
    corners = np.array(np.meshgrid(*[[0.0, 255.0]] * 3)).reshape(3, -1).T
    codebook = Codebook.from_codewords(corners)
    for colour in ((100, 150, 30), (1, 128, 254)):
        flat = np.tile(np.array(colour, dtype=np.uint8), (256, 256))
        means = codebook.codewords[dither(flat, codebook)].mean(axis=(0, 1))
        yield colour, means


def run(smoke=False):
    table = Table(
        "Dithering modes by SSIMULACRA2, FLIP and MSE",
        ["image", "colours", "method", "SSIMULACRA2", "FLIP", "MSE"],
        note=(
            "skvq's modes and Pillow use skvq's k-means palette rounded to "
            "integers; pngquant its own, with its defaults. SSIMULACRA2: "
            "higher is better; FLIP and MSE: lower is better."
        ),
    )
    directory = tempfile.mkdtemp()
    try:
        for name, image in images.color_images(smoke).items():
            for n_colours in (16,) if smoke else COLOURS:
                for label, result in outputs(image, n_colours, directory):
                    error = np.mean((image.astype(np.float64) - result) ** 2)
                    table.add(
                        name,
                        n_colours,
                        label,
                        f"{ssimulacra2_score(image, result, directory):.2f}",
                        f"{flip_score(image, result):.4f}",
                        f"{error:.1f}",
                    )
    finally:
        shutil.rmtree(directory)
    flat = Table(
        "Mean of a flat area at dither's defaults, palette of the RGB cube's corners",
        ["colour", "mean of the output"],
    )
    for colour, means in flat_area_means():
        flat.add(str(colour), ", ".join(f"{m:.2f}" for m in means))
    return [table, flat]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny images")
    args = parser.parse_args()
    for table in run(args.smoke):
        print(table.to_markdown())


if __name__ == "__main__":
    main()
