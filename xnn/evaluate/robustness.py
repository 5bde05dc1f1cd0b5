"""Robustness of explanations: sensitivity_max (Yeh et al. 2019), as
Captum's ``sensitivity_max``."""
import numpy as np

from .. import _validate as V
from . import _common as C

__all__ = ["sensitivity_max"]

#: perturbed rows per call of the explanation method
CHUNK_ROWS = 8192


def _norm(A, norm):
    if norm == "fro":
        return np.sqrt((A * A).sum(axis=1))
    return np.linalg.norm(A, ord=norm, axis=1)


def sensitivity_max(method, model, X, target=None, perturbations=None, n_perturb=10,
                    radius=None, norm="fro", seed=0, method_kwargs=None):
    """Max-sensitivity (Yeh et al. 2019), as Captum's ``sensitivity_max``:
    per row, the largest ``||E(x + delta) - E(x)|| / ||E(x)||`` over the
    perturbations delta, E the explanation of the target class (a zero
    ||E(x)|| counts as 1).

    Parameters
    ----------
    method : an explanation method's name (``"gradient"``, ``"saliency"``,
        ``"lrp"``, ...) or a callable ``method(model, X, target=...)``
        returning explanations shaped like X; ``method_kwargs`` are passed on.
    target : None (the class predicted for each clean row), a class or one
        per row; the perturbed rows explain the same class.
    perturbations : the deltas: an array (n, d) shared by every row, (m, n,
        d), or a callable (X (m, d), rng) -> one of those. Default:
        ``n_perturb`` draws per row uniform in [-radius, radius] (Captum's
        default, radius 0.02; refused together with perturbations). Captum's
        ``perturb_func`` returns x + delta: give it the same deltas and both
        agree.
    norm : ``"fro"`` (the Euclidean norm of the flattened difference) or a
        vector norm order (1, 2, ``np.inf``, ...).
    seed : the default deltas' ``numpy.random.default_rng(seed)``.

    The explanations of all perturbed rows come from batched calls of the
    method (a few thousand rows each). Returns an array (m,).
    """
    fn = C.method_fn(method, method_kwargs)
    rows, targets = C.rows_targets(model, X, target)
    m, d = rows.shape
    if perturbations is not None and radius is not None:
        raise ValueError("radius: only for the default uniform perturbations, not with perturbations=")
    if perturbations is not None and n_perturb != 10:
        raise ValueError("n_perturb: the number of perturbations is that of perturbations=")
    r = 0.02 if radius is None else V.finite_float(radius, "radius", 0.0, low_open=True)
    n_perturb = V.positive_int(n_perturb, "n_perturb")
    if not (norm == "fro" or (isinstance(norm, (int, float)) and not isinstance(norm, bool))):
        raise ValueError(f"norm: expected 'fro' or a number, got {norm!r}")
    rng = C.rng_of(seed)
    X64 = rows.astype(np.float64)
    delta = C.perturbations(perturbations, X64, rng, "perturbations",
                            lambda g: g.uniform(-r, r, size=(m, n_perturb, d)))
    n = delta.shape[1]
    E0 = fn(model, rows, targets)
    n0 = _norm(E0, norm)
    n0 = np.where(n0 == 0.0, 1.0, n0)
    Xp = (X64[:, None, :] + delta).reshape(m * n, d)
    tp = np.repeat(targets, n)
    sens = np.empty(m * n)
    for i0 in range(0, m * n, CHUNK_ROWS):
        i1 = min(m * n, i0 + CHUNK_ROWS)
        Ep = fn(model, np.ascontiguousarray(Xp[i0:i1], dtype=model.dtype), tp[i0:i1])
        owner = np.arange(i0, i1) // n          # the clean row of each perturbed row
        sens[i0:i1] = _norm(Ep - E0[owner], norm) / n0[owner]
    return sens.reshape(m, n).max(axis=1)
