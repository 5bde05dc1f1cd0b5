"""The one timing loop of the benchmarks."""
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
