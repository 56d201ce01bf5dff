"""How the benchmarks measure: wall time, peak extra memory and image error."""

import gc
import re
import time
import tracemalloc

import numpy as np


def best_time(func, repeat=5, budget=10.0):
    """Best wall time of ``func()`` in seconds, and its last result.

    Runs ``func`` up to ``repeat`` times, but stops early once the runs so far
    took more than ``budget`` seconds, so slow anchors run only once or twice.
    The best of several runs is the least disturbed by other processes.
    """
    best = np.inf
    spent = 0.0
    result = None
    for _ in range(max(1, repeat)):
        result = None  # free the previous result before the next run
        # As timeit does: no garbage collection pass inside the timed call
        # (and none just before it, which would evict the CPU caches).
        collecting = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            result = func()
            elapsed = time.perf_counter() - start
        finally:
            if collecting:
                gc.enable()
        best = min(best, elapsed)
        spent += elapsed
        if spent > budget:
            break
    return best, result


def peak_extra_memory(func):
    """Run ``func()`` once; return its peak extra memory in bytes, two ways.

    Returns ``(traced, resident, seconds, result)``:

    - ``traced``: the peak of memory allocated through Python's and NumPy's
      allocators during the call (``tracemalloc``), above what was allocated
      before it. It sees every NumPy array, but not memory that compiled code
      mallocs by itself.
    - ``resident``: the growth of the process's peak resident set size
      (Linux ``VmHWM``, reset just before the call through
      ``/proc/self/clear_refs``), which sees everything, including scratch
      buffers of compiled code; ``None`` where that is unavailable. It is
      only meaningful in a fresh process (see ``bench_memory.py``).
    - ``seconds``: the wall time of the traced call (tracing slows Python
      code a little, not NumPy's).
    """
    gc.collect()
    resident_before = _reset_peak_resident()
    tracemalloc.start()
    tracemalloc.reset_peak()
    start_traced, _ = tracemalloc.get_traced_memory()
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    resident = None
    if resident_before is not None:
        resident = max(0, _status_kib("VmHWM") * 1024 - resident_before)
    return peak_traced - start_traced, resident, seconds, result


def peak_extra_resident(func):
    """Run ``func()`` once; return ``(resident, result)``.

    ``resident`` is the growth of the process's peak resident set size
    during the call (Linux ``VmHWM``, reset just before it), in bytes, or
    ``None`` where that is unavailable. Unlike ``ru_maxrss``, it does not
    start from the parent's high-water mark, which a child process keeps
    across ``exec``.
    """
    resident_before = _reset_peak_resident()
    result = func()
    if resident_before is None:
        return None, result
    return max(0, _status_kib("VmHWM") * 1024 - resident_before), result


def _status_kib(field):
    with open("/proc/self/status") as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1))


def _reset_peak_resident():
    """Reset the peak RSS to the current RSS; return it in bytes, or None."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return _status_kib("VmRSS") * 1024
    except OSError:
        return None


def mse(original, reconstructed):
    """Mean squared error over all pixels and channels, in the image's units."""
    difference = np.asarray(reconstructed, dtype=np.float64) - original
    return float(np.mean(np.square(difference)))


def psnr(mse_value, peak=255.0):
    """Peak signal-to-noise ratio in dB for a given MSE and peak value."""
    if mse_value == 0:
        return np.inf
    return float(10.0 * np.log10(peak**2 / mse_value))


def peak_value(image):
    """The largest value the image's integer dtype can hold (255, 65535)."""
    return float(np.iinfo(image.dtype).max)
