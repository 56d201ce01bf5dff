"""Threads: skvq on 2 threads against ``threadpool_limits(1)``, per call and
per kernel.

skvq's kernels share their work among OpenMP threads (as many as
``skvq._openmp_helpers.effective_n_threads()`` allows; see
doc/install.rst). This benchmark times the same call with the limit at one
thread and at two, alternating the two so that both see the same load, and
reports the median of each and their ratio:

- ``transform`` of a 12.6-megapixel gray image (the raccoon enlarged 4x per
  axis) as float32 at 8 bins, and as uint8 at 8 bins (an edge count, or the
  table lookup where it runs on vector instructions) and 64 bins (table
  lookup); the uint8 table lookup is also compared with
  ``np.copyto`` of the same number of bytes on 2 threads' worth of machine
  (NumPy copies on one thread, which is enough to fill the memory bus);
- ``fit`` and ``transform`` of a 12.6-megapixel RGB photo (the raccoon in
  colour, enlarged 4x per axis) at 64 colours;
- each kernel alone, on the same images, with ``n_threads`` 1 and 2.

The limit is set before the clock starts: threadpoolctl takes about a
millisecond to enter and leave it, longer than the whole table lookup.

Run: ``python benchmarks/bench_threads.py [--smoke] [--repeat N]``.
"""

import argparse
import contextlib
import statistics
import time

import images
import numpy as np
import scipy.ndimage
from skvq._binning import count_edges_at_or_below, lookup_codes, search_edges
from skvq._histogram import add_value_counts
from skvq._lloyd import smoothed_lloyd
from skvq._nearest_codeword import nearest_by_cells, nearest_by_projection
from skvq._openmp_helpers import effective_n_threads, openmp_enabled
from tables import Table, Target, ratio, seconds
from threadpoolctl import threadpool_limits

from skvq import ImageVectorQuantizer
from skvq._colour_kernels import count_colours, mark_colours

SPEEDUP_TARGET = 1.7
COPY_TARGET = 1.3


def colour_image(factor):
    """The raccoon in colour enlarged ``factor`` times per axis (bilinear)."""
    return scipy.ndimage.zoom(
        images.raccoon_color(), (factor, factor, 1), order=1, output=np.uint8
    )


def medians(calls, repeat):
    """Median wall time of each of ``calls`` (name -> (n_threads, function)),
    run in turn ``repeat`` times so that they share the machine's load alike.

    Each call runs under ``threadpool_limits(n_threads)`` (none for
    ``None``), set before the clock starts: entering and leaving the limit
    takes about a millisecond (threadpoolctl lists the loaded libraries),
    as long as a whole table lookup of the 12.6-megapixel image, and is no
    part of the call.
    """
    times = {name: [] for name in calls}
    for _ in range(repeat):
        for name, (n_threads, call) in calls.items():
            with limited(n_threads):
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def limited(n_threads):
    """``threadpool_limits(n_threads)``, or no limit for ``None``."""
    if n_threads is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n_threads)


def call_cases(smoke):
    factor = 1 if smoke else 4
    gray = images.raccoon_gray_upsampled(factor)
    colour = colour_image(factor)
    gray32 = gray.astype(np.float32)
    q8 = ImageVectorQuantizer(8).fit(gray)
    q64 = ImageVectorQuantizer(64).fit(gray)
    colour_rows = colour.reshape(colour.shape[0], -1)
    qc = ImageVectorQuantizer(64, n_channels=3, random_state=0).fit(colour_rows)
    return gray, {
        "transform, gray float32, 8 bins": lambda: q8.transform(gray32),
        "transform, gray uint8, 8 bins": lambda: q8.transform(gray),
        "transform, gray uint8, 64 bins (table lookup)": lambda: q64.transform(gray),
        "fit, RGB uint8, 64 colours": lambda: ImageVectorQuantizer(
            64, n_channels=3, random_state=0
        ).fit(colour_rows),
        "transform, RGB uint8, 64 colours": lambda: qc.transform(colour_rows),
    }


def kernel_cases(smoke):
    """name -> function of n_threads, each a kernel on its own arrays."""
    factor = 1 if smoke else 4
    gray = images.raccoon_gray_upsampled(factor).reshape(-1)
    colour = colour_image(factor).reshape(-1, 3)
    gray32 = gray.astype(np.float32)
    codes = np.empty(gray.size, np.uint8)
    table = np.arange(256, dtype=np.uint8) // 4
    edges8 = np.linspace(16, 240, 7).astype(np.float32)
    edges64 = np.linspace(2, 254, 63).astype(np.float32)
    gray16 = (gray.astype(np.uint16) << 8) | gray[::-1]
    rng = np.random.default_rng(0)
    codebook = rng.random((64, 3))
    direction = np.ones(3) / np.sqrt(3)
    projection = codebook @ direction
    order = np.argsort(projection, kind="stable")
    sorted_codebook = np.ascontiguousarray(codebook[order])
    sorted_projection = np.ascontiguousarray(projection[order])
    colour_codes = np.empty(colour.shape[0], np.uint8)
    colour_float = colour[: colour.shape[0] // 8].astype(np.float64)
    bits = np.array([3, 5], dtype=np.intc)
    present = np.empty(1 << 18, np.uint64)
    bounds = np.empty(3, np.uint8), np.empty(3, np.uint8)
    n_colours = mark_colours(colour, None, present, *bounds)
    keys = np.empty(n_colours, np.uint32)
    counts = np.empty(n_colours)
    rank = np.empty(present.shape[0], np.uint32)
    atoms = rng.random((60_000, 3))
    weight = rng.random(60_000) + 0.5
    spread = np.full(60_000, 0.003)
    init = atoms[:64].copy()

    def lloyd(n):
        smoothed_lloyd(
            atoms, weight, atoms * weight[:, None], spread, init.copy(),
            np.zeros(60_000, np.intp), 10, 0.0, 1.0, 4, n,
        )  # fmt: skip

    def projection_search(n):
        nearest_by_projection(
            colour_float, sorted_codebook, order, sorted_projection,
            direction, 1 / 256, colour_codes[: colour_float.shape[0]], n,
        )  # fmt: skip

    return {
        "_binning.lookup_codes (uint8)": lambda n: lookup_codes(gray, table, codes, n),
        "_binning.count_edges_at_or_below (float32, 7 edges)": (
            lambda n: count_edges_at_or_below(gray32, edges8, codes, n)
        ),
        "_binning.search_edges (float32, 63 edges)": (
            lambda n: search_edges(gray32, edges64, codes, n)
        ),
        "_histogram.add_value_counts (uint16)": (
            lambda n: add_value_counts(gray16, 0, np.zeros(1 << 16, np.int64), n)
        ),
        "_colour_histogram.mark_colours (RGB)": (
            lambda n: mark_colours(colour, None, present, *bounds, n)
        ),
        "_colour_histogram.count_colours (RGB)": (
            lambda n: count_colours(colour, None, present, rank, keys, counts, n)
        ),
        "_nearest_codeword.nearest_by_cells (RGB, 64)": (
            lambda n: nearest_by_cells(colour, codebook, 1 / 256, bits, colour_codes, n)
        ),
        "_nearest_codeword.nearest_by_projection (float64 RGB / 8, 64)": (
            lambda n: nearest_by_projection(
                colour_float,
                sorted_codebook,
                order,
                sorted_projection,
                direction,
                1 / 256,
                colour_codes[: colour_float.shape[0]],
                n,
            )
        ),
        "_lloyd.smoothed_lloyd (60,000 atoms, 64 centres, 10 iterations)": lloyd,
    }


def run(smoke=False, repeat=None):
    """Measure; return (tables, targets)."""
    repeat = repeat or (1 if smoke else 11)
    gray, cases = call_cases(smoke)
    calls = {}
    for name, call in cases.items():
        calls[(name, 1)] = (1, call)
        calls[(name, 2)] = (2, call)
    copy_target = np.empty_like(gray)
    calls[("np.copyto", 1)] = (None, lambda: np.copyto(copy_target, gray))
    timed = medians(calls, repeat)
    with threadpool_limits(limits=2):
        n_threads = effective_n_threads()
    note = (
        f"Median of {repeat} alternating runs. OpenMP "
        f"{'on' if openmp_enabled() else 'off (one thread)'}; "
        f"threadpool_limits(2) gives {n_threads} thread(s) here. The image is "
        f"{gray.shape[0]} x {gray.shape[1]} ({gray.size / 1e6:.1f} MP)."
    )
    calls_table = Table(
        "2 threads against threadpool_limits(1)",
        ["call", "1 thread", "2 threads", "speed-up"],
        note=note,
    )
    targets = []
    for name in cases:
        one, two = timed[(name, 1)], timed[(name, 2)]
        calls_table.add(name, seconds(one), seconds(two), ratio(one, two))
        if "float32" in name or "RGB" in name:
            targets.append(
                Target(
                    f"2 threads: {name}",
                    f">= {SPEEDUP_TARGET}x threadpool_limits(1)",
                    f"{one / two:.2f}x",
                    one / two >= SPEEDUP_TARGET,
                )
            )
    copy = timed[("np.copyto", 1)]
    lookup = timed[("transform, gray uint8, 64 bins (table lookup)", 2)]
    calls_table.add("np.copyto of the same bytes", seconds(copy), "", "")
    targets.append(
        Target(
            "uint8 table lookup against np.copyto",
            f"<= {COPY_TARGET}x the copy ({seconds(copy)})",
            f"{lookup / copy:.2f}x ({seconds(lookup)}, 2 threads)",
            lookup / copy <= COPY_TARGET,
        )
    )

    kernels = kernel_cases(smoke)
    calls = {}
    for name, kernel in kernels.items():
        calls[(name, 1)] = (None, lambda kernel=kernel: kernel(1))
        calls[(name, 2)] = (None, lambda kernel=kernel: kernel(2))
    timed = medians(calls, repeat)
    kernels_table = Table(
        "Each kernel on 1 and 2 threads (n_threads)",
        ["kernel", "1 thread", "2 threads", "speed-up"],
        note=f"Median of {repeat} alternating runs, on the images above.",
    )
    for name in kernels:
        one, two = timed[(name, 1)], timed[(name, 2)]
        kernels_table.add(name, seconds(one), seconds(two), ratio(one, two))
    return [calls_table, kernels_table], targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small images, 1 run")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    tables, targets = run(args.smoke, args.repeat)
    for table in tables:
        print(table.to_markdown())
    for target in targets:
        print(f"- {target.name}: {target.measured} (goal {target.goal})")


if __name__ == "__main__":
    main()
