"""Explaining a million MNIST-shaped rows on a two-worker local Dask cluster.

LRP-ε on the 784-128-64-10 network (ReLU, ReLU, softmax; float32, seeded
weights) over --rows rows of 784 pixels generated lazily, chunk by chunk,
by a seeded generator (chunk i: numpy.random.RandomState(seed + i)), so no
process ever holds all of them. Each chunk's relevance is summed per row on
the worker, and only those sums (4 bytes a row) come back.

  in-process  one process, xnn on --threads threads (default 2): for every
              chunk, generate it and call xnn.explain.lrp on it
  dask        distributed.LocalCluster(n_workers=2, threads_per_worker=1),
              xnn on one thread per worker: the same chunks as one lazy
              dask.array, xnn.explain.lrp(model, X).sum(axis=1).compute()

Both compute the same numbers (checked, to the bit). Their throughputs
(rows/s, the median of --repeats interleaved rounds) and the ratio
dask / in-process are printed for each chunk size;
a ratio near 1 means Dask's overhead (scheduling, shipping the model once
per worker, returning the sums) is small against the work.

    python benchmarks/bench_dask.py [--rows 1000000] [--chunks 10000 50000] [--repeats 3]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import xnn  # noqa: E402

N_IN = 784


def model(seed=0):
    L = xnn.layers
    return xnn.Sequential([L.Dense(N_IN, 128, activation="relu"),
                           L.Dense(128, 64, activation="relu"),
                           L.Dense(64, 10, activation="softmax")], seed=seed, dtype="float32")


def chunk_rows(n_rows, seed, i):
    """The rows of chunk i: pixels in [0, 1) from RandomState(seed + i)."""
    return np.random.RandomState(seed + i).random_sample((n_rows, N_IN)).astype(np.float32)


def _gen_block(block_info=None, seed=0):
    info = block_info[None]
    return chunk_rows(info["chunk-shape"][0], seed, info["chunk-location"][0])


def lazy_rows(n, chunk, seed):
    import dask.array as da
    chunks = ((chunk,) * (n // chunk) + ((n % chunk,) if n % chunk else ()), (N_IN,))
    return da.map_blocks(_gen_block, chunks=chunks, dtype=np.float32, seed=seed,
                         meta=np.empty((0, 0), np.float32))


def in_process(net, n, chunk, seed):
    sums = np.empty(n, dtype=np.float32)
    t0 = time.perf_counter()
    for i, start in enumerate(range(0, n, chunk)):
        rows = min(chunk, n - start)
        X = chunk_rows(rows, seed, i)
        sums[start:start + rows] = xnn.explain.lrp(net, X, rule="epsilon").sum(axis=1)
    return time.perf_counter() - t0, sums


def on_dask(client, net, n, chunk, seed):
    X = lazy_rows(n, chunk, seed)
    t0 = time.perf_counter()
    sums = xnn.explain.lrp(net, X, rule="epsilon").sum(axis=1).compute()
    return time.perf_counter() - t0, sums


def run(n_rows=1_000_000, chunks=(10_000, 50_000), threads=2, seed=0, repeats=3):
    """[(chunk, chunks, in-process rows/s, dask rows/s, dask / in-process, equal)]"""
    import distributed

    net = model()
    xnn.set_num_threads(threads)
    print(f"LRP-epsilon, 784-128-64-10 float32, {n_rows:,} rows generated lazily; "
          f"isa {xnn.isa()}, {os.cpu_count()} cores")
    rows = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.run(xnn.set_num_threads, 1)
        on_dask(client, net, 4 * min(chunks), min(chunks), seed)   # warm up
        for chunk in chunks:
            # interleaved rounds, so that a slow spell of a shared machine falls on both
            t_mem, t_dask, same = [], [], True
            for _ in range(repeats):
                t, s_mem = in_process(net, n_rows, chunk, seed)
                t_mem.append(t)
                t, s_dask = on_dask(client, net, n_rows, chunk, seed)
                t_dask.append(t)
                same &= np.array_equal(s_mem, s_dask)
            tm, td = statistics.median(t_mem), statistics.median(t_dask)
            rows.append((chunk, -(-n_rows // chunk), n_rows / tm, n_rows / td, tm / td, same))
    xnn.set_num_threads(threads)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--chunks", type=int, nargs="+", default=[10_000, 50_000])
    p.add_argument("--threads", type=int, default=2, help="xnn threads in-process")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (median)")
    args = p.parse_args(argv)
    rows = run(args.rows, args.chunks, args.threads, args.seed, args.repeats)
    print(f"{'chunk':>8} {'chunks':>7} {'in-process rows/s':>18} {'dask rows/s':>12} "
          f"{'dask/in-process':>16} {'equal':>6}")
    for chunk, k, r_mem, r_dask, ratio, same in rows:
        print(f"{chunk:>8,} {k:>7,} {r_mem:>18,.0f} {r_dask:>12,.0f} {ratio:>16.2f} {str(same):>6}")
    if not all(r[-1] for r in rows):
        raise SystemExit("the dask results differ from the in-process ones")


if __name__ == "__main__":
    main()
