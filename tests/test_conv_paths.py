"""The convolution's paths, forced in turn with XNN_CONV (read once per
process, so each runs in its own process): the unfolding + GEMM path, the
direct path and Winograd tiles (every 3x3 forward; the rest direct) each
against the NumPy twin on every stride-1 case of test_conv.py; each gives
the same bits on every thread count and for an image alone or in a batch,
and the direct path and the tiles the same bits on AVX2 and AVX-512 (one C
body, the same lanes and fused multiply-adds; the portable loops round
each product apart)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xnn
from xnn import reference as R
from conftest import assert_close
from test_conv import CONV_CASES

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module", params=["gemm", "direct", "winograd"])
def path_results(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("conv") / f"{request.param}.npz"
    env = dict(os.environ, XNN_CONV=request.param,
               PYTHONPATH=os.pathsep.join([str(HERE), str(Path(xnn.__file__).resolve().parent.parent),
                                           os.environ.get("PYTHONPATH", "")]))
    env.pop("XNN_ISA", None)
    subprocess.run([sys.executable, str(HERE / "_conv_paths_probe.py"), str(out)], env=env,
                   check=True, cwd=HERE)
    with np.load(out) as f:
        return request.param, {k: f[k] for k in f.files}


def _cases():
    return [(ci, c) for ci, c in enumerate(CONV_CASES) if c[5] == 1 and c[6] < c[4]]


def test_each_path_matches_the_twin(path_results):
    mode, res = path_results
    isas = list(res["isas"])
    assert "ref" in isas and len(_cases()) >= 8
    for ci, (C, H, W, O, k, s, p) in _cases():
        for dt in (np.float32, np.float64):
            for isa in isas:
                key = f"{ci}-{np.dtype(dt).name}-{isa}-1"
                X, dZ, Wt, b = (res[key + s_] for s_ in ("-X", "-dZ", "-W", "-b"))
                m = X.shape[0]
                X4 = X.reshape(m, C, H, W).astype(float)
                Z64 = R.conv2d_forward(X4, Wt.astype(float), b.astype(float), s, p)
                assert_close(res[key + "-Y"].reshape(Z64.shape), np.maximum(Z64, 0), dt)
                edX, edW, edb = R.conv2d_backward(dZ.reshape(Z64.shape).astype(float), X4,
                                                  Wt.astype(float), s, p)
                scale = np.sqrt(dZ.size / O)
                assert_close(res[key + "-dX"].reshape(edX.shape), edX, dt)
                assert_close(res[key + "-dW"].reshape(edW.shape), edW, dt,
                             scale=scale * np.abs(edW).max() / max(1, scale))
                assert_close(res[key + "-db"], edb, dt, scale=np.abs(edb).max())


def test_threads_change_no_bit_and_the_direct_path_none_across_vector_isas(path_results):
    mode, res = path_results
    isas = list(res["isas"])
    vector = [i for i in isas if i != "ref"]
    for ci, _ in _cases():
        for dt in ("float32", "float64"):
            for isa in isas:
                for threads in (1, 2):
                    key = f"{ci}-{dt}-{isa}-{threads}"
                    np.testing.assert_array_equal(res[key + "-Y1"], res[key + "-Y"][:1])
                    # the prepared weights give the bits of the per-call ones
                    np.testing.assert_array_equal(res[key + "-Yp"], res[key + "-Y"])
                    np.testing.assert_array_equal(res[key + "-Y1p"], res[key + "-Y"][:1])
                    np.testing.assert_array_equal(res[key + "-dXp"], res[key + "-dX1"])
            for what in ("Y", "dX", "dW", "db"):
                for isa in isas:
                    np.testing.assert_array_equal(res[f"{ci}-{dt}-{isa}-2-{what}"],
                                                  res[f"{ci}-{dt}-{isa}-1-{what}"])
                if mode != "gemm":
                    for isa in vector[1:]:
                        np.testing.assert_array_equal(res[f"{ci}-{dt}-{isa}-1-{what}"],
                                                      res[f"{ci}-{dt}-{vector[0]}-1-{what}"])
