"""Sequential: a stack of layers that trains, predicts, saves and loads.

Training runs in C: ``fit`` makes one ``_core.Trainer`` (workspaces for its
batch size, allocated once) and calls its ``step`` once per batch; every
layer's forward, the loss, every backward and every update happen in that
one call. Python only picks the rows of each batch and keeps the history.
"""
import json
import math
import os
import tempfile

import numpy as np

from . import _core
from . import _validate as V
from . import init as initializers
from . import layers as layers_mod
from . import losses as losses_mod
from . import optim as optim_mod

FORMAT = "xnn-model-1"
#: rows per C call when predicting, to bound the memory of large inputs
PREDICT_CHUNK = 16384


class _Transient:
    """The C objects a model keeps between calls (its Network and the
    Trainer of its last fit). A copy or a pickle of the model gets an empty
    one, never the C objects, which point at the original's arrays."""
    __slots__ = ("params", "net", "trainer")

    def __init__(self):
        self.params = ()
        self.net = None
        self.trainer = None

    def __reduce__(self):
        return (_Transient, ())


class History:
    """What ``fit`` returns: ``history`` maps a metric name to its list of
    per-epoch values (``loss``, ``ssr``, ``accuracy`` and, with validation
    data, ``val_loss``, ``val_ssr``, ``val_accuracy``)."""

    def __init__(self, params=None):
        self.history = {"loss": [], "ssr": [], "accuracy": []}
        self.epoch = []
        self.params = dict(params or {})

    def _append(self, epoch, values):
        self.epoch.append(epoch)
        for k, v in values.items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, metrics={list(self.history)})"


class Sequential:
    """A feed-forward network of Dense layers.

    >>> model = xnn.Sequential([
    ...     xnn.layers.Dense(784, 128, activation="relu"),
    ...     xnn.layers.Dense(128, 10, activation="softmax"),
    ... ], init="xavier", seed=42, dtype="float32")

    Parameters
    ----------
    layers : list of Dense
        Consecutive layers must agree: ``layers[i].n_out == layers[i+1].n_in``.
    init : str or callable
        Initialiser name (see ``xnn.init``); a layer's own ``init`` wins.
    seed : int or None
        Makes initialisation, shuffling and dropout reproducible. The weights
        are drawn from ``numpy.random.RandomState(seed)`` layer by layer.
    dtype : "float32" (fast, default) or "float64" (exact, for teaching and
        gradient checks).
    """

    def __init__(self, layers, init="glorot_uniform", seed=None, dtype="float32"):
        if isinstance(layers, layers_mod.Dense):
            layers = [layers]
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"layers: expected a list of xnn.layers.Dense, got {type(layers).__name__}")
        if len(layers) == 0:
            raise ValueError("layers: expected at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, layers_mod.Dense):
                raise TypeError(f"layers[{i}]: expected an xnn.layers.Dense, got {type(layer).__name__}")
        for i in range(1, len(layers)):
            if layers[i].n_in != layers[i - 1].n_out:
                raise ValueError(f"layers[{i}].n_in: expected {layers[i - 1].n_out} "
                                 f"(the n_out of layers[{i - 1}]), got {layers[i].n_in}")
        if layers[-1].keep_prob < 1:
            raise ValueError("layers[-1]: dropout on the output layer is not supported, "
                             f"got keep_prob={layers[-1].keep_prob}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("layers: the same Dense object appears twice")
        if seed is not None:
            seed = V.positive_int(seed, "seed", minimum=0)
        self.layers = list(layers)
        self.dtype = V.dtype(dtype)
        self.seed = seed
        self.init = init
        self._fits = 0
        self._c = _Transient()
        self.history_ = None
        rng = np.random.RandomState(seed)
        default = initializers.get(init)
        for layer in self.layers:
            fn = initializers.get(layer.init) if layer.init is not None else default
            layer.build(fn, rng, self.dtype)

    # ------------------------------------------------------------ weights
    @property
    def n_in(self):
        return self.layers[0].n_in

    @property
    def n_out(self):
        return self.layers[-1].n_out

    def count_params(self):
        return sum(layer.n_params for layer in self.layers)

    def summary(self):
        """A table of the layers and their parameter counts, as a string."""
        rows = [f"{'layer':<8}{'shape':<16}{'activation':<12}{'parameters':>12}"]
        for i, layer in enumerate(self.layers):
            shape = f"{layer.n_in} -> {layer.n_out}"
            rows.append(f"{i:<8}{shape:<16}{layer.activation:<12}{layer.n_params:>12,}")
        rows.append(f"{'total':<36}{self.count_params():>12,}")
        return "\n".join(rows)

    def get_weights(self):
        """``[W1 (in, out), b1 (out,), W2, b2, ...]``, copies, as in Keras."""
        out = []
        for layer in self.layers:
            out += [layer.W.copy(), layer.b.copy()]
        return out

    def set_weights(self, weights):
        """Set every parameter from a list shaped like ``get_weights()``.

        Values are copied into the existing arrays (converted to the model's
        dtype); nothing changes unless every array fits.
        """
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"weights: expected a list of arrays, got {type(weights).__name__}")
        expected = 2 * len(self.layers)
        if len(weights) != expected:
            raise ValueError(f"weights: expected {expected} arrays (W and b per layer), got {len(weights)}")
        converted = []
        for i, w in enumerate(weights):
            layer = self.layers[i // 2]
            target = layer.W if i % 2 == 0 else layer.b
            name = f"weights[{i}] ({'W' if i % 2 == 0 else 'b'} of layer {i // 2})"
            try:
                arr = np.asarray(w)
            except Exception as e:
                raise TypeError(f"{name}: expected an array of numbers: {e}") from None
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"{name}: expected an array of numbers, got dtype {arr.dtype}")
            if i % 2 == 1 and arr.shape == (1, layer.n_out):
                arr = arr.reshape(-1)  # the reports store b as (1, out)
            if arr.shape != target.shape:
                raise ValueError(f"{name}: expected shape {target.shape}, got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: expected finite values, got NaN or infinity")
            converted.append(arr)
        for i, arr in enumerate(converted):
            layer = self.layers[i // 2]
            (layer.W if i % 2 == 0 else layer.b)[...] = arr

    # ------------------------------------------------------------ C objects
    def _network(self):
        """The ``_core.Network`` over the layers' parameter arrays, made once
        and reused while every layer keeps the same W and b arrays,
        activation and keep probability. It points at the arrays, so
        in-place updates (``fit``, ``set_weights``) are seen; replacing an
        array or changing a layer makes a new one."""
        c = self._c
        if len(c.params) == len(self.layers):
            for p, ly in zip(c.params, self.layers):
                if p[0] is not ly.W or p[1] is not ly.b or p[2] != ly.activation \
                        or p[3] != ly.keep_prob:
                    break
            else:
                return c.net
        c.net = _core.Network([(ly.W, ly.b, layers_mod.ACTIVATIONS[ly.activation], ly.keep_prob)
                               for ly in self.layers])
        c.params = tuple((ly.W, ly.b, ly.activation, ly.keep_prob) for ly in self.layers)
        return c.net

    @property
    def _trainer(self):
        """The ``_core.Trainer`` of the last ``fit`` (its ``steps`` counts the
        completed steps), or None."""
        return self._c.trainer

    def _X(self, X, name="X", finite=False):
        return V.features(X, name, self.n_in, self.dtype, finite)

    # ------------------------------------------------------------ inference
    def activations(self, X):
        """Every layer's output for X (no dropout): a list of arrays
        ``(m, n_out_l)``, the last one the network's output."""
        X = self._X(X)
        outs = [np.empty((X.shape[0], layer.n_out), dtype=self.dtype) for layer in self.layers]
        self._network().forward(X, outs)
        return outs

    def predict_proba(self, X):
        """The output layer's values for X, ``(m, n_out)`` (class
        probabilities for a softmax output)."""
        X = self._X(X)
        m = X.shape[0]
        net = self._network()
        result = np.empty((m, self.n_out), dtype=self.dtype)
        chunk = min(m, PREDICT_CHUNK)
        outs = [np.empty((chunk, layer.n_out), dtype=self.dtype) for layer in self.layers[:-1]]
        for start in range(0, m, chunk):
            stop = min(m, start + chunk)
            part = outs if stop - start == chunk else [o[: stop - start] for o in outs]
            net.forward(X[start:stop], part + [result[start:stop]])
        return result

    def predict(self, X):
        """Predicted class per row: the arg-max of ``predict_proba``."""
        return np.argmax(self.predict_proba(X), axis=1)

    def evaluate(self, X, y, loss="cross_entropy"):
        """``{"loss", "ssr", "accuracy"}`` of the model on (X, y), no dropout."""
        X = self._X(X)
        labels = V.labels(y, "y", X.shape[0], self.n_out)
        _, code = losses_mod.get(loss, self.layers[-1].activation)
        return self._metrics(self.predict_proba(X), labels, code)

    @staticmethod
    def _metrics(P, labels, code):
        s_loss, s_ssr, correct = _core.loss_forward(P, labels, code)
        m = P.shape[0]
        return {"loss": s_loss / m, "ssr": s_ssr / m, "accuracy": correct / m}

    # ------------------------------------------------------------ training
    def fit(self, X, y, epochs=1, batch_size=None, optimizer="sgd", lr=0.01,
            loss="cross_entropy", validation_data=None, shuffle=True, verbose=1):
        """Train the network and return a History.

        Parameters
        ----------
        X : array (m, n_in)
        y : integer labels (m,) or one-hot rows (m, n_classes)
        epochs : int
        batch_size : int or None
            None trains on all rows at once (full-batch gradient descent,
            as in the reports); an int trains on minibatches.
        optimizer : "sgd", "momentum", "nesterov", "adam" or an
            ``xnn.optim`` object (which then carries its own lr).
        lr : float, learning rate for an optimizer given by name.
        loss : "cross_entropy" (softmax output), "binary_cross_entropy"
            (sigmoid output) or "ssr".
        validation_data : (X_val, y_val), evaluated after every epoch.
        shuffle : reshuffle the rows every epoch (minibatches only).
        verbose : 0 silent, 1 a progress bar, 2 one line per epoch.

        Each epoch's ``loss``, ``ssr`` and ``accuracy`` are the mean over
        its batches of the values of each batch's training forward pass,
        before that batch's update. For full-batch training they are the
        numbers of the MNIST report's table.

        Ctrl-C stops after the current batch: KeyboardInterrupt propagates
        and the model keeps the weights of the last completed step (the
        partial history is in ``model.history_``).
        """
        X = self._X(X, finite=True)
        m = X.shape[0]
        labels = V.labels(y, "y", m, self.n_out)
        epochs = V.positive_int(epochs, "epochs", minimum=0)
        bs = m if batch_size is None else min(V.positive_int(batch_size, "batch_size"), m)
        opt = optim_mod.get(optimizer, V.finite_float(lr, "lr", 0.0, low_open=True))
        loss_name, loss_code = losses_mod.get(loss, self.layers[-1].activation)
        verbose = V.positive_int(verbose, "verbose", minimum=0)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data: expected a pair (X_val, y_val), "
                                f"got {type(validation_data).__name__}")
            Xv = self._X(validation_data[0], "validation_data[0]", finite=True)
            val = (Xv, V.labels(validation_data[1], "validation_data[1]", Xv.shape[0], self.n_out))

        seed_seq = np.random.SeedSequence([self.seed, self._fits] if self.seed is not None else None)
        self._fits += 1
        rng = np.random.default_rng(seed_seq)
        dropout_seed = int(rng.integers(0, 2**63))
        trainer = _core.Trainer(self._network(), bs, loss_code, opt.code, **opt.params(),
                                seed=dropout_seed)
        self._c.trainer = trainer
        hist = History({"epochs": epochs, "batch_size": batch_size, "optimizer": repr(opt),
                        "loss": loss_name, "rows": m})
        self.history_ = hist
        n_batches = math.ceil(m / bs)
        minibatch = n_batches > 1
        bar = _progress(verbose, epochs * n_batches if minibatch else epochs,
                        "step" if minibatch else "epoch")
        try:
            for epoch in range(epochs):
                order = rng.permutation(m) if (minibatch and shuffle) else None
                sums = [0.0, 0.0, 0.0]
                for start in range(0, m, bs):
                    stop = min(m, start + bs)
                    if order is None:
                        s_loss, s_ssr, correct = trainer.step(X[start:stop], labels[start:stop])
                    else:  # the rows of a shuffled batch are gathered in C
                        s_loss, s_ssr, correct = trainer.step(X, labels, order[start:stop])
                    k = stop - start
                    sums[0] += s_loss / k
                    sums[1] += s_ssr / k
                    sums[2] += correct / k
                    if bar is not None and minibatch:
                        bar.update(1)
                values = {"loss": sums[0] / n_batches, "ssr": sums[1] / n_batches,
                          "accuracy": sums[2] / n_batches}
                if val is not None:
                    vm = self._metrics(self.predict_proba(val[0]), val[1], loss_code)
                    values.update({"val_" + k: v for k, v in vm.items()})
                hist._append(epoch, values)
                if bar is not None:
                    if not minibatch:
                        bar.update(1)
                    bar.set_postfix({k: f"{v:.4f}" for k, v in values.items() if k != "ssr"},
                                    refresh=False)
                if verbose >= 2:
                    line = " ".join(f"{k}={v:.6f}" for k, v in values.items())
                    print(f"epoch {epoch + 1}/{epochs} {line}", flush=True)
        finally:
            if bar is not None:
                bar.close()
        return hist

    # ------------------------------------------------------------ files
    def config(self):
        return {"format": FORMAT, "dtype": np.dtype(self.dtype).name, "seed": self.seed,
                "init": self.init if isinstance(self.init, str) else None,
                "layers": [layer.config() for layer in self.layers]}

    def save(self, path):
        """Write the model to an ``.npz`` file (no pickle). The file is
        written under a temporary name and renamed, so an existing file is
        replaced only by a complete one."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        arrays = {"config": np.array(json.dumps(self.config()))}
        for i, layer in enumerate(self.layers):
            arrays[f"W{i}"] = layer.W
            arrays[f"b{i}"] = layer.b
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".xnn-", suffix=".npz", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n], dtype={np.dtype(self.dtype).name!r})"


def _progress(verbose, total, unit):
    if verbose != 1:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is not worth failing for
        return None
    return tqdm(total=total, unit=unit, leave=True, mininterval=0.2)


def load(path):
    """Read a model written by ``Sequential.save``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"path: no such model file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as e:
        raise ValueError(f"path: {path!r} is not a readable xnn model file (.npz): {e}") from None
    try:
        cfg = json.loads(str(arrays["config"]))
        if cfg.get("format") != FORMAT:
            raise ValueError(f"format {cfg.get('format')!r}, expected {FORMAT!r}")
        layers = [layers_mod.from_config(c) for c in cfg["layers"]]
        model = Sequential(layers, init="zeros", seed=cfg.get("seed"), dtype=cfg["dtype"])
        model.init = cfg.get("init") or "zeros"
        weights = []
        for i in range(len(layers)):
            weights += [arrays[f"W{i}"], arrays[f"b{i}"]]
        model.set_weights(weights)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        raise ValueError(f"path: {path!r} is not a valid xnn model file: {e}") from None
    return model
