"""NumPy's BLAS without the OpenBLAS variables that change its kernel.

OPENBLAS_CORETYPE forces a kernel (an older one is slower; some with an odd
OPENBLAS_L2_SIZE even stall NumPy's import-time check) and
OPENBLAS_L2_SIZE changes its blocking. A benchmark script calls
``rerun_without_blas_vars()`` before it imports NumPy: when either is set,
the script runs again in a subprocess without them, which then reports
what was removed (``removed()``). Standard library only, for that reason.
"""
import os
import subprocess
import sys

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
REMOVED_VAR = "XNN_BENCH_REMOVED_BLAS_VARS"


def removed():
    """"VAR=value, ..." of the variables this run removed, or ""."""
    return os.environ.get(REMOVED_VAR, "")


def rerun_without_blas_vars(script=None, argv=None):
    """When OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set, run ``script argv``
    (default: this process's script and arguments) again without them and
    exit with its status."""
    found = {v: os.environ[v] for v in BLAS_VARS if v in os.environ}
    if not found:
        return
    script = os.path.abspath(script or sys.argv[0])
    argv = sys.argv[1:] if argv is None else argv
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env[REMOVED_VAR] = ", ".join(f"{k}={v}" for k, v in found.items())
    print(f"note: {env[REMOVED_VAR]} set in the environment; running again without "
          f"{' and '.join(BLAS_VARS)} so that NumPy's BLAS picks its own kernel", flush=True)
    sys.exit(subprocess.call([sys.executable, script, *argv], env=env))
