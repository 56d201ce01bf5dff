"""Where skvq spends its time on the cases of issue 4's targets.

Runs each case under ``cProfile`` a few times and prints the functions with
the most time of their own (``tottime``), so that a slow row of
``run_all.py`` can be traced to the code responsible.

Run: ``python benchmarks/profile_hotspots.py [--top N] [case ...]``, with
cases among ``gray``, ``gray16``, ``transform``, ``color`` (default: all).
"""

import argparse
import cProfile
import io
import os
import pstats

import images

from skvq import ImageVectorQuantizer


def gray():
    image = images.raccoon_gray()
    ImageVectorQuantizer(n_bins=8).fit(image).transform(image)


def gray16():
    image = images.raccoon_gray_16bit()
    ImageVectorQuantizer(n_bins=8).fit(image).transform(image)


def transform():
    image = images.raccoon_gray_upsampled(4)
    quantizer = _fitted_on_12mp()
    # cProfile sees only the calling thread: pinned to one core, skvq does
    # the work there instead of in a thread pool.
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        for dtype in ("uint8", "float32"):
            quantizer.transform(image.astype(dtype, copy=False))
    finally:
        os.sched_setaffinity(0, cores)


_cache = {}


def _fitted_on_12mp():
    if "quantizer" not in _cache:
        image = images.raccoon_gray_upsampled(4)
        _cache["quantizer"] = ImageVectorQuantizer(n_bins=8).fit(image)
    return _cache["quantizer"]


def color():
    image = images.sample_image("china.jpg")
    pixels = image.reshape(image.shape[0], -1)
    quantizer = ImageVectorQuantizer(n_bins=64, n_channels=3, random_state=0)
    quantizer.fit(pixels).transform(pixels)


CASES = {
    "gray": (gray, 20, "raccoon gray, 8 bins, fit + transform"),
    "gray16": (gray16, 3, "16-bit raccoon, 8 bins, fit + transform"),
    "transform": (transform, 3, "12.6 MP transform, uint8 and float32, 1 core"),
    "color": (color, 1, "china.jpg, 64 colours, fit + transform"),
}


def profile(case, top):
    function, repeat, title = CASES[case]
    function()  # warm up: imports, caches, thread pools
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        function()
    profiler.disable()
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report)
    stats.sort_stats("tottime").print_stats(top)
    print(f"## {case}: {title} ({repeat} runs)")
    print(report.getvalue().split("\n\n", 1)[-1].strip(), "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", choices=[*CASES, []], default=[])
    parser.add_argument("--top", type=int, default=12, help="functions shown")
    args = parser.parse_args()
    for case in args.cases or CASES:
        profile(case, args.top)


if __name__ == "__main__":
    main()
