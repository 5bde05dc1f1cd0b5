"""The figures of the reports, drawn with matplotlib.

Every function imports matplotlib when it is called (``import xnn`` does not
need it), takes ``ax=`` (one Axes) or ``fig=`` (a Figure to draw several
axes into), returns the Figure it drew on and never calls ``plt.show()``.
Images may be any square size (28x28 MNIST, 8x8 digits): the side is the
square root of the number of features, or pass ``shape=(rows, cols)``.

===================  ======================================================
``history``          loss/SSR/accuracy over epochs (MNIST report, fig. 6);
                     ``kind="curves"``: train/test loss and accuracy side
                     by side (the lab report)
``predictions``      grid of images titled "True: t / Pred: p" (fig. 8)
``saliency``         image beside its saliency heat map (fig. 9), overlay
``activations``      input image and every layer's activations (fig. 10);
                     for a CNN, each conv and pooling layer's feature maps
``cam``              class activation maps over their images
``relevance``        LRP heat maps, diverging colormap centred at zero
``digits``           the lab report's 5x5 grid of digits
``compare_inits``    loss and accuracy curves per initialiser
``perturbation_curves``  pixel-flipping / region-perturbation curves of
                     several methods: mean with a band
``randomization``    the sanity check's maps per randomised layer and the
                     similarity curves (Adebayo et al. 2018)
``timeseries``       a signal coloured by its attribution (1-D CNNs)
``image_grid``       a grid of images with titles (max/min activating
                     images, activation maximization)
``embedding``        a 2-D map of hidden codes coloured by class, with a
                     few images as thumbnails (t-SNE of representations)
``facets``           the MFV figure: the t-SNE map with its k-means facets,
                     each facet's mean image and its visualization
===================  ======================================================

Images may also come as NCHW blocks ``(k, 1, H, W)``; maps of several
channels ``(k, C, H, W)`` are summed over the channels.

>>> hist = model.fit(X, y, epochs=100)                      # doctest: +SKIP
>>> xnn.plot.history(hist).savefig("history.png")          # doctest: +SKIP
"""
from .training import history, predictions, digits, compare_inits
from .explanations import saliency, activations, relevance, cam, timeseries
from .evaluation import perturbation_curves, randomization
from .visualize import image_grid, embedding, facets

__all__ = ["history", "predictions", "saliency", "activations", "relevance", "digits",
           "compare_inits", "perturbation_curves", "randomization", "cam", "timeseries",
           "image_grid", "embedding", "facets"]
