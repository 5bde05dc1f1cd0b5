"""Build of xnn's C extension, xnn._core.

Flags: -O3 -std=c11 -Wall -Wextra, never fast-math. XNN_WERROR=1 turns
warnings into errors (CI sets it); XNN_NATIVE=1 adds -march=native (opt-in,
the wheel then runs only on machines like the build machine). A build also
leaves a copy of the extension in the source tree's xnn/, as an in-place
build would, so that commands run inside a checkout find it. The GEMM's
threads are a small pthread pool of its own (csrc/gemm/pool.c); OpenMP, when
the compiler has it, parallelises the explanations' large elementwise
passes. XNN_OPENMP=0 builds without OpenMP (those passes then run on one
thread; the GEMM keeps its threads).
"""
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
CSRC = Path("csrc")

# every translation unit of the extension; gemm micro-kernels carry their
# own instruction-set flags (see IsaBuildExt)
SOURCES = [
    "csrc/module.c",
    "csrc/cpu.c",
    "csrc/gemm/gemm.c",
    "csrc/gemm/blocking.c",
    "csrc/gemm/pack.c",
    "csrc/gemm/pool.c",
    "csrc/gemm/kernel_ref.c",
    "csrc/gemm/kernel_avx2.c",
    "csrc/gemm/kernel_avx512.c",
    "csrc/dense.c",
    "csrc/activation.c",
    "csrc/loss.c",
    "csrc/optim.c",
    "csrc/network.c",
    "csrc/saliency.c",
    "csrc/relevance.c",
]

# per-file extra flags for files compiled for one instruction set
ISA_FLAGS = (
    {
        "gemm/kernel_avx2.c": ["-mavx2", "-mfma"],
        "gemm/kernel_avx512.c": ["-mavx512f", "-mfma"],
    }
    if platform.machine().lower() in ("x86_64", "amd64")
    else {}
)


def _flag(name):
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


class IsaBuildExt(build_ext):
    """Compile with the house flags, per-file ISA flags and OpenMP if the
    compiler has it."""

    def _compiler_accepts(self, flags):
        src = "int main(void) { return 0; }\n"
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "probe.c")
            with open(path, "w") as f:
                f.write(src)
            try:
                self.compiler.compile([path], output_dir=tmp, extra_postargs=flags)
                return True
            except Exception:
                return False

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        base = []
        link = []
        if ctype == "msvc":
            base = ["/O2", "/W3"]
        else:
            base = ["-O3", "-std=c11", "-Wall", "-Wextra", "-fno-fast-math"]
            if _flag("XNN_WERROR"):
                base.append("-Werror")
            if _flag("XNN_NATIVE"):
                base.append("-march=native")
            if os.environ.get("XNN_OPENMP", "1") != "0" and self._compiler_accepts(["-fopenmp"]):
                base.append("-fopenmp")
                link.append("-fopenmp")
        for ext in self.extensions:
            ext.extra_compile_args = base
            ext.extra_link_args = link
        original = self.compiler._compile

        def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
            extra = list(extra_postargs) + ISA_FLAGS.get(Path(src).as_posix().split("csrc/")[-1], [])
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
