"""Counterfactual explanations (Wachter et al. 2017): the smallest change of
an input that makes the model predict another class.

The search minimises, for a distance weight lambda,

    (p_t(x') - target_proba)^2 + lambda * dist(x', x) [+ theta * ||x' - proto||^2]

by gradient descent (Adam with a linearly decaying step, as alibi's
``Counterfactual``), projected on the box ``clip``. lambda follows alibi's
schedule: a sweep over orders of magnitude ``lam_init / 10^i`` brackets the
largest lambda that still reaches the target class, then the bracket is
refined. All the lambdas of a sweep run together as rows of one batch: each
step is one gradient call (``xnn.explain.gradient(..., output="probability")``)
and one forward for the whole batch. The answer is the closest iterate, over
every step and lambda, that the model assigns to the target class.
"""
import warnings

import numpy as np

from .. import _validate as V
from . import _common as C
from .gradients import gradient

__all__ = ["counterfactual", "Counterfactual", "CounterfactualNotFound"]

DISTANCES = ("l1", "l2", "elasticnet")


class CounterfactualNotFound(UserWarning):
    """No iterate of the search reached the target class within its budget."""


class Counterfactual:
    """What ``counterfactual`` returns.

    Attributes
    ----------
    found : whether some iterate was assigned to the target class.
    x_cf : the counterfactual (shaped like x), or None when not found.
    proba : the model's outputs (class probabilities) at x_cf (None when not found).
    distance : the search's distance of x_cf to x (``distance``'s kind);
        ``l1``, ``l2`` (Euclidean) and ``linf`` of x_cf - x are given too.
    lam : the distance weight of the run that found x_cf.
    target_class, original_class : the asked and the original class.
    closest : when not found, the iterate with the highest target
        probability, and ``closest_proba`` its outputs.
    status : a sentence saying what happened.
    steps : gradient steps taken in all (each over a batch of lambdas).
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        if self.found:
            return (f"Counterfactual(found, class {self.original_class} -> {self.target_class}, "
                    f"p={self.proba[self.target_class]:.3f}, l1={self.l1:.4g}, l2={self.l2:.4g})")
        return f"Counterfactual(not found: {self.status})"


def _prototype(prototype, target_class, d, n_classes):
    if isinstance(prototype, tuple) and len(prototype) == 2:
        Xt = V.features(prototype[0], "prototype[0]", d, np.float64, finite=True)
        yt = V.labels(prototype[1], "prototype[1]", Xt.shape[0], n_classes)
        rows = Xt[yt == target_class]
        if rows.shape[0] == 0:
            raise ValueError(f"prototype: no training rows of the target class {target_class}")
        return rows.mean(axis=0)
    p = np.asarray(prototype, dtype=np.float64)
    if p.size != d:
        raise ValueError(f"prototype: expected one row of {d} values or a pair (X_train, y_train), "
                         f"got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("prototype: expected finite values")
    return p.reshape(d)


def counterfactual(model, x, target_class, distance="l1", lam_init=0.1, n_lambdas=10,
                   refinements=2, steps=300, lr=0.01, target_proba=1.0, clip=(0.0, 1.0),
                   prototype=None, theta=None):
    """The smallest change of x that makes the model predict ``target_class``.

    Parameters
    ----------
    x : one row (d,), (1, d) or one image.
    target_class : the class the counterfactual should get.
    distance : ``"l1"`` (Wachter's choice; sparse changes), ``"l2"`` (the
        squared Euclidean distance) or ``"elasticnet"`` (their sum).
    lam_init, n_lambdas : the first sweep runs lambda = lam_init / 10^i,
        i = 0..n_lambdas-1 (alibi: 0.1 and 10 orders).
    refinements : sweeps between the largest lambda that reached the target
        and the next larger one, each of n_lambdas log-spaced values.
    steps : gradient steps per sweep; lr : Adam's first step size, decaying
        linearly to 0 over each sweep.
    target_proba : the probability the prediction term aims at (1.0).
    clip : (low, high) box for every feature (pixels in [0, 1] by default),
        or None for no box.
    prototype : an optional plausibility term theta * ||x' - proto||^2: a
        row (the prototype) or a pair (X_train, y_train), whose target-class
        rows' mean is the prototype. ``theta`` defaults to 0.1 with a
        prototype and is refused without one.

    Returns a ``Counterfactual``. When no iterate reaches the target class
    its ``found`` is False, ``x_cf`` is None and a ``CounterfactualNotFound``
    warning says so. If the model already predicts the target class, x is
    its own counterfactual (distance 0).
    """
    C.check_model(model)
    n_in = model.n_in
    arr = np.asarray(x)
    if arr.size != n_in:
        raise ValueError(f"x: expected one row of {n_in} values (or one image), got shape {arr.shape}")
    xshape = arr.shape
    x0 = V.features(arr.reshape(1, -1), "x", n_in, np.float64, finite=True)[0]
    n_classes = model.n_out
    t = int(C.targets_of(target_class, 1, n_classes, "target_class")[0])
    distance = V.choice(distance, "distance", set(DISTANCES))
    lam_init = V.finite_float(lam_init, "lam_init", 0.0, low_open=True)
    n_lambdas = V.positive_int(n_lambdas, "n_lambdas", minimum=2)
    refinements = V.positive_int(refinements, "refinements", minimum=0)
    steps = V.positive_int(steps, "steps")
    lr = V.finite_float(lr, "lr", 0.0, low_open=True)
    target_proba = V.finite_float(target_proba, "target_proba", 0.0, 1.0)
    if clip is not None:
        if not isinstance(clip, (tuple, list)) or len(clip) != 2:
            raise TypeError(f"clip: expected (low, high) or None, got {clip!r}")
        lo = V.finite_float(clip[0], "clip[0]")
        hi = V.finite_float(clip[1], "clip[1]")
        if lo >= hi:
            raise ValueError(f"clip: expected low < high, got {tuple(clip)}")
        if np.any(x0 < lo) or np.any(x0 > hi):
            raise ValueError(f"x: values outside clip=({lo}, {hi}): pass clip=None or a wider box")
    if prototype is None:
        if theta is not None:
            raise ValueError("theta: the prototype term's weight needs prototype=")
        proto, theta = None, 0.0
    else:
        proto = _prototype(prototype, t, n_in, n_classes)
        theta = 0.1 if theta is None else V.finite_float(theta, "theta", 0.0)

    dt = model.dtype
    P0 = model.predict_proba(x0[None].astype(dt))[0]
    original = int(np.argmax(P0))
    base = dict(target_class=t, original_class=original, distance_kind=distance)
    if original == t:
        return Counterfactual(found=True, x_cf=x0.reshape(xshape).copy(), proba=P0, distance=0.0,
                              l1=0.0, l2=0.0, linf=0.0, lam=None, closest=None, closest_proba=None,
                              status="the model already predicts the target class", steps=0, **base)

    best = {"dist": np.inf, "x": None, "lam": None, "p": None}
    closest = {"pt": -np.inf, "x": x0.copy(), "p": P0}

    def dist_of(D):
        if distance == "l1":
            return np.abs(D).sum(axis=1)
        if distance == "l2":
            return (D * D).sum(axis=1)
        return np.abs(D).sum(axis=1) + (D * D).sum(axis=1)

    def run(lams):
        """One sweep: every lambda a row, Adam from x; which lambdas reached t."""
        B = lams.size
        X = np.repeat(x0[None], B, axis=0)
        m1 = np.zeros_like(X)
        m2 = np.zeros_like(X)
        reached = np.zeros(B, dtype=bool)
        targets = np.full(B, t, dtype=np.int64)
        for it in range(steps):
            Xd = np.ascontiguousarray(X, dtype=dt)
            P = model.predict_proba(Xd).astype(np.float64)
            D = X - x0
            ok = np.argmax(P, axis=1) == t
            if ok.any():
                reached |= ok
                dd = dist_of(D)
                k = int(np.argmin(np.where(ok, dd, np.inf)))
                if dd[k] < best["dist"]:
                    best.update(dist=float(dd[k]), x=X[k].copy(), lam=float(lams[k]), p=P[k].copy())
            k = int(np.argmax(P[:, t]))
            if P[k, t] > closest["pt"]:
                closest.update(pt=float(P[k, t]), x=X[k].copy(), p=P[k].copy())
            Gp = gradient(model, Xd, targets, output="probability").astype(np.float64)
            g = 2.0 * (P[:, t] - target_proba)[:, None] * Gp
            if distance in ("l1", "elasticnet"):
                g += lams[:, None] * np.sign(D)
            if distance in ("l2", "elasticnet"):
                g += lams[:, None] * 2.0 * D
            if proto is not None:
                g += theta * 2.0 * (X - proto)
            m1 = 0.9 * m1 + 0.1 * g
            m2 = 0.999 * m2 + 0.001 * g * g
            step = lr * (1.0 - it / steps)
            mh = m1 / (1 - 0.9 ** (it + 1))
            vh = m2 / (1 - 0.999 ** (it + 1))
            X = X - step * mh / (np.sqrt(vh) + 1e-8)
            if clip is not None:
                np.clip(X, lo, hi, out=X)
        return reached

    total = steps
    lams = lam_init / 10.0 ** np.arange(n_lambdas)           # decreasing
    reached = run(lams)
    if reached.any():
        # bracket: lo reaches the target class, hi (larger) did not or is untried
        k = int(np.flatnonzero(reached)[0])
        lo, hi = lams[k], (lams[k - 1] if k > 0 else 10.0 * lams[0])
        for _ in range(refinements):
            grid = np.geomspace(hi, lo, n_lambdas + 2)[1:-1]
            reached = run(grid)
            total += steps
            if reached.any():
                k = int(np.flatnonzero(reached)[0])
                lo, hi = grid[k], (grid[k - 1] if k > 0 else hi)
            else:
                hi = grid[-1]
    if best["x"] is None:
        status = (f"not found within the budget: no iterate of {total} steps over lambdas "
                  f"from {lam_init:g} down to {lam_init / 10 ** (n_lambdas - 1):g} reached class {t} "
                  f"(highest p_{t} = {closest['pt']:.4f}); try more steps, a larger lr or "
                  "another target class")
        warnings.warn(f"counterfactual: {status}", CounterfactualNotFound, stacklevel=2)
        return Counterfactual(found=False, x_cf=None, proba=None, distance=None, l1=None, l2=None,
                              linf=None, lam=None, closest=closest["x"].reshape(xshape),
                              closest_proba=closest["p"], status=status, steps=total, **base)
    D = best["x"] - x0
    return Counterfactual(found=True, x_cf=best["x"].reshape(xshape), proba=best["p"],
                          distance=best["dist"], l1=float(np.abs(D).sum()),
                          l2=float(np.sqrt((D * D).sum())), linf=float(np.abs(D).max()),
                          lam=best["lam"], closest=None, closest_proba=None,
                          status=f"found: class {original} -> {t}", steps=total, **base)
