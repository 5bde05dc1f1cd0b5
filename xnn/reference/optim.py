"""Optimizer updates: plain SGD, momentum (optionally Nesterov), Adam, and
the normalized gradient ascent of activation maximization."""
import numpy as np

__all__ = ["sgd_update", "momentum_update", "adam_update", "ascent_step"]


def sgd_update(W, dW, lr):
    return W - lr * dW


def momentum_update(W, V, dW, lr, mu, nesterov=False):
    """(W, V) after one step: V = mu V + dW; W -= lr V (or lr (dW + mu V))."""
    V = mu * V + dW
    return (W - lr * (dW + mu * V) if nesterov else W - lr * V), V


def adam_update(W, M, V, dW, lr, beta1, beta2, eps, t):
    """(W, M, V) after Adam's step t >= 1."""
    M = beta1 * M + (1 - beta1) * dW
    V = beta2 * V + (1 - beta2) * dW**2
    m_hat = M / (1 - beta1**t)
    v_hat = V / (1 - beta2**t)
    return W - lr * m_hat / (np.sqrt(v_hat) + eps), M, V


def ascent_step(x, g, e, lr, l2, clip, tiny):
    """x (k, n) after one step of normalized gradient ascent, row by row:
    x + lr g / max(rms(g), tiny) - lr l2 x - e (e may be None), rms(g) =
    sqrt(mean of g^2) per row; clipped to clip = (low, high) unless None."""
    rms = np.maximum(np.sqrt(np.mean(g * g, axis=1)), tiny)
    y = x + (lr / rms)[:, None] * g - lr * l2 * x - (0 if e is None else e)
    return y if clip is None else np.clip(y, clip[0], clip[1])
