"""Measuring explanations: are they faithful to the model, robust, and do
they depend on what the model learned?

## Faithfulness

```python
import xnn
R = xnn.explain.lrp(model, X)
curves = xnn.evaluate.pixel_flipping(model, X, R, pixels_per_step=7)   # MoRF
curves.confidence[:, :4]        # the LRP poster's (max - 2nd) / max per step
curves.aopc("probability")      # area over the perturbation curve
xnn.plot.perturbation_curves({"LRP": curves, "random": rand_curves})
```

| function | what it measures |
|---|---|
| `pixel_flipping(model, X, R, pixels_per_step=1, order="morf", baseline=0.0)` | the target's logit, probability and confidence as the most (MoRF) or least (LeRF) relevant pixels are removed |
| `region_perturbation(model, X, R, patch=4, baseline="uniform")` | the same with square patches (Samek et al. 2017) |
| `faithfulness_correlation(model, X, R, n_subsets=100, subset_size=0.1)` | Pearson correlation of attribution sums and score drops of random subsets (Bhatt et al. 2020) |
| `infidelity(model, X, R, perturbations=None, normalize=False)` | E[(I·R − (f(x) − f(x − I)))²] (Yeh et al. 2019; equals Captum's `infidelity`) |

## Robustness and sanity

| function | what it measures |
|---|---|
| `sensitivity_max(method, model, X, radius=0.02)` | max ‖E(x+δ) − E(x)‖ / ‖E(x)‖ (Yeh et al. 2019; equals Captum's `sensitivity_max`) |
| `randomization_check(model, X, method="gradient", mode="cascading")` | Spearman (signed, absolute) and SSIM between the maps of the trained model and of copies with re-initialised layers (Adebayo et al. 2018); `xnn.plot.randomization` draws it |

### Conventions

- The scores of a class are its **logit** (the last layer's pre-activation)
  and its **probability** (the output layer's value). Curves record both,
  and the confidence ``(max − second max) / max`` of both the class
  probabilities (``confidence``) and the logits (``confidence_logits``;
  meaningful while the largest logit is positive).
- ``target=None`` evaluates each row's predicted class on the unperturbed
  input; perturbed copies keep that class.
- Random draws (random orders, noise baselines, subsets, perturbations) come
  from ``numpy.random.default_rng(seed)``; the same seed gives the same
  numbers for any thread count. Perturbations can be given explicitly
  (arrays or callables) to share them with another library.
- Perturbed copies go through the batched C forward, a few thousand rows
  per call; removal curves use the first layer's linearity, so 1,000
  images x 112 steps cost little more than 1,000 forwards.
"""
from .faithfulness import (FaithfulnessCorrelation, PerturbationCurves, faithfulness_correlation,
                           infidelity, pixel_flipping, region_perturbation)
from .robustness import sensitivity_max
from .sanity import RandomizationCheck, randomization_check

__all__ = ["pixel_flipping", "region_perturbation", "PerturbationCurves", "faithfulness_correlation",
           "FaithfulnessCorrelation", "infidelity", "sensitivity_max", "randomization_check",
           "RandomizationCheck"]
