"""Dithering: ``ImageVectorQuantizer.dither`` against Pillow's Floyd–Steinberg.

Every colour photo of the benchmarks (china, flower, the colour raccoon) at
16 and 64 colours, and the gray raccoon at 4 and 8 levels. The palette is
skvq's (``strategy="kmeans"``, fitted once, not timed), rounded to integers,
and both methods use that same palette:

- skvq: ``dither(X, strength=...)`` from the image array to codes, decoded
  with ``inverse_dtype=np.uint8`` (the rounded palette);
- Pillow: ``Image.fromarray(image).quantize(palette=...,
  dither=Image.Dither.FLOYDSTEINBERG)`` to an index array, timed from the
  same array (gray images are converted to RGB first, since Pillow only
  dithers RGB images to a palette).

Each output is compared with the image by its MSE (all pixels and channels)
and its *blurred error*, the MSE after a Gaussian blur of sigma = 1 pixel of
both images (``scipy.ndimage.gaussian_filter``, channel by channel), a
common proxy for how a picture looks at viewing distance, where dithering
pays; and by two metrics skvq did not write, SSIMULACRA2 (higher is better)
and ꟻLIP (lower is better), see ``perceptual_metrics.py``. Colour cases also
show ``dither`` of a quantizer fitted with ``color_space="oklab"`` (its own
palette, learned in Oklab; errors diffused in Oklab). Targets at the
default strength: blurred error at most 0.85 times Pillow's, MSE no higher,
time no longer.

A second table sweeps the strength over the same eight cases: the geometric
mean and the worst case of the ratios to Pillow, the measurements from
which ``dither``'s default strength was chosen.

A timing table (issue 16's target: colour dither at most
``TIME_TARGET`` times Pillow's time) measures, side by side in one run, a
512 x 512 centre crop of the colour raccoon at 16 and 256 colours: skvq's
``dither`` (the core function, default settings and ``adaptive=False``)
against Pillow's Floyd–Steinberg with the same palette, each from the image
array to one palette index per pixel, best of several runs, alternating the
two so that both see the same load.

Run: ``python benchmarks/bench_dither.py [--smoke]``.
"""

import argparse
import functools
import inspect

import images
import numpy as np
import perceptual_metrics
from measure import best_time, mse
from PIL import Image
from scipy.ndimage import gaussian_filter
from tables import Table, Target, number, ratio, seconds

from skvq import Codebook, ImageVectorQuantizer, dither

COLOUR_LEVELS = (16, 64)
GRAY_LEVELS = (4, 8)
BLURRED_TARGET = 0.85  # skvq's blurred error at most this times Pillow's
SHOWN_STRENGTHS = (0.5, 1.0)  # beside the default, in the main table
SWEPT_STRENGTHS = np.round(np.arange(0.0, 1.0001, 0.05), 2)
SEED = 0
TIME_TARGET = 1.5  # colour dither at most this times Pillow's time
TIMED_COLOURS = (16, 256)
TIMED_SIZE = 512


def cases(smoke):
    """(image name, levels, image, n_channels) of every comparison."""
    for name, image in images.color_images(smoke).items():
        for levels in COLOUR_LEVELS:
            yield name, levels, image, 3
    gray = images.gray_images(smoke)["raccoon"]
    for levels in GRAY_LEVELS:
        yield "raccoon (gray)", levels, gray, 1


def blurred_error(image, result):
    """MSE after a Gaussian blur of sigma = 1 pixel of both images."""
    sigma = (1.0, 1.0, 0.0) if image.ndim == 3 else 1.0

    def blur(values):
        return gaussian_filter(np.asarray(values, dtype=np.float64), sigma)

    return mse(blur(image), blur(result))


def default_strength():
    return inspect.signature(ImageVectorQuantizer.dither).parameters["strength"].default


class Case:
    """One image at one number of levels: skvq's fitted quantizer and the
    same palette as a Pillow image."""

    def __init__(self, image, levels, n_channels, color_space="rgb"):
        self.image = image
        self.rows = image.reshape(image.shape[0], -1)
        self.quantizer = ImageVectorQuantizer(
            n_bins=levels,
            n_channels=n_channels,
            inverse_dtype=np.uint8,
            random_state=SEED,
            color_space=color_space,
        ).fit(self.rows)
        colours = np.clip(np.rint(self.quantizer.codebook_), 0, 255).astype(np.uint8)
        if n_channels == 1:
            colours = np.repeat(colours, 3, axis=1)
        self.colours = colours
        self.palette = Image.new("P", (1, 1))
        self.palette.putpalette(colours.ravel().tolist())

    def decode(self, codes):
        return self.quantizer.inverse_transform(codes).reshape(self.image.shape)

    def scores(self, result, perceptual):
        """MSE, blurred error, and with ``perceptual`` SSIMULACRA2 and ꟻLIP
        (else None) of ``result``."""
        return (
            mse(self.image, result),
            blurred_error(self.image, result),
            perceptual_metrics.ssimulacra2(self.image, result) if perceptual else None,
            perceptual_metrics.flip(self.image, result) if perceptual else None,
        )

    def skvq(self, strength, repeat, perceptual=True):
        """(seconds, MSE, blurred error, SSIMULACRA2, ꟻLIP) of ``dither`` at
        ``strength``."""
        elapsed, codes = best_time(
            lambda: self.quantizer.dither(self.rows, strength=strength), repeat
        )
        return elapsed, *self.scores(self.decode(codes), perceptual)

    def transform(self, repeat):
        elapsed, codes = best_time(lambda: self.quantizer.transform(self.rows), repeat)
        return elapsed, *self.scores(self.decode(codes), True)

    def pillow(self, repeat):
        """(seconds, MSE, blurred error, SSIMULACRA2, ꟻLIP) of Pillow's
        Floyd–Steinberg."""
        gray = self.image.ndim == 2

        def quantize():
            picture = Image.fromarray(self.image)
            if gray:
                picture = picture.convert("RGB")
            paletted = picture.quantize(
                palette=self.palette, dither=Image.Dither.FLOYDSTEINBERG
            )
            return np.asarray(paletted)

        elapsed, indices = best_time(quantize, repeat)
        result = self.colours[indices]
        if gray:
            result = result[..., 0]
        return elapsed, *self.scores(result, True)


def _centre_crop(image, size):
    top = max(0, (image.shape[0] - size) // 2)
    left = max(0, (image.shape[1] - size) // 2)
    return np.ascontiguousarray(image[top : top + size, left : left + size])


def _pillow_dither(image, palette):
    paletted = Image.fromarray(image).quantize(
        palette=palette, dither=Image.Dither.FLOYDSTEINBERG
    )
    return np.asarray(paletted)


def timing(smoke=False):
    """The colour dither's time against Pillow's; return (table, targets)."""
    size = 64 if smoke else TIMED_SIZE
    repeat = 1 if smoke else 15
    image = _centre_crop(images.raccoon_color(), size)
    rows = image.reshape(image.shape[0], -1)
    table = Table(
        f"Colour dither time against Pillow's Floyd-Steinberg, {size} x {size} "
        "photo (the colour raccoon's centre), same palette",
        ["colours", "method", "time", "speed-up over Pillow"],
        note=(
            "Palette: skvq's k-means codebook rounded to integers, used by "
            "both (fitting not timed). Time from the image array to one "
            "palette index per pixel, best of several runs, alternating the "
            "methods. Pillow's codes come from a cache of the nearest palette "
            "entry per cell of 4 x 4 x 4 colours; skvq's are the exact "
            "nearest codeword of every dithered value."
        ),
    )
    targets = []
    for n_colours in (16,) if smoke else TIMED_COLOURS:
        quantizer = ImageVectorQuantizer(
            n_bins=n_colours, n_channels=3, random_state=SEED
        ).fit(rows)
        colours = np.clip(np.rint(quantizer.codebook_), 0, 255)
        codebook = Codebook.from_codewords(colours)
        palette = Image.new("P", (1, 1))
        palette.putpalette(colours.astype(np.uint8).ravel().tolist())

        methods = {
            "Pillow Floyd-Steinberg": functools.partial(_pillow_dither, image, palette),
            "skvq dither (defaults)": functools.partial(dither, rows, codebook),
            "skvq dither (adaptive=False)": functools.partial(
                dither, rows, codebook, adaptive=False
            ),
        }
        best = dict.fromkeys(methods, np.inf)
        for _ in range(repeat):
            for label, method in methods.items():
                best[label] = min(best[label], best_time(method, 1)[0])
        anchor = best["Pillow Floyd-Steinberg"]
        for label, elapsed in best.items():
            table.add(n_colours, label, seconds(elapsed), ratio(anchor, elapsed))
        ours = best["skvq dither (defaults)"]
        targets.append(
            Target(
                f"colour dither time, {n_colours} colours",
                f"<= {TIME_TARGET} x Pillow's",
                f"speed-up {ratio(anchor, ours)}",
                ours <= TIME_TARGET * anchor,
            )
        )
    return table, targets


def run(smoke=False):
    """Measure; return (tables, targets)."""
    repeat = 1 if smoke else 7
    strength = default_strength()
    strengths = sorted({0.0, *SHOWN_STRENGTHS, strength})
    table = Table(
        "Dithering against Pillow's Floyd-Steinberg, same palette",
        [
            "image",
            "levels",
            "method",
            "time",
            "speed-up over Pillow",
            "MSE",
            "MSE / Pillow's",
            "blurred error",
            "blurred / Pillow's",
            "SSIMULACRA2",
            "FLIP",
        ],
        note=(
            "Palette: skvq's k-means codebook rounded to integers, used by "
            "both. Time from the image array to one palette index per pixel "
            "(best of several runs); Pillow's gray rows include the "
            "conversion to RGB it needs. Blurred error: MSE after a Gaussian "
            "blur of sigma = 1 pixel of both images. skvq at strength 0 is "
            f"transform (no dithering); {strength} is dither's default. "
            "SSIMULACRA2: higher is better; FLIP: lower is better. The oklab "
            "rows use their own palette, learned with color_space='oklab'."
        ),
    )
    sweep = Table(
        "Dithering strength, ratios to Pillow's Floyd-Steinberg over the "
        "eight cases above",
        [
            "strength",
            "blurred / Pillow's (geometric mean)",
            "blurred / Pillow's (worst)",
            "MSE / Pillow's (geometric mean)",
            "MSE / Pillow's (worst)",
        ],
        note=(
            "The default strength is the one of lowest geometric-mean "
            "blurred error among those whose MSE is no higher than "
            "Pillow's in every case, nor than pngquant's default output "
            "(bench_pngquant.py)."
        ),
    )
    targets = []
    swept = {s: [] for s in (SWEPT_STRENGTHS if not smoke else (0.0, strength))}
    for name, levels, image, n_channels in cases(smoke):
        case = Case(image, levels, n_channels)
        anchor = case.pillow(repeat)
        rows = [("Pillow Floyd-Steinberg", anchor)]
        for s in strengths:
            label = "skvq transform" if s == 0 else f"skvq dither {s:g}"
            result = case.transform(repeat) if s == 0 else case.skvq(s, repeat)
            rows.append((label, result))
            if s == strength:
                ours = result
        if n_channels == 3:
            oklab = Case(image, levels, n_channels, color_space="oklab")
            rows.append(("skvq oklab transform", oklab.transform(repeat)))
            dithered = oklab.skvq(strength, repeat)
            rows.append((f"skvq oklab dither {strength:g}", dithered))
        for label, (elapsed, error, blurred, ssim, flip) in rows:
            table.add(
                name,
                levels,
                label,
                seconds(elapsed),
                ratio(anchor[0], elapsed),
                number(error),
                f"{error / anchor[1]:.3f}",
                number(blurred),
                f"{blurred / anchor[2]:.3f}",
                "n/a" if ssim is None else f"{ssim:.2f}",
                "n/a" if flip is None else f"{flip:.4f}",
            )
        for s, results in swept.items():
            _, error, blurred, _, _ = case.skvq(s, 1, perceptual=False)
            results.append((blurred / anchor[2], error / anchor[1]))
        targets.append(
            Target(
                f"dither, {name}, {levels} levels",
                f"blurred error <= {BLURRED_TARGET} x Pillow's, MSE and time "
                "<= Pillow's",
                f"blurred {ours[2] / anchor[2]:.3f}x, MSE "
                f"{ours[1] / anchor[1]:.3f}x, speed-up {ratio(anchor[0], ours[0])}",
                ours[2] <= BLURRED_TARGET * anchor[2]
                and ours[1] <= anchor[1]
                and ours[0] <= anchor[0],
            )
        )
    for s, results in swept.items():
        blurred, error = np.array(results).T
        sweep.add(
            f"{s:g}",
            f"{np.exp(np.mean(np.log(blurred))):.3f}",
            f"{blurred.max():.3f}",
            f"{np.exp(np.mean(np.log(error))):.3f}",
            f"{error.max():.3f}",
        )
    time_table, time_targets = timing(smoke)
    return [table, sweep, time_table], targets + time_targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny images, 1 run")
    args = parser.parse_args()
    tables, targets = run(args.smoke)
    for table in tables:
        print(table.to_markdown())
    for target in targets:
        print(f"{target.name}: {target.measured} (met: {target.met})")


if __name__ == "__main__":
    main()
