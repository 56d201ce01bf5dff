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

# Inherited scikit-learn methods (get_params, set_output, ...) link to labels
# and glossary terms of scikit-learn's own documentation, which an offline
# build cannot resolve (no intersphinx inventory); this project has no
# glossary either. Such cross-references are rendered as their text instead.
_REF_WITH_TITLE = re.compile(r":ref:`([^`<]+?)\s*<[^>`]+>`")
_BARE_REF = re.compile(r":ref:`([^`<]+)`")
_TERM = re.compile(r":term:`([^`<]+?)(?:\s*<[^>`]+>)?`")


def _unlink_foreign_references(app, what, name, obj, options, lines):
    from_sklearn = (getattr(obj, "__module__", None) or "").startswith("sklearn")
    for i, line in enumerate(lines):
        line = _TERM.sub(r"\1", line)
        if from_sklearn:
            line = _REF_WITH_TITLE.sub(r"\1", line)
            line = _BARE_REF.sub(r"``\1``", line)
        lines[i] = line


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_foreign_references)


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
}
# Pages without sub-pages have nothing to show in the left-hand section
# navigation; without it, their text gets the width.
_PAGES_WITHOUT_SUBPAGES = ["index", "install", "quick_start", "user_guide"]
_PAGES_WITHOUT_SUBPAGES += ["benchmarks", "changelog"]
html_sidebars = {page: [] for page in _PAGES_WITHOUT_SUBPAGES}
# The right-hand "On this page" list shows ``fit_transform()``, not
# ``ImageVectorQuantizer.fit_transform()``, which its width cut off.
toc_object_entries_show_parents = "hide"
html_static_path = []
html_show_sourcelink = False
