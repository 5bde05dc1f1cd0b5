"""The images of a data set that most and least excite a unit."""
import numpy as np

from .. import _core
from .. import _validate as V
from ..explain import _common as EC
from . import _common as C

__all__ = ["unit_activations", "max_activating", "min_activating", "Activating"]

#: rows per C call (and per step of the progress bar)
BATCH = 2048


class Activating:
    """What ``max_activating``/``min_activating`` return: ``indices`` (k,)
    rows of X, best first; ``values`` (k,) their activations; ``images``
    X's rows at those indices, shaped like X's rows; ``layer``, ``unit``."""

    def __init__(self, indices, values, images, layer, unit):
        self.indices = indices
        self.values = values
        self.images = images
        self.layer = layer
        self.unit = unit

    def __repr__(self):
        return (f"Activating(layer {self.layer}, unit {self.unit}: rows {self.indices.tolist()}, "
                f"values {np.round(self.values, 4).tolist()})")


def unit_activations(model, X, layer=None, unit=None, target=None, batch_size=BATCH,
                     verbose=False):
    """The activation of one unit for every row of X (m,) float64: the
    score of ``activation_maximization`` (a dense neuron's output, a
    channel's mean over positions, a class's logit for the last layer), as
    ``xnn.explain.score(model, X, start_layer=layer, unit=unit)``, in
    chunks of ``batch_size`` rows through the C forward."""
    model = C.check_model(model)
    node, units, scalar, _ = C.units_of(model, layer, unit, target)
    if not scalar:
        raise TypeError(f"unit: expected one unit (an integer), got {unit if unit is not None else target!r}")
    batch_size = V.positive_int(batch_size, "batch_size")
    Xc = model._X(X)
    m = Xc.shape[0]
    net = EC.network(model)
    out = np.empty(m, dtype=np.float64)
    bar = C.progress(C.verbose_flag(verbose), m, "activations", unit="row")
    t = np.full(min(m, batch_size), units[0], dtype=np.int64)
    try:
        for r0 in range(0, m, batch_size):
            chunk = Xc[r0:r0 + batch_size]
            s, _ = _core.explain_scores(net, chunk, t[:chunk.shape[0]], EC.STARTS["logit"], node)
            out[r0:r0 + chunk.shape[0]] = s
            if bar is not None:
                bar.update(chunk.shape[0])
    finally:
        if bar is not None:
            bar.close()
    return out


def _extreme(model, X, layer, unit, k, target, batch_size, verbose, highest):
    model = C.check_model(model)
    k = V.positive_int(k, "k")
    a = unit_activations(model, X, layer, unit, target, batch_size, verbose)
    k = min(k, a.size)
    order = np.argsort(-a if highest else a, kind="stable")[:k]
    Xa = np.asarray(X)
    rows = Xa[order] if Xa.ndim >= 2 and Xa.shape[0] == a.size else model._X(X)[order]
    node = C.layer_index(model, layer) if layer is not None else len(model.layers) - 1
    return Activating(order, a[order], rows, node, int(unit if unit is not None else target))


def max_activating(model, X, layer=None, unit=None, k=9, target=None, batch_size=BATCH,
                   verbose=False):
    """The k rows of X with the highest activation of a unit (see
    ``unit_activations``; a channel's mean, a class's logit), highest
    first; ties keep X's order (a stable sort). Returns ``Activating``."""
    return _extreme(model, X, layer, unit, k, target, batch_size, verbose, True)


def min_activating(model, X, layer=None, unit=None, k=9, target=None, batch_size=BATCH,
                   verbose=False):
    """The k rows of X with the lowest activation of a unit, lowest first;
    ties keep X's order. Returns ``Activating``."""
    return _extreme(model, X, layer, unit, k, target, batch_size, verbose, False)
