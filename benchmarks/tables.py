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


def _rst_text(text):
    """Escape the characters that reST would read as inline markup."""
    for char in "\\*`|_":
        text = text.replace(char, "\\" + char)
    return text


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
        "Project goals",
        ["case", "goal", "this run", "goal reached"],
        note=(
            "While building skvq its developers set themselves these goals, "
            "each against an anchor measured in the same run (KBins is "
            "KBinsDiscretizer; the colour anchor is scikit-learn's "
            "colour-quantization example). A goal not reached is open work, "
            "not an error in the measurements."
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
