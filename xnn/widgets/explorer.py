"""``Explorer``: the live explorer as a Jupyter widget (anywidget)."""
from pathlib import Path

try:
    import anywidget
except ImportError as e:  # the optional extra xnn[widgets]
    raise ImportError("xnn.widgets.Explorer needs anywidget: pip install 'xnn[widgets]' "
                      "(or pip install anywidget)") from e

from .session import Session

__all__ = ["Explorer"]

_STATIC = Path(__file__).resolve().parent / "static"


class Explorer(anywidget.AnyWidget):
    """Draw a digit and watch the prediction and its explanations change
    with every stroke.

    Shows a drawing canvas (mouse and touch; brush size, undo, clear), the
    image the model sees after the preprocessing that matches its data
    (``xnn.widgets.preprocess``), the class probabilities (click a class to
    explain it instead of the prediction), heat maps of the chosen methods
    side by side (a diverging colour map, symmetric around 0), the
    activations of every layer, and, with ``X``, a browser of the data set.

    Parameters
    ----------
    model : an image model (``xnn.Sequential`` on flat square rows such as
        784 = 28 x 28 or 64 = 8 x 8, or with an ``input_shape`` (1, H, W)).
    X, y : optional images (or rows) to browse and their labels.
    methods : names from ``xnn.widgets.METHODS`` (None: those that apply).
    preprocess, value_max : see ``xnn.widgets.Session``.

    Every update is one message; Python answers with one ``xnn.explain``
    call per method on the one image. The page keeps at most one message in
    flight and sends only the latest state when the answer arrives.
    """

    _esm = _STATIC / "explorer.js"
    _css = _STATIC / "explorer.css"

    def __init__(self, model, X=None, y=None, methods=None, preprocess="auto", value_max=None,
                 **kwargs):
        session = Session(model, X, y, methods, preprocess=preprocess, value_max=value_max)
        super().__init__(**kwargs)
        self.session = session
        self.on_msg(self._on_message)

    def _on_message(self, widget, content, buffers):
        answer = self.session.handle(content)
        if isinstance(content, dict) and "id" in content:
            answer["id"] = content["id"]
        self.send(answer)
