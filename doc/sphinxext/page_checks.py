"""Checks of the built HTML pages, run at the end of every HTML build.

What a reader of the pages relies on, which Sphinx itself does not check:

- **Every page renders without a network.** No page and no stylesheet loads a
  script, stylesheet, font, image or frame from another host (a CDN), and every
  script and stylesheet a page loads from the build itself exists.
- **Every table has headings.** docutils drops a table's header row when its
  first cell is empty, which leaves the reader guessing what each column holds.
- **Every table fits its column**, as far as the HTML tells: the longest
  unbreakable piece of text of each column, added up, fits the width of the
  page's text (:func:`table_problems`).
- **No raw LaTeX is shown.** No backslash command outside maths, and none in
  the argument of a text-mode command inside maths (``\\texttt{n\\_bins}``,
  which MathJax prints with its backslashes) (:func:`latex_problems`).
- **Every promised comparison ran.** No gallery page's output says that a
  peer "is not installed" or that a step was "skipped"
  (:func:`gallery_problems`).

As a Sphinx extension (``extensions = [..., "page_checks"]``) it logs every
problem as an error and fails the build when a check finds one. The functions
:func:`network_problems`, :func:`table_problems`, :func:`latex_problems` and
:func:`gallery_problems` check a folder of HTML pages on their own; the test
suite runs them on a build it makes itself.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sphinx.util import logging

logger = logging.getLogger(__name__)

# Attributes whose URL a browser fetches by itself while rendering the page
# (links a reader clicks, ``<a href>``, are not among them).
_LOADING_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
}
# <link rel=...> values that make the browser fetch the target.
_LOADING_LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "prefetch"}
# url(...) and @import "..." inside CSS, in style sheets and style attributes.
_CSS_URL = re.compile(
    r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.IGNORECASE
)


def _is_remote(url):
    """Whether fetching ``url`` needs another host (``https://``, ``//host``)."""
    return bool(urlsplit(url.strip()).netloc)


def _srcset_urls(value):
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]


def _css_urls(text):
    return [match.group(2) or match.group(4) for match in _CSS_URL.finditer(text)]


class _PageResources(HTMLParser):
    """Collect ``(tag, url)`` of everything a page loads while it renders."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "link":
            rels = set(attrs.get("rel", "").lower().split())
            if rels & _LOADING_LINK_RELS and attrs.get("href"):
                self.loads.append(("link rel=" + attrs["rel"], attrs["href"]))
        for name in _LOADING_ATTRIBUTES.get(tag, ()):
            value = attrs.get(name)
            if not value:
                continue
            urls = _srcset_urls(value) if name == "srcset" else [value]
            self.loads.extend((tag, url) for url in urls)
        for url in _css_urls(attrs.get("style", "")):
            self.loads.append((f"{tag} style", url))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.loads.extend(("style", url) for url in _css_urls(data))


def _local_target(page, url):
    """The file a relative ``url`` of ``page`` names, or None for data: etc."""
    parts = urlsplit(url)
    if parts.scheme or not parts.path:
        return None
    return page.parent / unquote(parts.path)


def _pages(root):
    """The HTML pages of a build (``_static`` holds theme templates, not pages)."""
    return sorted(
        page
        for page in root.rglob("*.html")
        if "_static" not in page.relative_to(root).parts
    )


def network_problems(html_dir):
    """Resources the pages under ``html_dir`` would fetch from the network.

    Parameters
    ----------
    html_dir : path-like
        Output folder of an HTML build.

    Returns
    -------
    problems : list of str
        One line per problem, naming the file (relative to ``html_dir``), the
        tag and the URL: every script, stylesheet, font, image or frame that an
        ``.html`` or ``.css`` file loads from another host, and every script or
        stylesheet loaded from a local file that does not exist. Empty when
        every page renders offline.
    """
    root = Path(html_dir)
    problems = []
    for page in _pages(root):
        parser = _PageResources()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        parser.close()
        name = page.relative_to(root).as_posix()
        for tag, url in parser.loads:
            if _is_remote(url):
                problems.append(f"{name}: <{tag}> loads {url} from the network")
            elif tag == "script" or tag.startswith("link rel="):
                target = _local_target(page, url)
                if target is not None and not target.is_file():
                    problems.append(f"{name}: <{tag}> loads {url}, which is missing")
    for sheet in sorted(root.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        name = sheet.relative_to(root).as_posix()
        problems.extend(
            f"{name}: loads {url} from the network"
            for url in _css_urls(text)
            if _is_remote(url)
        )
    return problems


# Tables that are not reST tables: autosummary's lists of names and one-line
# summaries, the general index, and data frames shown by the gallery (pandas
# writes their headings itself).
_UNCHECKED_TABLES = {"autosummary", "indextable", "dataframe", "highlighttable"}


# Widths in em of the body font, for the check that a table fits: the text
# column of a page (pydata-sphinx-theme's 60em article, less its padding), of
# a page marked ``wide-page`` (doc/_static/skvq.css: the whole 88rem page),
# the mean width of a character, and the padding of a cell. Calibrated in
# headless Chromium at 1400 px: the text is 56em and 82.6em wide; the least
# widths (``width: min-content``) of the fourteen tables of the user guide
# and the benchmark pages were from 5% above to 17% below this estimate, and
# the Ckmeans.1d.dp table that overflowed the text (60.6em) is estimated at
# 57.6em, more than the 56em of a page's text.
TEXT_WIDTH_EM = 56
WIDE_TEXT_WIDTH_EM = 82
CHARACTER_EM = 0.6
CELL_PADDING_EM = 1.2


class _Tables(HTMLParser):
    """Collect each table's header cells (the ``<th>`` inside ``<thead>``)
    and the longest unbreakable word of each column."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = []  # dicts: checked?, headings, first words, widths
        self.wide_page = False
        self._open = []  # the tables being read, innermost last
        self._in_head = False
        self._cell = None
        self._column = None
        self._text = None

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if "wide-page" in classes:
            self.wide_page = True
        if tag == "table":
            checked = not classes & _UNCHECKED_TABLES
            table = {"checked": checked, "headings": [], "widths": {}}
            table["words"] = ""
            self.tables.append(table)
            self._open.append(table)
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._open:
            self._column = 0
        elif tag in ("td", "th") and self._open:
            self._text = []
            if tag == "th" and self._in_head:
                self._cell = []

    def handle_endtag(self, tag):
        if tag == "th" and self._cell is not None:
            self._open[-1]["headings"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag in ("td", "th") and self._text is not None and self._open:
            # Text breaks at spaces only (a no-break space joins).
            words = "".join(self._text).split(" ")
            longest = max((len(word.strip()) for word in words), default=0)
            widths = self._open[-1]["widths"]
            widths[self._column] = max(widths.get(self._column, 0), longest)
            self._column = (self._column or 0) + 1
            self._text = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table" and self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._text is not None:
            self._text.append(data.replace("\n", " ").replace("\t", " "))
        if self._open and len(self._open[-1]["words"]) < 50:
            self._open[-1]["words"] += " ".join(data.split()) + " "


def table_width_em(longest_words):
    """The least width, in em, of a table whose columns hold these words."""
    return sum(CHARACTER_EM * n + CELL_PADDING_EM for n in longest_words)


def table_problems(html_dir):
    """Tables under ``html_dir`` without headings, or wider than their column.

    Only tables written from reST are checked (see ``_UNCHECKED_TABLES``). A
    table is too wide when, even with every cell wrapped at its spaces, its
    longest words (:func:`table_width_em`) need more than the width of the
    page's text (``TEXT_WIDTH_EM``, or ``WIDE_TEXT_WIDTH_EM`` on a page
    marked ``wide-page``). Returns one line per problem, naming the file and
    the table's first words; empty when every table is fine.
    """
    root = Path(html_dir)
    problems = []
    for page in _pages(root):
        parser = _Tables()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        parser.close()
        name = page.relative_to(root).as_posix()
        room = WIDE_TEXT_WIDTH_EM if parser.wide_page else TEXT_WIDTH_EM
        for table in parser.tables:
            if not table["checked"]:
                continue
            headings = table["headings"]
            words = table["words"].strip()[:50]
            if not (headings and all(headings)):
                problems.append(f"{name}: table starting {words!r} lacks headings")
            width = table_width_em(table["widths"].values())
            if width > room:
                problems.append(
                    f"{name}: table starting {words!r} needs about {width:.0f}em, "
                    f"wider than the {room}em of the page's text"
                )
    return problems


# Text-mode commands inside maths, whose argument MathJax prints as it is.
_TEXT_MODE = re.compile(r"\\(?:text\w*|mbox)\s*\{([^{}]*)\}")
# A LaTeX command as a reader would see it in the text: \name{ or \_ ...
_RAW_LATEX = re.compile(r"\\(?:[A-Za-z]+\s*[{\[]|[_{}$%&#^])")


class _Text(HTMLParser):
    """Collect the text a page shows, apart from its maths, code and scripts,
    and the maths itself (``<span class="math">``, ``<div class="math">``)."""

    _SKIPPED = {"script", "style", "pre", "code", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.maths, self.outputs = [], [], []
        self._stack = []  # (tag, kind) of the open elements

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if tag in ("span", "div") and "math" in classes:
            kind = "math"
        elif "sphx-glr-script-out" in classes:
            kind = "output"
        elif tag in self._SKIPPED:
            kind = "skip"
        else:
            kind = None
        if tag in ("br", "img", "meta", "link", "input", "hr", "source"):
            return
        self._stack.append((tag, kind))

    def handle_endtag(self, tag):
        for depth in range(len(self._stack) - 1, -1, -1):
            if self._stack[depth][0] == tag:
                del self._stack[depth:]
                break

    def handle_data(self, data):
        kinds = {kind for _, kind in self._stack}
        if "output" in kinds:
            self.outputs.append(data)
        if "math" in kinds:
            self.maths.append(data)
        elif not kinds & {"skip", "output"}:
            self.text.append(data)


def _page_text(page):
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def latex_problems(html_dir):
    """Raw LaTeX a reader would see on the pages under ``html_dir``.

    Reports a LaTeX command (``\\texttt{``, ``\\_``, ...) in a page's text
    outside maths, code and scripts, and a backslash in the argument of a
    text-mode command (``\\text``, ``\\texttt``, ``\\mbox``) inside maths,
    which MathJax prints as it is. One line per problem; empty when none.
    """
    root = Path(html_dir)
    problems = []
    for page in _pages(root):
        if page.name in ("genindex.html", "search.html", "py-modindex.html"):
            continue
        parsed = _page_text(page)
        name = page.relative_to(root).as_posix()
        for match in _RAW_LATEX.finditer(" ".join(parsed.text)):
            problems.append(f"{name}: raw LaTeX {match.group(0)!r} in the text")
        for match in _TEXT_MODE.finditer(" ".join(parsed.maths)):
            if "\\" in match.group(1):
                problems.append(
                    f"{name}: maths shows {match.group(0)!r} with its backslashes"
                )
    return problems


# What an example prints when a comparison it promises did not run.
_SKIPPED_PEER = re.compile(r"is not installed|\bskipped\b", re.IGNORECASE)


def gallery_problems(html_dir):
    """Gallery pages whose output says a peer is missing or a step skipped.

    Reads the output blocks of the examples (``sphx-glr-script-out``) of the
    pages under ``html_dir``. One line per page and phrase; empty when every
    comparison ran.
    """
    root = Path(html_dir)
    problems = []
    for page in _pages(root):
        parsed = _page_text(page)
        output = " ".join(parsed.outputs)
        name = page.relative_to(root).as_posix()
        for match in _SKIPPED_PEER.finditer(output):
            start = max(0, match.start() - 60)
            context = " ".join(output[start : match.end()].split())
            problems.append(f"{name}: the example's output says {context!r}")
    return problems


def _check_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    problems = network_problems(app.outdir) + table_problems(app.outdir)
    problems += latex_problems(app.outdir) + gallery_problems(app.outdir)
    for problem in problems:
        logger.error(problem, type="page_checks")
    if problems:
        # Fails the build with or without -W.
        app.statuscode = 1


def setup(app):
    # After the default priority (500): sphinx-mathjax-offline copies MathJax
    # into _static at build-finished too, and must have done so.
    app.connect("build-finished", _check_pages, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
