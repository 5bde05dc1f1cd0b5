"""Losses by name ("cross_entropy", "binary_cross_entropy", "ssr") and the
statistics a training step reports."""
import numpy as np

from .activation import activation_backward

__all__ = ["one_hot", "loss_forward", "loss_backward", "loss_value"]


def one_hot(labels, n):
    Y = np.zeros((len(labels), n))
    Y[np.arange(len(labels)), labels] = 1
    return Y


def loss_forward(P, labels, loss):
    """(sum of the loss, sum of 0.5 sum_j (y_j - p_j)^2, number correct) over rows."""
    Y = one_hot(labels, P.shape[1])
    tiny = np.finfo(P.dtype).tiny
    Pd = P.astype(np.float64)
    ssr = 0.5 * np.sum((Y - Pd) ** 2)
    if loss == "cross_entropy":
        total = -np.sum(np.log(np.maximum(P[np.arange(len(labels)), labels], tiny)))
    elif loss == "binary_cross_entropy":
        Q = np.where(Y == 1, P, 1 - P)
        total = -np.sum(np.log(np.maximum(Q, tiny)))
    elif loss == "ssr":
        total = ssr
    else:
        raise ValueError(f"loss: unknown loss {loss!r}")
    correct = np.sum(np.argmax(P, axis=1) == labels)
    return float(total), float(ssr), float(correct)


def loss_backward(P, labels, loss, act, scale):
    """scale * dL/dZ for P = act(Z): p - y for softmax + cross-entropy and
    sigmoid + binary cross-entropy, the chain rule otherwise."""
    Y = one_hot(labels, P.shape[1]).astype(P.dtype)
    tiny = np.finfo(P.dtype).tiny
    if (loss, act) in (("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")):
        return scale * (P - Y)
    if loss == "ssr":
        dP = P - Y
    elif loss == "cross_entropy":
        dP = -Y / np.maximum(P, tiny)
    elif loss == "binary_cross_entropy":
        dP = (P - Y) / np.maximum(P * (1 - P), tiny)
    else:
        raise ValueError(f"loss: unknown loss {loss!r}")
    return activation_backward(P, scale * dP, act)


def loss_value(P, labels, loss):
    """The mean loss over rows (what ``fit`` reports)."""
    return loss_forward(P, labels, loss)[0] / P.shape[0]
