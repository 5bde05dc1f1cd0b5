"""xnn's GEMM against numpy.matmul (NumPy's BLAS), in GFLOP/s.

    python benchmarks/bench_gemm.py [--repeats 5] [--threads N]

Shapes: 2048^3 and the products of the MNIST network 784-128-64-10
(batch 128 and 60,000 rows, forward and both backward forms), float32 and
float64. Each row is the median of `repeats` timings, each of enough
calls to last about 20 ms; xnn and NumPy alternate, with a pause before
each timing so that neither library's idle threads, still spinning, slow
the other.
Environment variables such as OPENBLAS_CORETYPE change NumPy's kernel:
run with them unset for a fair comparison (the table prints which BLAS
kernel NumPy used).
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

if __name__ == "__main__":      # before NumPy loads its BLAS
    import blas_env
    blas_env.rerun_without_blas_vars()

import numpy as np

try:
    import xnn
except ImportError:  # run from a source checkout built in place
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import xnn

# (label, m, n, k, trans_a, trans_b): C (m,n) = op(A) (m,k) op(B) (k,n)
SHAPES = [
    ("2048^3", 2048, 2048, 2048, False, False),
    ("X W, batch 128", 128, 128, 784, False, False),
    ("X W, 60000 rows", 60000, 128, 784, False, False),
    ("X^T dZ, batch 128", 784, 128, 128, True, False),
    ("X^T dZ, 60000 rows", 784, 128, 60000, True, False),
    ("dZ W^T, 60000 rows", 60000, 784, 128, False, True),
    ("H W2, batch 128", 128, 64, 128, False, False),
    ("dZ W2^T, batch 128", 128, 128, 64, False, True),
    ("H W3, batch 128", 128, 10, 64, False, False),
]
DTYPES = (np.float32, np.float64)
PAUSE = 0.2   # seconds for idle BLAS threads to stop spinning


def _time(fn, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def _row(label, m, n, k, ta, tb, dtype, repeats, rng):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    oa = a.T if ta else a
    ob = b.T if tb else b

    def run_xnn():
        return xnn.ops.matmul(a, b, trans_a=ta, trans_b=tb)

    def run_numpy():
        return np.matmul(oa, ob)

    flops = 2.0 * m * n * k
    run_xnn()
    run_numpy()
    # enough calls per timing that each lasts ~20 ms
    t1 = _time(run_xnn, 1)
    inner = max(1, min(10000, int(0.02 / max(t1, 1e-7))))
    # the libraries alternate, one timing each per round, after a pause:
    # OpenBLAS's threads keep spinning for a while after a call and would
    # steal the cores from xnn's (and xnn's, briefly, from OpenBLAS's);
    # alternating rounds lets a change of the machine's load hit both
    tx, tn = [], []
    for _ in range(repeats):
        time.sleep(PAUSE)
        tx.append(_time(run_xnn, inner))
        time.sleep(PAUSE)
        tn.append(_time(run_numpy, inner))
    gx = flops / float(np.median(tx)) / 1e9
    gn = flops / float(np.median(tn)) / 1e9
    bx = flops / min(tx) / 1e9
    bn = flops / min(tn) / 1e9
    return {
        "shape": label,
        "m": m, "n": n, "k": k, "trans_a": ta, "trans_b": tb,
        "dtype": np.dtype(dtype).name,
        "xnn_gflops": gx,
        "numpy_gflops": gn,
        "ratio": gx / gn,
        "xnn_gflops_best": bx,
        "numpy_gflops_best": bn,
        "ratio_best": bx / bn,
        "repeats": repeats,
    }


def run(repeats=5, shapes=SHAPES, dtypes=DTYPES):
    """one row per (shape, dtype): GFLOP/s of xnn and numpy.matmul, median of
    `repeats`, and their ratio (> 1: xnn faster)"""
    rng = np.random.default_rng(0)
    rows = []
    for dtype in dtypes:
        for label, m, n, k, ta, tb in shapes:
            rows.append(_row(label, m, n, k, ta, tb, dtype, repeats, rng))
    return rows


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    parts = []
    for p in threadpool_info():
        if p.get("user_api") == "blas":
            parts.append(f"{p.get('internal_api')} {p.get('version')} "
                         f"kernel={p.get('architecture')} threads={p.get('num_threads')}")
    return "; ".join(parts) or "no BLAS found"


def format_table(rows):
    """median GFLOP/s and their ratio (xnn / numpy); in brackets the ratio
    of the best repeats, less sensitive to other processes' load"""
    lines = [f"{'shape':<22} {'m x n x k':>18} {'dtype':<8} {'xnn GF/s':>9} "
             f"{'numpy GF/s':>10} {'ratio':>6} {'(best)':>7}"]
    for r in rows:
        dims = f"{r['m']}x{r['n']}x{r['k']}"
        lines.append(f"{r['shape']:<22} {dims:>18} {r['dtype']:<8} {r['xnn_gflops']:9.1f} "
                     f"{r['numpy_gflops']:10.1f} {r['ratio']:6.2f} ({r['ratio_best']:5.2f})")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="xnn threads (0: default)")
    args = ap.parse_args(argv)
    if args.threads > 0:
        xnn.set_num_threads(args.threads)
    print(f"machine: {platform.machine()} {platform.processor() or ''} "
          f"cpus={os.cpu_count()}  python {platform.python_version()}  numpy {np.__version__}")
    print(f"xnn: isa={xnn.isa()} threads={xnn.get_num_threads()}  numpy BLAS: {blas_info()}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if var in os.environ:
            print(f"note: {var}={os.environ[var]} is set")
    print("median of", args.repeats, "repeats; ratio = xnn / numpy (> 1: xnn faster), "
          "(best) = ratio of the fastest repeats")
    print(format_table(run(args.repeats)))


if __name__ == "__main__":
    main()
