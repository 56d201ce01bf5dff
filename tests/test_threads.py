"""Thread counts: the kernels' results do not depend on them, the callers
honour the limits users set, and calls from many threads at once give the
serial results.

Each kernel is run on inputs large enough for 4 threads (the kernels use
fewer threads on small inputs, where waking them costs more than it saves),
so that 2 and 4 threads really share the work when OpenMP is there, and compared
bit for bit with one thread and, where cheap, with an independent NumPy
reference.
"""

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from skvq._binning import count_edges_at_or_below, lookup_codes, search_edges
from skvq._histogram import add_value_counts
from skvq._kmeans1d_dp import partition_by_layers
from skvq._lloyd import smoothed_lloyd
from skvq._nearest_codeword import nearest_by_cells, nearest_by_projection
from skvq._openmp_helpers import (
    _cgroup_quota,
    effective_n_threads,
    openmp_enabled,
    thread_limit,
    usable_cpu_count,
)
from threadpoolctl import threadpool_info, threadpool_limits

from skvq import ImageVectorQuantizer
from skvq._colour_kernels import (
    count_cells,
    count_colours,
    list_colours,
    mark_colours,
    pool_colours,
    take_by_colour,
)
from skvq._kmeans1d import _run_table

THREAD_COUNTS = [1, 2, 4]


def _same_for_every_thread_count(run):
    """``run(n_threads)`` for 1, 2 and 4 threads; asserts the results equal
    bit for bit and returns the first."""
    first = run(1)
    for n_threads in THREAD_COUNTS[1:]:
        other = run(n_threads)
        for expected, got in zip(first, other, strict=True):
            assert got.dtype == expected.dtype
            assert_array_equal(got, expected, err_msg=f"{n_threads} threads")
            # assert_array_equal takes 0.0 == -0.0 and NaN == NaN: bits too.
            assert expected.tobytes() == got.tobytes()
    return first


# --- The thread count -------------------------------------------------------


def test_threadpool_limits_reach_the_kernels_thread_count():
    with threadpool_limits(limits=1):
        assert effective_n_threads() == 1
    if not openmp_enabled():
        assert effective_n_threads() == 1
        return
    with threadpool_limits(limits=2):
        assert effective_n_threads() == min(2, usable_cpu_count())
    # The OpenMP runtime the kernels run on is among those threadpoolctl
    # limits.
    assert any(pool["user_api"] == "openmp" for pool in threadpool_info())


def test_omp_num_threads_reaches_the_kernels_thread_count():
    code = "from skvq._openmp_helpers import effective_n_threads as n; print(n())"
    environment = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "1"


def test_a_thread_limit_caps_only_its_own_thread_and_ends_with_its_block():
    unlimited = effective_n_threads()
    seen = {}
    started, release = threading.Event(), threading.Event()

    def other():
        started.set()
        release.wait(10)
        seen["other"] = effective_n_threads()

    thread = threading.Thread(target=other)
    thread.start()
    started.wait(10)
    with thread_limit(1):
        assert effective_n_threads() == 1
        with thread_limit(3):  # nested: the smaller stays
            assert effective_n_threads() == 1
        release.set()
        thread.join()
    assert seen["other"] == unlimited
    assert effective_n_threads() == unlimited
    with pytest.raises(ValueError, match="at least 1"):
        with thread_limit(0):
            pass


def test_the_thread_count_is_capped_by_the_usable_cpus():
    assert 1 <= effective_n_threads() <= usable_cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert usable_cpu_count() <= len(os.sched_getaffinity(0))


def test_cgroup_quota_is_read_from_cpu_max_or_cgroup_v1(tmp_path):
    assert _cgroup_quota(str(tmp_path)) is None
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _cgroup_quota(str(tmp_path)) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _cgroup_quota(str(tmp_path)) is None
    (tmp_path / "cpu.max").write_text("150000 0\n")
    assert _cgroup_quota(str(tmp_path)) is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert _cgroup_quota(str(tmp_path)) == 0.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert _cgroup_quota(str(tmp_path)) is None


# --- Every kernel: the same bits on 1, 2 and 4 threads ------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_lookup_codes(dtype):
    rng = np.random.default_rng(0)
    size = 1 << (8 * np.dtype(dtype).itemsize)
    # The vectorised lookup of uint8 values shares its work among threads
    # only from 2**23 values per thread on.
    n_values = (4 << 23) + 3 if dtype == np.uint8 else 1_100_003
    index = rng.integers(0, size, n_values).astype(dtype)
    table = rng.integers(0, 256, size).astype(np.uint8)

    def run(n_threads):
        codes = np.empty(index.shape, np.uint8)
        lookup_codes(index, table, codes, n_threads)
        return [codes]

    (codes,) = _same_for_every_thread_count(run)
    assert_array_equal(codes, table[index])


@pytest.mark.parametrize(
    "kernel, dtype",
    [(count_edges_at_or_below, dtype) for dtype in (np.uint8, np.int32, np.float32)]
    + [(count_edges_at_or_below, np.float64)]
    + [(search_edges, dtype) for dtype in (np.int32, np.uint64, np.float64)],
)
def test_edge_kernels(kernel, dtype):
    rng = np.random.default_rng(1)
    values = (rng.random(1_100_003) * 250).astype(dtype)
    edges = np.sort(rng.choice(250, 7, replace=False)).astype(dtype)

    def run(n_threads):
        codes = np.empty(values.shape, np.uint8)
        kernel(values, edges, codes, n_threads)
        return [codes]

    (codes,) = _same_for_every_thread_count(run)
    assert_array_equal(codes, np.searchsorted(edges, values, side="right"))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32])
def test_value_counts(dtype):
    rng = np.random.default_rng(2)
    values = rng.integers(0, 100, 1_100_000).astype(dtype)

    def run(n_threads):
        counts = np.zeros(100, np.int64)
        add_value_counts(values, 0, counts, n_threads)
        return [counts]

    (counts,) = _same_for_every_thread_count(run)
    assert_array_equal(counts, np.bincount(values.astype(np.int64), minlength=100))


@pytest.mark.parametrize("n_channels", [2, 3])
@pytest.mark.parametrize("n_levels", [5, 200])
@pytest.mark.parametrize("weighted", [False, True])
def test_colour_counts(n_channels, n_levels, weighted):
    # Few distinct colours (counted on several threads without weights) and
    # many (counted on one).
    rng = np.random.default_rng(3)
    pixels = rng.integers(20, 20 + n_levels, (600_001, n_channels)).astype(np.uint8)
    weight = rng.random(pixels.shape[0]) if weighted else None

    def run(n_threads):
        present = np.empty(1 << (8 * n_channels - 6), np.uint64)
        low = np.empty(n_channels, np.uint8)
        high = np.empty(n_channels, np.uint8)
        n_colours = mark_colours(pixels, weight, present, low, high, n_threads)
        keys = np.empty(n_colours, np.uint32)
        counts = np.empty(n_colours)
        rank = np.empty(present.shape[0], np.uint32)
        count_colours(pixels, weight, present, rank, keys, counts, n_threads)
        listed_rank, listed = np.empty_like(rank), np.empty_like(keys)
        list_colours(present, listed_rank, listed, n_threads)
        return [present, low, high, keys, counts, rank, listed_rank, listed]

    _, low, high, keys, counts, rank, listed_rank, listed = (
        _same_for_every_thread_count(run)
    )
    assert_array_equal(listed, keys)
    assert_array_equal(listed_rank, rank)
    # The rank of a bitmap word: the colours set in the words before it.
    assert_array_equal(rank, np.searchsorted(keys, np.arange(rank.size) * 64))
    assert_array_equal(low, pixels.min(axis=0))
    assert_array_equal(high, pixels.max(axis=0))
    packed = pixels[:, 0].astype(np.uint32)
    for c in range(1, n_channels):
        packed = (packed << 8) | pixels[:, c]
    distinct, inverse = np.unique(packed, return_inverse=True)
    assert_array_equal(keys, distinct)
    if not weighted:
        assert_array_equal(counts, np.bincount(inverse.reshape(-1)))


@pytest.mark.parametrize("n_channels", [2, 3])
@pytest.mark.parametrize("cell_exponent", [1, 2, 5, 6, 8])
def test_colour_cells(n_channels, cell_exponent):
    # Cells of over 2**16 distinct colours, marked and pooled by runs of
    # colours that share no cell; float counts, whose sums depend on their
    # order. Against NumPy: the cells of the colours, and their totals.
    rng = np.random.default_rng(5 + cell_exponent)
    n_colours = 200_000 if n_channels == 3 else 60_000
    keys = np.unique(rng.integers(0, 1 << (8 * n_channels), n_colours)).astype(
        np.uint32
    )
    counts = rng.random(keys.shape[0]) * 1e3

    def run(n_threads):
        n_bits = (8 - cell_exponent) * n_channels
        cells = np.empty(1 << max(n_bits - 6, 0), np.uint64)
        n_cells = count_cells(keys, n_channels, cell_exponent, cells, n_threads)
        cell_keys = np.empty(n_cells, np.uint32)
        total, sums = np.empty(n_cells), np.empty((n_cells, n_channels))
        sumsq = np.empty(n_cells)
        rank = np.empty(cells.shape[0], np.uint32)
        pool_colours(
            keys, counts, n_channels, cell_exponent, cells, rank, cell_keys,
            total, sums, sumsq, n_threads,
        )  # fmt: skip
        return [cells, cell_keys, total, sums, sumsq]

    _, cell_keys, total, sums, _ = _same_for_every_thread_count(run)
    values = np.stack(
        [(keys >> (8 * (n_channels - 1 - c))) & 255 for c in range(n_channels)], 1
    )
    cells = values >> cell_exponent
    packed = cells[:, 0].astype(np.int64)
    for c in range(1, n_channels):
        packed = (packed << (8 - cell_exponent)) | cells[:, c]
    expected_keys, inverse = np.unique(packed, return_inverse=True)
    assert_array_equal(cell_keys, expected_keys)
    assert_allclose(total, np.bincount(inverse, weights=counts), rtol=1e-12)
    for c in range(n_channels):
        assert_allclose(
            sums[:, c], np.bincount(inverse, weights=counts * values[:, c]), rtol=1e-12
        )


@pytest.mark.parametrize("n_channels", [2, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float64])
def test_take_by_colour(n_channels, dtype):
    # A function of the distinct colours spread to the pixels: row j of the
    # table goes to every pixel whose colour is the j-th distinct one.
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 40, (600_001, n_channels)).astype(np.uint8)
    present = np.empty(1 << (8 * n_channels - 6), np.uint64)
    low, high = np.empty(n_channels, np.uint8), np.empty(n_channels, np.uint8)
    n_colours = mark_colours(pixels, None, present, low, high)
    rank = np.empty(present.shape[0], np.uint32)
    keys = np.empty(n_colours, np.uint32)
    list_colours(present, rank, keys)
    rows = rng.integers(0, 1000, (n_colours, 3)).astype(dtype)

    def run(n_threads):
        out = np.empty((pixels.shape[0], 3), dtype)
        take_by_colour(pixels, present, rank, rows, out, n_threads)
        return [out]

    (out,) = _same_for_every_thread_count(run)
    packed = pixels[:, 0].astype(np.uint32)
    for c in range(1, n_channels):
        packed = (packed << 8) | pixels[:, c]
    assert_array_equal(keys, np.unique(packed))
    assert_array_equal(out, rows[np.searchsorted(keys, packed)])


def _nearest_by_brute_force(pixels, codebook):
    codes = []
    for start in range(0, pixels.shape[0], 10_000):
        block = pixels[start : start + 10_000, None, :].astype(np.float64)
        codes.append(np.argmin(np.sum((block - codebook[None]) ** 2, axis=2), axis=1))
    return np.concatenate(codes)


@pytest.mark.parametrize("n_channels", [3, 4])
def test_nearest_by_cells(n_channels):
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (270_001, n_channels)).astype(np.uint8)
    codebook = rng.random((40, n_channels))  # at most one: the scaled units
    bits = np.array([3, 5] if n_channels == 3 else [2, 4], dtype=np.intc)
    scale = 1 / 256

    def run(n_threads):
        codes = np.empty(pixels.shape[0], np.uint8)
        nearest_by_cells(pixels, codebook, scale, bits, codes, n_threads)
        return [codes]

    (codes,) = _same_for_every_thread_count(run)
    assert_array_equal(codes, _nearest_by_brute_force(pixels * scale, codebook))


@pytest.mark.parametrize("dtype", [np.uint16, np.float64])
def test_nearest_by_projection(dtype):
    rng = np.random.default_rng(5)
    pixels = (rng.random((40_001, 3)) * 1000).astype(dtype)
    codebook = rng.random((50, 3))
    direction = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    projection = codebook @ direction
    index = np.argsort(projection, kind="stable")
    scale = 1 / 1024

    def run(n_threads):
        codes = np.empty(pixels.shape[0], np.uint8)
        nearest_by_projection(
            pixels,
            np.ascontiguousarray(codebook[index]),
            index,
            np.ascontiguousarray(projection[index]),
            direction,
            scale,
            codes,
            n_threads,
        )
        return [codes]

    (codes,) = _same_for_every_thread_count(run)
    assert_array_equal(codes, _nearest_by_brute_force(pixels * scale, codebook))


@pytest.mark.parametrize("n_candidates", [1, 4])
@pytest.mark.parametrize("n_clusters", [16, 1030])
def test_smoothed_lloyd(n_candidates, n_clusters):
    # 17,000 atoms: several blocks of the assignment step, whose totals are
    # added in block order whatever thread made them. 1,030 centres: beyond
    # the ordered neighbour lists.
    rng = np.random.default_rng(6)
    points = rng.random((17_000, 3))
    weight = rng.random(17_000) + 0.5
    spread = rng.random(17_000) * 0.01
    init = points[rng.choice(17_000, n_clusters, replace=False)]

    def run(n_threads):
        centres = init.copy()
        labels = np.zeros(17_000, np.intp)
        n_iter = smoothed_lloyd(
            points,
            weight,
            points * weight[:, None],
            spread,
            centres,
            labels,
            3,
            0.0,
            1.8,
            n_candidates,
            n_threads,
        )
        return [centres, labels, np.array(n_iter)]

    _same_for_every_thread_count(run)


@pytest.mark.parametrize("n_clusters", [2, 8])
def test_partition_by_layers(n_clusters):
    # The columns of one depth of each layer's divide and conquer run on
    # several threads; ties within rounding (repeated gaps) included.
    rng = np.random.default_rng(7)
    mean = np.cumsum(rng.choice([0.5, 1.0, 1.0, 3.0], 33_000))
    weight = rng.random(33_000) + 0.1
    table = _run_table(weight, mean)

    def run(n_threads):
        # Filled beforehand: a layer writes no start left of its own index.
        starts = np.full((n_clusters - 1, 33_000), -1, dtype=np.int32)
        cost = np.empty((2, 33_000))
        partition_by_layers(
            table, starts, cost, np.empty((2, 33_000), np.int32), n_threads
        )
        return [starts[:-1], starts[-1, -1:], cost[(n_clusters - 1) % 2, -1:]]

    _same_for_every_thread_count(run)


# --- Through the estimator: limits honoured, results unchanged --------------


def _cases():
    """(name, X, estimator parameters): gray uint8, gray floats, colour."""
    rng = np.random.default_rng(0)
    gray = rng.normal(120, 50, size=(384, 512)).clip(0, 255)
    colour = rng.normal(120, 60, size=(192, 192 * 3)).clip(0, 255)
    return [
        ("gray uint8", gray.astype(np.uint8), {"n_bins": 8}),
        ("gray uint16", (gray * 200).astype(np.uint16), {"n_bins": 300}),
        ("gray float32", gray.astype(np.float32), {"n_bins": 8}),
        ("gray float64, many bins", gray + rng.random(gray.shape), {"n_bins": 40}),
        ("colour uint8", colour.astype(np.uint8), {"n_bins": 16, "n_channels": 3}),
        ("colour float64", colour, {"n_bins": 16, "n_channels": 3}),
    ]


def _fit_and_transform(X, params):
    quantizer = ImageVectorQuantizer(random_state=0, **params).fit(X)
    codes = quantizer.transform(X)
    return quantizer.codebook_, getattr(quantizer, "bin_edges_", None), codes


def _assert_same(results, expected, name):
    for got, want in zip(results, expected, strict=True):
        if want is not None:
            assert_array_equal(got, want, err_msg=name)
            assert got.dtype == want.dtype, name


@pytest.mark.parametrize("limit", [1, 2])
def test_fit_and_transform_under_a_limit_give_the_unlimited_results(limit):
    for name, X, params in _cases():
        unlimited = _fit_and_transform(X, params)
        with threadpool_limits(limits=limit):
            limited = _fit_and_transform(X, params)
        _assert_same(limited, unlimited, name)


def test_concurrent_calls_give_the_serial_results_and_leave_limits_alone():
    # Eight Python threads at once, each call starting OpenMP threads of its
    # own: the results of serial calls, and the process's thread pools as
    # they were (skvq never sets a limit, even for a moment).
    cases = _cases()
    serial = [_fit_and_transform(X, params) for _, X, params in cases]
    before = threadpool_info()
    jobs = [case for _ in range(3) for case in cases]
    start = threading.Event()

    def job(case):
        start.wait()
        return _fit_and_transform(*case[1:])

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(job, case) for case in jobs]
        start.set()
        results = [future.result() for future in futures]
    assert threadpool_info() == before
    for i, result in enumerate(results):
        _assert_same(result, serial[i % len(cases)], cases[i % len(cases)][0])


def test_smoothed_lloyd_on_threads():
    # 70,000 atoms: enough for two threads (32,768 atoms each at least), so
    # that the blocks' totals really come from several threads.
    rng = np.random.default_rng(7)
    points = rng.random((70_000, 3))
    weight = rng.random(70_000) + 0.5
    spread = rng.random(70_000) * 0.01
    init = points[rng.choice(70_000, 64, replace=False)]

    def run(n_threads):
        centres = init.copy()
        labels = np.zeros(70_000, np.intp)
        n_iter = smoothed_lloyd(
            points, weight, points * weight[:, None], spread, centres, labels,
            3, 0.0, 1.8, 4, n_threads,
        )  # fmt: skip
        return [centres, labels, np.array(n_iter)]

    _same_for_every_thread_count(run)
