"""Explanations and predictions of dask arrays on a two-process local
cluster: lazy results chunk by chunk, equal to the in-memory call to the
bit, the model deserialised once per process rather than once per chunk."""
import numpy as np
import pytest

from _deps import require

import xnn

L = xnn.layers
da = require("dask.array")
distributed = require("distributed")

E = xnn.explain


def cnn(dtype):
    return xnn.Sequential([
        L.Conv2d(1, 4, 3, activation="relu"), L.MaxPool2d(2),
        L.Conv2d(4, 6, 3, padding=1, activation="relu"), L.AvgPool2d(2),
        L.Flatten(), L.Dense(24, 12, activation="relu"), L.Dense(12, 5, activation="softmax"),
    ], input_shape=(1, 10, 10), seed=1, dtype=dtype)


def mlp(dtype):
    return xnn.Sequential([L.Dense(100, 16, activation="tanh"),
                           L.Dense(16, 5, activation="softmax")], seed=2, dtype=dtype)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        c.run(xnn.set_num_threads, 1)
        yield c


def data(dtype, m=103):
    return np.random.RandomState(0).rand(m, 1, 10, 10).astype(dtype)


METHODS = [
    (E.saliency, {}), (E.gradient, {"output": "probability"}), (E.input_x_gradient, {}),
    (E.guided_backprop, {}), (E.deconvnet, {}),
    (E.integrated_gradients, {"steps": 6}), (E.lrp, {}),
    (E.lrp, {"composite": "epsilon-plus-flat"}), (E.occlusion, {"patch": 3}), (E.score, {}),
    (E.deeplift, {"baseline": 0.1}),
]
CNN_ONLY = [(E.grad_cam, {}), (E.grad_cam_plus_plus, {"layer": 2}), (E.guided_grad_cam, {})]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make", [cnn, mlp])
def test_explanations_equal_in_memory(client, dtype, make):
    model = make(dtype)
    X = data(dtype)
    if make is mlp:
        X = X.reshape(len(X), 100)
    Xd = da.from_array(X, chunks=(20,) + X.shape[1:])
    background = X[::25][:4]
    for fn, kw in METHODS + (CNN_ONLY if make is cnn else []) + [
            (E.deep_shap, {"background": background})]:
        if make is mlp and fn is E.occlusion:
            kw = {"patch": 2}
        lazy = fn(model, Xd, **kw)
        assert isinstance(lazy, da.Array), fn.__name__
        assert lazy.chunks[0] == Xd.chunks[0]
        got = lazy.compute()
        want = fn(model, X, **kw)
        assert got.dtype == want.dtype and got.shape == want.shape, fn.__name__
        np.testing.assert_array_equal(got, want, err_msg=fn.__name__)
    np.testing.assert_array_equal(model.predict_proba(Xd).compute(), model.predict_proba(X))
    np.testing.assert_array_equal(model.predict(Xd).compute(), model.predict(X))


def test_cam_on_a_global_average_pooling_net(client):
    model = xnn.Sequential([L.Conv2d(1, 4, 3, activation="relu"), L.GlobalAvgPool2d(),
                            L.Dense(4, 3, activation="softmax")], input_shape=(1, 10, 10),
                           seed=0, dtype="float32")
    X = data("float32", m=45)
    got = E.cam(model, da.from_array(X, chunks=(10, 1, 10, 10))).compute()
    np.testing.assert_array_equal(got, np.asarray(E.cam(model, X)))


def test_per_row_arguments_and_rechunking(client):
    model = cnn("float64")
    X = data("float64")
    # chunked along an image axis too: rechunked to whole rows
    Xd = da.from_array(X, chunks=(25, 1, 5, 10))
    t = np.arange(len(X)) % 5
    B = X[::-1] * 0.5
    for fn, kw in [(E.saliency, {"target": t}), (E.lrp, {"target": da.from_array(t, chunks=7)}),
                   (E.integrated_gradients, {"baseline": B, "steps": 4, "target": 2}),
                   (E.integrated_gradients, {"baseline": X[0] * 0.3, "steps": 4}),
                   (E.gradient, {"start_layer": 2, "unit": t % 6}),
                   (E.deeplift, {"baseline": B, "target": t}),
                   (E.smoothgrad, {"n_samples": 3, "seed": 5})]:
        got = fn(model, Xd, **kw).compute()
        if fn is E.smoothgrad:   # noise by position in the call: one call per chunk
            want = np.concatenate([fn(model, X[i:i + 25], **kw) for i in range(0, len(X), 25)])
        else:
            # (a copy: arrays computed on the cluster may be unaligned views)
            want = fn(model, X, **{k: np.array(v.compute()) if isinstance(v, da.Array) else v
                                   for k, v in kw.items()})
        np.testing.assert_array_equal(got, want, err_msg=fn.__name__)
    # positional arguments after X
    np.testing.assert_array_equal(E.saliency(model, Xd, 3).compute(), E.saliency(model, X, 3))
    # a fitted scikit-learn estimator
    from xnn.sklearn import MLPClassifier
    flat = X.reshape(len(X), -1)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(flat, t)
    np.testing.assert_array_equal(E.lrp(clf, da.from_array(flat, chunks=30)).compute(),
                                  E.lrp(clf, flat))


def test_model_is_shipped_once_per_process(client, tmp_path):
    from _dask_probe import UnpickleProbe, count
    model = cnn("float32")
    path = str(tmp_path / "unpickles.txt")
    model._probe = UnpickleProbe(path)
    X = data("float32", m=320)
    Xd = da.from_array(X, chunks=(20, 1, 10, 10))          # 16 chunks
    R = E.lrp(model, Xd)
    # the model is one key of the graph, and every chunk's task depends on it
    graph = dict(R.__dask_graph__())
    model_keys = [k for k, v in graph.items() if getattr(v, "value", v) is model
                  or (isinstance(k, str) and k.startswith("Sequential-"))]
    assert len(model_keys) == 1
    assert count(path) == (0, 0)
    np.testing.assert_array_equal(R.compute(), E.lrp(model, X))
    n, procs = count(path)
    # the scheduler's process and the two workers each unpickle it at most
    # once, however many chunks there are
    assert 1 <= n == procs <= 3, (n, procs)


def test_refusals():
    model = cnn("float64")
    Xd = da.from_array(data("float64"), chunks=(20, 1, 10, 10))
    for fn, kw in [(E.lrp, {"return_layers": True}),
                   (E.integrated_gradients, {"return_error": True}),
                   (E.score, {"return_targets": True})]:
        with pytest.raises(ValueError, match="not available for a dask array"):
            fn(model, Xd, **kw)
    with pytest.raises(ValueError, match="one per row of X"):
        E.saliency(model, Xd, target=np.arange(7) % 5)
    unknown = Xd[Xd[:, 0, 0, 0] > 0.5]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        E.saliency(model, unknown)


def test_wrapped_functions_keep_their_names_and_pickle():
    import inspect
    import pickle
    for name in ("saliency", "gradient", "input_x_gradient", "smoothgrad",
                 "integrated_gradients", "guided_backprop", "deconvnet", "lrp", "occlusion",
                 "score", "cam", "grad_cam", "grad_cam_plus_plus", "guided_grad_cam", "deeplift",
                 "deep_shap"):
        fn = getattr(E, name)
        assert fn.__name__ == name and fn.__doc__ == fn.__wrapped__.__doc__
        assert inspect.signature(fn) == inspect.signature(fn.__wrapped__)
        assert pickle.loads(pickle.dumps(fn)) is fn
