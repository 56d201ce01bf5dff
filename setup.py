"""Build of skvq's compiled kernels.

Package metadata lives in pyproject.toml; this file only declares the Cython
extension modules, one per ``skvq/*.pyx``. Cython is a build-time requirement
(``[build-system] requires``), never a runtime one. The kernels use typed
memoryviews only, so no NumPy headers are needed to compile them.
"""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

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


class OptimizedBuildExt(build_ext):
    """Compile at -O3 with GCC and Clang, whatever the Python's own flags.

    Many Pythons (Debian's and Ubuntu's, for example) compile extensions at
    -O2, where GCC leaves most loops unvectorised: the edge count of
    skvq/_binning.pyx then runs 3.5x slower (float32, 7 edges: 0.5 instead
    of 1.8 gigapixels per second). MSVC's default (/O2) already vectorises.
    No -march: wheels must run on every processor of their platform.
    Outside ``build_ext --debug``, -g0 drops the debug symbols that the
    Python's CFLAGS (-g) would put in every module.
    """

    def build_extensions(self):
        if self.compiler.compiler_type != "msvc":
            for extension in self.extensions:
                # After the Python's flags on the command line, so it wins.
                extension.extra_compile_args.append("-O3")
                if not self.debug:
                    # Without it a wheel built from source is 6.1 MB
                    # instead of 1.2 MB (pip wheel . --no-deps, Linux GCC).
                    extension.extra_compile_args.append("-g0")
        super().build_extensions()


setup(
    ext_modules=cythonize(extensions, compiler_directives=COMPILER_DIRECTIVES),
    cmdclass={"build_ext": OptimizedBuildExt},
)
