"""Seeing what a neuron has learned: activation maximization, Deep Dream,
multifaceted feature visualization (MFV), embeddings of hidden codes and
the images that most and least excite a unit.

```python
import xnn
V = xnn.visualize
r = V.activation_maximization(model, target=range(10), steps=256, seed=0)
r.images, r.trace, r.activations            # (10,) + input_shape, (256, 10), (10,)
r = V.activation_maximization(cnn, layer=2, unit=range(64), seed=0)   # 64 channels at once
d = V.deep_dream(cnn, X[:1], layer=2, steps=64)
f = V.facets(model, X, y, cls=3, layer=1, k=10, m=15, seed=0)
f.embedding, f.labels, f.mean_images, f.visualizations.images, f.times
E = V.embedding(model, X, layer=1, method="tsne", seed=0)
top = V.max_activating(model, X, layer=1, unit=5, k=9)      # .indices, .values, .images
xnn.plot.embedding(E, y, images=X); xnn.plot.image_grid(top.images)
```

| function | what it does |
|---|---|
| `activation_maximization(model, layer, unit, init=None, steps=256, ...)` | gradient ascent on the input for units (a batch: one row per unit) |
| `deep_dream(model, X, layer, steps, lr, octaves=...)` | ascent of ½‖A_l‖² from images |
| `facets(model, X, y, cls, layer, k=10, m=15, pca=50, ...)` | MFV: PCA, t-SNE, k-means, mean images, AM from each |
| `embedding(model, X, layer, method="tsne")` (or "pca", "umap") | 2-D map of a layer's codes |
| `max_activating`, `min_activating`, `unit_activations` | rows of X ranked by a unit's activation |
| `regularizers` | Gaussian blur, jitter, total variation (and gradients), resampling |

### Conventions

- **The unit's score** is the same everywhere (ascent, ranking): where
  ``xnn.explain.gradient(model, X, start_layer=layer, unit=u)`` starts, a
  dense neuron's output after its activation, the mean over positions of a
  convolution or pooling channel, or a class's logit (pre-softmax) for the
  last layer (``target=``).
- **One C call per step** for all rows: ``unit=range(64)`` ascends 64
  images together; the regularizers act on the whole batch in NumPy/SciPy.
- **The step** is the gradient normalised per row to a root mean square of
  1, times ``lr``: a step moves the image by about ``lr`` per pixel,
  whatever the unit's scale.
- **Images** come back shaped like the model's input (flat rows for an
  MLP); the regularizers read a flat square row as an image.
- **Reproducible** with ``seed=``: the start noise, the jitter, PCA, t-SNE
  (openTSNE on one thread) and k-means.
"""
from . import regularizers
from .activating import Activating, max_activating, min_activating, unit_activations
from .mfv import TSNE_BACKENDS, Facets, embedding, facets, hidden_codes
from .maximize import Maximization, activation_maximization, deep_dream

__all__ = ["activation_maximization", "deep_dream", "Maximization", "facets", "Facets",
           "embedding", "hidden_codes", "max_activating", "min_activating", "unit_activations",
           "Activating", "regularizers", "TSNE_BACKENDS"]
