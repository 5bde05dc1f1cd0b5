"""Sequential: a stack of layers that trains, predicts, saves and loads.

Training runs in C: ``fit`` makes one ``_core.Trainer`` (workspaces for its
batch size, allocated once) and calls its ``step`` once per batch; every
layer's forward, the loss, every backward and every update happen in that
one call. Python only picks the rows of each batch and keeps the history.
"""
import json
import math
import numbers
import os
import tempfile
import threading
import warnings
import zipfile

import numpy as np

from . import _core
from . import _validate as V
from . import init as initializers
from . import layers as layers_mod
from . import losses as losses_mod
from . import optim as optim_mod

FORMAT = "xnn-model-2"
#: formats load still reads: version 1 held Dense layers only
READS = ("xnn-model-1", FORMAT)
#: rows per C call when predicting, to bound the memory of large inputs
PREDICT_CHUNK = 16384
#: a model file may declare at most this many parameters in all
MAX_FILE_PARAMS = 2**28
#: and at most this many layers
MAX_FILE_LAYERS = 1024
ON_NAN = ("raise", "stop", "ignore")


class _Transient:
    """The C objects a model keeps between calls (its Network and the
    Trainer of its last fit) and its fit lock. A copy or a pickle of the
    model gets an empty one, never the C objects, which point at the
    original's arrays."""
    __slots__ = ("params", "layers", "changes", "net", "trainer", "fit_lock")

    def __init__(self):
        self.params = ()
        self.layers = ()
        self.changes = -1
        self.net = None
        self.trainer = None
        self.fit_lock = threading.Lock()

    def __reduce__(self):
        return (_Transient, ())

    def __deepcopy__(self, memo):
        return _Transient()


class History:
    """What ``fit`` returns: ``history`` maps a metric name to its list of
    per-epoch values (``loss``, ``ssr``, ``accuracy`` and, with validation
    data, ``val_loss``, ``val_ssr``, ``val_accuracy``); ``batches`` counts
    the batches each epoch trained on. An epoch cut short by Ctrl-C or a
    non-finite loss (``on_nan="stop"``) is recorded with the mean over the
    batches it completed (and no validation metrics), and ``partial`` is
    True."""

    def __init__(self, params=None):
        self.history = {"loss": [], "ssr": [], "accuracy": []}
        self.epoch = []
        self.batches = []
        self.params = dict(params or {})
        self.partial = False
        self.stopped = None

    def _append(self, epoch, values, batches=None):
        self.epoch.append(epoch)
        self.batches.append(batches)
        for k, v in values.items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        extra = ", partial" if self.partial else ""
        return f"History(epochs={len(self.epoch)}, metrics={list(self.history)}{extra})"


def _shape_tuple(shape, name="input_shape"):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 3:
        raise ValueError(f"{name}: expected a shape of one row, (n,), (channels, length) or "
                         f"(channels, height, width), got {shape!r}")
    return tuple(V.positive_int(s, name) for s in shape)


class Sequential:
    """A feed-forward network: dense and convolutional layers, pooling and
    flatten.

    >>> model = xnn.Sequential([
    ...     xnn.layers.Dense(784, 128, activation="relu"),
    ...     xnn.layers.Dense(128, 10, activation="softmax"),
    ... ], init="xavier", seed=42, dtype="float32")
    >>> cnn = xnn.Sequential([
    ...     xnn.layers.Conv2d(1, 32, 3, activation="relu"), xnn.layers.MaxPool2d(2),
    ...     xnn.layers.Flatten(), xnn.layers.Dense(5408, 10, activation="softmax"),
    ... ], input_shape=(1, 28, 28), seed=0)

    Parameters
    ----------
    layers : list of xnn.layers.Layer
        Each layer reads the shape the previous one gives; a mismatch is an
        error naming the layer and what it should be.
    input_shape : the shape of one input row: ``(n,)``, ``(channels,
        length)`` or ``(channels, height, width)``. Needed when the first
        layer is not Dense (whose n_in says it).
    init : str or callable
        Initialiser name (see ``xnn.init``); a layer's own ``init`` wins.
    seed : int or None
        Makes initialisation, shuffling and dropout reproducible. The weights
        are drawn from ``numpy.random.RandomState(seed)`` layer by layer.
    dtype : "float32" (fast, default) or "float64" (exact, for teaching and
        gradient checks).
    """

    def __init__(self, layers, init="glorot_uniform", seed=None, dtype="float32",
                 input_shape=None):
        if isinstance(layers, layers_mod.Layer):
            layers = [layers]
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"layers: expected a list of xnn.layers, got {type(layers).__name__}")
        if len(layers) == 0:
            raise ValueError("layers: expected at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, layers_mod.Layer):
                raise TypeError(f"layers[{i}]: expected an xnn.layers layer, got {type(layer).__name__}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("layers: the same layer object appears twice")
        for i, layer in enumerate(layers[:-1]):
            if layer.activation == "softmax":
                raise ValueError(f"layers[{i}]: softmax is for the last layer only")
        if layers[-1].keep_prob < 1:
            raise ValueError("layers[-1]: dropout on the output layer is not supported, "
                             f"got keep_prob={layers[-1].keep_prob}")
        if seed is not None:
            seed = V.positive_int(seed, "seed", minimum=0)
        if input_shape is None:
            if not isinstance(layers[0], layers_mod.Dense):
                raise ValueError(f"input_shape: needed when the first layer is not Dense (it is "
                                 f"{layers[0]!r}); e.g. input_shape=(1, 28, 28) for MNIST images")
            input_shape = (layers[0].n_in,)
        self.input_shape = _shape_tuple(input_shape)
        self.layers = list(layers)
        self.dtype = V.dtype(dtype)
        self.seed = seed
        self.init = init
        self._fits = 0
        self._c = _Transient()
        self.history_ = None
        rng = np.random.RandomState(seed)
        default = initializers.get(init)
        shape = self.input_shape
        for i, layer in enumerate(self.layers):
            fn = initializers.get(layer.init) if layer.init is not None else default
            try:
                shape = layer.build(shape, fn, rng, self.dtype)
            except ValueError as e:
                raise ValueError(f"layers[{i}]: {e}") from None
        if len(shape) != 1:
            raise ValueError(f"layers[-1]: the last layer must give a flat row of class scores, "
                             f"got shape {shape}; end with Flatten() and Dense")

    # ------------------------------------------------------------ shapes
    @property
    def n_in(self):
        return math.prod(self.input_shape)

    @property
    def n_out(self):
        return self.layers[-1].output_shape_[0]

    @property
    def output_shape(self):
        return self.layers[-1].output_shape_

    def count_params(self):
        return sum(layer.n_params for layer in self.layers)

    def summary(self):
        """A table of the layers, their output shapes and parameter counts
        (as Keras prints it), as a string."""
        rows = [f"{'layer':<6}{'type':<18}{'output shape':<18}{'activation':<12}{'parameters':>12}"]
        rows.append(f"{'':<6}{'input':<18}{str(self.input_shape):<18}{'':<12}{'':>12}")
        for i, layer in enumerate(self.layers):
            rows.append(f"{i:<6}{type(layer).__name__:<18}{str(layer.output_shape_):<18}"
                        f"{layer.activation if layer.params else '':<12}{layer.n_params:>12,}")
        rows.append(f"{'total':<54}{self.count_params():>12,}")
        return "\n".join(rows)

    # ------------------------------------------------------------ weights
    def _param_slots(self):
        """(layer index, position, array) of every parameter, get_weights order."""
        out = []
        for i, layer in enumerate(self.layers):
            for j, p in enumerate(layer.params):
                out.append((i, j, p))
        return out

    def get_weights(self):
        """Every parameter, copies, in order: ``[W1, b1, W2, b2, ...]`` with
        Dense ``W`` ``(in, out)`` as in Keras and convolution ``W``
        ``(out, in, kh, kw)`` (or ``(out, in, k)``) as in PyTorch."""
        return [p.copy() for _, _, p in self._param_slots()]

    def set_weights(self, weights):
        """Set every parameter from a list shaped like ``get_weights()``.

        Values are copied into the existing arrays (converted to the model's
        dtype); nothing changes unless every array fits. A training step or
        an explanation running in another thread sees the old or the new
        value of each array, never a mix.
        """
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"weights: expected a list of arrays, got {type(weights).__name__}")
        slots = self._param_slots()
        if len(weights) != len(slots):
            raise ValueError(f"weights: expected {len(slots)} arrays (W and b per layer with "
                             f"parameters), got {len(weights)}")
        converted = []
        for k, ((i, j, target), w) in enumerate(zip(slots, weights)):
            name = f"weights[{k}] ({'W' if j == 0 else 'b'} of layer {i})"
            try:
                arr = np.asarray(w)
            except Exception as e:
                raise TypeError(f"{name}: expected an array of numbers: {e}") from None
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"{name}: expected an array of numbers, got dtype {arr.dtype}")
            if j == 1 and arr.shape == (1, target.size):
                arr = arr.reshape(-1)  # the reports store b as (1, out)
            if arr.shape != target.shape:
                raise ValueError(f"{name}: expected shape {target.shape}, got {arr.shape}")
            arr = np.ascontiguousarray(arr, dtype=self.dtype)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: expected finite values, got NaN or infinity "
                                 f"(or a value too large for {np.dtype(self.dtype).name})")
            converted.append(arr)
        net = self._c.net if self._cached() else None
        for (i, j, target), arr in zip(slots, converted):
            if net is not None:          # under the network's lock: see the docstring
                net.assign(2 * i + j, arr.reshape(target.shape))
            else:
                target[...] = arr

    # ------------------------------------------------------------ C objects
    def _key(self):
        return tuple((tuple(id(p) for p in ly.params), ly.activation, ly.keep_prob)
                     for ly in self.layers)

    def _cached(self):
        c = self._c
        if c.net is None or len(c.params) != len(self.layers):
            return False
        if c.changes == layers_mod.Layer._changes and c.layers == tuple(self.layers):
            return True          # no attribute of any layer was set since the check below
        for p, ly in zip(c.params, self.layers):
            if p[0] != tuple(id(a) for a in ly.params) or p[1] != ly.activation \
                    or p[2] != ly.keep_prob:
                return False
        c.changes, c.layers = layers_mod.Layer._changes, tuple(self.layers)
        return True

    def _network(self):
        """The ``_core.Network`` over the layers' parameter arrays, made once
        and reused while every layer keeps the same arrays, activation and
        keep probability. It points at the arrays, so in-place updates
        (``fit``, ``set_weights``) are seen; replacing an array or changing a
        layer makes a new one."""
        c = self._c
        if self._cached():
            return c.net
        c.net = _core.Network([ly._node() for ly in self.layers], np.dtype(self.dtype).name)
        c.params = self._key()
        c.changes = -1
        c.trainer = None
        return c.net

    @property
    def _trainer(self):
        """The ``_core.Trainer`` of the last ``fit`` (its ``steps`` counts the
        completed steps), or None."""
        return self._c.trainer

    def _X(self, X, name="X", finite=True):
        """X as C-contiguous rows (m, n_in) of the model's dtype: images
        (m, C, H, W), (m, H, W) for one channel, signals (m, C, L), flat rows
        (m, n_in), or one row in any of these shapes."""
        return V.features(X, name, self.n_in, self.dtype, finite, shape=self.input_shape)

    def _shaped(self, A, layer=None):
        """Rows (m, n) back in the shape of a layer's output (or the input)."""
        shape = self.input_shape if layer is None else self.layers[layer].output_shape_
        return A.reshape((A.shape[0],) + tuple(shape))

    # ------------------------------------------------------------ inference
    def activations(self, X):
        """Every layer's output for X (no dropout): a list of arrays shaped
        ``(m,) + layer.output_shape_``, the last one the network's output."""
        X = self._X(X)
        outs = [np.empty((X.shape[0], math.prod(layer.output_shape_)), dtype=self.dtype)
                for layer in self.layers]
        self._network().forward(X, outs)
        return [self._shaped(o, i) for i, o in enumerate(outs)]

    def predict_proba(self, X):
        """The output layer's values for X, ``(m, n_out)`` (class
        probabilities for a softmax output). A ``dask.array`` of rows gives a
        lazy ``dask.array`` (see ``xnn._dask``)."""
        if hasattr(X, "__dask_graph__"):
            from ._dask import map_rows; return map_rows(Sequential.predict_proba, self, X)  # noqa: E702
        X = self._X(X)
        return self._network().forward(X)

    def predict(self, X):
        """Predicted class per row: the arg-max of ``predict_proba`` (lazy for
        a ``dask.array``)."""
        if hasattr(X, "__dask_graph__"):
            from ._dask import map_rows; return map_rows(Sequential.predict, self, X)  # noqa: E702
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
            loss="cross_entropy", validation_data=None, shuffle=True, verbose=1,
            on_nan="raise"):
        """Train the network and return a History.

        Parameters
        ----------
        X : rows (m, n_in), or images/signals shaped like the model's input
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
        on_nan : what a step whose loss or weights come out NaN or infinite
            (a diverging fit: unscaled inputs, too large a learning rate)
            does. Such a step is undone, so the model keeps its last finite
            weights, and then ``"raise"`` (default) raises FloatingPointError,
            ``"stop"`` ends training with a warning (``history.stopped``
            says why), ``"ignore"`` skips the check and the copy it needs
            (slightly faster; the weights may then become NaN).

        Each epoch's ``loss``, ``ssr`` and ``accuracy`` are the mean over
        its batches of the values of each batch's training forward pass,
        before that batch's update. For full-batch training they are the
        numbers of the MNIST report's table.

        Ctrl-C stops after the current batch: KeyboardInterrupt propagates,
        the model keeps the weights of the last completed step, and
        ``model.history_`` holds the epochs so far, the last one partial
        (``history.partial``) when it was cut short. Fits of one model from
        several threads run one after the other; predictions and
        explanations in other threads see the weights between two steps.
        """
        X = self._X(X, finite=True)
        m = X.shape[0]
        labels = V.labels(y, "y", m, self.n_out)
        epochs = V.positive_int(epochs, "epochs", minimum=0)
        bs = m if batch_size is None else min(V.positive_int(batch_size, "batch_size"), m)
        opt = optim_mod.get(optimizer, V.finite_float(lr, "lr", 0.0, low_open=True))
        loss_name, loss_code = losses_mod.get(loss, self.layers[-1].activation)
        verbose = V.positive_int(verbose, "verbose", minimum=0)
        on_nan = V.choice(on_nan, "on_nan", set(ON_NAN))
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data: expected a pair (X_val, y_val), "
                                f"got {type(validation_data).__name__}")
            Xv = self._X(validation_data[0], "validation_data[0]", finite=True)
            val = (Xv, V.labels(validation_data[1], "validation_data[1]", Xv.shape[0], self.n_out))
        with self._c.fit_lock:
            return self._fit(X, labels, m, epochs, bs, batch_size, opt, loss_name, loss_code,
                             val, shuffle, verbose, on_nan)

    def _fit(self, X, labels, m, epochs, bs, batch_size, opt, loss_name, loss_code, val,
             shuffle, verbose, on_nan):
        seed_seq = np.random.SeedSequence([self.seed, self._fits] if self.seed is not None else None)
        self._fits += 1
        rng = np.random.default_rng(seed_seq)
        dropout_seed = int(rng.integers(0, 2**63))
        trainer = _core.Trainer(self._network(), bs, loss_code, opt.code, **opt.params(),
                                seed=dropout_seed, guard=on_nan != "ignore")
        self._c.trainer = trainer
        hist = History({"epochs": epochs, "batch_size": batch_size, "optimizer": repr(opt),
                        "loss": loss_name, "rows": m})
        self.history_ = hist
        n_batches = math.ceil(m / bs)
        minibatch = n_batches > 1
        bar = _progress(verbose, epochs * n_batches if minibatch else epochs,
                        "step" if minibatch else "epoch")
        epoch, sums, done = 0, [0.0, 0.0, 0.0], 0
        counted = [0]          # the steps the history has counted

        def record(partial):
            if done == 0:
                return
            values = {"loss": sums[0] / done, "ssr": sums[1] / done, "accuracy": sums[2] / done}
            if val is not None and not partial:
                vm = self._metrics(self.predict_proba(val[0]), val[1], loss_code)
                values.update({"val_" + k: v for k, v in vm.items()})
            hist._append(epoch, values, done)
            hist.partial = partial
            return values

        try:
            for epoch in range(epochs):
                order = rng.permutation(m) if (minibatch and shuffle) else None
                sums, done = [0.0, 0.0, 0.0], 0
                for start in range(0, m, bs):
                    stop = min(m, start + bs)
                    if order is None:
                        s_loss, s_ssr, correct, finite = trainer.step(X[start:stop],
                                                                      labels[start:stop])
                    else:  # the rows of a shuffled batch are gathered in C
                        s_loss, s_ssr, correct, finite = trainer.step(X, labels, order[start:stop])
                    k = stop - start
                    if not finite:
                        why = (f"the loss or the weights became NaN or infinite at epoch "
                               f"{epoch + 1}, batch {done + 1} (loss {s_loss / k:g}); the step was "
                               "undone and the model keeps its last finite weights. Scale the "
                               "inputs or lower the learning rate.")
                        hist.stopped = why
                        record(True)
                        if on_nan == "raise":
                            raise FloatingPointError(f"fit: {why}")
                        warnings.warn(f"fit stopped: {why}", RuntimeWarning, stacklevel=3)
                        return hist
                    sums[0] += s_loss / k
                    sums[1] += s_ssr / k
                    sums[2] += correct / k
                    done += 1
                    counted[0] = trainer.steps
                    if bar is not None and minibatch:
                        bar.update(1)
                values = record(False)
                done = 0
                if bar is not None:
                    if not minibatch:
                        bar.update(1)
                    bar.set_postfix({k: f"{v:.4f}" for k, v in values.items() if k != "ssr"},
                                    refresh=False)
                if verbose >= 2:
                    line = " ".join(f"{k}={v:.6f}" for k, v in values.items())
                    print(f"epoch {epoch + 1}/{epochs} {line}", flush=True)
        except KeyboardInterrupt:
            # a step that completed before the interrupt reached Python
            # (between its return and its accounting) still counts
            last = trainer.last
            if last is not None and trainer.steps > counted[0] and last[3]:
                s_loss, s_ssr, correct, _, k = last
                sums[0] += s_loss / k
                sums[1] += s_ssr / k
                sums[2] += correct / k
                done += 1
            record(True)
            raise
        finally:
            if bar is not None:
                bar.close()
        return hist

    # ------------------------------------------------------------ files
    def config(self):
        return {"format": FORMAT, "dtype": np.dtype(self.dtype).name, "seed": self.seed,
                "init": self.init if isinstance(self.init, str) else None,
                "input_shape": list(self.input_shape),
                "layers": [layer.config() for layer in self.layers]}

    def save(self, path):
        """Write the model to an ``.npz`` file (no pickle). The file is
        written under a temporary name and renamed, so an existing file is
        replaced only by a complete one. A model with NaN or infinite
        weights is refused (such a file could not be loaded)."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        arrays = {"config": np.array(json.dumps(self.config()))}
        for k, (i, j, p) in enumerate(self._param_slots()):
            if V.first_nonfinite(p.reshape(1, -1) if p.ndim != 2 else p) is not None:
                raise ValueError(f"save: layer {i} has NaN or infinite weights; not saving a "
                                 "model that could not be loaded back")
            arrays[f"{'W' if j == 0 else 'b'}{i}"] = p
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

    def to_torch(self):
        """An equivalent ``torch.nn.Sequential`` (see ``xnn.interop.to_torch``)."""
        from .interop import to_torch; return to_torch(self)  # noqa: E702

    def to_onnx(self, path, opset=13):
        """Write the model as an ONNX file (see ``xnn.interop.to_onnx``)."""
        from .interop import to_onnx; return to_onnx(self, path, opset)  # noqa: E702

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_c"] = _Transient()
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        # unpickled buffers (out-of-band pickle 5, joblib's mmap_mode) may be
        # read-only or unaligned; the C core trains the weights in place
        for layer in self.layers:
            params = layer.params
            if params and any(not (p.flags.aligned and p.flags.writeable and p.flags.c_contiguous)
                              for p in params):
                layer._set_params([np.require(p, requirements="CAWO") for p in params])

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        shape = "" if isinstance(self.layers[0], layers_mod.Dense) and len(self.input_shape) == 1 \
            else f", input_shape={self.input_shape}"
        return f"Sequential([\n    {inner},\n]{shape}, dtype={np.dtype(self.dtype).name!r})"


def _progress(verbose, total, unit):
    if verbose != 1:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is not worth failing for
        return None
    return tqdm(total=total, unit=unit, leave=True, mininterval=0.2)


# ---------------------------------------------------------------- load

def _read_config(zf, path):
    try:
        info = zf.getinfo("config.npy")
    except KeyError:
        raise ValueError("no 'config' member") from None
    if info.file_size > 1 << 20:
        raise ValueError(f"the config member is {info.file_size} bytes, more than 1 MiB")
    with zf.open(info) as f:
        arr = np.lib.format.read_array(f, allow_pickle=False)
    try:
        cfg = json.loads(str(arr))
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"the config is not JSON: {e}") from None
    if not isinstance(cfg, dict):
        raise ValueError(f"the config is not a mapping, got {type(cfg).__name__}")
    return cfg


def _expected_shapes(layers, input_shape):
    """The (name, shape) of every parameter member, from the layers alone
    (nothing is allocated), and the total count."""
    members, total = [], 0
    shape = input_shape
    for i, layer in enumerate(layers):
        try:
            out = layer.output_shape(shape)
        except ValueError as e:
            raise ValueError(f"layers[{i}]: {e}") from None
        if isinstance(layer, layers_mod.Dense):
            shapes = [(layer.n_in, layer.n_out), (layer.n_out,)]
        elif isinstance(layer, (layers_mod.Conv1d, layers_mod.Conv2d)):
            shapes = [layer.weight_shape, (layer.out_channels,)]
        else:
            shapes = []
        for j, s in enumerate(shapes):
            members.append((f"{'W' if j == 0 else 'b'}{i}", tuple(s)))
            total += int(np.prod(s))
        shape = out
    return members, total


def _read_member(zf, name, shape):
    """The float array member `name`, which must have `shape`: its header is
    read and checked before any data."""
    try:
        info = zf.getinfo(name + ".npy")
    except KeyError:
        raise ValueError(f"no member {name!r}") from None
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            hshape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            hshape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"member {name!r}: unsupported .npy version {version}")
        if tuple(hshape) != tuple(shape):
            raise ValueError(f"member {name!r}: expected shape {tuple(shape)}, got {tuple(hshape)}")
        if dtype.kind != "f" or dtype.hasobject:
            raise ValueError(f"member {name!r}: expected a float array, got dtype {dtype}")
        count = int(np.prod(shape))
        data = f.read(count * dtype.itemsize + 1)
        if len(data) != count * dtype.itemsize:
            raise ValueError(f"member {name!r}: expected {count * dtype.itemsize} bytes of data, "
                             f"got {len(data)}")
        arr = np.frombuffer(data, dtype=dtype, count=count)
        return arr.reshape(shape, order="F" if fortran else "C")


def load(path):
    """Read a model written by ``Sequential.save`` (any format version).

    The file's description is checked against its members and against a
    budget of parameters before anything is allocated, and only the members
    the format names are read; a file that does not fit raises ValueError.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"path: no such model file: {path!r}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ValueError(f"path: {path!r} is not a readable xnn model file (.npz): {e}") from None
    try:
        with zf:
            cfg = _read_config(zf, path)
            fmt = cfg.get("format")
            if fmt not in READS:
                raise ValueError(f"format {fmt!r}, expected one of {list(READS)}")
            descs = cfg.get("layers")
            if not isinstance(descs, list) or not descs:
                raise ValueError("'layers' is not a non-empty list")
            if len(descs) > MAX_FILE_LAYERS:
                raise ValueError(f"{len(descs)} layers, more than {MAX_FILE_LAYERS}")
            dtype = cfg.get("dtype")
            if dtype not in ("float32", "float64"):
                raise ValueError(f"dtype {dtype!r}, expected 'float32' or 'float64'")
            layers = [layers_mod.from_config(c) for c in descs]
            input_shape = cfg.get("input_shape")
            if input_shape is None:
                if not isinstance(layers[0], layers_mod.Dense):
                    raise ValueError("no input_shape for a first layer that is not Dense")
                input_shape = (layers[0].n_in,)
            input_shape = _shape_tuple(input_shape)
            members, total = _expected_shapes(layers, input_shape)
            if total > MAX_FILE_PARAMS:
                raise ValueError(f"the layers declare {total} parameters, more than the "
                                 f"{MAX_FILE_PARAMS} a model file may hold")
            weights = [_read_member(zf, name, shape) for name, shape in members]
        seed = cfg.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            seed = None
        model = Sequential(layers, init="zeros", seed=seed, dtype=dtype, input_shape=input_shape)
        init = cfg.get("init")
        model.init = init if isinstance(init, str) else "zeros"
        model.set_weights(weights)
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError, AttributeError,
            zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"path: {path!r} is not a valid xnn model file: {e}") from None
    except MemoryError:
        raise ValueError(f"path: {path!r} is not a valid xnn model file: it does not fit in "
                         "memory") from None
    return model
