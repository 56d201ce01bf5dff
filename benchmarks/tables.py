"""Result tables of the benchmarks, printed as Markdown or written as reST."""

import dataclasses
import math


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

    def to_rst(self):
        """A ``list-table`` under a ``rubric``, which works at any heading level
        of the page that includes it."""
        lines = [f".. rubric:: {_rst_text(self.title)}", ""]
        if self.note:
            lines += [_rst_text(self.note), ""]
        lines += [".. list-table::", "   :header-rows: 1", ""]
        for row in [self.columns, *self.rows]:
            for position, cell in enumerate(row):
                bullet = "* -" if position == 0 else "  -"
                lines.append(f"   {bullet} {_rst_text(cell) or '..'}")
        return "\n".join(lines) + "\n"


def _rst_text(text):
    """Escape the characters that reST would read as inline markup."""
    for char in "\\*`|_":
        text = text.replace(char, "\\" + char)
    return text


@dataclasses.dataclass
class Target:
    """A performance target of issue 4, with what this run measured."""

    name: str
    goal: str
    measured: str
    met: bool


def targets_table(targets):
    table = Table("Targets of issue 4", ["target", "goal", "measured", "met"])
    for target in targets:
        table.add(target.name, target.goal, target.measured, _yes_no(target.met))
    return table


def _yes_no(met):
    return "yes" if met else "NO"


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
    """How many times faster (or smaller) ours is than the anchor."""
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
