"""oxipng in a process of its own while a batch runs on several threads.

pyoxipng (9.1) holds the GIL while it optimises a file, so the threads of
:mod:`._pipeline` wait for it unless they are inside a kernel: measured with
``benchmarks/bench_pngquant.py``'s batch of 12 photos on 2 cores, oxipng's
0.45 s of work added 0.46 s to the wall time, as if run alone. One worker
process, started when the batch starts (its start-up overlaps the first
file's decoding and fitting), runs oxipng on every file instead, while the
threads go on. It receives the bytes Pillow encoded and returns oxipng's;
files are still named by the threads (:mod:`._write`), so an interruption
leaves no half-written file.

The worker ignores SIGINT and SIGTERM: the command handles them (the worker
ends with the pool, or when its pipe closes if the command dies). Should the
worker fail to start or die, oxipng runs in the calling thread instead, and
an error of oxipng's own is raised there, as without the worker.
"""

import contextlib
import signal
import threading

from .._oxipng import optimize


def _ignore_signals():
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(number, signal.SIG_IGN)


def _ready():
    """The worker's first task: import oxipng before the first file."""
    import oxipng  # noqa: F401


class Optimizer:
    """``optimizer(data, options)``: :func:`skvq._oxipng.optimize` in a
    worker process when ``in_worker``, else in the calling thread. A context
    manager: the worker ends on exit."""

    def __init__(self, in_worker):
        self._pool = None
        self._lock = threading.Lock()
        if in_worker:
            self._pool = self._start()

    @staticmethod
    def _start():
        try:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # "spawn": a fresh interpreter, safe whatever threads (OpenMP's
            # included) this process has started, on every platform.
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_ignore_signals,
            )
            pool.submit(_ready)
        except Exception:  # no processes here: optimise in the threads
            return None
        return pool

    def __call__(self, data, options):
        from concurrent.futures.process import BrokenProcessPool

        pool = self._pool
        if pool is not None:
            try:
                return pool.submit(optimize, data, options).result()
            except (BrokenProcessPool, RuntimeError, OSError):
                # The worker is gone (or the pool shut): from now on in the
                # threads.
                self._stop()
            except Exception:
                # oxipng failed on this file: again here, which raises its
                # own error as it would without the worker.
                pass
        return optimize(data, options)

    def _stop(self):
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._stop()
