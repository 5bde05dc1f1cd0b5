"""xnn.sklearn: scikit-learn's estimator checks, Pipeline, GridSearchCV,
labels, partial_fit, warm_start, parameter validation and explanations of a
fitted estimator."""
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import xnn
from xnn.sklearn import CNNClassifier, MLPClassifier

# Small settings keep the checks fast: every check fits a few times on a
# few hundred rows. The CNN reads the checks' flat rows as one-channel
# signals; "same" padding and no pooling let it take any number of
# features, down to one. No check needs to be marked as an expected failure.
CHECKED = [
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.01,
                  random_state=0),
    CNNClassifier(conv_layers=((4, 3),), padding="same", pool=None, dense_layers=(16,),
                  max_iter=60, learning_rate_init=0.01, random_state=0),
]


# scikit-learn's array-API check applies to estimators that compute with any
# array library; xnn's compute in NumPy through the C core, so that check is
# left out of the list (scikit-learn would skip it anyway without
# SCIPY_ARRAY_API=1) and every check that runs is one that applies.
_NOT_APPLICABLE = {"check_array_api_input"}


def _check_name(check):
    return getattr(check, "func", check).__name__


def _applicable(mark):
    ids = mark.kwargs["ids"]
    params = [p for p in mark.args[1] if _check_name(p[1]) not in _NOT_APPLICABLE]
    return pytest.mark.parametrize(mark.args[0], params, ids=ids)


@_applicable(parametrize_with_checks(CHECKED))
def test_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0)[:600], y[:600]


def test_string_labels_predict_proba_score(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=40, learning_rate_init=0.01,
                        random_state=0).fit(X, names[y])
    assert list(clf.classes_) == sorted(names)
    P = clf.predict_proba(X)
    assert P.shape == (600, 10)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-6)
    assert np.array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])
    assert clf.score(X, names[y]) > 0.9
    assert clf.n_features_in_ == 64 and clf.n_iter_ == 40 and len(clf.loss_curve_) == 40
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert isinstance(clf.model_, xnn.Sequential)
    # the network's output unit i is classes_[i]
    np.testing.assert_array_equal(clf.model_.predict_proba(X), P.astype(np.float32))


def test_same_as_sequential_fit(digits):
    """fit is Sequential.fit with the estimator's settings, to the bit."""
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(20,), solver="sgd", learning_rate_init=0.1,
                        batch_size=50, max_iter=5, random_state=3, dtype="float64").fit(X, y)
    model = xnn.Sequential([xnn.layers.Dense(64, 20, activation="relu"),
                            xnn.layers.Dense(20, 10, activation="softmax")],
                           seed=3, dtype="float64")
    hist = model.fit(X, y, epochs=5, batch_size=50,
                     optimizer=xnn.optim.SGD(0.1, momentum=0.9, nesterov=True), verbose=0)
    for a, b in zip(clf.model_.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert clf.loss_curve_ == hist.history["loss"]


def test_pipeline_and_grid_search(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=20, random_state=0))
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(8,), (32,)],
                               "mlpclassifier__learning_rate_init": [1e-3, 1e-2]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"mlpclassifier__hidden_layer_sizes",
                                      "mlpclassifier__learning_rate_init"}
    assert grid.best_score_ > 0.85
    assert grid.score(X, y) > 0.9


def test_cnn_on_images_and_signals(digits):
    X, y = digits
    images = X.reshape(-1, 1, 8, 8)
    clf = CNNClassifier(conv_layers=((8, 3),), dense_layers=(32,), max_iter=30,
                        learning_rate_init=0.01, random_state=0).fit(images, y)
    assert clf.model_.input_shape == (1, 8, 8)
    assert isinstance(clf.model_.layers[0], xnn.layers.Conv2d)
    assert isinstance(clf.model_.layers[1], xnn.layers.MaxPool2d)
    assert clf.n_features_in_ == 64
    assert clf.score(images, y) > 0.9
    # flat rows and (n, H, W) give the same predictions
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(images))
    np.testing.assert_array_equal(clf.predict_proba(X.reshape(-1, 8, 8)),
                                  clf.predict_proba(images))
    with pytest.raises(ValueError, match="expected rows shaped"):
        clf.predict(X.reshape(-1, 1, 4, 16))
    # given input_shape, flat rows; (n, H, W) images as one channel; 2x2 kernels, avg pool
    c2 = CNNClassifier(input_shape=(1, 8, 8), conv_layers=((4, (3, 2)), (6, 2)), pool="avg",
                       pool_size=(2, 1), dense_layers=(), max_iter=3, random_state=0).fit(X, y)
    assert [type(ly).__name__ for ly in c2.model_.layers] == [
        "Conv2d", "AvgPool2d", "Conv2d", "AvgPool2d", "Flatten", "Dense"]
    assert c2.model_.layers[0].kernel_size == (3, 2)
    c3 = CNNClassifier(conv_layers=((4, 3),), max_iter=2, random_state=0).fit(X, y)
    assert isinstance(c3.model_.layers[0], xnn.layers.Conv1d)
    assert c3.model_.input_shape == (1, 64)


def test_partial_fit_and_warm_start(digits):
    X, y = digits
    a = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", random_state=0, max_iter=1,
                      dtype="float64")
    with pytest.raises(ValueError, match="classes: needed"):
        a.partial_fit(X, y)
    for _ in range(3):
        a.partial_fit(X, y, classes=np.arange(10))
    assert a.n_iter_ == 3 and len(a.loss_curve_) == 3
    with pytest.raises(ValueError, match="classes: expected"):
        a.partial_fit(X, y, classes=np.arange(11))
    with pytest.raises(ValueError, match="not in classes_"):
        a.partial_fit(X, y + 10)
    with pytest.raises(ValueError, match="features"):
        a.partial_fit(X[:, :10], y)
    # warm_start: fit continues the same network; plain SGD keeps no state
    # between calls, so three warm fits of one epoch follow three partial fits
    # up to the shuffling order, which each call draws afresh
    b = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", random_state=0, max_iter=1,
                      warm_start=True, dtype="float64").fit(X, y)
    model = b.model_
    b.fit(X, y)
    assert b.model_ is model and b.n_iter_ == 2
    b.set_params(warm_start=False).fit(X, y)
    assert b.model_ is not model and b.n_iter_ == 1


def test_random_state(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=3)
    p1 = MLPClassifier(random_state=7, **kw).fit(X, y).predict_proba(X)
    p2 = MLPClassifier(random_state=7, **kw).fit(X, y).predict_proba(X)
    p3 = MLPClassifier(random_state=8, **kw).fit(X, y).predict_proba(X)
    p4 = MLPClassifier(random_state=np.random.RandomState(7), **kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3) and not np.array_equal(p1, p4)


@pytest.mark.parametrize("params, match", [
    ({"solver": "lbfgs"}, "solver"),
    ({"activation": "softmax"}, "activation"),
    ({"max_iter": 0}, "max_iter"),
    ({"learning_rate_init": -1.0}, "learning_rate_init"),
    ({"batch_size": 0}, "batch_size"),
    ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes"),
    ({"hidden_layer_sizes": "big"}, "hidden_layer_sizes"),
    ({"momentum": 0.5}, "momentum: a parameter of the other solver"),
    ({"solver": "sgd", "beta_1": 0.5}, "beta_1: a parameter of the other solver"),
    ({"solver": "sgd", "momentum": 0.0, "nesterovs_momentum": True}, "nesterovs_momentum"),
    ({"dtype": "float16"}, "dtype"),
    ({"dropout": 1.0}, "dropout"),
])
def test_bad_parameters_raise_in_fit(digits, params, match):
    X, y = digits
    clf = MLPClassifier(**params)            # stored as given, not checked yet
    assert clf.get_params()[next(iter(params))] == params[next(iter(params))]
    with pytest.raises((ValueError, TypeError), match=match):
        clf.fit(X, y)


@pytest.mark.parametrize("params, match", [
    ({"conv_layers": ((4,),)}, "conv_layers\\[0\\]"),
    ({"conv_layers": ((4, 0),)}, "kernel_size"),
    ({"pool": "median"}, "pool"),
    ({"padding": "full"}, "padding"),
    ({"input_shape": (1, 7, 7)}, "input_shape: \\(1, 7, 7\\) holds 49 values"),
    ({"input_shape": (64,)}, "input_shape"),
    ({"conv_layers": ((4, 3),) * 4}, "larger than the input"),
])
def test_bad_cnn_parameters(digits, params, match):
    X, y = digits
    with pytest.raises((ValueError, TypeError), match=match):
        CNNClassifier(max_iter=1, **{"input_shape": (1, 8, 8), **params}).fit(X, y)


def test_unknown_parameter_raises():
    with pytest.raises(TypeError):
        MLPClassifier(alpha=1e-4)
    with pytest.raises(ValueError, match="Invalid parameter"):
        MLPClassifier().set_params(hidden_layers=(3,))


def test_pickle_round_trip(digits):
    X, y = digits
    clf = CNNClassifier(input_shape=(1, 8, 8), conv_layers=((4, 3),), dense_layers=(8,),
                        max_iter=3, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_explain_accepts_the_estimator(digits, kind):
    X, y = digits
    if kind == "mlp":
        clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
                            dtype="float64").fit(X, y)
        Xe = X[:6]
    else:
        clf = CNNClassifier(input_shape=(1, 8, 8), conv_layers=((4, 3),), dense_layers=(8,),
                            max_iter=5, random_state=0, dtype="float64").fit(X, y)
        Xe = X[:6].reshape(-1, 1, 8, 8)
    E = xnn.explain
    methods = [(E.saliency, {}), (E.lrp, {}), (E.integrated_gradients, {"steps": 8}),
               (E.occlusion, {"patch": 2}), (E.gradient, {"target": 3}), (E.deeplift, {})]
    if kind == "cnn":
        methods += [(E.grad_cam, {}), (E.guided_grad_cam, {})]
    for fn, kw in methods:
        got = fn(clf, Xe, **kw)
        want = fn(clf.model_, Xe, **kw)
        assert got.shape == (Xe.shape if fn not in (E.grad_cam,) else (6, 8, 8))
        np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match="expected an xnn.Sequential"):
        E.saliency(MLPClassifier(), Xe)      # not fitted
