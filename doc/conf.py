"""Sphinx configuration for the skvq documentation.

Build with ``python -m sphinx -W --keep-going -b html doc doc/_build/html``.
The build needs no network: intersphinx is left out on purpose, and the raccoon
image the gallery loads through ``scipy.datasets.face()`` is seeded into pooch's
cache from a local copy before the examples run (see ``tools/seed_data.py``).

The pages it writes need no network either: MathJax is served from the
build's own ``_static`` folder (``sphinx-mathjax-offline``). The extension
``page_checks`` (in ``sphinxext/``) fails the build if a page or stylesheet
still loads anything from another host, or if a table lost its headings.
"""

import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent
REPOSITORY = DOC.parent

sys.path.insert(0, str(REPOSITORY / "tools"))
sys.path.insert(0, str(DOC / "sphinxext"))
from seed_data import seed_face

seed_face()

import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, for the limit below)
from threadpoolctl import threadpool_limits

import skvq

# The gallery runs in this process. Its arrays are small, so a second BLAS
# thread gains nothing, but on a busy machine OpenBLAS threads waiting for one
# another made a grid search of logistic regressions 60 times slower. The
# limit applies to the BLAS libraries loaded so far: NumPy's and SciPy's.
threadpool_limits(limits=1, user_api="blas")

# -- Project -----------------------------------------------------------------

project = "skvq"
author = "The skvq developers"
copyright = "The skvq developers"
version = release = skvq.__version__

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Sets mathjax_path to a copy of MathJax 3 that it puts in _static, in
    # place of Sphinx's default CDN address.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "page_checks",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
# benchmark_results.rst is pulled into benchmarks.rst with ``.. include::``;
# built on its own it would be a page outside every toctree.
exclude_patterns += ["benchmark_results.rst"]
# sphinx-gallery's execution-time pages load jQuery, DataTables and Bootstrap
# from CDNs; they are not written (``write_computation_times`` below), and a
# copy left by an older build is not read either.
exclude_patterns += ["sg_execution_times.rst", "auto_examples/sg_execution_times.rst"]
default_role = "literal"

# -- API reference -------------------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
# numpydoc lists the methods itself; the class template lists them once more
# with autosummary, and two listings would document each method twice.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# Inherited scikit-learn methods (get_params, set_output, ...) cite labels and
# glossary terms of scikit-learn's own documentation, which an offline build
# cannot resolve (no intersphinx inventory); this project has no glossary
# either. They become plain links to scikit-learn's pages (a link is followed
# by the reader, never loaded by the page), so "Please check User Guide" keeps
# its link and an example cited by its gallery label shows its title.
SKLEARN_DOC = "https://scikit-learn.org/stable/"
# Labels of scikit-learn's documentation that its docstrings cite, and the
# page (or anchor) each names.
_SKLEARN_LABELS = {
    "metadata_routing": "metadata_routing.html",
    "df_output_transform": "developers/develop.html#developer-api-for-set-output",
}
# Gallery labels, sphx_glr_auto_examples_<folder>_<script>.py, with the title
# of the example they name.
_SKLEARN_EXAMPLES = {
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py": (
        "auto_examples/miscellaneous/plot_set_output.html",
        "scikit-learn's example Introducing the set_output API",
    ),
}
_REF_WITH_TITLE = re.compile(r":ref:`([^`<]+?)\s*<([^>`]+)>`")
_BARE_REF = re.compile(r":ref:`([^`<]+)`")
_TERM = re.compile(r":term:`([^`<]+?)(?:\s*<([^>`]+)>)?`")


def _sklearn_label_link(text, label):
    if label in _SKLEARN_EXAMPLES:
        page, title = _SKLEARN_EXAMPLES[label]
        return f"`{text or title} <{SKLEARN_DOC}{page}>`__"
    if label in _SKLEARN_LABELS:
        return f"`{text} <{SKLEARN_DOC}{_SKLEARN_LABELS[label]}>`__"
    # A label this table does not know: its text, without a link.
    return text or f"``{label}``"


def _glossary_link(match):
    text, term = match.group(1).strip(), (match.group(2) or match.group(1)).strip()
    anchor = "term-" + re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")
    return f"`{text} <{SKLEARN_DOC}glossary.html#{anchor}>`__"


def _link_foreign_references(app, what, name, obj, options, lines):
    from_sklearn = (getattr(obj, "__module__", None) or "").startswith("sklearn")
    for i, line in enumerate(lines):
        line = _TERM.sub(_glossary_link, line)
        if from_sklearn:
            line = _REF_WITH_TITLE.sub(
                lambda m: _sklearn_label_link(m.group(1).strip(), m.group(2)), line
            )
            line = _BARE_REF.sub(lambda m: _sklearn_label_link("", m.group(1)), line)
        lines[i] = line


def _link_sklearn_objects(app, env, node, contnode):
    """Link an unresolved ``sklearn.*`` (or ``numpy.*``) object to its page.

    Both projects write one page per public object under a fixed address, so
    :class:`~sklearn.cluster.KMeans` in the user guide links to scikit-learn's
    page for it without any inventory being downloaded.
    """
    from docutils import nodes

    target = node.get("reftarget", "")
    if node.get("refdomain") != "py":
        return None
    if target.startswith("sklearn."):
        address = f"{SKLEARN_DOC}modules/generated/{target}.html"
    elif target.startswith(("numpy.", "np.")):
        target = "numpy." + target.split(".", 1)[1]
        address = f"https://numpy.org/doc/stable/reference/generated/{target}.html"
    else:
        return None
    reference = nodes.reference("", "", internal=False, refuri=address)
    reference.append(contnode)
    return reference


def setup(app):
    app.connect("autodoc-process-docstring", _link_foreign_references)
    app.connect("missing-reference", _link_sklearn_objects)
    app.add_css_file("skvq.css")


# -- Gallery -----------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(REPOSITORY / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "backreferences_dir": "generated/backreferences",
    # Code in the examples links to skvq's own API pages; other libraries'
    # pages would need their intersphinx inventories downloaded, which the
    # offline build does not do.
    "doc_module": ("skvq",),
    "matplotlib_animations": False,
    # The execution-time tables are pages styled with DataTables from a CDN;
    # each example's page still says how long it ran.
    "write_computation_times": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skvq {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # Every top-level page in the navbar, none under a "More" menu.
    "header_links_before_dropdown": 12,
}
# Pages without sub-pages have nothing to show in the left-hand section
# navigation; without it, their text gets the width.
_PAGES_WITHOUT_SUBPAGES = ["index", "install", "quick_start", "user_guide"]
_PAGES_WITHOUT_SUBPAGES += ["benchmarks", "changelog"]
html_sidebars = {page: [] for page in _PAGES_WITHOUT_SUBPAGES}
# The benchmark results are wide tables: their pages take the whole width.
html_sidebars["benchmarks/*"] = []
# The right-hand "On this page" list shows ``fit_transform()``, not
# ``ImageVectorQuantizer.fit_transform()``, which its width cut off.
toc_object_entries_show_parents = "hide"
html_static_path = ["_static"]
html_show_sourcelink = False
