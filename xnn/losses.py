"""Losses: names, the output activation each expects, and their C codes.

For a row with one-hot target y and output p:

    cross_entropy         -log p[label]                       (softmax output)
    binary_cross_entropy  -sum_j y_j log p_j + (1-y_j) log(1-p_j) (sigmoid output)
    ssr                   0.5 sum_j (y_j - p_j)^2              (any output)

The reported loss is the mean over rows. Every training step also reports
the MNIST report's SSR, ``0.5 * sum((Y - P)^2) / m``, and the accuracy.
"""
from . import _core
from . import _validate as V

LOSSES = {
    "cross_entropy": (_core.LOSS_CROSS_ENTROPY, "softmax"),
    "binary_cross_entropy": (_core.LOSS_BINARY_CROSS_ENTROPY, "sigmoid"),
    "ssr": (_core.LOSS_SSR, None),
}
ALIASES = {
    "categorical_crossentropy": "cross_entropy", "categorical_cross_entropy": "cross_entropy",
    "ce": "cross_entropy", "binary_crossentropy": "binary_cross_entropy", "bce": "binary_cross_entropy",
    "sse": "ssr",
}


def get(name, output_activation):
    """(canonical name, C code) for a loss, checked against the output layer."""
    key = ALIASES.get(name.lower(), name.lower()) if isinstance(name, str) else name
    key = V.choice(key, "loss", LOSSES)
    code, needs = LOSSES[key]
    if needs is not None and output_activation != needs:
        raise ValueError(f"loss: {key!r} expects a {needs} output layer, "
                         f"got activation {output_activation!r} in the last layer")
    return key, code
