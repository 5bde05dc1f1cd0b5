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

Every method takes a batch `X` (rows, or images `(m, 28, 28)`) and returns
an array shaped like `X`; the whole batch is one call into C.

| function | what it returns |
|---|---|
| `gradient(model, X, target, output="logit")` | d score / d x |
| `saliency(..., abs=True)` | \\|d score / d x\\| (`output="loss"`: the MNIST report's gradient of the cross-entropy, start dZ = P − onehot) |
| `input_x_gradient` | x · d score / d x |
| `smoothgrad(..., n_samples=50, sigma=0.15, seed=0)` | mean gradient over noisy copies x + N(0, σ²) |
| `integrated_gradients(..., baseline=None, steps=50, method="gausslegendre", return_error=False)` | (x − x') ∫ gradient; `.error` = Σ attribution − (f(x) − f(x')) |
| `guided_backprop`, `deconvnet` | modified ReLU backward passes |
| `lrp(..., rule=..., composite=None, bias=True, start="logit", return_layers=False)` | relevance per input |
| `occlusion(model, X, patch=4, stride=None, baseline=0.0)` | mean score drop of the patches covering a pixel |
| `conservation(R, model, X, target)` | per row Σ R against the start value |

### Conventions

- **Target.** `target=None` explains each row's predicted class; `target`
  may be one class for all rows or an array with one class per row.
  SmoothGrad, integrated gradients and occlusion fix the class predicted for
  the unperturbed input.
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
- **Composites** choose a rule per dense layer (first layer special):
  `epsilon-plus`, `epsilon-plus-flat`, `epsilon-gamma-box`,
  `epsilon-alpha2-beta1` and `poster` (LRP-0 top, ε middle, α2β1 first).
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

Where the conventions coincide the numbers agree to float64 rounding:
Captum's `Saliency`, `InputXGradient`, `IntegratedGradients`,
`GuidedBackprop`, `Deconvolution` and `LRP` with `EpsilonRule` (give both the
same ε; Captum's default is 1e-9, xnn's 1e-6), `GammaRule` and
`Alpha1_Beta0_Rule` with `set_bias_to_zero=True` = xnn's `bias=False` (Captum
modifies only the weights and keeps the raw bias otherwise); Zennit's
`Epsilon`, `ZPlus`, `AlphaBeta` (bias as here). Zennit's `Gamma` is a
generalised rule that switches to w + γw⁻ for negative outputs and inputs;
it equals xnn's where both are non-negative. Captum's `riemann_trapezoid`
weights sum to (n − 1)/n (end points halved from 1/n); xnn's sum to 1, so
Captum's values are (n − 1)/n times xnn's. Zennit's presets key z⁺/γ/α-β
on convolutions and use ε for every Linear layer; xnn's presets use them on
the hidden dense layers instead.
"""
from . import composites, rules
from .gradients import (IntegratedGradients, deconvnet, gradient, guided_backprop,
                        input_x_gradient, integrated_gradients, saliency, score, smoothgrad)
from .lrp import Conservation, conservation, lrp
from .perturbation import occlusion
from .._dask import rows_aware as _rows_aware

# every per-row method also takes a dask.array of rows (xnn._dask)
(gradient, saliency, input_x_gradient, smoothgrad, integrated_gradients, guided_backprop,
 deconvnet, lrp, occlusion, score) = map(_rows_aware, (
    gradient, saliency, input_x_gradient, smoothgrad, integrated_gradients, guided_backprop,
    deconvnet, lrp, occlusion, score))

__all__ = ["gradient", "saliency", "input_x_gradient", "smoothgrad", "integrated_gradients",
           "IntegratedGradients", "guided_backprop", "deconvnet", "lrp", "conservation",
           "Conservation", "occlusion", "score", "rules", "composites"]
