"""Speed of xnn's model-agnostic explanations and evaluation against the
lime, shap and Quantus packages, on the same MNIST MLP in the same run.

Network 784-128-64-10 (ReLU, ReLU, softmax), float32, trained for two
epochs of minibatch SGD on the 10,000 MNIST test images (the weights only
need to be realistic), 2 threads for xnn and for PyTorch.

  LIME        one image, 1,000 samples, a 50-cell grid segmentation given to
              both (segmentation not timed); lime's LimeImageExplainer gets
              xnn's predict_proba as classifier_fn with batch_size=1000
  KernelSHAP  one image, 1,000 coalitions of 50 superpixels (the same grid),
              a 100-row background; shap's KernelExplainer over the
              superpixels as column groups (DenseData), l1_reg=False, with
              xnn's predict_proba
  MoRF        pixel-flipping curves of 1,000 images x 112 steps of 7 pixels,
              baseline 0; Quantus's PixelFlipping (features_in_step=7) runs a
              PyTorch copy of the weights (Quantus needs a torch or Keras
              model), at its default batch of 64 and at 1,000 rows, the
              faster counting

Every figure is the median of a few timings after a warm-up call. Each row
also prints the largest difference between xnn's and the package's numbers
(same samples: lime and shap draw from the same RandomState stream as xnn).
Quantus imports zennit, which imports torchvision; when torchvision cannot
be imported, a stub module with the two names zennit reads is installed.

    python benchmarks/bench_agnostic.py [--quick]
"""
import argparse
import os
import sys
import time
import types
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import xnn  # noqa: E402  (installed)
except ImportError:  # an in-place build in this checkout
    sys.path.insert(0, os.path.dirname(HERE))
    import xnn  # noqa: E402
from bench_explain import load_mnist_test, make_model, torch_model  # noqa: E402
from timing import timings  # noqa: E402

TARGETS = {"lime": 10.0, "shap": 10.0, "morf": 20.0}
PAUSE = 0.5


def median_time(fn, repeat, warmup=1):
    time.sleep(PAUSE)
    return float(np.median(timings(fn, repeat, warmup=warmup)))


def install_torchvision_stub():
    """zennit (imported by Quantus) imports torchvision's ResNet blocks; a
    CPU-only torch without torchvision gets a stub with those two names."""
    try:
        import torchvision  # noqa: F401
        return False
    except Exception:
        pass
    import torch
    tv = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    resnet = types.ModuleType("torchvision.models.resnet")

    class Bottleneck(torch.nn.Module):
        pass

    class BasicBlock(torch.nn.Module):
        pass
    resnet.Bottleneck, resnet.BasicBlock = Bottleneck, BasicBlock
    tv.models, models.resnet = models, resnet
    sys.modules.update({"torchvision": tv, "torchvision.models": models,
                        "torchvision.models.resnet": resnet})
    return True


def grid50():
    r = np.arange(28) * 5 // 28
    c = np.arange(28) * 10 // 28
    return (r[:, None] * 10 + c[None, :]).astype(np.int64)


def bench_lime(model, X, rep):
    from lime import lime_image
    x = X[0]
    seg = grid50()
    t = int(model.predict(x[None])[0])
    ours = lambda: xnn.explain.lime(model, x, target=t, segmentation=seg, n_samples=1000, seed=0)  # noqa: E731
    xt = median_time(ours, rep)
    classifier = lambda imgs: model.predict_proba(imgs[..., 0].reshape(len(imgs), -1))  # noqa: E731

    def theirs():
        ex = lime_image.LimeImageExplainer(random_state=0)
        return ex.explain_instance(x.reshape(28, 28).astype(np.float64), classifier, labels=(t,),
                                   top_labels=None, hide_color=0, num_samples=1000,
                                   batch_size=1000, segmentation_fn=lambda img: seg, random_seed=0)
    import contextlib
    import io
    with contextlib.redirect_stderr(io.StringIO()):          # lime's progress bar
        pt = median_time(theirs, max(2, rep // 2))
        e = theirs()
    w = np.zeros(50)
    for k, v in e.local_exp[t]:
        w[k] = v
    diff = float(np.abs(ours().weights - w).max())
    return xt, pt, diff


def bench_shap(model, X, rep):
    import shap
    from shap.utils._legacy import DenseData
    x = X[0]
    seg = grid50()
    bg = X[1000:1100]
    t = int(model.predict(x[None])[0])
    ours = lambda: xnn.explain.kernel_shap(model, x, bg, target=t, n_samples=1000,  # noqa: E731
                                           segmentation=seg, seed=0)
    xt = median_time(ours, rep)
    groups = [np.flatnonzero(seg.ravel() == k) for k in range(50)]
    data = DenseData(bg.astype(np.float64), [str(k) for k in range(50)], groups)
    f = lambda Z: model.predict_proba(Z)[:, t]  # noqa: E731

    def theirs():
        np.random.seed(0)
        ke = shap.KernelExplainer(f, data)
        return ke.shap_values(x[None].astype(np.float64), nsamples=1000, l1_reg=False, silent=True)
    pt = median_time(theirs, max(2, rep // 2))
    diff = float(np.abs(np.ravel(theirs()) - ours().values).max())
    return xt, pt, diff


def bench_morf(model, X, rep):
    install_torchvision_stub()
    import torch
    import quantus
    n = 1000
    Xn = X[:n]
    t = model.predict(Xn)
    # gradient x input with a tiny tie-breaker: both sides remove the same pixels
    R = xnn.explain.input_x_gradient(model, Xn, t).astype(np.float64)
    R += 1e-7 * np.random.default_rng(0).random(R.shape)
    ours = lambda: xnn.evaluate.pixel_flipping(model, Xn, R, target=t, pixels_per_step=7)  # noqa: E731
    xt = median_time(ours, rep)
    tm = torch.nn.Sequential(torch.nn.Flatten(), *torch_model(model)).eval()
    xb = Xn.reshape(n, 1, 28, 28)
    ab = R.astype(np.float32).reshape(n, 1, 28, 28)
    best, curves = None, None
    for batch in (64, 1000):
        metric = quantus.PixelFlipping(features_in_step=7, perturb_baseline="black",
                                       normalise=False, abs=False, disable_warnings=True,
                                       display_progressbar=False)

        def theirs():
            return metric(model=tm, x_batch=xb, y_batch=t, a_batch=ab, channel_first=True,
                          softmax=True, device="cpu", batch_size=batch)
        s = median_time(theirs, max(1, rep // 3), warmup=0)
        if best is None or s < best:
            best, curves = s, np.asarray(theirs())
    diff = float(np.abs(ours().probabilities[:, 1:] - curves).max())
    return xt, best, diff


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    xnn.set_num_threads(2)
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
    X, y = load_mnist_test()
    model = make_model(X, y, epochs=1 if args.quick else 2)
    rep = 3 if args.quick else 7
    rows = []
    for key, name, peer, fn in (
            ("lime", "LIME, 1 image, 1,000 samples, 50 superpixels", "lime", bench_lime),
            ("shap", "KernelSHAP, 1,000 coalitions, 50 superpixels, 100 background", "shap",
             bench_shap),
            ("morf", "MoRF curves, 1,000 images x 112 steps of 7 px", "quantus", bench_morf)):
        try:
            xt, pt, diff = fn(model, X, rep)
        except ImportError as e:
            print(f"{name}: skipped, {e}")
            continue
        rows.append((key, name, peer, xt, pt, diff))
    print(f"\nxnn {xnn.__version__}, ISA {xnn.isa()}, threads {xnn.get_num_threads()}"
          + (f", torch threads {torch.get_num_threads()}" if torch is not None else ""))
    print(f"{'task':<64}{'xnn s':>10}{'peer':>9}{'peer s':>10}{'ratio':>9}{'target':>8}"
          f"{'max |diff|':>12}")
    for key, name, peer, xt, pt, diff in rows:
        ratio = pt / xt
        mark = "" if ratio >= TARGETS[key] else "  (below target)"
        print(f"{name:<64}{xt:>10.4f}{peer:>9}{pt:>10.3f}{ratio:>8.1f}x{TARGETS[key]:>7.0f}x"
              f"{diff:>12.2e}{mark}")


if __name__ == "__main__":
    main()
