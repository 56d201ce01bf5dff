"""Files in parallel (skvq.cli._pipeline)."""

import threading
import time

import numpy as np
import pytest
from skvq._openmp_helpers import usable_cpu_count

from skvq.cli import _pipeline as pipeline
from skvq.cli._pipeline import in_order


def test_results_come_in_input_order_and_at_most_jobs_run_at_once():
    running, most = [0], [0]
    lock = threading.Lock()

    def task(k):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01 * (k % 3))
        with lock:
            running[0] -= 1
        if k == 4:
            raise ValueError("four")
        return k * k

    outcomes = list(in_order(task, range(10), jobs=3))
    assert [item for item, _ in outcomes] == list(range(10))
    assert [result for _, (result, _) in outcomes if result is not None] == [
        k * k for k in range(10) if k != 4
    ]
    assert str(outcomes[4][1][1]) == "four"
    assert most[0] <= 3


def test_no_more_tasks_are_submitted_than_jobs_plus_one():
    started = []

    def task(k):
        started.append(k)
        time.sleep(0.02)
        return k

    tasks = in_order(task, range(20), jobs=2)
    next(tasks)
    time.sleep(0.1)
    # Taken: 1; submitted: at most jobs + 1 = 3 beyond it.
    assert len(started) <= 4
    tasks.close()


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_each_jobs_kernels_use_its_share_of_the_cores(jobs):
    from skvq._openmp_helpers import effective_n_threads

    unlimited = effective_n_threads()
    share = max(1, usable_cpu_count() // jobs)
    share = unlimited if jobs == 1 else min(unlimited, share)
    outcomes = list(in_order(lambda _: effective_n_threads(), range(5), jobs=jobs))
    assert [result for _, (result, _) in outcomes] == [share] * 5
    # The calling thread keeps its own count.
    assert effective_n_threads() == unlimited


def test_with_costs_the_costliest_start_first_and_results_keep_input_order():
    costs = [1, 5, 2, 9, 5, 0, 7]
    started, running, most = [], [0], [0]
    lock = threading.Lock()

    def task(k):
        with lock:
            started.append(k)
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        if k == 2:
            raise ValueError("two")
        return 10 * k

    outcomes = list(in_order(task, range(7), jobs=2, cost=lambda k: costs[k]))
    assert [item for item, _ in outcomes] == list(range(7))
    assert [result for _, (result, _) in outcomes] == [0, 10, None, 30, 40, 50, 60]
    assert str(outcomes[2][1][1]) == "two"
    # Decreasing cost, ties (items 1 and 4) in input order; with two jobs a
    # task may start a moment before the one submitted ahead of it.
    by_cost = [3, 6, 1, 4, 2, 0, 5]
    assert sorted(started, key=by_cost.index) == by_cost
    assert all(abs(by_cost.index(k) - i) <= 1 for i, k in enumerate(started))
    assert most[0] <= 2


def test_with_costs_no_more_tasks_are_submitted_than_jobs_plus_one(monkeypatch):
    # Submitted and not finished, counted by the pool itself: outcomes
    # finished out of input order wait for the caller, tasks do not.
    unfinished, most = [0], [0]
    lock = threading.Lock()

    class CountingPool(pipeline.ThreadPoolExecutor):
        def submit(self, *args):
            with lock:
                unfinished[0] += 1
                most[0] = max(most[0], unfinished[0])
            future = super().submit(*args)
            future.add_done_callback(lambda _: _finished())
            return future

    def _finished():
        with lock:
            unfinished[0] -= 1

    monkeypatch.setattr(pipeline, "ThreadPoolExecutor", CountingPool)
    rng = np.random.default_rng(0)
    costs = rng.permutation(20)

    def task(k):
        time.sleep(0.001 * (k % 5))
        return k

    outcomes = list(in_order(task, range(20), jobs=2, cost=lambda k: costs[k]))
    assert [result for _, (result, _) in outcomes] == list(range(20))
    assert most[0] <= 3

    # Taken as the caller asks: in input order, nothing ahead of it.
    started = []

    def slow(k):
        started.append(k)
        time.sleep(0.02)
        return k

    tasks = in_order(slow, range(20), jobs=2, cost=lambda k: -k)
    next(tasks)
    time.sleep(0.1)
    assert len(started) <= 4
    tasks.close()
