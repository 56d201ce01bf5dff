"""Build of skvq's compiled kernels.

Package metadata lives in pyproject.toml; this file only declares the Cython
extension modules, one per ``skvq/*.pyx``. Cython is a build-time requirement
(``[build-system] requires``), never a runtime one. The kernels use typed
memoryviews only, so no NumPy headers are needed to compile them.
"""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

# Kernels validate nothing: the Python modules calling them check dtypes,
# shapes, contiguity and index ranges first (see each .pyx's docstring).
COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "nonecheck": False,
}

extensions = [
    Extension(f"skvq.{path.stem}", [str(path)])
    for path in sorted(Path("skvq").glob("*.pyx"))
]

setup(ext_modules=cythonize(extensions, compiler_directives=COMPILER_DIRECTIVES))
