"""Layers of a network.

=====================  ==========================================================
``Dense``              fully connected, ``W`` (n_in, n_out)
``Conv2d``, ``Conv1d`` convolutions, ``W`` (out, in, kh, kw) / (out, in, k)
``MaxPool2d/1d``       max over windows
``AvgPool2d/1d``       mean over windows
``GlobalAvgPool2d/1d`` mean over the whole image or signal, (C, ...) -> (C,)
``Flatten``            (C, H, W) -> (C·H·W,)
=====================  ==========================================================

Dense and the convolutions take ``activation=`` (linear, relu, tanh,
sigmoid; softmax on the last layer) and ``dropout=``/``keep_prob=``; a
layer's output is after its activation.
"""
from .base import ACTIVATION_ALIASES, ACTIVATIONS, MAX_PARAMS, Layer
from .conv import Conv1d, Conv2d
from .dense import Dense
from .flatten import Flatten
from .pool import (AvgPool1d, AvgPool2d, GlobalAvgPool1d, GlobalAvgPool2d, MaxPool1d,
                   MaxPool2d)

__all__ = ["Layer", "Dense", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
           "AvgPool2d", "GlobalAvgPool1d", "GlobalAvgPool2d", "Flatten", "from_config",
           "ACTIVATIONS"]

TYPES = {cls.__name__: cls for cls in (Dense, Conv1d, Conv2d, MaxPool1d, MaxPool2d, AvgPool1d,
                                        AvgPool2d, GlobalAvgPool1d, GlobalAvgPool2d, Flatten)}


def from_config(cfg):
    """A layer from its ``config()`` dict (a saved model's description)."""
    if not isinstance(cfg, dict):
        raise ValueError(f"layer config: expected a mapping, got {type(cfg).__name__}")
    kind = cfg.get("type")
    if kind not in TYPES:
        raise ValueError(f"layer config: expected a type in {sorted(TYPES)}, got {kind!r}")
    args = {k: v for k, v in cfg.items() if k != "type"}
    try:
        if kind == "Dense":
            return Dense(args["n_in"], args["n_out"], activation=args["activation"],
                         keep_prob=args.get("keep_prob", 1.0))
        if kind in ("Conv1d", "Conv2d"):
            return TYPES[kind](args["in_channels"], args["out_channels"],
                               _tuple(args["kernel_size"]), stride=_tuple(args["stride"]),
                               padding=_tuple(args["padding"]), activation=args["activation"],
                               keep_prob=args.get("keep_prob", 1.0))
        if kind in ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"):
            return TYPES[kind](_tuple(args["kernel_size"]), stride=_tuple(args["stride"]))
        return TYPES[kind]()
    except KeyError as e:
        raise ValueError(f"layer config: {kind} lacks the field {e.args[0]!r}") from None
    except TypeError as e:
        raise ValueError(f"layer config: {kind}: {e}") from None


def _tuple(v):
    if isinstance(v, list):
        return tuple(v)
    return v
