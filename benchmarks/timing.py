"""The one timing loop of the benchmarks, and their fresh worker processes."""
import subprocess
import sys
import time


def timings(fn, n, warmup=1):
    """Seconds of each of n calls of fn, after warmup untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def worker(script, args):
    """The words ``script --worker args`` prints in a fresh Python process,
    or None when it exits with status 3 (a framework not installed)."""
    cmd = [sys.executable, script, "--worker", *map(str, args)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode == 3:
        return None
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return res.stdout.split()
