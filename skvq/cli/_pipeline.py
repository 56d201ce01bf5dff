"""Files in parallel, results in input order, memory bounded.

Each file is one task (read, fit, encode, measure, write) run by a pool of
``jobs`` threads: decoding, deflating and skvq's kernels release the GIL, so
threads use the cores without the start-up of extra processes. The jobs
share the cores, so the kernels of each use their share of them
(:func:`skvq._openmp_helpers.thread_limit`) instead of every core: on the
benchmark batch of 12 photos (``--jobs 2``, 2 cores), the median of 11
runs went from 1.64 s to 1.61 s (with ``OMP_NUM_THREADS=1``: 1.60 s). oxipng
(pyoxipng 9) holds it while it optimises a file, so the other threads wait
meanwhile unless they are inside a kernel: that is one reason the command
asks oxipng for no more work than pays (:mod:`skvq._png`). At
most ``jobs + 1`` tasks are submitted at a time and a task holds its image
only while it runs, so no more than ``jobs`` images (and one waiting task)
are held; results are taken in input order, so rows keep that order and
every output is the same whatever ``jobs``. Given each task's expected
cost, the costliest start first (longest processing time first), so that
a long task does not run alone at the end while the other cores idle: the
benchmark batch (12 photos, the four largest last on the command line)
took 1.43 s instead of 1.47 s (medians of 9, ``--jobs 2``).

Warnings are routed to the task that raised them (:func:`collected`): the
command installs one ``showwarning`` for its whole run, which appends to a
list local to the thread.
"""

import collections
import contextlib
import threading
import warnings
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

_local = threading.local()


def in_order(function, items, jobs, cost=None):
    """``function(item)`` for every item, yielded in order as
    ``(item, outcome)``, where outcome is ``(result, None)`` or
    ``(None, exception)`` for an :class:`Exception` the task raised.

    At most ``jobs`` tasks run at once and ``jobs + 1`` are submitted.
    Once the command is stopping (:data:`skvq.cli._write.stopping`), no task
    is started and :class:`skvq.cli._write.Stopped` is raised.

    With ``cost`` (a function of an item, e.g. its file's size), the tasks
    start from the costliest (equal costs in input order), and outcomes
    finished before those of earlier items wait for them: only for small
    results, since up to all of them may wait.
    """
    from ._write import Stopped, stopping

    if jobs == 1:
        for item in items:
            if stopping.is_set():
                raise Stopped
            yield item, _outcome(function, item)
        return
    from .._openmp_helpers import thread_limit, usable_cpu_count

    # Each job's kernels on its share of the cores.
    n_threads = max(1, usable_cpu_count() // jobs)

    def task(item):
        with thread_limit(n_threads):
            return _outcome(function, item)

    if cost is not None:
        yield from _costliest_first(task, list(items), jobs, cost)
        return
    pending = collections.deque()
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        for item in items:
            if stopping.is_set():
                raise Stopped
            pending.append((item, pool.submit(task, item)))
            if len(pending) > jobs:
                item, future = pending.popleft()
                yield item, future.result()
        while pending:
            item, future = pending.popleft()
            yield item, future.result()
    finally:
        # On an interruption, tasks not started are dropped; those running
        # finish (or, once stopping is set, remove their temporary files).
        pool.shutdown(wait=True, cancel_futures=True)


def _costliest_first(task, items, jobs, cost):
    """:func:`in_order`'s pool, the tasks started by decreasing cost."""
    from ._write import Stopped, stopping

    # A stable sort: equal costs keep the input order.
    order = sorted(range(len(items)), key=lambda k: -cost(items[k]))
    running, finished = {}, {}
    started = taken = 0
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        while taken < len(items):
            # Outcomes first, so that tasks are submitted as the caller
            # takes them (as in input order) rather than ahead of it.
            while taken in finished:
                yield items[taken], finished.pop(taken)
                taken += 1
            while started < len(items) and len(running) <= jobs:
                if stopping.is_set():
                    raise Stopped
                k = order[started]
                running[pool.submit(task, items[k])] = k
                started += 1
            if running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    finished[running.pop(future)] = future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _outcome(function, item):
    try:
        return function(item), None
    except Exception as exc:
        return None, exc


def _route(message, category, filename, lineno, file=None, line=None):
    caught = getattr(_local, "caught", None)
    if caught is not None:
        caught.append(warnings.WarningMessage(message, category, filename, lineno))


@contextlib.contextmanager
def routed_warnings():
    """For the command's run: every warning goes to the list of the task
    (thread) that raised it, or nowhere outside a task. Restored on exit."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = _route
        yield


@contextlib.contextmanager
def collected():
    """The warnings this thread raises within the block, as a list."""
    previous = getattr(_local, "caught", None)
    _local.caught = caught = []
    try:
        yield caught
    finally:
        _local.caught = previous
