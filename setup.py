"""Build of xnn's C extension, xnn._core.

Flags: -O3 -std=c11 -Wall -Wextra, never fast-math, no contraction of a * b
+ c into an FMA outside the kernels that ask for one (-ffp-contract=off:
GCC already does so in ISO C mode, clang does not). XNN_WERROR=1 turns
warnings into errors (CI sets it); XNN_NATIVE=1 adds -march=native (opt-in,
the wheel then runs only on machines like the build machine);
XNN_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer
(-O1, every error fatal; .ci/run's sanitizer job), whose runtime must then
be preloaded into Python. A build also
leaves a copy of the extension in the source tree's xnn/, as an in-place
build would, so that commands run inside a checkout find it. Threads come
from a small pthread pool of xnn's own (csrc/core/pool.c), shared by the
GEMM and the large elementwise passes; no OpenMP runtime is linked.
"""
import os
import platform
from pathlib import Path

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
CSRC = Path("csrc")

# every translation unit of the extension (csrc/ in the layout of DESIGN.md);
# gemm micro-kernels carry their own instruction-set flags (see IsaBuildExt)
SOURCES = sorted(p.as_posix() for p in CSRC.rglob("*.c"))

# per-file extra flags: files compiled for one instruction set, and
# explain/lrp.c, whose stabilised divisions are selects (z >= 0 ? eps : -eps,
# d == 0 ? 0 : r / d) that GCC vectorizes only when it may assume that no
# code reads floating-point exception flags (-fno-trapping-math). That
# changes no value: unlike fast-math, it neither reassociates nor flushes.
FILE_FLAGS = {"explain/lrp.c": ["-fno-trapping-math"]}
if platform.machine().lower() in ("x86_64", "amd64"):
    FILE_FLAGS.update({
        "gemm/kernel_avx2.c": ["-mavx2", "-mfma"],
        "gemm/kernel_avx512.c": ["-mavx512f", "-mfma"],
    })


SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


def _flag(name):
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


class IsaBuildExt(build_ext):
    """Compile with the house flags and the per-file ISA flags."""

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        base = []
        if ctype == "msvc":
            base = ["/O2", "/W3"]
        else:
            base = ["-O3", "-std=c11", "-Wall", "-Wextra", "-fno-fast-math", "-ffp-contract=off"]
            if _flag("XNN_WERROR"):
                base.append("-Werror")
            if _flag("XNN_NATIVE"):
                base.append("-march=native")
            if _flag("XNN_SANITIZE"):
                # after -O3, so that these win
                base += SANITIZE + ["-O1", "-g", "-fno-omit-frame-pointer"]
        for ext in self.extensions:
            ext.extra_compile_args = base
            if ctype != "msvc" and _flag("XNN_SANITIZE"):
                ext.extra_link_args = SANITIZE
        original = self.compiler._compile

        def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
            extra = list(extra_postargs) + FILE_FLAGS.get(Path(src).as_posix().split("csrc/")[-1], [])
            return original(obj, src, ext, cc_args, extra, pp_opts)

        if ctype != "msvc":
            self.compiler._compile = compile_one
        super().build_extensions()

    def run(self):
        super().run()
        if not self.inplace:
            self._copy_into_checkout()

    def _copy_into_checkout(self):
        """Also place the built extension beside the sources of a checkout.

        ``python -m xnn ...`` run inside the checkout after ``pip install .``
        imports the package from the current directory, which would then lack
        its compiled part; a copy of the same build makes both work. A
        read-only source tree is left as it is.
        """
        import shutil

        for ext in self.extensions:
            built = Path(self.get_ext_fullpath(ext.name))
            target = HERE / self.get_ext_filename(ext.name)
            if not built.exists() or not target.parent.is_dir():
                continue
            try:
                shutil.copyfile(built, target)
            except OSError:
                pass


setup(
    ext_modules=[
        Extension(
            "xnn._core",
            sources=SOURCES,
            include_dirs=[numpy.get_include(), "csrc"],
            depends=[str(p) for p in CSRC.rglob("*.h")],
        )
    ],
    cmdclass={"build_ext": IsaBuildExt},
)
