"""The convolution, pooling, upsampling and network twins against PyTorch
(float64, autograd), to rounding."""
import numpy as np
import pytest

from _deps import require
from _torchnet import conv1d_net, lenet5, torch_model, tt

from xnn import reference as R

torch = require("torch")
F = torch.nn.functional


def close(a, b, tol=1e-12):
    b = b.detach().numpy() if hasattr(b, "detach") else b
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


@pytest.mark.parametrize("C,H,W,O,k,s,p", [(1, 7, 7, 2, 3, 1, 0), (3, 11, 13, 2, 5, 3, 2),
                                           (3, 5, 7, 4, (3, 1), (2, 1), (1, 0)), (1, 13, 7, 3, 1, 2, 1),
                                           (3, 8, 6, 2, (1, 5), (3, 2), (0, 2))])
def test_conv2d_against_torch(C, H, W, O, k, s, p, rng):
    k = R.conv._pair(k, "k")
    X, Wt, b = rng.normal(size=(3, C, H, W)), rng.normal(size=(O, C) + k), rng.normal(size=O)
    x, w, bb = (tt(a).requires_grad_(True) for a in (X, Wt, b))
    z = F.conv2d(x, w, bb, stride=s, padding=p)
    Z = R.conv2d_forward(X, Wt, b, s, p)
    close(Z, z)
    V = rng.normal(size=Z.shape)
    z.backward(tt(V))
    for ours, theirs in zip(R.conv2d_backward(V, X, Wt, s, p), (x.grad, w.grad, bb.grad)):
        close(ours, theirs)


@pytest.mark.parametrize("C,L,O,k,s,p", [(1, 7, 2, 3, 1, 0), (3, 13, 2, 5, 3, 2), (3, 11, 4, 1, 2, 1)])
def test_conv1d_against_torch(C, L, O, k, s, p, rng):
    X, Wt, b = rng.normal(size=(2, C, L)), rng.normal(size=(O, C, k)), rng.normal(size=O)
    x, w, bb = (tt(a).requires_grad_(True) for a in (X, Wt, b))
    z = F.conv1d(x, w, bb, stride=s, padding=p)
    Z = R.conv1d_forward(X, Wt, b, s, p)
    close(Z, z)
    V = rng.normal(size=Z.shape)
    z.backward(tt(V))
    for ours, theirs in zip(R.conv1d_backward(V, X, Wt, s, p), (x.grad, w.grad, bb.grad)):
        close(ours, theirs)


@pytest.mark.parametrize("H,W,k,s", [(7, 7, 2, None), (11, 13, 3, 2), (5, 7, (2, 3), (1, 2)), (9, 9, 3, 1)])
def test_pools_against_torch(H, W, k, s, rng):
    X = rng.normal(size=(2, 3, H, W))
    x = tt(X).requires_grad_(True)
    y, idx = F.max_pool2d(x, k, s, return_indices=True)
    Y, arg = R.maxpool2d_forward(X, k, s)
    close(Y, y)
    np.testing.assert_array_equal(arg, idx.numpy())
    V = rng.normal(size=Y.shape)
    y.backward(tt(V))
    close(R.maxpool2d_backward(V, arg, X.shape), x.grad)
    x.grad = None
    y = F.avg_pool2d(x, k, s)
    close(R.avgpool2d_forward(X, k, s), y)
    y.backward(tt(V))
    close(R.avgpool2d_backward(V, X.shape, k, s), x.grad)
    x.grad = None
    y = F.adaptive_avg_pool2d(x, 1)[:, :, 0, 0]
    close(R.global_avgpool2d_forward(X), y)
    Vg = rng.normal(size=(2, 3))
    y.backward(tt(Vg))
    close(R.global_avgpool2d_backward(Vg, X.shape), x.grad)


@pytest.mark.parametrize("L,k,s", [(7, 2, None), (13, 3, 2), (11, 5, 1)])
def test_pools1d_against_torch(L, k, s, rng):
    X = rng.normal(size=(2, 3, L))
    x = tt(X).requires_grad_(True)
    y, idx = F.max_pool1d(x, k, s, return_indices=True)
    Y, arg = R.maxpool1d_forward(X, k, s)
    close(Y, y)
    np.testing.assert_array_equal(arg, idx.numpy())
    V = rng.normal(size=Y.shape)
    y.backward(tt(V))
    close(R.maxpool1d_backward(V, arg, X.shape), x.grad)
    x.grad = None
    y = F.avg_pool1d(x, k, s)
    close(R.avgpool1d_forward(X, k, s), y)
    y.backward(tt(V))
    close(R.avgpool1d_backward(V, X.shape, k, s), x.grad)
    close(R.global_avgpool1d_forward(X), F.adaptive_avg_pool1d(tt(X), 1)[:, :, 0])


def test_maxpool_ties_as_torch_cpu(rng):
    """torch's CPU max pool keeps the first maximum in row-major window order"""
    X = rng.integers(0, 3, size=(2, 3, 9, 10)).astype(float)      # many ties
    for k, s in [(2, None), (3, 2), ((2, 3), 1)]:
        _, idx = F.max_pool2d(tt(X), k, s, return_indices=True)
        np.testing.assert_array_equal(R.maxpool2d_forward(X, k, s)[1], idx.numpy())
    X1 = rng.integers(0, 2, size=(2, 3, 17)).astype(float)
    _, idx = F.max_pool1d(tt(X1), 3, 2, return_indices=True)
    np.testing.assert_array_equal(R.maxpool1d_forward(X1, 3, 2)[1], idx.numpy())


@pytest.mark.parametrize("size", [(28, 28), (20, 14), (3, 2), (14, 20), (13, 5), (10, 10)])
def test_upsample_2d_against_torch(size, rng):
    maps = rng.normal(size=(2, 7, 10))
    maps14 = rng.normal(size=(2, 14, 5))
    for m in (maps, maps14):
        t = tt(m)[:, None]
        close(R.upsample(m, size, "bilinear"),
              F.interpolate(t, size=size, mode="bilinear", align_corners=False)[:, 0], 1e-14)
        np.testing.assert_array_equal(R.upsample(m, size, "nearest"),
                                      F.interpolate(t, size=size, mode="nearest")[:, 0].numpy())


@pytest.mark.parametrize("n", [28, 20, 3, 11, 14])
def test_upsample_1d_against_torch(n, rng):
    for L in (7, 14, 5):
        m = rng.normal(size=(3, 2, L))
        close(R.upsample(m, n, "linear"), F.interpolate(tt(m), size=n, mode="linear", align_corners=False), 1e-14)
        np.testing.assert_array_equal(R.upsample(m, n, "nearest"), F.interpolate(tt(m), size=n, mode="nearest").numpy())
    with pytest.raises(ValueError, match="mode"):
        R.upsample(m, n, "bilinear")


def _torch_gradients(net, X, labels):
    tm, _ = torch_model(net)
    x = tt(X)
    loss = F.cross_entropy(tm(x), tt(labels))
    loss.backward()
    grads = []
    for mod in tm:
        if isinstance(mod, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d)):
            grads += [mod.weight.grad.numpy().T if isinstance(mod, torch.nn.Linear) else mod.weight.grad.numpy(),
                      mod.bias.grad.numpy()]
    return tm, loss.item(), grads


@pytest.mark.parametrize("make,shape", [(lenet5, (5, 1, 28, 28)), (conv1d_net, (6, 3, 23))])
def test_network_forward_and_gradients_against_torch(make, shape, rng):
    net = make(rng)
    X = rng.normal(size=shape)
    labels = rng.integers(0, 10 if make is lenet5 else 5, shape[0])
    tm, loss, theirs = _torch_gradients(net, X, labels)
    Zs, As = R.network_forward(net, X)
    # every layer's output, against the torch modules in turn
    h = tt(X)
    mods = iter(tm)
    torch_outs = []
    for ly in R.as_network(net)[:-1]:
        h = next(mods)(h)
        if ly.get("act", "linear") != "linear":
            h = next(mods)(h)
        torch_outs.append(h)
    for A, t in zip(As[:-1], torch_outs):
        close(A, t, 1e-10)
    close(Zs[-1], tm(tt(X)), 1e-10)
    grads, stats = R.network_gradients(net, X, labels)
    assert stats[0] / shape[0] == pytest.approx(loss, rel=1e-12)
    assert len(grads) == len(theirs)
    for g, t in zip(grads, theirs):
        close(g, t, 1e-10)
