"""Property-based fuzzing of the public API and of the binding.

The contract: whatever a caller passes (shapes, dtypes, memory orders,
zero sizes, NaN and infinity, huge values, objects whose conversion runs
Python code that mutates what is being converted), xnn returns a result of
the right shape, finite for finite inputs of moderate size, or raises
TypeError or ValueError with a message; the interpreter never crashes. The
sanitizer job of .ci/run runs this file under AddressSanitizer and
UndefinedBehaviorSanitizer.

The default run is sized for about half a minute and is derandomized (the
same examples everywhere); ``XNN_FUZZ_LONG=1`` runs twenty times as many,
with a random seed. ``CALLS`` counts the calls a run makes.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xnn
import xnn.explain as E
from xnn import _core

L = xnn.layers
LONG = os.environ.get("XNN_FUZZ_LONG", "").strip() not in ("", "0")
FACTOR = 20 if LONG else 1
CALLS = {"n": 0}


def fuzz(n):
    return settings(max_examples=n * FACTOR, deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def call(fn, *args, **kwargs):
    """fn under the contract: its result, or None when it refused clearly."""
    CALLS["n"] += 1
    try:
        return fn(*args, **kwargs)
    except (TypeError, ValueError) as e:
        assert len(str(e)) >= 8, f"{type(e).__name__} without a clear message: {e!r}"
        return None


@pytest.fixture(scope="module", autouse=True)
def _report_calls():
    yield
    print(f"\n{CALLS['n']} fuzzed calls")


# ---------------------------------------------------------------- models

@st.composite
def layer_stacks(draw):
    """random, often ill-fitting, stacks of layers and an input shape"""
    kind = draw(st.sampled_from(["dense", "conv2d", "conv1d"]))
    layers = []
    if kind == "dense":
        shape = (draw(st.integers(1, 12)),)
    elif kind == "conv2d":
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    else:
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 17)))
    for _ in range(draw(st.integers(0, 3))):
        choice = draw(st.sampled_from(["conv", "pool", "avg", "flatten", "gap"]))
        k = draw(st.integers(1, 4))
        if kind == "conv2d":
            cls = {"conv": L.Conv2d, "pool": L.MaxPool2d, "avg": L.AvgPool2d, "flatten": L.Flatten,
                   "gap": L.GlobalAvgPool2d}[choice]
        elif kind == "conv1d":
            cls = {"conv": L.Conv1d, "pool": L.MaxPool1d, "avg": L.AvgPool1d, "flatten": L.Flatten,
                   "gap": L.GlobalAvgPool1d}[choice]
        else:
            cls = L.Dense
        if cls is L.Dense:
            layers.append(L.Dense(draw(st.integers(1, 12)), draw(st.integers(1, 12)),
                                  activation=draw(st.sampled_from(["relu", "tanh", "linear"]))))
        elif choice == "conv":
            layers.append(cls(draw(st.integers(1, 3)), draw(st.integers(1, 4)), k,
                              stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, 2)),
                              activation=draw(st.sampled_from(["relu", "tanh", "sigmoid"]))))
        elif choice in ("pool", "avg"):
            layers.append(cls(k, stride=draw(st.sampled_from([None, 1, 2]))))
        else:
            layers.append(cls())
    if kind != "dense" and draw(st.booleans()):
        layers.append(L.Flatten())
    layers.append(L.Dense(draw(st.integers(1, 40)), draw(st.integers(1, 5)),
                          activation=draw(st.sampled_from(["softmax", "linear", "sigmoid"]))))
    return layers, shape, draw(st.sampled_from(["float32", "float64"]))


@fuzz(300)
@given(layer_stacks())
def test_any_stack_of_layers_builds_or_raises_clearly(stack):
    layers, shape, dtype = stack
    model = call(xnn.Sequential, layers, input_shape=shape, dtype=dtype, seed=0)
    if model is None:
        return
    X = np.random.default_rng(0).uniform(size=(3,) + shape)
    P = model.predict_proba(X)
    assert P.shape == (3, model.n_out) and np.all(np.isfinite(P))
    for fn in (E.saliency, E.gradient, E.lrp):
        R = fn(model, X)
        assert R.shape == X.shape and np.all(np.isfinite(R))
    CALLS["n"] += 4


def _model(dtype):
    return xnn.Sequential([L.Conv2d(1, 2, 3, padding=1, activation="relu"), L.MaxPool2d(2),
                           L.Flatten(), L.Dense(8, 3, activation="softmax")],
                          input_shape=(1, 4, 4), dtype=dtype, seed=1)


MODELS = {"float32": _model("float32"), "float64": _model("float64")}

arrays = st.one_of(
    hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_,
                                      np.float16, np.complex64]),
               shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6),
               elements=None),
    hnp.arrays(dtype=np.float64, shape=st.sampled_from([(2, 16), (3, 1, 4, 4), (1, 4, 4), (16,),
                                                        (0, 16), (2, 4, 4), (2, 1, 4, 5)]),
               elements=st.floats(allow_nan=True, allow_infinity=True, width=64)),
)


@fuzz(400)
@given(arrays, st.sampled_from(["float32", "float64"]), st.booleans())
def test_predict_and_explain_any_array(X, dtype, fortran):
    model = MODELS[dtype]
    if fortran and X.ndim >= 2:
        X = np.asfortranarray(X)
    finite = X.dtype.kind in "fiub" and X.size and np.all(np.isfinite(X.astype(np.complex128)))
    moderate = finite and np.all(np.abs(X.astype(np.complex128)) < 1e6)
    for fn in (model.predict_proba, lambda x: E.saliency(model, x),
               lambda x: E.lrp(model, x, composite="epsilon-plus-flat"),
               lambda x: E.integrated_gradients(model, x, steps=3),
               lambda x: E.grad_cam(model, x, layer=0)):
        out = call(fn, X)
        if out is not None:
            assert finite, "a non-finite input was accepted"
            assert np.asarray(out).ndim >= 1
            if moderate:
                assert np.all(np.isfinite(out))


@fuzz(200)
@given(st.one_of(st.none(), st.integers(-5, 10), st.floats(allow_nan=True),
                 st.lists(st.integers(-3, 5), max_size=4), st.text(max_size=3),
                 hnp.arrays(np.int64, st.integers(0, 4))),
       st.one_of(st.none(), st.integers(-3, 6)), st.one_of(st.none(), st.integers(-2, 5)))
def test_targets_layers_and_units_of_any_kind(target, start_layer, unit):
    model = MODELS["float64"]
    X = np.random.default_rng(2).uniform(size=(3, 1, 4, 4))
    out = call(E.gradient, model, X, target=target, start_layer=start_layer, unit=unit)
    if out is not None:
        assert out.shape == X.shape and np.all(np.isfinite(out))
    call(E.grad_cam, model, X, target=target, layer=start_layer)
    call(E.lrp, model, X, target=target, start_layer=start_layer, unit=unit)


@fuzz(150)
@given(st.dictionaries(st.sampled_from(["epsilon", "gamma", "alpha", "beta", "low", "high",
                                        "stabilizer"]),
                       st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                 st.integers(-10, 10), st.text(max_size=2)), max_size=3),
       st.sampled_from(["zero", "epsilon", "gamma", "alphabeta", "zplus", "flat", "wsquare",
                        "bogus", None]),
       st.sampled_from([None, "epsilon-plus", "epsilon-gamma-box", "poster", "nope"]))
def test_lrp_parameters_of_any_kind(params, rule, composite):
    model = MODELS["float32"]
    X = np.random.default_rng(3).uniform(size=(2, 1, 4, 4))
    out = call(E.lrp, model, X, rule=rule, composite=composite, **params)
    if out is not None:
        assert out.shape == X.shape and np.all(np.isfinite(out))


# ---------------------------------------------------------------- the binding

def _hostile(draw, victim):
    value = draw(st.integers(-2, 5))

    class Hostile:
        def __index__(self):
            victim.clear()
            return value

        def __float__(self):
            victim.clear()
            return float(value)

    return Hostile()


@fuzz(300)
@given(st.data())
def test_network_nodes_of_any_kind(data):
    draw = data.draw
    nodes = []
    for _ in range(draw(st.integers(0, 3))):
        fields = [draw(st.integers(-1, 7)), draw(st.integers(-1, 5)),
                  draw(st.sampled_from([1.0, 0.5, 0.0, -1.0, float("nan"), 2.0])),
                  tuple(draw(st.integers(-1, 4)) for _ in range(3)),
                  tuple(draw(st.integers(-1, 4)) for _ in range(3)),
                  (draw(st.integers(0, 3)), draw(st.integers(0, 3))),
                  (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
                  (draw(st.integers(-1, 2)), draw(st.integers(-1, 2))),
                  draw(st.sampled_from([None, np.zeros((2, 2)), np.zeros((2, 1, 1, 1)),
                                        np.zeros((1, 1, 1, 1), np.float32), "W"])),
                  draw(st.sampled_from([None, np.zeros(2), np.zeros(1), np.zeros(1, np.float32)]))]
        if draw(st.booleans()):
            fields[draw(st.integers(0, 2))] = _hostile(draw, nodes)
        item = tuple(fields) if draw(st.integers(0, 9)) else list(fields)
        nodes.append(item)
    net = call(_core.Network, nodes, draw(st.sampled_from(["float32", "float64", "int8", None])))
    if net is not None:
        X = np.zeros((2, 1))
        call(net.forward, X)
    call(_core.Network, draw(st.sampled_from([None, 3, "abc", [None], [()], [tuple(range(10))]])))


@fuzz(200)
@given(st.data())
def test_binding_entry_points_with_any_arguments(data):
    draw = data.draw
    net = MODELS["float64"]._network()
    pick = st.sampled_from([None, 0, 1.5, "x", np.zeros((2, 16)), np.zeros((2, 16), np.float32),
                            np.zeros((2, 15)), np.zeros(2, np.int64), np.full(2, -1, np.int64),
                            np.full(2, 9, np.int64), np.zeros((16, 2)).T, np.ones(5), net,
                            [(1, 0.0, 0.0, 0.0, 0.0)] * 4, np.zeros((2, 1, 4, 4)), -1, 99])
    args = [draw(pick) for _ in range(draw(st.integers(0, 8)))]
    name = draw(st.sampled_from(["explain_gradient", "explain_scores", "explain_gradient_sum",
                                 "lrp", "cam", "deeplift", "node_forward", "node_backward",
                                 "matmul", "first_nonfinite", "resize", "dense_forward",
                                 "activation_forward", "loss_forward", "explain_noise"]))
    call(getattr(_core, name), *args)
    trainer = call(_core.Trainer, net, draw(st.integers(-1, 3)), draw(st.integers(-1, 3)),
                   draw(st.integers(-1, 3)), draw(st.floats(allow_nan=True)))
    if trainer is not None:
        call(trainer.step, *args[:3])


def test_the_default_run_makes_the_calls_it_says():
    """the count the closing report cites (printed at the end of the module)"""
    assert CALLS["n"] > 1000 * FACTOR
