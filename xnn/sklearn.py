"""scikit-learn estimators backed by xnn networks.

``MLPClassifier`` (dense layers) and ``CNNClassifier`` (convolutions,
pooling, dense layers) follow scikit-learn's conventions: parameters are
stored by ``__init__`` as given and validated by ``fit``; fitted attributes
end with an underscore; any class labels (strings, integers) work; they fit
in ``Pipeline`` and ``GridSearchCV``. The fitted network is ``model_`` (an
``xnn.Sequential``), and every ``xnn.explain`` function takes the fitted
estimator in its place::

    from xnn.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0).fit(X, y)
    clf.predict(X[:5]); clf.predict_proba(X[:5]); clf.score(X, y)
    R = xnn.explain.lrp(clf, X[:5])     # target= is an index into clf.classes_

Names follow ``sklearn.neural_network.MLPClassifier`` where they mean the
same (``hidden_layer_sizes``, ``activation``, ``solver``, ``batch_size``,
``learning_rate_init``, ``max_iter``, ``shuffle``, ``random_state``,
``warm_start``, ``momentum``, ``nesterovs_momentum``, ``beta_1``,
``beta_2``, ``epsilon``, ``verbose``). Differences: the output layer is a
softmax over every class, also for two classes (``predict_proba`` has one
column per class either way); there is no L2 penalty (``alpha``) and no
early stopping: ``fit`` trains ``max_iter`` epochs. The solver's own
parameters default to None ("not given": 0.9 and Nesterov for ``"sgd"``;
0.9, 0.999 and 1e-8 for ``"adam"``, as scikit-learn's) and giving one to the
other solver raises.

Estimator checks: both classes pass
``sklearn.utils.estimator_checks.parametrize_with_checks`` with no check
marked as an expected failure (``tests/test_sklearn.py``).
"""
import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state

from . import layers as L
from . import optim
from .network import Sequential

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # 1.2 - 1.5: the estimator's own method
    def _validate_data(est, *args, **kwargs):
        return est._validate_data(*args, **kwargs)

__all__ = ["MLPClassifier", "CNNClassifier"]

_ACTIVATIONS = {"relu", "tanh", "logistic", "sigmoid", "identity"}
#: scikit-learn's names -> xnn's
_ACT = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "sigmoid": "sigmoid",
        "identity": "linear"}


def _int_tuple(value, name, length=None):
    """A tuple of positive integers from an integer or a sequence of them."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of positive integers, got {value!r}") from None
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name}: expected positive integers, got {value!r}")
    if length is not None and len(items) not in length:
        raise ValueError(f"{name}: expected {' or '.join(map(str, length))} integers, got {value!r}")
    return tuple(int(v) for v in items)


class _XNNClassifier(ClassifierMixin, BaseEstimator):
    """What both estimators share: data and label handling, the solver,
    fit/partial_fit/predict. Subclasses build the layers (``_layers``)."""

    _parameter_constraints = {
        "activation": [StrOptions(_ACTIVATIONS)],
        "solver": [StrOptions({"sgd", "adam"})],
        "batch_size": [StrOptions({"auto", "full"}), Interval(numbers.Integral, 1, None,
                                                              closed="left")],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "nesterovs_momentum": ["boolean", None],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------ parameters
    def _check_params(self):
        self._validate_params()
        sgd = ("momentum", "nesterovs_momentum")
        adam = ("beta_1", "beta_2", "epsilon")
        other = adam if self.solver == "sgd" else sgd
        given = [k for k in other if getattr(self, k) is not None]
        if given:
            raise ValueError(f"{given[0]}: a parameter of the other solver; solver="
                             f"{self.solver!r} takes {', '.join(sgd if self.solver == 'sgd' else adam)}")
        if self.nesterovs_momentum and self.momentum == 0:
            raise ValueError("nesterovs_momentum: needs momentum > 0, got momentum=0")

    def _optimizer(self):
        lr = float(self.learning_rate_init)
        if self.solver == "sgd":
            momentum = 0.9 if self.momentum is None else float(self.momentum)
            nesterov = (momentum > 0) if self.nesterovs_momentum is None else bool(self.nesterovs_momentum)
            return optim.SGD(lr, momentum=momentum, nesterov=nesterov and momentum > 0)
        return optim.Adam(lr, beta1=0.9 if self.beta_1 is None else float(self.beta_1),
                          beta2=0.999 if self.beta_2 is None else float(self.beta_2),
                          eps=1e-8 if self.epsilon is None else float(self.epsilon))

    def _batch(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size == "full":
            return None
        return min(int(self.batch_size), n)

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return None
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(rs)
        return int(check_random_state(rs).randint(0, 2**31 - 1))

    # ------------------------------------------------------------ data
    def _X(self, X):
        """X as 2-D rows for validate_data; images keep their row shape
        (returned) for input_shape."""
        shape = None
        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        if getattr(X, "ndim", 2) > 2:
            X = np.asarray(X)
            shape = X.shape[1:]
            X = X.reshape(X.shape[0], -1)
        return X, shape

    def _validate(self, X, y=None, reset=True):
        X, shape = self._X(X)
        dtype = np.dtype(self.dtype).type if reset else self.model_.dtype
        if y is None and reset:
            X, y = _validate_data(self, X, y, dtype=dtype, reset=True)  # raises: y is needed
        if y is not None:
            X, y = _validate_data(self, X, y, dtype=dtype, reset=reset, order="C")
            check_classification_targets(y)
        else:
            X = _validate_data(self, X, dtype=dtype, reset=reset, order="C")
        if not reset and shape is not None and len(self.model_.input_shape) > 1 \
                and tuple(shape) not in (tuple(self.model_.input_shape), tuple(self.model_.input_shape[1:])):
            raise ValueError(f"X: expected rows shaped {tuple(self.model_.input_shape)} (or flat "
                             f"rows of {self.n_features_in_} values), got {tuple(shape)}")
        return X, y, shape

    def _encode(self, y):
        if not np.all(np.isin(y, self.classes_)):
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            raise ValueError(f"y: labels {unknown.tolist()} are not in classes_ "
                             f"{self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    # ------------------------------------------------------------ fitting
    def _new_model(self, n_features, row_shape):
        layers, input_shape = self._layers(n_features, row_shape, len(self.classes_))
        return Sequential(layers, input_shape=input_shape, seed=self._seed(), dtype=self.dtype)

    def _train(self, X, codes, epochs):
        hist = self.model_.fit(X, codes, epochs=epochs, batch_size=self._batch(X.shape[0]),
                               optimizer=self._optimizer(), shuffle=bool(self.shuffle),
                               verbose=int(self.verbose))
        losses = [float(v) for v in hist.history["loss"]]
        self.loss_curve_ = list(getattr(self, "loss_curve_", [])) + losses
        self.n_iter_ = getattr(self, "n_iter_", 0) + len(losses)
        self.t_ = getattr(self, "t_", 0) + len(losses) * X.shape[0]
        return self

    def fit(self, X, y):
        """Train a new network on (X, y) for ``max_iter`` epochs (with
        ``warm_start=True`` and a fitted network of the same shape: train
        that one further). X: rows (n, n_features), or images (n, C, H, W)
        / (n, H, W) for CNNClassifier. Returns self."""
        self._check_params()
        X, y, shape = self._validate(X, y, reset=True)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"y: a classifier needs at least 2 classes, got 1 class "
                             f"({classes[0]!r})")
        keep = (self.warm_start and hasattr(self, "model_")
                and np.array_equal(classes, self.classes_)
                and self.model_.n_in == X.shape[1] and self.model_.dtype == np.dtype(self.dtype))
        self.classes_ = classes
        if not keep:
            self.model_ = self._new_model(X.shape[1], shape)
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
        return self._train(X, self._encode(y), int(self.max_iter))

    def partial_fit(self, X, y, classes=None):
        """One more epoch over (X, y). The first call needs ``classes`` (every
        label that will ever be seen); later calls may repeat it. With
        ``solver="adam"`` each call starts fresh moment estimates (its
        first steps are Adam's bias-corrected first steps again). Returns
        self."""
        first = not hasattr(self, "model_")
        if first:
            self._check_params()
            if classes is None:
                raise ValueError("classes: needed in the first call to partial_fit (every "
                                 "label that y may hold)")
        X, y, shape = self._validate(X, y, reset=first)
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(f"classes: expected {self.classes_.tolist()} as in the first "
                                 f"call, got {classes.tolist()}")
        if first:
            if len(classes) < 2:
                raise ValueError(f"classes: a classifier needs at least 2 classes, got "
                                 f"{len(classes)} class")
            self.classes_ = classes
            self.model_ = self._new_model(X.shape[1], shape)
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
        return self._train(X, self._encode(y), 1)

    # ------------------------------------------------------------ inference
    def predict_proba(self, X):
        """Class probabilities, ``(n, n_classes)``, columns in ``classes_``
        order."""
        check_is_fitted(self, "model_")
        X, _, _ = self._validate(X, reset=False)
        return self.model_.predict_proba(X).astype(np.float64)

    def predict(self, X):
        """The most probable class of each row, a label of ``classes_``."""
        check_is_fitted(self, "model_")
        X, _, _ = self._validate(X, reset=False)
        return self.classes_[self.model_.predict(X)]

    def __setstate__(self, state):
        super().__setstate__(state)
        # a pickle loaded as read-only memory maps (joblib's mmap_mode) gives
        # read-only weights, which training updates in place: copy those
        model = self.__dict__.get("model_")
        if model is not None:
            for layer in model.layers:
                if any(not p.flags.writeable for p in layer.params):
                    layer._set_params([np.array(p, order="C") for p in layer.params])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"allow_nd": True}


class MLPClassifier(_XNNClassifier):
    """A multi-layer perceptron classifier trained by xnn's C core.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        The width of each hidden dense layer (``()`` for none: softmax
        regression).
    activation : {"relu", "tanh", "logistic", "identity"}, default "relu"
        Of the hidden layers (``"sigmoid"`` is accepted for ``"logistic"``).
    solver : {"adam", "sgd"}, default "adam"
    batch_size : int, "auto" (min(200, n_samples), scikit-learn's) or "full"
        (full-batch gradient descent, as in the MNIST report).
    learning_rate_init : float, default 0.001
    max_iter : int, default 200, the number of epochs ``fit`` trains.
    shuffle : bool, reshuffle the rows every epoch.
    random_state : None, int or RandomState: initial weights, shuffling and
        dropout (an int is the network's ``seed``).
    warm_start : bool, ``fit`` continues from the fitted network.
    momentum, nesterovs_momentum : for ``"sgd"`` (default 0.9, True).
    beta_1, beta_2, epsilon : for ``"adam"`` (default 0.9, 0.999, 1e-8).
    dropout : float, default 0, the fraction of each hidden layer's outputs
        dropped while training.
    dtype : "float32" (default) or "float64".
    verbose : 0 silent, 1 a progress bar, 2 a line per epoch.

    Attributes
    ----------
    model_ : xnn.Sequential, the fitted network (explain it with
        ``xnn.explain.*(clf, X)``).
    classes_ : the class labels, sorted; output unit i is ``classes_[i]``.
    n_features_in_ : int; ``feature_names_in_`` for a DataFrame.
    loss_curve_ : list of float, the mean training loss of every epoch.
    n_iter_ : int, the epochs trained so far; ``t_`` the rows seen.
    """

    _parameter_constraints = {**_XNNClassifier._parameter_constraints,
                              "hidden_layer_sizes": ["array-like", Interval(
                                  numbers.Integral, 1, None, closed="left")]}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", solver="adam",
                 batch_size="auto", learning_rate_init=0.001, max_iter=200, shuffle=True,
                 random_state=None, warm_start=False, momentum=None, nesterovs_momentum=None,
                 beta_1=None, beta_2=None, epsilon=None, dropout=0.0, dtype="float32",
                 verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.dropout = dropout
        self.dtype = dtype
        self.verbose = verbose

    def _layers(self, n_features, row_shape, n_classes):
        if isinstance(self.hidden_layer_sizes, numbers.Integral):
            sizes = _int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        else:
            sizes = () if len(self.hidden_layer_sizes) == 0 else \
                _int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        act, widths = _ACT[self.activation], (n_features,) + sizes
        layers = [L.Dense(a, b, activation=act, dropout=float(self.dropout) or None)
                  for a, b in zip(widths[:-1], widths[1:])]
        layers.append(L.Dense(widths[-1], n_classes, activation="softmax"))
        return layers, None if row_shape is None else tuple(row_shape)


class CNNClassifier(_XNNClassifier):
    """A convolutional classifier trained by xnn's C core: convolution
    blocks (each a convolution, its activation and a pooling layer), then
    Flatten, dense layers and a softmax.

    Parameters
    ----------
    input_shape : the shape of one row, ``(C, H, W)`` (images, Conv2d) or
        ``(C, L)`` (signals, Conv1d), or None: from X, images (n, C, H, W)
        as they are, (n, H, W) as one channel, and flat rows (n, d) as
        one-channel signals of length d. Flat rows of images (MNIST's 784
        columns) need ``input_shape=(1, 28, 28)``.
    conv_layers : tuple of (filters, kernel_size) pairs, default
        ((32, 3), (64, 3)); a kernel_size may be a pair (kh, kw).
    padding : "valid" (default, no padding) or "same" (odd kernels: the
        output as large as the input).
    pool : "max" (default), "avg" or None: the pooling after each
        convolution, of window and stride ``pool_size`` (default 2).
    dense_layers : tuple of int, default (128,): hidden dense widths after
        Flatten.
    activation, solver, batch_size, learning_rate_init, max_iter, shuffle,
    random_state, warm_start, momentum, nesterovs_momentum, beta_1, beta_2,
    epsilon, dtype, verbose : as for ``MLPClassifier``.
    dropout : the fraction of each hidden dense layer's outputs dropped
        while training (the convolutions have none).

    Attributes are those of ``MLPClassifier``; ``model_.input_shape`` is the
    row shape used.

    >>> clf = CNNClassifier(input_shape=(1, 8, 8), conv_layers=((8, 3),), dense_layers=(32,),
    ...                     max_iter=20, random_state=0).fit(X, y)
    """

    _parameter_constraints = {**_XNNClassifier._parameter_constraints,
                              "input_shape": ["array-like", None],
                              "conv_layers": ["array-like"],
                              "padding": [StrOptions({"valid", "same"})],
                              "pool": [StrOptions({"max", "avg"}), None],
                              "pool_size": ["array-like", Interval(numbers.Integral, 1, None,
                                                                   closed="left")],
                              "dense_layers": ["array-like", Interval(numbers.Integral, 1, None,
                                                                      closed="left")]}

    def __init__(self, input_shape=None, conv_layers=((32, 3), (64, 3)), padding="valid",
                 pool="max", pool_size=2, dense_layers=(128,), activation="relu",
                 solver="adam", batch_size="auto", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, warm_start=False, momentum=None,
                 nesterovs_momentum=None, beta_1=None, beta_2=None, epsilon=None, dropout=0.0,
                 dtype="float32", verbose=0):
        self.input_shape = input_shape
        self.conv_layers = conv_layers
        self.padding = padding
        self.pool = pool
        self.pool_size = pool_size
        self.dense_layers = dense_layers
        self.activation = activation
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.dropout = dropout
        self.dtype = dtype
        self.verbose = verbose

    def _row_shape(self, n_features, row_shape):
        if self.input_shape is not None:
            shape = _int_tuple(self.input_shape, "input_shape", length=(2, 3))
            if math.prod(shape) != n_features:
                raise ValueError(f"input_shape: {shape} holds {math.prod(shape)} values, but X "
                                 f"has {n_features} features")
            return shape
        if row_shape is None:
            return (1, n_features)
        if len(row_shape) == 2:
            return (1,) + tuple(row_shape)
        if len(row_shape) == 3:
            return tuple(row_shape)
        raise ValueError(f"X: expected rows, (n, H, W) or (n, C, H, W), got rows shaped "
                         f"{tuple(row_shape)}")

    def _layers(self, n_features, row_shape, n_classes):
        shape = self._row_shape(n_features, row_shape)
        nd = len(shape) - 1
        Conv = L.Conv2d if nd == 2 else L.Conv1d
        Pool = {"max": L.MaxPool2d if nd == 2 else L.MaxPool1d,
                "avg": L.AvgPool2d if nd == 2 else L.AvgPool1d, None: None}[self.pool]
        act = _ACT[self.activation]
        try:
            spec = [tuple(c) for c in self.conv_layers]
        except TypeError:
            raise TypeError(f"conv_layers: expected (filters, kernel_size) pairs, got "
                            f"{self.conv_layers!r}") from None
        pool = _int_tuple(self.pool_size, "pool_size", length=(1, nd))
        pool = pool[0] if len(pool) == 1 else pool
        layers, channels = [], shape[0]
        for i, c in enumerate(spec):
            if len(c) != 2:
                raise ValueError(f"conv_layers[{i}]: expected (filters, kernel_size), got {c!r}")
            filters = _int_tuple(c[0], f"conv_layers[{i}] filters", length=(1,))[0]
            kernel = _int_tuple(c[1], f"conv_layers[{i}] kernel_size", length=(1, nd))
            kernel = kernel[0] if len(kernel) == 1 else kernel
            layers.append(Conv(channels, filters, kernel, padding=self.padding, activation=act))
            if Pool is not None:
                layers.append(Pool(pool))
            channels = filters
        layers.append(L.Flatten())
        dense = _int_tuple(self.dense_layers, "dense_layers") if not (
            hasattr(self.dense_layers, "__len__") and len(self.dense_layers) == 0) else ()
        # the flat width after the convolutions, from the layers' own shapes
        s = shape
        for ly in layers:
            s = ly.output_shape(s)
        widths = (s[0],) + dense
        for a, b in zip(widths[:-1], widths[1:]):
            layers.append(L.Dense(a, b, activation=act, dropout=float(self.dropout) or None))
        layers.append(L.Dense(widths[-1], n_classes, activation="softmax"))
        return layers, shape
