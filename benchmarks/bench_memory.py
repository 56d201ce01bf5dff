"""Peak extra memory of fit + transform on a 50-megapixel uint8 gray image,
and of each of skvq's fit, transform, dither and score on it and on a
12.6-megapixel RGB image.

Each measurement runs in a fresh child process, which makes the image, warms
the method up on a small crop (imports, compilation, thread pools), and then
measures one call on the whole image in two ways (see
``measure.peak_extra_memory``): memory traced through NumPy's allocator, and
growth of the peak resident set size, which also sees buffers that compiled
code allocates by itself. Both are reported relative to the input's size.
``KBinsDiscretizer`` gets the pixels as one column, as a user would pass them.

Run: ``python benchmarks/bench_memory.py [--smoke]`` (with the skvq to
measure first on the path, e.g. ``PYTHONPATH=.`` from a working copy).
"""

import argparse
import json
import subprocess
import sys
import warnings

import images
import numpy as np
import scipy.ndimage
from measure import peak_extra_memory
from sklearn.preprocessing import KBinsDiscretizer
from tables import Table, Target, megabytes, seconds

N_BINS = 8
MEMORY_TARGET = 1.5  # peak extra memory / input size
SCORE_TARGET = 3.0  # the same for score (issue 18)
OPERATIONS = ["fit", "transform", "dither", "score"]
IMAGES = ["gray", "rgb"]
METHODS = [
    ("skvq", "kmeans"),
    ("skvq", "uniform"),
    ("skvq", "quantile"),
    ("KBinsDiscretizer", "uniform"),
    ("KBinsDiscretizer", "quantile"),
    ("KBinsDiscretizer", "kmeans"),
]


def test_image(smoke):
    # 8x the raccoon per axis: 6144 x 8192 = 50.3 megapixels.
    return images.raccoon_gray_upsampled(1 if smoke else 8)


def rgb_image(smoke):
    """The colour raccoon enlarged 4 times per axis (bilinear): 3072 x 4096
    RGB, 12.6 megapixels, as an (H, W * 3) uint8 array."""
    image = images.raccoon_color()
    if not smoke:
        image = scipy.ndimage.zoom(image, (4, 4, 1), order=1, output=np.uint8)
    return np.ascontiguousarray(image).reshape(image.shape[0], -1)


def operation_image(name, smoke):
    """The image and its number of channels."""
    return (test_image(smoke), 1) if name == "gray" else (rgb_image(smoke), 3)


def fit_transform(method, strategy, image):
    if method == "skvq":
        from skvq import ImageVectorQuantizer

        return ImageVectorQuantizer(n_bins=N_BINS, strategy=strategy).fit_transform(
            image
        )
    pixels = image.reshape(-1, 1)
    estimator = KBinsDiscretizer(
        n_bins=N_BINS, strategy=strategy, subsample=None, encode="ordinal"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return estimator.fit(pixels).transform(pixels)


def child(method, strategy, smoke):
    image = test_image(smoke)
    fit_transform(method, strategy, images.raccoon_gray()[:64, :64].copy())
    traced, resident, elapsed, codes = peak_extra_memory(
        lambda: fit_transform(method, strategy, image)
    )
    print(
        json.dumps(
            {
                "input_bytes": image.nbytes,
                "traced": traced,
                "resident": resident,
                "seconds": elapsed,
                "codes_dtype": str(codes.dtype),
            }
        )
    )


def run_operation(quantizer, operation, image):
    if operation == "fit":
        return quantizer.fit(image)
    if operation == "transform":
        return quantizer.transform(image)
    if operation == "dither":
        return quantizer.dither(image)
    return quantizer.score(image)


def operation_child(operation, name, smoke):
    from skvq import ImageVectorQuantizer

    image, n_channels = operation_image(name, smoke)
    quantizer = ImageVectorQuantizer(N_BINS, n_channels=n_channels, random_state=0)
    crop = image[:64, : 64 * n_channels].copy()
    run_operation(quantizer.fit(crop), operation, crop)
    if operation != "fit":
        quantizer.fit(image)
    traced, resident, elapsed, _ = peak_extra_memory(
        lambda: run_operation(quantizer, operation, image)
    )
    print(
        json.dumps(
            {
                "input_bytes": image.nbytes,
                "shape": list(image.shape),
                "traced": traced,
                "resident": resident,
                "seconds": elapsed,
            }
        )
    )


def measure_in_child(method, strategy, smoke, flag="--child"):
    command = [sys.executable, __file__, flag, method, strategy]
    if smoke:
        command.append("--smoke")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or ["no output"]
        return {"error": lines[-1][:80]}
    return json.loads(completed.stdout)


def run(smoke=False):
    """Measure; return (tables, targets)."""
    image = test_image(smoke)
    table = Table(
        f"Peak extra memory of fit + transform, {image.shape[0]} x "
        f"{image.shape[1]} uint8 gray image ({image.size / 1e6:.1f} megapixels, "
        f"{image.nbytes / 1e6:.1f} MB), {N_BINS} bins",
        [
            "method",
            "strategy",
            "time (traced run)",
            "traced peak",
            "traced / input",
            "RSS peak growth",
            "RSS / input",
            "codes dtype",
        ],
        note=(
            "Extra memory above the input, codes included (uint8 codes alone "
            "are 1x a uint8 input; KBinsDiscretizer's float64 codes are 8x)."
        ),
    )
    targets = []
    failures = []
    for method, strategy in METHODS:
        result = measure_in_child(method, strategy, smoke)
        if "error" in result:
            failures.append(f"{method} {strategy}: {result['error']}")
            table.add(method, strategy, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a")
            continue
        size = result["input_bytes"]
        resident = result["resident"]
        table.add(
            method,
            strategy,
            seconds(result["seconds"]),
            megabytes(result["traced"]),
            f"{result['traced'] / size:.2f}x",
            megabytes(resident),
            "n/a" if resident is None else f"{resident / size:.2f}x",
            result["codes_dtype"],
        )
        if method == "skvq" and strategy == "kmeans":
            worst = max(result["traced"], resident or 0) / size
            targets.append(
                Target(
                    "memory, 50 MP uint8, fit + transform",
                    f"peak extra <= {MEMORY_TARGET}x input",
                    f"{worst:.2f}x (larger of traced and RSS)",
                    worst <= MEMORY_TARGET,
                )
            )
    if failures:
        table.note += " Failures: " + "; ".join(failures)
    operations, score_targets = run_operations(smoke)
    cli = cli_table(smoke, targets)
    return [table, operations, cli], targets + score_targets


def run_operations(smoke):
    """Each operation of skvq alone, on the gray and the RGB image."""
    table = Table(
        f"Peak extra memory of each operation of skvq, {N_BINS} codewords",
        [
            "image",
            "operation",
            "input",
            "time (traced run)",
            "traced peak",
            "traced / input",
            "RSS peak growth",
            "RSS / input",
        ],
        note=(
            "Extra memory above the input and the fitted quantizer, the "
            "result included (uint8 codes are 1x a uint8 gray input, 1/3x "
            "an RGB one). gray: the image above; RGB: the colour raccoon "
            "enlarged 4 times per axis (bilinear)."
        ),
    )
    targets = []
    failures = []
    for name in IMAGES:
        for operation in OPERATIONS:
            result = measure_in_child(operation, name, smoke, flag="--operation")
            if "error" in result:
                failures.append(f"{name} {operation}: {result['error']}")
                table.add(name, operation, *["n/a"] * 6)
                continue
            size = result["input_bytes"]
            resident = result["resident"]
            height, width = result["shape"]
            pixels = (
                f"{height} x {width // 3} x 3"
                if name == "rgb"
                else (f"{height} x {width}")
            )
            table.add(
                name,
                operation,
                f"{pixels} ({megabytes(size)})",
                seconds(result["seconds"]),
                megabytes(result["traced"]),
                f"{result['traced'] / size:.2f}x",
                megabytes(resident),
                "n/a" if resident is None else f"{resident / size:.2f}x",
            )
            if operation == "score":
                worst = max(result["traced"], resident or 0) / size
                targets.append(
                    Target(
                        f"memory, score of the {name} image",
                        f"peak extra <= {SCORE_TARGET}x input",
                        f"{worst:.2f}x (larger of traced and RSS)",
                        worst <= SCORE_TARGET,
                    )
                )
    if failures:
        table.note += " Failures: " + "; ".join(failures)
    return table, targets


ROOT = str(__import__("pathlib").Path(__import__("skvq").__file__).parents[1])
CLI_TARGET = 4.0  # peak extra memory of skvq quantize / decoded image
# Run in a child: the growth of the peak resident set size from just before
# main() (NumPy, Pillow and the command's modules imported) to its end.
CLI_CHILD = """
import json, sys
import skvq._png, skvq.cli._main, skvq.cli._palette, skvq.cli._pipeline
import skvq.cli._read, skvq.cli._report
from measure import peak_extra_resident
from skvq.cli import main
extra, status = peak_extra_resident(lambda: main(sys.argv[1:]))
print(json.dumps({"status": status, "extra": extra}))
"""


def cli_table(smoke, targets):
    """Peak extra memory of ``skvq quantize`` on a 12-megapixel RGBA PNG."""
    import os
    import tempfile

    import numpy as np
    from PIL import Image

    height, width = (300, 400) if smoke else (3000, 4000)
    face = images.sample_image("china.jpg")
    reps = (-(-height // face.shape[0]), -(-width // face.shape[1]), 1)
    rgb = np.tile(face, reps)[:height, :width]
    alpha = np.clip(np.arange(width) * 300 // width - 20, 0, 255).astype(np.uint8)
    rgba = np.dstack([rgb, np.broadcast_to(alpha, (height, width))])
    table = Table(
        f"Peak extra memory of skvq quantize, {width} x {height} RGBA PNG "
        f"({rgba.nbytes / 1e6:.0f} MB decoded), 256 colours",
        ["options", "RSS peak growth", "/ decoded image"],
        note="Growth of the resident set's peak (VmHWM, reset just before "
        "main()) to main()'s end, in a fresh process.",
    )
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "rgba.png")
        Image.fromarray(rgba).save(source, compress_level=1)
        for options in (["-q"], []):
            command = [sys.executable, "-c", CLI_CHILD, "quantize", source]
            command += ["-o", os.path.join(folder, "out"), "--overwrite", "--jobs", "1"]
            # The child imports the skvq this script imports, and measure.
            path = os.pathsep.join([ROOT, os.path.dirname(os.path.abspath(__file__))])
            env = dict(os.environ, PYTHONPATH=path)
            done = subprocess.run(
                command + options, capture_output=True, text=True, env=env
            )
            lines = done.stdout.strip().splitlines()
            child = json.loads(lines[-1]) if done.returncode == 0 and lines else {}
            if child.get("status") != 0:
                raise RuntimeError(f"skvq quantize failed: {done.stderr[-2000:]}")
            extra = child["extra"]
            label = " ".join(options) or "(report)"
            if extra is None:
                table.add(label, "n/a", "n/a")
                continue
            table.add(label, megabytes(extra), f"{extra / rgba.nbytes:.2f}x")
            targets.append(
                Target(
                    f"memory, skvq quantize {label}, 12 MP RGBA PNG",
                    f"peak extra <= {CLI_TARGET}x the decoded image",
                    f"{extra / rgba.nbytes:.2f}x",
                    extra <= CLI_TARGET * rgba.nbytes,
                )
            )
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small image")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "STRATEGY"))
    parser.add_argument("--operation", nargs=2, metavar=("OPERATION", "IMAGE"))
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.smoke)
        return
    if args.operation:
        operation_child(*args.operation, args.smoke)
        return
    tables, _ = run(args.smoke)
    for table in tables:
        print(table.to_markdown())


if __name__ == "__main__":
    main()
