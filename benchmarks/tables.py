"""Result tables of the benchmarks, printed as Markdown or written as reST.

A table written as reST can be read back (:func:`read_rst_tables`), so that
the documentation's pages can be rendered again from the figures of an
earlier run without running the benchmarks (``run_all.py --rerender``).
"""

import dataclasses
import math
import re


@dataclasses.dataclass
class Table:
    """A titled table of already formatted cells, with an optional note."""

    title: str
    columns: list
    rows: list = dataclasses.field(default_factory=list)
    note: str = ""

    def add(self, *cells):
        if len(cells) != len(self.columns):
            raise ValueError(
                f"{self.title}: row has {len(cells)} cells, "
                f"the table has {len(self.columns)} columns"
            )
        self.rows.append([str(cell) for cell in cells])

    def to_markdown(self):
        lines = [f"### {self.title}", ""]
        if self.note:
            lines += [self.note, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.columns) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"

    def to_rst(self, underline="-"):
        """A section holding a ``list-table``.

        The section's title is underlined with ``underline``, which must be the
        heading level one below that of the page including the table.
        """
        title = _rst_text(self.title)
        lines = [title, underline * len(title), ""]
        if self.note:
            lines += [_rst_text(self.note), ""]
        lines += [".. list-table::", "   :header-rows: 1", ""]
        for row in [self.columns, *self.rows]:
            for position, cell in enumerate(row):
                bullet = "* -" if position == 0 else "  -"
                lines.append(f"   {bullet} {_rst_text(cell) or '..'}")
        return "\n".join(lines) + "\n"


# A number and its unit ("85.9 ms") are joined by a no-break space in the
# pages, so that a narrow column never splits them over two lines.
_NUMBER_AND_UNIT = re.compile(r"(\d) (µs|ms|s|MB|GB|kB|B|dB|GP/s)(?![\w/])")
# Maths in a note or a title: $...$, written as :math:`...` in reST.
_MATHS = re.compile(r"\$([^$]+)\$")


def _rst_text(text):
    """Escape the characters that reST would read as inline markup.

    Text between dollar signs becomes inline maths, unescaped.
    """
    pieces = []
    for position, piece in enumerate(_MATHS.split(text)):
        if position % 2:
            pieces.append(f":math:`{piece}`")
            continue
        for char in "\\*`|_":
            piece = piece.replace(char, "\\" + char)
        # Sphinx's smart quotes would print an option's "--" as an en dash.
        piece = piece.replace("--", "-\\-")
        pieces.append(_NUMBER_AND_UNIT.sub("\\1\u00a0\\2", piece))
    return "".join(pieces)


def _plain_text(rst):
    """The inverse of :func:`_rst_text`."""
    rst = re.sub(r":math:`([^`]+)`", r"$\1$", rst)
    rst = re.sub(r"\\(.)", r"\1", rst)
    return rst.replace("\u00a0", " ")


def read_rst_tables(text):
    """The tables of a reST page written by :meth:`Table.to_rst`, in order.

    Each section of the page holding a ``list-table`` gives one
    :class:`Table`, with its title, the paragraph before the table as its
    note, its header row as columns and its other rows as cells; sections
    without a table are skipped.
    """
    tables = []
    lines = text.splitlines()
    i = 0
    while i < len(lines) - 1:
        title, underline = lines[i], lines[i + 1]
        is_heading = (
            title.strip()
            and underline
            and set(underline) <= set("=-~^")
            and len(underline) >= len(title)
            and (i == 0 or not lines[i - 1].strip())
        )
        if not is_heading:
            i += 1
            continue
        i += 2
        note, rows = [], []
        while i < len(lines) and not (
            i + 1 < len(lines)
            and lines[i].strip()
            and lines[i + 1]
            and set(lines[i + 1]) <= set("=-~^")
            and len(lines[i + 1]) >= len(lines[i])
        ):
            line = lines[i]
            if line.startswith("   * - "):
                rows.append([line[len("   * - ") :]])
            elif line.startswith("     - ") and rows:
                rows[-1].append(line[len("     - ") :])
            elif line.strip() and not line.startswith((".. ", "   :")) and not rows:
                note.append(line.strip())
            i += 1
        if rows:
            cells = [[_plain_text(c) if c != ".." else "" for c in r] for r in rows]
            note = _plain_text(" ".join(note))
            table = Table(_plain_text(title), cells[0], note=note)
            for row in cells[1:]:
                table.add(*row)
            tables.append(table)
    return tables


@dataclasses.dataclass
class Target:
    """A goal the project set itself, with what this run measured."""

    name: str
    goal: str
    measured: str
    met: bool


def targets_table(targets):
    """The project's goals, each with this run's figure and whether it met it."""
    table = Table(
        "Each goal, its anchor and this run's figure",
        ["case", "goal", "this run", "goal reached"],
        note=(
            "The goals skvq holds itself to, each against an anchor measured "
            "in the same run (KBins is KBinsDiscretizer; the colour anchor is "
            "scikit-learn's colour-quantization example). A goal not reached "
            "is open work, not an error in the measurements."
        ),
    )
    for target in targets:
        table.add(target.name, target.goal, target.measured, _yes_no(target.met))
    return table


def _yes_no(met):
    return "yes" if met else "no"


def seconds(value):
    """Format a duration with three significant digits and a unit."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def ratio(anchor, ours):
    """The speed-up: the anchor's time divided by ours (above 1: ours faster).

    For anything but times, the pages divide skvq's figure by the anchor's
    instead (below 1: skvq's is smaller), as ``doc/benchmarks.rst`` states.
    """
    if anchor is None or ours is None or not ours > 0:
        return "n/a"
    value = anchor / ours
    return f"{value:.3g}x" if value < 1000 else f"{value:.0f}x"


def number(value, digits=2):
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def megabytes(value):
    return "n/a" if value is None else f"{value / 1e6:.1f} MB"
