"""Interactive tools: the live explorer.

``Explorer(model, X=None, y=None, methods=None)`` is a Jupyter widget (the
optional extra ``pip install 'xnn[widgets]'``, which brings anywidget);
``python -m xnn explore`` serves the same page without Jupyter. Both are
arranged around ``Session``, which turns the page's messages into one
forward and one ``xnn.explain`` call per method, and needs nothing but
xnn.

Where the preprocessing runs: in Python (``xnn.widgets.preprocess``). The
page sends the raw drawing, a grayscale bitmap of its canvas; Python crops,
resizes and centres it as the model's data was, so the same code decides
what the model sees in every host.
"""
from . import methods, preprocess
from .methods import METHODS, Method, register
from .session import Session, image_layout

__all__ = ["Explorer", "Session", "METHODS", "Method", "register", "image_layout", "serve",
           "methods", "preprocess"]


def __getattr__(name):
    if name == "Explorer":      # imported on first use: anywidget is optional
        from .explorer import Explorer
        return Explorer
    if name == "serve":
        from .server import serve
        return serve
    raise AttributeError(f"module 'xnn.widgets' has no attribute {name!r}")
