"""The colour histogram's two builds: the kernels compiled for every
processor and those compiled with POPCNT give the same results, and the
second is the one used where the processor has POPCNT."""

import importlib
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skvq import _colour_histogram, _colour_kernels


def _popcnt_module():
    if not _colour_histogram.cpu_has_popcnt():
        pytest.skip("this processor has no POPCNT")
    try:
        return importlib.import_module("skvq._colour_histogram_popcnt")
    except ImportError:
        pytest.skip("skvq was built without the POPCNT kernels")


def _all_kernels(module, pixels, weight, cell_exponent):
    """Every kernel's outputs on ``pixels``, as a list of arrays."""
    n_channels = pixels.shape[1]
    present = np.empty(1 << (8 * n_channels - 6), np.uint64)
    low = np.empty(n_channels, np.uint8)
    high = np.empty(n_channels, np.uint8)
    n_colours = module.mark_colours(pixels, weight, present, low, high, 2)
    rank = np.empty(present.shape[0], np.uint32)
    keys = np.empty(n_colours, np.uint32)
    counts = np.empty(n_colours)
    module.count_colours(pixels, weight, present, rank, keys, counts, 2)
    listed_rank = np.empty_like(rank)
    listed = np.empty_like(keys)
    module.list_colours(present, listed_rank, listed)
    rows = np.arange(3 * n_colours, dtype=np.float64).reshape(n_colours, 3)
    taken = np.empty((pixels.shape[0], 3))
    module.take_by_colour(pixels, present, listed_rank, rows, taken, 2)
    n_bits = (8 - cell_exponent) * n_channels
    cells = np.empty(1 << max(n_bits - 6, 0), np.uint64)
    n_cells = module.count_cells(keys, n_channels, cell_exponent, cells)
    cell_keys = np.empty(n_cells, np.uint32)
    total = np.empty(n_cells)
    sums = np.empty((n_cells, n_channels))
    sumsq = np.empty(n_cells)
    module.pool_colours(
        keys, counts, n_channels, cell_exponent, cells, rank[: cells.shape[0]],
        cell_keys, total, sums, sumsq,
    )  # fmt: skip
    return [present, low, high, keys, counts, listed_rank, listed, taken, cells,
            cell_keys, total, sums, sumsq]  # fmt: skip


@pytest.mark.parametrize("n_channels", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cell_exponent", [1, 3, 8])
def test_popcnt_kernels_equal_the_portable_ones(n_channels, weighted, cell_exponent):
    popcnt = _popcnt_module()
    rng = np.random.default_rng(n_channels + 10 * cell_exponent)
    # Many colours (bits set all over the bitmap's words, up to all 64 of a
    # word) and repeated ones, on enough pixels for two threads.
    pixels = rng.integers(0, 256, (400_000, n_channels)).astype(np.uint8)
    pixels[:100_000] = pixels[:100_000] // 32 * 32
    pixels[100_000:100_064, -1] = np.arange(192, 256)
    weight = rng.random(pixels.shape[0]) if weighted else None
    portable = _all_kernels(_colour_histogram, pixels, weight, cell_exponent)
    fast = _all_kernels(popcnt, pixels, weight, cell_exponent)
    for expected, got in zip(portable, fast, strict=True):
        assert expected.tobytes() == got.tobytes()
    keys = portable[3]
    packed = pixels[:, 0].astype(np.uint32)
    for c in range(1, n_channels):
        packed = (packed << 8) | pixels[:, c]
    assert_array_equal(keys, np.unique(packed))


def test_the_popcnt_kernels_are_used_where_the_processor_has_popcnt():
    popcnt = _popcnt_module()
    assert _colour_kernels.count_colours is popcnt.count_colours
    assert _colour_kernels.take_by_colour is popcnt.take_by_colour


def test_the_choice_follows_the_processor_and_the_build():
    # In a fresh interpreter: the POPCNT build is loaded, and used, exactly
    # where the processor has POPCNT and the build made it; elsewhere it is
    # never imported (its code could fault there).
    code = (
        "import importlib.util, sys, skvq._colour_kernels as k;"
        "import skvq._colour_histogram as h;"
        "built = importlib.util.find_spec('skvq._colour_histogram_popcnt');"
        "print(h.cpu_has_popcnt(), built is not None,"
        " 'skvq._colour_histogram_popcnt' in sys.modules, k.kernels.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    has_popcnt, built, loaded = (word == "True" for word in out[:3])
    expected = (
        "skvq._colour_histogram_popcnt"
        if has_popcnt and built
        else "skvq._colour_histogram"
    )
    assert out[3] == expected
    assert loaded == (expected == "skvq._colour_histogram_popcnt")


@pytest.mark.parametrize("n_channels", [2, 3])
def test_bounds_are_those_of_the_pixels_of_positive_weight(n_channels):
    # The bounds are read from the bitmap of colours: per channel, the least
    # and greatest value of the pixels marked, whatever the others hold.
    rng = np.random.default_rng(n_channels)
    modules = [_colour_histogram, _colour_kernels]
    for case in range(300):
        n_pixels = int(rng.integers(1, 40))
        low_end = rng.integers(0, 256, n_channels)
        high_end = np.maximum(low_end, rng.integers(0, 256, n_channels))
        pixels = rng.integers(low_end, high_end + 1, (n_pixels, n_channels))
        pixels = np.ascontiguousarray(pixels.astype(np.uint8))
        weight = None
        if case % 3 == 0:
            weight = rng.integers(0, 2, n_pixels).astype(np.float64)
        kept = pixels if weight is None else pixels[weight > 0]
        for module in modules:
            present = np.empty(1 << (8 * n_channels - 6), np.uint64)
            low = np.empty(n_channels, np.uint8)
            high = np.empty(n_channels, np.uint8)
            n_colours = module.mark_colours(pixels, weight, present, low, high)
            assert n_colours == np.unique(kept, axis=0).shape[0]
            if kept.shape[0]:
                assert_array_equal(low, kept.min(axis=0))
                assert_array_equal(high, kept.max(axis=0))
            else:
                assert_array_equal(low, 255)
                assert_array_equal(high, 0)
