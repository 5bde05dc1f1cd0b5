"""Run by test_conv_paths.py in a fresh process (XNN_CONV is read once per
process): the convolution's forward, dX, dW, db and transpose on every
stride-1 case of test_conv.py, each instruction set, both dtypes, 1 and 2
threads (and one image alone); the results saved to the .npz file named by argv[1]."""
import sys

import numpy as np

import xnn
from xnn import _core
from test_conv import CONV_CASES, conv_net

out = {}
def _available(isa):
    try:
        _core.set_isa(isa)
    except ValueError:          # the processor lacks it
        return False
    return True


isas = [i for i in ("ref", "avx2", "avx512") if _available(i)]
for ci, (C, H, W, O, k, s, p) in enumerate(CONV_CASES):
    if s != 1 or p >= k:
        continue
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(ci)
        net, Wt, b, shape = conv_net(C, H, W, O, k, s, p, dtype, rng, act=_core.ACT_RELU)
        m = 5
        X = rng.normal(size=(m, C * H * W)).astype(dtype)
        dZ = rng.normal(size=(m, int(np.prod(shape)))).astype(dtype)
        for isa in isas:
            _core.set_isa(isa)
            for threads in (1, 2):
                xnn.set_num_threads(threads)
                Y, Z, saved = _core.node_forward(net, 0, X, 1)
                dX, dW, db = _core.node_backward(net, 0, dZ, X, saved)
                key = f"{ci}-{np.dtype(dtype).name}-{isa}-{threads}"
                out[key + "-Y"], out[key + "-dX"], out[key + "-dW"], out[key + "-db"] = Y, dX, dW, db
                out[key + "-X"], out[key + "-dZ"] = X, dZ
                out[key + "-W"], out[key + "-b"] = Wt, b
                # one image: the threads split its output channels
                out[key + "-Y1"] = _core.node_forward(net, 0, X[:1], 1)[0]
                # through the network, on the weights it prepares once
                # (node->prep): the forward of the batch and of one image,
                # and dX of a one-hot dZ (the gradient of one output)
                out[key + "-Yp"], out[key + "-Y1p"] = net.forward(X), net.forward(X[:1])
                t = np.arange(m, dtype=np.int64) * 7 % dZ.shape[1]
                out[key + "-dXp"] = _core.explain_gradient(net, X, t, _core.START_LOGIT,
                                                       _core.GRAD_PLAIN)[0]
                onehot = np.zeros_like(dZ)
                onehot[np.arange(m), t] = 1
                out[key + "-dX1"] = _core.node_backward(net, 0, onehot, X, saved)[0]
np.savez(sys.argv[1], isas=np.array(isas), **out)
