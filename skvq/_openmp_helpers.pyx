"""How many threads the parallel kernels may use.

The kernels split their work with OpenMP (``prange``) over a partition that
does not depend on the thread count, so that their results are the same
for any number of threads; this module tells their callers how many threads
to ask for. As scikit-learn's ``_openmp_effective_n_threads``, it reads the
OpenMP runtime's own setting, ``omp_get_max_threads()``, which honours
``OMP_NUM_THREADS`` and the limits of :func:`threadpoolctl.threadpool_limits`,
and caps it by the CPUs this process may run on (its affinity mask and its
control group's quota), so that a container given two CPUs of a large host
does not start a thread per host CPU; :func:`thread_limit` caps it further
for the calls of one thread (the command line's jobs, which already share
the cores). Nothing here sets the runtime's state.

Built without OpenMP, the kernels run on the calling thread and this module
reports one thread.
"""

import contextlib
import functools
import math
import os
import threading

# The cap of thread_limit, per calling thread.
_local = threading.local()

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int skvq_openmp_enabled(void) { return 1; }
    static int skvq_omp_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int skvq_openmp_enabled(void) { return 0; }
    static int skvq_omp_max_threads(void) { return 1; }
    #endif
    """
    int skvq_openmp_enabled() noexcept nogil
    int skvq_omp_max_threads() noexcept nogil


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP.

    Returns
    -------
    enabled : bool
    """
    return bool(skvq_openmp_enabled())


def _cgroup_quota(root="/sys/fs/cgroup"):
    """CPUs of the quota of this process's control group under ``root``
    (``cpu.max`` of cgroup v2, else ``cpu.cfs_quota_us`` over
    ``cpu.cfs_period_us`` of v1), a float, or None without a quota."""
    try:
        with open(os.path.join(root, "cpu.max")) as file:
            quota, period = file.read().split()[:2]
        if quota != "max" and int(period) > 0:
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as file:
            quota = int(file.read())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as file:
            period = int(file.read())
        if quota > 0 and period > 0:
            return quota / period
    except (OSError, ValueError):
        pass
    return None


@functools.cache
def _cgroup_cpu_limit():
    """Whole CPUs of the cgroup quota (rounded up), or None.

    Read once per process: kernels are called often, on small images too,
    and a container's quota does not change while it runs.
    """
    quota = _cgroup_quota()
    return None if quota is None else max(1, math.ceil(quota))


def usable_cpu_count():
    """CPUs this process may run on: its affinity mask, capped by its control
    group's CPU quota (Linux), else :func:`os.cpu_count`.

    Returns
    -------
    n_cpus : int
        At least one.
    """
    if hasattr(os, "sched_getaffinity"):
        n_cpus = len(os.sched_getaffinity(0))
    else:
        n_cpus = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    if limit is not None:
        n_cpus = min(n_cpus, limit)
    return max(n_cpus, 1)


def effective_n_threads():
    """Threads the kernels use when called now, from this thread.

    ``omp_get_max_threads()`` (``OMP_NUM_THREADS``, or a
    :func:`threadpoolctl.threadpool_limits` in force) capped by
    :func:`usable_cpu_count` and by a :func:`thread_limit` of this thread;
    one without OpenMP.

    Returns
    -------
    n_threads : int
        At least one.

    Examples
    --------
    >>> from threadpoolctl import threadpool_limits
    >>> from skvq._openmp_helpers import effective_n_threads
    >>> with threadpool_limits(1):
    ...     effective_n_threads()
    1
    """
    if not skvq_openmp_enabled():
        return 1
    n_threads = min(skvq_omp_max_threads(), usable_cpu_count())
    limit = getattr(_local, "limit", None)
    if limit is not None:
        n_threads = min(n_threads, limit)
    return max(1, n_threads)


@contextlib.contextmanager
def thread_limit(n_threads):
    """Within the block, the kernels called from this thread use at most
    ``n_threads`` threads; other threads, and the OpenMP runtime, are left
    as they are.

    For callers that run several kernels at once on threads of their own
    (the command line's ``--jobs``): a kernel there that also split its
    work would wait at every parallel region's end for threads that other
    jobs keep busy. Results do not depend on the thread count.

    Parameters
    ----------
    n_threads : int
        At least one. Nested limits take the smaller.

    Examples
    --------
    >>> from skvq._openmp_helpers import effective_n_threads, thread_limit
    >>> with thread_limit(1):
    ...     effective_n_threads()
    1
    """
    if n_threads < 1:
        raise ValueError(f"n_threads must be at least 1, got {n_threads}.")
    previous = getattr(_local, "limit", None)
    _local.limit = n_threads if previous is None else min(previous, n_threads)
    try:
        yield
    finally:
        _local.limit = previous
