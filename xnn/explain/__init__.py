"""Explanations of a trained network's decisions.

## Explaining a decision

```python
import xnn
R = xnn.explain.lrp(model, X, target=None, rule="epsilon", epsilon=1e-6)
S = xnn.explain.saliency(model, X)                  # |d z_t / d x|
A = xnn.explain.integrated_gradients(model, X, steps=50, return_error=True)
A.error                                              # completeness per row
xnn.explain.conservation(R, model, X).relative       # |Σ R - z_t| / |z_t|
```

Every method takes a batch `X` (rows, images `(m, C, H, W)` or `(m, H, W)`,
signals `(m, C, L)`) of an MLP or a convolutional network and returns an
array shaped like `X`; the whole batch is one call into C. The gradient
methods and LRP also take `start_layer=`, `unit=`: the score is then that
layer's output at the unit (a dense neuron, or the mean of a channel over
its positions) instead of a class.

| function | what it returns |
|---|---|
| `gradient(model, X, target, output="logit")` | d score / d x |
| `saliency(..., abs=True)` | \\|d score / d x\\| (`output="loss"`: the MNIST report's gradient of the cross-entropy, start dZ = P − onehot) |
| `input_x_gradient` | x · d score / d x |
| `smoothgrad(..., n_samples=50, sigma=0.15, seed=0)` | mean gradient over noisy copies x + N(0, σ²) |
| `integrated_gradients(..., baseline=None, steps=50, method="gausslegendre", return_error=False)` | (x − x') ∫ gradient; `.error` = Σ attribution − (f(x) − f(x')) |
| `guided_backprop`, `deconvnet` | modified ReLU backward passes |
| `lrp(..., rule=..., composite=None, bias=True, start="logit", return_layers=False)` | relevance per input |
| `deeplift(model, X, baseline=None, maxpool="rescale")`, `deep_shap(model, X, background)` | DeepLIFT's rescale rule, (x − x') · multipliers; `.error` the summation-to-delta error |
| `grad_cam(model, X, layer=None)`, `grad_cam_plus_plus`, `guided_grad_cam`, `cam` | class activation maps at a conv or pooling layer, upsampled to the input (`.maps` at the layer's resolution) |
| `upsample(maps, size, mode)` | bilinear / linear / nearest resampling as torch's `interpolate` (align_corners=False) |
| `occlusion(model, X, patch=4, stride=None, baseline=0.0, per_channel=False)` | mean score drop of the patches covering a pixel |
| `conservation(R, model, X, target)` | per row Σ R against the start value |
| `lime(model, X, segmentation="slic", n_samples=1000, baseline=0.0, seed=0)` | LIME for images: superpixel weights of a weighted ridge surrogate, `.map` per pixel |
| `lime_tabular(model, X, training_data, n_samples=5000)`, `lime_text(predict_proba, texts)` | LIME for table rows (quartile bins) and texts (bag of words); `TextPipeline(vectorizer, model)` classifies texts |
| `kernel_shap(model, X, background, n_samples=None, segmentation=None)` | KernelSHAP values per feature or superpixel; exact when M ≤ 16; `.additivity_error` |
| `counterfactual(model, x, target_class, distance="l1")` | Wachter et al.'s closest input of another class; `.found`, `.x_cf` |
| `superpixels(image, method="slic")` | SLIC, quickshift or grid segments 0..M−1 |

### Conventions

- **Target.** `target=None` explains each row's predicted class, the
  arg-max of its logits, for every method; `target` may be one class for
  all rows or an array with one class per row. SmoothGrad, integrated
  gradients, DeepLIFT and occlusion fix the class predicted for the
  unperturbed input.
- **Start.** Explanations start at the target's **pre-softmax logit** z_t:
  for a softmax (or sigmoid) output layer the gradient and the LRP rule of
  the last layer act on its linear part. `start="onehot"` (relevance 1) and
  `start="probability"` (the output p_t) are available for LRP, `output=
  "probability"` and `output="loss"` (−log p_t) for gradients.
- **Bias.** In LRP the bias is input j = 0 of every denominator, as in the
  LRP poster's Σ_{0,j} sums, and is modified like the weights: γ uses
  b + γb⁺, α-β puts b⁺ in the positive and b⁻ in the negative sum; z^B's bias
  terms b − b⁺ − b⁻ cancel; flat ignores the bias and w² uses b². `bias=False` drops
  the bias everywhere.
- **Stabilisers keep the sign** of the denominator: z + ε·sign(z) with
  sign(0) = +1. LRP-0 passes no relevance through a zero denominator.
- **Convolutions and pooling.** Every rule applies to Dense, Conv1d and
  Conv2d (for a convolution, output k is one position of one channel, its
  inputs the kernel's taps on the image, its bias the channel's). Max
  pooling gives relevance to each window's maximum (`maxpool="wta"`, the
  default) or in proportion to its inputs (`"norm"`); average and global
  average pooling share it in proportion (Zennit's Norm); flatten passes it.
- **Composites** go by layer type, as Zennit's presets: `epsilon-plus`,
  `epsilon-plus-flat`, `epsilon-gamma-box`, `epsilon-alpha2-beta1`,
  `epsilon-alpha2-beta1-flat` (see `composites`); by position, for MLPs:
  `mlp-epsilon-plus`, `mlp-epsilon-plus-flat`, `mlp-epsilon-gamma-box`,
  `mlp-epsilon-alpha2-beta1` (xnn's earlier meaning of the plain names) and
  `poster` (LRP-0 top, ε middle, α2β1 first).
- **Per-layer results.** Every method takes `return_layers=True` and then
  returns `[E_0, E_1, ..., E_L]` from the same C call: `E_0` the usual
  result (shaped like X), `E_l` the same quantity for layer l's input (the
  previous layer's activations) and `E_L` for the last pre-activation z.
  For LRP these are relevances; for gradient methods d score / d a_l (times
  a_l for `input_x_gradient`, absolute for `saliency`, averaged over the
  noisy copies or the path for SmoothGrad and integrated gradients, whose
  `E_0` alone is multiplied by x − x'). On a ReLU network without biases
  `input_x_gradient` and LRP-0 agree layer by layer.
- **Conservation.** On a ReLU network without biases, LRP-0 and LRP-ε give
  Σ R = z_t up to rounding, and LRP-0 equals gradient × input.

### Agreement with Captum and Zennit

Where the conventions coincide the numbers agree to float64 rounding, on
MLPs and CNNs: Captum's `Saliency`, `InputXGradient`, `IntegratedGradients`,
`GuidedBackprop`, `Deconvolution`, `LayerGradCam` (on the ReLU module after
the conv, `relu_attributions=True`, then `LayerAttribution.interpolate` with
the same mode), `GuidedGradCam`, `DeepLift` and `DeepLiftShap` (with
`maxpool="captum"` where a max pool follows an activation) and `LRP` with
`EpsilonRule` (give both the same ε; Captum's default is 1e-9, xnn's 1e-6),
`GammaRule` and `Alpha1_Beta0_Rule` with `set_bias_to_zero=True` = xnn's
`bias=False` (Captum modifies only the weights and keeps the raw bias
otherwise); Zennit's rules (`Epsilon`, `ZPlus`, `AlphaBeta`, `Flat`,
`WSquare`, `ZBox`, and its generalised `Gamma` as
`rules.Gamma(generalized=True)`) and its presets `EpsilonPlus`,
`EpsilonPlusFlat`, `EpsilonGammaBox`, `EpsilonAlpha2Beta1`,
`EpsilonAlpha2Beta1Flat` with their defaults (ε = stabiliser = 1e-6,
γ = 0.25). The textbook `rules.Gamma()` equals Zennit's where inputs are
non-negative and outputs positive. Captum's `riemann_trapezoid` weights sum
to (n − 1)/n (end points halved from 1/n); xnn's sum to 1, so Captum's
values are (n − 1)/n times xnn's. Captum 0.9's `DeepLift` rescales the
plain gradient through an activation that feeds a max pool (its hooks see
that), so its attributions then miss the score difference; xnn's default
`maxpool="rescale"` chains the pool's multipliers and sums to it.
"""
from . import composites, rules
from .gradients import (IntegratedGradients, deconvnet, gradient, guided_backprop,
                        input_x_gradient, integrated_gradients, saliency, score, smoothgrad)
from .lrp import Conservation, conservation, lrp
from .perturbation import occlusion
from .cam import CAM, cam, grad_cam, grad_cam_plus_plus, guided_grad_cam, upsample
from .deeplift import DeepLift, deep_shap, deeplift
from .agnostic import (Explanations, LimeExplanation, ShapExplanation, kernel_shap, lime,
                       lime_tabular, superpixels)
from .counterfactual import Counterfactual, CounterfactualNotFound, counterfactual
from .text import TextPipeline, lime_text
from .._dask import rows_aware as _rows_aware

# every method that returns one array per row also takes a dask.array of rows (xnn._dask)
(gradient, saliency, input_x_gradient, smoothgrad, integrated_gradients, guided_backprop,
 deconvnet, lrp, occlusion, score, cam, grad_cam, grad_cam_plus_plus, guided_grad_cam,
 deeplift, deep_shap) = map(_rows_aware, (
    gradient, saliency, input_x_gradient, smoothgrad, integrated_gradients, guided_backprop,
    deconvnet, lrp, occlusion, score, cam, grad_cam, grad_cam_plus_plus, guided_grad_cam,
    deeplift, deep_shap))

__all__ = ["gradient", "saliency", "input_x_gradient", "smoothgrad", "integrated_gradients",
           "IntegratedGradients", "guided_backprop", "deconvnet", "lrp", "conservation",
           "Conservation", "occlusion", "score", "rules", "composites",
           "lime", "lime_tabular", "lime_text", "TextPipeline", "kernel_shap", "superpixels",
           "counterfactual", "Counterfactual", "CounterfactualNotFound", "Explanations",
           "LimeExplanation", "ShapExplanation", "cam", "grad_cam", "grad_cam_plus_plus",
           "guided_grad_cam", "upsample", "CAM", "deeplift", "deep_shap", "DeepLift"]
