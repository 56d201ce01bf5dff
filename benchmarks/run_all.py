"""Run every benchmark and print its tables as Markdown.

Run: ``python benchmarks/run_all.py [--smoke] [--write-doc]``.

``--smoke`` runs a tiny, fast version of each benchmark (small images, one
repeat) so that CI notices when a script breaks; its numbers mean nothing.
``--write-doc`` also writes the tables to ``doc/benchmark_results.rst``, a
reST fragment that the documentation includes. Nothing here asserts on
timings: the figures are read by people, next to the anchors measured in the
same run.
"""

import argparse
import datetime
import os
import pathlib
import platform
import sys
import tempfile
import time

import bench_color
import bench_gray
import bench_memory
import bench_transform
import numpy
import sklearn
from tables import targets_table

BENCHMARKS = [bench_gray, bench_transform, bench_memory, bench_color]
DOC_PAGE = pathlib.Path(__file__).resolve().parent.parent / "doc/benchmark_results.rst"


def machine_description():
    try:
        import skvq

        skvq_version = skvq.__version__
    except ImportError:
        skvq_version = "not installed"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {numpy.__version__}, scikit-learn "
        f"{sklearn.__version__}, skvq {skvq_version}"
    )


def run_all(smoke):
    """Run every benchmark; return its tables and the load during the run."""
    load_before = os.getloadavg()[0]
    tables, targets = [], []
    for benchmark in BENCHMARKS:
        name = benchmark.__name__
        print(f"running {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        more_tables, more_targets = benchmark.run(smoke)
        elapsed = time.perf_counter() - start
        print(f"{name} took {elapsed:.1f} s", file=sys.stderr, flush=True)
        tables += more_tables
        targets += more_targets
    if targets and not smoke:
        tables.insert(0, targets_table(targets))
    # Other processes on the machine slow the runs down unevenly; the load
    # average says how much to trust the figures.
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    return tables, load


def rst_page(tables, load, smoke):
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    lines = [
        ".. This file is written by benchmarks/run_all.py --write-doc; "
        "do not edit it by hand.",
        "",
        f"Measured on {today} on {machine_description()} ({load}), with "
        "``python benchmarks/run_all.py"
        + (" --smoke" if smoke else "")
        + " --write-doc``. Times are the best of several runs; ratios compare "
        "methods measured side by side in that one run.",
        "",
    ]
    if smoke:
        lines += [
            "These figures come from a smoke run on tiny images and say "
            "nothing about speed.",
            "",
        ]
    return "\n".join(lines) + "\n" + "\n".join(table.to_rst() for table in tables)


def write_atomically(path, text):
    """Write the whole file or nothing: a temporary file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny images and one repeat, for CI"
    )
    parser.add_argument(
        "--write-doc", action="store_true", help=f"also write {DOC_PAGE}"
    )
    args = parser.parse_args()
    tables, load = run_all(args.smoke)
    print(f"Machine: {machine_description()} ({load})\n")
    for table in tables:
        print(table.to_markdown())
    if args.write_doc:
        write_atomically(DOC_PAGE, rst_page(tables, load, args.smoke))
        print(f"wrote {DOC_PAGE}", file=sys.stderr)


if __name__ == "__main__":
    main()
