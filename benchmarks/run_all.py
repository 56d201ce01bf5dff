"""Run every benchmark and print its tables as Markdown.

Run: ``python benchmarks/run_all.py [--smoke] [--write-doc [FOLDER]]``.

``--smoke`` runs a tiny, fast version of each benchmark (small images, one
repeat) so that CI notices when a script breaks; its numbers mean nothing.
``--write-doc`` also writes the documentation's benchmark pages into
``doc/`` (or ``FOLDER``): the machine's description to
``benchmark_results.rst``, a fragment that ``benchmarks.rst`` includes, and
one page per family of tables to ``benchmarks/<family>.rst`` (see
``FAMILIES``). ``--rerender`` writes the same pages again from the tables
already in them, without running any benchmark, after a change of their
layout. Nothing here asserts on timings: the figures are read by people,
next to the anchors measured in the same run.
"""

import argparse
import datetime
import os
import pathlib
import platform
import sys
import tempfile
import time

import bench_animation
import bench_color
import bench_dither
import bench_fixed_cost
import bench_gray
import bench_memory
import bench_pngquant
import bench_threads
import bench_transform
import numpy
import sklearn
from tables import read_rst_tables, targets_table

BENCHMARKS = [
    bench_gray,
    bench_fixed_cost,
    bench_transform,
    bench_memory,
    bench_threads,
    bench_color,
    bench_dither,
    bench_pngquant,
    bench_animation,
]
DOC_FOLDER = pathlib.Path(__file__).resolve().parent.parent / "doc"
MACHINE_PAGE = "benchmark_results.rst"
# The documentation's page for each family of tables: its file under
# doc/benchmarks/, its title, and the benchmarks whose tables it shows. The
# project's goals have a page of their own ("goals").
FAMILIES = {
    "gray": (
        "Gray images",
        [bench_gray, bench_fixed_cost, bench_transform, bench_memory],
    ),
    "colour": ("Colour images", [bench_color]),
    "dithering": ("Dithering and PNG files", [bench_dither, bench_pngquant]),
    "threads": ("Threads", [bench_threads]),
    "animation": ("Animations", [bench_animation]),
}
GOALS_PAGE = ("goals", "Project goals")
_WITHOUT_PAGE = [
    benchmark.__name__
    for benchmark in BENCHMARKS
    if not any(benchmark in benchmarks for _, benchmarks in FAMILIES.values())
]
if _WITHOUT_PAGE:
    raise SystemExit(f"run_all.py: add {_WITHOUT_PAGE} to a family of FAMILIES")


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

    Returns a dict of the tables of each family (``FAMILIES``), the table of
    the project's goals (None for a smoke run), and the load average before
    and after the run.
    """
    load_before = os.getloadavg()[0]
    families, targets = {}, []
    family_of = {
        benchmark: family
        for family, (_, benchmarks) in FAMILIES.items()
        for benchmark in benchmarks
    }
    for benchmark in BENCHMARKS:
        name = benchmark.__name__
        print(f"running {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        more_tables, more_targets = benchmark.run(smoke)
        elapsed = time.perf_counter() - start
        print(f"{name} took {elapsed:.1f} s", file=sys.stderr, flush=True)
        families.setdefault(family_of[benchmark], []).extend(more_tables)
        targets += more_targets
    goals = targets_table(targets) if targets and not smoke else None
    # Other processes on the machine slow the runs down unevenly; the load
    # average says how much to trust the figures.
    return families, goals, (load_before, os.getloadavg()[0])


def load_description(load):
    before, after = load
    return f"load average {before:.1f} before, {after:.1f} after"


_GENERATED = (
    ".. This file is written by benchmarks/run_all.py --write-doc; "
    "do not edit it by hand."
)


def machine_fields(load, smoke):
    """The fields of the machine's description, as (name, value) pairs."""
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    command = "python benchmarks/run_all.py" + (" --smoke" if smoke else "")
    before, after = load
    return [
        ("Date", today),
        ("Processor", processor_description()),
        ("Software", software_description()),
        (
            "Load average",
            f"{before:.1f} before the run, {after:.1f} after (the number of "
            "processes wanting a core; near the number of cores or above, "
            "other work on the machine slowed the run down)",
        ),
        ("Command", f"``{command} --write-doc``"),
    ]


def machine_page(fields, smoke):
    """The reST fragment included by doc/benchmarks.rst, whose title is
    overlined: its section is the level below."""
    lines = [
        _GENERATED,
        "",
        "The machine",
        "===========",
        "",
        "Every figure of these pages comes from one run on this machine:",
        "",
        *(f":{name}: {value}" for name, value in fields),
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
    return "\n".join(lines)


def family_page(title, tables):
    """A page of the documentation holding ``tables``, one section each.

    Its tables are wide: the page takes the whole width of the window, with
    neither sidebar (the ``wide-page`` class, styled in doc/_static/skvq.css,
    and the theme's ``sidebar_secondary.remove`` field).
    """
    lines = [
        ":html_theme.sidebar_secondary.remove: true",
        "",
        _GENERATED,
        "",
        ".. rst-class:: wide-page",
        "",
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        "Measured on the machine described on the :ref:`benchmarks` page, "
        "whose conventions the ratios follow.",
        "",
    ]
    sections = [table.to_rst(underline="=") for table in tables]
    return "\n".join(lines) + "\n" + "\n".join(sections)


def doc_pages(families, goals, fields, smoke):
    """Each page to write, as a dict from its path under doc/ to its text."""
    pages = {MACHINE_PAGE: machine_page(fields, smoke)}
    for family, (title, _) in FAMILIES.items():
        pages[f"benchmarks/{family}.rst"] = family_page(title, families[family])
    if goals is not None:
        name, title = GOALS_PAGE
        pages[f"benchmarks/{name}.rst"] = family_page(title, [goals])
    return pages


def read_doc_pages(folder):
    """The families, goals, machine fields and smoke flag of written pages."""
    machine = (folder / MACHINE_PAGE).read_text(encoding="utf-8")
    fields = [
        tuple(line[1:].split(": ", 1))
        for line in machine.splitlines()
        if line.startswith(":") and ": " in line
    ]
    families = {
        family: read_rst_tables(
            (folder / f"benchmarks/{family}.rst").read_text(encoding="utf-8")
        )
        for family in FAMILIES
    }
    goals_path = folder / f"benchmarks/{GOALS_PAGE[0]}.rst"
    goals = None
    if goals_path.is_file():
        goals = read_rst_tables(goals_path.read_text(encoding="utf-8"))[0]
    return families, goals, fields, ".. warning::" in machine


def write_doc_pages(folder, pages):
    for name, text in pages.items():
        write_atomically(folder / name, text)
        print(f"wrote {folder / name}", file=sys.stderr)


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
        const=DOC_FOLDER,
        type=pathlib.Path,
        metavar="FOLDER",
        help=f"also write the benchmark pages into FOLDER (default {DOC_FOLDER})",
    )
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="run nothing: write the pages of --write-doc's FOLDER again from "
        "the tables they hold",
    )
    args = parser.parse_args()
    if args.rerender:
        folder = args.write_doc or DOC_FOLDER
        families, goals, fields, smoke = read_doc_pages(folder)
        write_doc_pages(folder, doc_pages(families, goals, fields, smoke))
        return
    families, goals, load = run_all(args.smoke)
    print(f"Machine: {machine_description()} ({load_description(load)})\n")
    tables = [table for family in families.values() for table in family]
    for table in ([goals] if goals is not None else []) + tables:
        print(table.to_markdown())
    if args.write_doc:
        fields = machine_fields(load, args.smoke)
        pages = doc_pages(families, goals, fields, args.smoke)
        write_doc_pages(args.write_doc, pages)


if __name__ == "__main__":
    main()
