"""Checks of the built HTML pages, run at the end of every HTML build.

Two things a reader of the pages relies on, which Sphinx itself does not check:

- **Every page renders without a network.** No page and no stylesheet loads a
  script, stylesheet, font, image or frame from another host (a CDN), and every
  script and stylesheet a page loads from the build itself exists.
- **Every table has headings.** docutils drops a table's header row when its
  first cell is empty, which leaves the reader guessing what each column holds.

As a Sphinx extension (``extensions = [..., "page_checks"]``) it logs every
problem as an error and fails the build when either check finds one. The functions
:func:`network_problems` and :func:`table_problems` check a folder of HTML
pages on their own; the test suite runs them on a build it makes itself.
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


class _Tables(HTMLParser):
    """Collect each table's header cells (the ``<th>`` inside ``<thead>``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = []  # dicts: checked?, headings, first words
        self._open = []  # the tables being read, innermost last
        self._in_head = False
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            classes = set((dict(attrs).get("class") or "").split())
            checked = not classes & _UNCHECKED_TABLES
            table = {"checked": checked, "headings": []}
            table["words"] = ""
            self.tables.append(table)
            self._open.append(table)
        elif tag == "thead":
            self._in_head = True
        elif tag == "th" and self._in_head and self._open:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "th" and self._cell is not None:
            self._open[-1]["headings"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table" and self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._open and len(self._open[-1]["words"]) < 50:
            self._open[-1]["words"] += " ".join(data.split()) + " "


def table_problems(html_dir):
    """Tables under ``html_dir`` without a header row, or with an empty heading.

    Only tables written from reST are checked (see ``_UNCHECKED_TABLES``).
    Returns one line per table, naming the file and the table's first words;
    empty when every table has its headings.
    """
    root = Path(html_dir)
    problems = []
    for page in _pages(root):
        parser = _Tables()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        parser.close()
        name = page.relative_to(root).as_posix()
        for table in parser.tables:
            headings = table["headings"]
            if table["checked"] and not (headings and all(headings)):
                words = table["words"].strip()[:50]
                problems.append(f"{name}: table starting {words!r} lacks headings")
    return problems


def _check_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    problems = network_problems(app.outdir) + table_problems(app.outdir)
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
