"""The documentation's pages render without a network, its tables have
headings and fit their column, no raw LaTeX shows, and every comparison the
gallery promises ran.

The checks live in ``doc/sphinxext/page_checks.py``, which every HTML build of
the documentation runs at its end. Here they are first shown to catch what they
must catch, on pages written by hand; then they are run on the real pages, from
a build of a copy of ``doc/`` with the project's own ``conf.py`` (theme,
extensions, MathJax setup, gallery settings), made in a temporary folder with
the gallery's scripts left unexecuted (``plot_gallery=0``) so that it takes
seconds rather than minutes.
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
DOC = REPOSITORY / "doc"


def _page_checks():
    path = DOC / "sphinxext" / "page_checks.py"
    if not path.is_file():
        pytest.skip("doc/ is not beside tests/ (an installed copy of the tests)")
    spec = importlib.util.spec_from_file_location("page_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGE = """<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="_static/local.css?v=1">
<link rel="stylesheet" href="https://cdn.example.org/theme.css">
<link rel="preload" as="script" href="//cdn.example.org/preloaded.js">
<link rel="canonical" href="https://example.org/page.html">
<script src="_static/local.js"></script>
<script src="_static/missing.js"></script>
<script src="https://cdn.example.org/mathjax.js"></script>
<script>var inline = "https://example.org/not-a-load.js";</script>
<style>.a { background: url("https://fonts.example.org/a.woff2"); }</style>
</head><body>
<a href="https://example.org/a-link-is-fine.html">link</a>
<img src="data:image/png;base64,AAAA" alt="inline">
<img src="_images/local.png" alt="local">
<img srcset="small.png 1x, https://img.example.org/big.png 2x" alt="set">
<iframe src="https://video.example.org/embed"></iframe>
<div style="background-image: url(//img.example.org/bg.png)"></div>
</body></html>
"""

CSS = """@import url("https://fonts.example.org/css?family=X");
.b { src: url(../fonts/local.woff2); }
"""


def test_network_check_reports_every_remote_load_and_missing_script(tmp_path):
    checks = _page_checks()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "local.css").write_text(CSS)
    (tmp_path / "_static" / "local.js").write_text("")
    (tmp_path / "page.html").write_text(PAGE)

    problems = checks.network_problems(tmp_path)

    reported = "\n".join(problems)
    for url in [
        "https://cdn.example.org/theme.css",
        "//cdn.example.org/preloaded.js",
        "https://cdn.example.org/mathjax.js",
        "https://fonts.example.org/a.woff2",
        "https://img.example.org/big.png",
        "https://video.example.org/embed",
        "//img.example.org/bg.png",
        "https://fonts.example.org/css?family=X",
        "_static/missing.js",
    ]:
        assert url in reported, url
    # Links, inline scripts' text, data: URIs and local files that exist are
    # no network loads.
    for url in [
        "https://example.org/a-link-is-fine.html",
        "https://example.org/not-a-load.js",
        "https://example.org/page.html",
        "data:image/png;base64,AAAA",
        "_images/local.png",
        "_static/local.js",
        "_static/local.css?v=1",
        "../fonts/local.woff2",
    ]:
        assert f"loads {url}" not in reported, url
    assert len(problems) == 9
    assert problems[-1].startswith("_static/local.css: ")


def test_network_check_passes_a_page_that_loads_only_local_files(tmp_path):
    checks = _page_checks()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "app.js").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_text(
        '<script src="../_static/app.js?digest=1"></script>'
        '<a href="https://example.org">out</a>'
    )
    assert checks.network_problems(tmp_path) == []


TABLES = """<html><body>
<table class="table"><thead><tr><th>aspect</th><th>A</th></tr></thead>
<tbody><tr><td>x</td><td>1</td></tr></tbody></table>
<table class="table"><tbody><tr><td>no header row</td><td>1</td></tr></tbody>
</table>
<table class="table"><thead><tr><th></th><th>A</th></tr></thead>
<tbody><tr><td>empty corner</td><td>1</td></tr></tbody></table>
<table class="autosummary longtable table"><tbody><tr><td>fit</td></tr></tbody>
</table>
<table class="dataframe"><thead><tr><th></th><th>MSE</th></tr></thead>
<tbody><tr><th>kmeans</th><td>1</td></tr></tbody></table>
</body></html>
"""


def test_table_check_reports_tables_without_headings(tmp_path):
    checks = _page_checks()
    (tmp_path / "page.html").write_text(TABLES)

    problems = checks.table_problems(tmp_path)

    assert len(problems) == 2
    assert "no header row" in problems[0]
    assert "empty corner" in problems[1]


def _table(cells_per_column, wide=False):
    head = "".join(f"<th>h{i}</th>" for i in range(len(cells_per_column)))
    body = "".join(f"<td>{cell}</td>" for cell in cells_per_column)
    section = '<section class="wide-page">' if wide else "<section>"
    return (
        f"<html><body>{section}<table class='table'><thead><tr>{head}</tr>"
        f"</thead><tbody><tr>{body}</tr></tbody></table></section></body></html>"
    )


def test_table_check_reports_a_table_wider_than_the_text(tmp_path):
    checks = _page_checks()
    # Ten columns of 15-character words need about 102em even fully wrapped,
    # more than the 56em of a page's text and the 82em of a wide page.
    word = "Ckmeans.1d.dp-x"
    (tmp_path / "wide.html").write_text(_table([f"{word} {word}"] * 10))
    (tmp_path / "wide_page.html").write_text(_table([word] * 10, wide=True))
    # The same words wrap at their spaces: short words fit.
    (tmp_path / "narrow.html").write_text(_table(["85.9 ms a b c"] * 10))
    # A no-break space joins a number to its unit: five such columns of
    # 39 characters need about 123em.
    joined = "\u00a0".join(["85.9"] * 8)
    (tmp_path / "joined.html").write_text(_table([joined] * 5))
    # On a wide page, seven columns of 15 characters (71em) fit.
    (tmp_path / "fits_wide.html").write_text(_table([word] * 7, wide=True))

    problems = checks.table_problems(tmp_path)

    reported = sorted(problem.split(":")[0] for problem in problems)
    assert reported == ["joined.html", "wide.html", "wide_page.html"]
    assert all("wider than" in problem for problem in problems)


def test_latex_check_reports_backslashes_a_reader_would_see(tmp_path):
    checks = _page_checks()
    (tmp_path / "text.html").write_text(
        "<p>n\\_bits\\_ is \\texttt{n\\_bits}</p>"
        '<span class="math notranslate">\\(\\lceil \\log_2 K \\rceil\\)</span>'
        "<pre>print('\\_ in code is fine')</pre>"
    )
    (tmp_path / "maths.html").write_text(
        '<div class="math">\\[\\texttt{n\\_bits\\_} = 1\\]</div>'
    )
    (tmp_path / "good.html").write_text(
        '<div class="math">\\[\\mathtt{n\\_bits\\_} = \\text{bits}\\]</div>'
        "<p>a backslash alone \\ is no command</p>"
    )

    problems = checks.latex_problems(tmp_path)

    assert {problem.split(":")[0] for problem in problems} == {
        "maths.html",
        "text.html",
    }
    assert any("texttt{" in problem for problem in problems if "text." in problem)


def test_gallery_check_reports_a_skipped_peer(tmp_path):
    checks = _page_checks()
    output = '<div class="sphx-glr-script-out"><pre>{}</pre></div>'
    (tmp_path / "skipped.html").write_text(
        output.format("pngquant is not installed (pip install pngquant-cli)")
    )
    (tmp_path / "step.html").write_text(output.format("comparison skipped."))
    # The same words in the page's prose, outside the example's output.
    (tmp_path / "ran.html").write_text(
        "<p>if pngquant is not installed it is skipped</p>"
        + output.format("pngquant: 54,321 bytes")
    )

    problems = checks.gallery_problems(tmp_path)

    assert sorted(problem.split(":")[0] for problem in problems) == [
        "skipped.html",
        "step.html",
    ]


def test_built_pages_load_nothing_from_the_network(tmp_path):
    """Build the documentation offline and check every page it writes."""
    checks = _page_checks()
    source = tmp_path / "project"
    ignore = shutil.ignore_patterns(
        "_build", "auto_examples", "generated", "sg_execution_times.rst"
    )
    for folder in ["doc", "examples", "tools"]:
        shutil.copytree(REPOSITORY / folder, source / folder, ignore=ignore)
    html = tmp_path / "html"

    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q"]
    command += ["-D", "plot_gallery=0", str(source / "doc"), str(html)]
    build = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
    )

    # The build runs the same checks at its end and fails if they find
    # anything; its output then lists the problems.
    assert build.returncode == 0, build.stderr[-4000:]
    pages = {page.relative_to(html).as_posix() for page in html.rglob("*.html")}
    assert {"user_guide.html", "benchmarks.html", "api.html"} <= pages
    assert "auto_examples/plot_raccoon_face.html" in pages
    # The maths is there, and typeset by a MathJax copied into the build.
    user_guide = (html / "user_guide.html").read_text(encoding="utf-8")
    assert r"\lceil \log_2 K \rceil" in user_guide
    assert 'src="_static/mathjax/tex-chtml.js"' in user_guide
    assert checks.network_problems(html) == []
    assert checks.table_problems(html) == []
    assert checks.latex_problems(html) == []
    # The benchmark results, one page per family, take the page's width.
    assert {"benchmarks/gray.html", "benchmarks/goals.html"} <= pages
    assert "wide-page" in (html / "benchmarks/gray.html").read_text(encoding="utf-8")
