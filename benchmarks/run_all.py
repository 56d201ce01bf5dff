"""Run every benchmark and print its tables as Markdown.

Run: ``python benchmarks/run_all.py [--smoke] [--write-doc [PATH]]``.

``--smoke`` runs a tiny, fast version of each benchmark (small images, one
repeat) so that CI notices when a script breaks; its numbers mean nothing.
``--write-doc`` also writes the machine's description and the tables to
``doc/benchmark_results.rst`` (or to ``PATH``), a reST fragment that
``doc/benchmarks.rst`` includes. Nothing here asserts on timings: the figures
are read by people, next to the anchors measured in the same run.
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
import bench_dither
import bench_fixed_cost
import bench_gray
import bench_memory
import bench_pngquant
import bench_transform
import numpy
import sklearn
from tables import targets_table

BENCHMARKS = [
    bench_gray,
    bench_fixed_cost,
    bench_transform,
    bench_memory,
    bench_color,
    bench_dither,
    bench_pngquant,
]
DOC_PAGE = pathlib.Path(__file__).resolve().parent.parent / "doc/benchmark_results.rst"


def processor_description():
    """The processor's model name (from /proc/cpuinfo on Linux), architecture
    and number of cores."""
    model = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    model = f"{model} " if model else ""
    return f"{model}({platform.machine()}), {os.cpu_count()} cores"


def software_description():
    try:
        import skvq

        skvq_version = skvq.__version__
    except ImportError:
        skvq_version = "not installed"
    return (
        f"{platform.system()}, Python {platform.python_version()}, NumPy "
        f"{numpy.__version__}, scikit-learn {sklearn.__version__}, "
        f"skvq {skvq_version}"
    )


def machine_description():
    return f"{processor_description()}; {software_description()}"


def run_all(smoke):
    """Run every benchmark.

    Returns the tables, the table of the project's goals (None for a smoke
    run), and the load average before and after the run.
    """
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
    goals = targets_table(targets) if targets and not smoke else None
    # Other processes on the machine slow the runs down unevenly; the load
    # average says how much to trust the figures.
    return tables, goals, (load_before, os.getloadavg()[0])


def load_description(load):
    before, after = load
    return f"load average {before:.1f} before, {after:.1f} after"


def rst_page(tables, goals, load, smoke):
    """The reST fragment included by doc/benchmarks.rst, whose title is
    overlined: its sections are the level below."""
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    command = "python benchmarks/run_all.py" + (" --smoke" if smoke else "")
    before, after = load
    lines = [
        ".. This file is written by benchmarks/run_all.py --write-doc; "
        "do not edit it by hand.",
        "",
        "The machine",
        "===========",
        "",
        "Every figure below comes from one run on this machine:",
        "",
        f":Date: {today}",
        f":Processor: {processor_description()}",
        f":Software: {software_description()}",
        f":Load average: {before:.1f} before the run, {after:.1f} after (the "
        "number of processes wanting a core; near the number of cores or "
        "above, other work on the machine slowed the run down)",
        f":Command: ``{command} --write-doc``",
        "",
    ]
    if smoke:
        lines += [
            ".. warning::",
            "",
            "   These figures come from a smoke run on tiny images, made to "
            "check that the scripts work; they say nothing about speed.",
            "",
        ]
    sections = [table.to_rst(underline="=") for table in tables]
    if goals is not None:
        sections.append(goals.to_rst(underline="="))
    return "\n".join(lines) + "\n" + "\n".join(sections)


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
        "--write-doc",
        nargs="?",
        const=DOC_PAGE,
        type=pathlib.Path,
        metavar="PATH",
        help=f"also write the tables as reST, to PATH (default {DOC_PAGE})",
    )
    args = parser.parse_args()
    tables, goals, load = run_all(args.smoke)
    print(f"Machine: {machine_description()} ({load_description(load)})\n")
    for table in ([goals] if goals is not None else []) + tables:
        print(table.to_markdown())
    if args.write_doc:
        page = rst_page(tables, goals, load, args.smoke)
        write_atomically(args.write_doc, page)
        print(f"wrote {args.write_doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
