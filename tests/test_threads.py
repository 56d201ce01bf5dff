"""Many threads fitting and transforming at once: no process-wide side
effects, and the results of serial calls.

skvq's kernels run on the calling thread and release the GIL; nothing in
skvq may limit or restore thread pools (BLAS, OpenMP) that the rest of the
process shares, since overlapping limits from several threads restore the
wrong value.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from threadpoolctl import threadpool_info, threadpool_limits

from skvq import ImageVectorQuantizer

N_THREADS = 8
ROUNDS = 3


def _cases():
    """(name, X, estimator parameters): gray uint8, gray floats, colour."""
    rng = np.random.default_rng(0)
    gray = rng.normal(120, 50, size=(384, 512)).clip(0, 255)
    colour = rng.normal(120, 60, size=(96, 96 * 3)).clip(0, 255)
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


def _thread_counts():
    """Thread count of every thread pool of the process, by library."""
    return [(pool["filepath"], pool["num_threads"]) for pool in threadpool_info()]


class _PoolWatcher:
    """Samples the process's thread pools on a thread of its own, to see a
    limit that is set and undone while the work runs."""

    def __init__(self):
        self.seen = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.is_set():
            self.seen.append(_thread_counts())
            self._stop.wait(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def _run_concurrently(cases):
    """Every case ROUNDS times on N_THREADS threads, released together."""
    jobs = [case for _ in range(ROUNDS) for case in cases]
    start = threading.Event()

    def job(case):
        _, X, params = case
        start.wait()
        return _fit_and_transform(X, params)

    with ThreadPoolExecutor(N_THREADS) as pool:
        futures = [pool.submit(job, case) for case in jobs]
        start.set()
        return [future.result() for future in futures]


def _assert_serial_results(cases, results):
    serial = [_fit_and_transform(X, params) for _, X, params in cases]
    for i, result in enumerate(results):
        name = cases[i % len(cases)][0]
        expected = serial[i % len(cases)]
        assert_array_equal(result[0], expected[0], err_msg=name)
        if expected[1] is not None:
            assert_array_equal(result[1], expected[1], err_msg=name)
        assert_array_equal(result[2], expected[2], err_msg=name)
        assert result[2].dtype == expected[2].dtype, name


def test_concurrent_calls_leave_thread_pools_as_they_were():
    cases = _cases()
    _fit_and_transform(*cases[0][1:])  # imports and caches outside the watch
    before = threadpool_info()
    with _PoolWatcher() as watcher:
        results = _run_concurrently(cases)
    assert threadpool_info() == before
    # Not even for a moment while they ran.
    assert all(counts == _thread_counts() for counts in watcher.seen)
    _assert_serial_results(cases, results)


@pytest.mark.parametrize("limit", [1, 2])
def test_concurrent_calls_keep_the_callers_limits(limit):
    cases = _cases()
    outside = threadpool_info()
    with threadpool_limits(limits=limit):
        inside = threadpool_info()
        results = _run_concurrently(cases)
        assert threadpool_info() == inside
    assert threadpool_info() == outside
    _assert_serial_results(cases, results)
