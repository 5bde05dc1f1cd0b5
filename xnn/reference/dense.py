"""Dense layers: Z = X W + b (W is (n_in, n_out)), and the matrix product."""
from .activation import activation_forward

__all__ = ["gemm", "dense_forward", "dense_backward"]


def gemm(a, b, trans_a=False, trans_b=False):
    """op(a) @ op(b), where op transposes when asked."""
    return (a.T if trans_a else a) @ (b.T if trans_b else b)


def dense_forward(X, W, b, act="linear"):
    """Y = act(X W + b);  X (m,k), W (k,n), b (n,) or None."""
    Z = X @ W
    if b is not None:
        Z = Z + b
    return activation_forward(Z, act)


def dense_backward(dZ, X, W):
    """(dX, dW, db) for Z = X W + b:  dX = dZ W^T, dW = X^T dZ, db = sum_rows dZ."""
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
