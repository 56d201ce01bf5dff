"""Build of skvq's compiled kernels.

Package metadata lives in pyproject.toml; this file only declares the Cython
extension modules, one per ``skvq/*.pyx``. Cython is a build-time requirement
(``[build-system] requires``), never a runtime one. The kernels use typed
memoryviews only, so no NumPy headers are needed to compile them.
"""

import os
import sys
import tempfile
import textwrap
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

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


# A program that needs OpenMP to compile, link and run its parallel loop.
OPENMP_TEST = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d", n > 0 && omp_get_max_threads() > 0);
        return 0;
    }
    """
)


def openmp_flags(compiler):
    """(compile, link) flags that build OpenMP code with ``compiler``, or None.

    As scikit-learn's build helpers: the flags are tried on a test program
    (``SKVQ_NO_OPENMP=1`` skips OpenMP altogether). MSVC takes ``/openmp``;
    GCC and Clang ``-fopenmp``. Apple's Clang has no OpenMP runtime of its
    own: with libomp installed (``brew install libomp``), the environment
    gives its paths (see doc/install.rst): ``CPPFLAGS="-Xpreprocessor
    -fopenmp"``, ``CFLAGS="-I$(brew --prefix libomp)/include"``,
    ``LDFLAGS="-L$(brew --prefix libomp)/lib -lomp"``.
    """
    if os.environ.get("SKVQ_NO_OPENMP", "0") not in ("", "0"):
        return None
    if compiler.compiler_type == "msvc":
        candidates = [(["/openmp"], [])]
    elif sys.platform == "darwin" and "-fopenmp" in os.environ.get("CPPFLAGS", ""):
        candidates = [([], ["-lomp"]), (["-fopenmp"], ["-fopenmp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    for compile_flags, link_flags in candidates:
        with tempfile.TemporaryDirectory() as directory:
            source = Path(directory, "test_openmp.c")
            source.write_text(OPENMP_TEST)
            try:
                objects = compiler.compile(
                    [str(source)], output_dir=directory, extra_postargs=compile_flags
                )
                compiler.link_executable(
                    objects,
                    "test_openmp",
                    output_dir=directory,
                    extra_postargs=link_flags,
                )
            except (CompileError, LinkError):
                continue
        return compile_flags, link_flags
    return None


# The module of kernels compiled for x86's POPCNT instruction (see
# skvq/_colour_kernels.py), and a program that compiles only where
# ``-mpopcnt`` targets it.
POPCNT_MODULE = "skvq._colour_histogram_popcnt"
POPCNT_TEST = textwrap.dedent(
    """
    #if !defined(__POPCNT__)
    #error "no POPCNT"
    #endif
    int main(void) { return __builtin_popcountll(3ULL) == 2 ? 0 : 1; }
    """
)


def popcnt_flags(compiler):
    """Compile flags that target POPCNT with ``compiler``, or None (MSVC,
    and compilers for other processors, which refuse ``-mpopcnt``)."""
    if compiler.compiler_type == "msvc":
        return None
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory, "test_popcnt.c")
        source.write_text(POPCNT_TEST)
        try:
            compiler.compile(
                [str(source)], output_dir=directory, extra_postargs=["-mpopcnt"]
            )
        except CompileError:
            return None
    return ["-mpopcnt"]


class OptimizedBuildExt(build_ext):
    """Compile at -O3 with GCC and Clang, whatever the Python's own flags.

    Many Pythons (Debian's and Ubuntu's, for example) compile extensions at
    -O2, where GCC leaves most loops unvectorised: the edge count of
    skvq/_binning.pyx then runs 3.5x slower (float32, 7 edges: 0.5 instead
    of 1.8 gigapixels per second). MSVC's default (/O2) already vectorises.
    No -march: wheels must run on every processor of their platform; the one
    module compiled for more (``-mpopcnt``, where the compiler takes it) is
    imported only where the processor has it.
    Outside ``build_ext --debug``, -g0 drops the debug symbols that the
    Python's CFLAGS (-g) would put in every module. -fno-math-errno lets
    GCC vectorise ``sqrt`` (no kernel reads ``errno``; the values are the
    same, IEEE square roots either way): the centres' distances of
    skvq/_lloyd.pyx otherwise take one scalar square root and a branch each.
    """

    def build_extensions(self):
        if self.compiler.compiler_type != "msvc":
            for extension in self.extensions:
                # After the Python's flags on the command line, so it wins.
                extension.extra_compile_args.extend(["-O3", "-fno-math-errno"])
                if not self.debug:
                    # Without it a wheel built from source is 6.1 MB
                    # instead of 1.2 MB (pip wheel . --no-deps, Linux GCC).
                    extension.extra_compile_args.append("-g0")
        # The POPCNT variant of the colour kernels, where it can be built.
        flags = popcnt_flags(self.compiler)
        for extension in list(self.extensions):
            if extension.name == POPCNT_MODULE:
                if flags is None:
                    print(f"skvq: {POPCNT_MODULE} left out (no -mpopcnt here).")
                    self.extensions.remove(extension)
                else:
                    extension.extra_compile_args.extend(flags)
        flags = openmp_flags(self.compiler)
        if flags is None:
            print(
                "skvq: building without OpenMP; the kernels will run on one "
                "thread (see doc/install.rst)."
            )
        else:
            for extension in self.extensions:
                extension.extra_compile_args.extend(flags[0])
                extension.extra_link_args.extend(flags[1])
        super().build_extensions()


setup(
    ext_modules=cythonize(extensions, compiler_directives=COMPILER_DIRECTIVES),
    cmdclass={"build_ext": OptimizedBuildExt},
)
