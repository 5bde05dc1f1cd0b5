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
              model), at its default batch of 64 and at 1,000 rows

xnn and the packages take turns over a few rounds (each round: the median
of five xnn calls, then one call of each package), so that a slow spell of
a shared machine falls on all of them; the table gives the medians over the
rounds. Each task also prints the largest difference between xnn's numbers
and the package's (the same samples: lime and shap draw from the same
RandomState stream as xnn; Quantus's curves are probabilities after each
step, xnn's float32 forward against PyTorch's).
Quantus imports zennit, which imports torchvision; when torchvision cannot
be imported, a stub module with the two names zennit reads is installed.

    python benchmarks/bench_agnostic.py [--quick]
"""
import argparse
import contextlib
import io
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


def lime_task(model, X):
    from lime import lime_image
    x = X[0]
    seg = grid50()
    t = int(model.predict(x[None])[0])

    def ours():
        return xnn.explain.lime(model, x, target=t, segmentation=seg, n_samples=1000, seed=0)
    classifier = lambda imgs: model.predict_proba(imgs[..., 0].reshape(len(imgs), -1))  # noqa: E731

    def theirs():
        ex = lime_image.LimeImageExplainer(random_state=0)
        with contextlib.redirect_stderr(io.StringIO()):      # lime's progress bar
            return ex.explain_instance(x.reshape(28, 28).astype(np.float64), classifier,
                                       labels=(t,), top_labels=None, hide_color=0,
                                       num_samples=1000, batch_size=1000,
                                       segmentation_fn=lambda img: seg, random_seed=0)

    def diff():
        e = theirs()
        w = np.zeros(50)
        for k, v in e.local_exp[t]:
            w[k] = v
        return float(np.abs(ours().weights - w).max())
    return ours, {"lime": theirs}, diff


def shap_task(model, X):
    import shap
    from shap.utils._legacy import DenseData
    x = X[0]
    seg = grid50()
    bg = X[1000:1100]
    t = int(model.predict(x[None])[0])

    def ours():
        return xnn.explain.kernel_shap(model, x, bg, target=t, n_samples=1000, segmentation=seg,
                                       seed=0)
    groups = [np.flatnonzero(seg.ravel() == k) for k in range(50)]
    data = DenseData(bg.astype(np.float64), [str(k) for k in range(50)], groups)
    f = lambda Z: model.predict_proba(Z)[:, t]  # noqa: E731

    def theirs():
        np.random.seed(0)
        ke = shap.KernelExplainer(f, data)
        return ke.shap_values(x[None].astype(np.float64), nsamples=1000, l1_reg=False, silent=True)

    def diff():
        return float(np.abs(np.ravel(theirs()) - ours().values).max())
    return ours, {"shap": theirs}, diff


def morf_task(model, X):
    install_torchvision_stub()
    import torch
    import quantus
    n = 1000
    Xn = X[:n]
    t = model.predict(Xn)
    # gradient x input with a tiny tie-breaker: both sides remove the same pixels
    R = xnn.explain.input_x_gradient(model, Xn, t).astype(np.float64)
    R += 1e-7 * np.random.default_rng(0).random(R.shape)

    def ours():
        return xnn.evaluate.pixel_flipping(model, Xn, R, target=t, pixels_per_step=7)
    tm = torch.nn.Sequential(torch.nn.Flatten(), *torch_model(model)).eval()
    xb = Xn.reshape(n, 1, 28, 28)
    ab = R.astype(np.float32).reshape(n, 1, 28, 28)

    def quantus_run(batch):
        def run():
            metric = quantus.PixelFlipping(features_in_step=7, perturb_baseline="black",
                                           normalise=False, abs=False, disable_warnings=True,
                                           display_progressbar=False)
            return metric(model=tm, x_batch=xb, y_batch=t, a_batch=ab, channel_first=True,
                          softmax=True, device="cpu", batch_size=batch)
        return run

    def diff():
        return float(np.abs(ours().probabilities[:, 1:] - np.asarray(quantus_run(1000)())).max())
    return ours, {"quantus (batch 64)": quantus_run(64), "quantus (batch 1000)": quantus_run(1000)}, diff


def interleaved(ours, theirs, rounds, reps):
    """Rounds of (reps timings of xnn, one of each peer), so that a slow spell
    of a shared machine falls on both; the median of each over the rounds."""
    ours()
    for fn in theirs.values():
        fn()
    mine, peers = [], {k: [] for k in theirs}
    for _ in range(rounds):
        time.sleep(PAUSE)
        mine.append(float(np.median(timings(ours, reps, warmup=0))))
        for k, fn in theirs.items():
            time.sleep(PAUSE)
            peers[k].append(timings(fn, 1, warmup=0)[0])
    return float(np.median(mine)), {k: float(np.median(v)) for k, v in peers.items()}


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
    rounds = 2 if args.quick else 3
    rows = []
    for key, name, task in (
            ("lime", "LIME, 1 image, 1,000 samples, 50 superpixels", lime_task),
            ("shap", "KernelSHAP, 1,000 coalitions, 50 superpixels, 100 background", shap_task),
            ("morf", "MoRF curves, 1,000 images x 112 steps of 7 px", morf_task)):
        try:
            ours, theirs, diff = task(model, X)
        except ImportError as e:
            print(f"{name}: skipped, {e}")
            continue
        xt, pts = interleaved(ours, theirs, rounds, 5)
        rows.append((key, name, xt, pts, diff()))
    print(f"\nxnn {xnn.__version__}, ISA {xnn.isa()}, threads {xnn.get_num_threads()}"
          + (f", torch threads {torch.get_num_threads()}" if torch is not None else "")
          + f"; medians over {rounds} interleaved rounds")
    print(f"{'task':<64}{'xnn s':>9}  {'peer':<22}{'peer s':>8}{'ratio':>9}{'target':>8}"
          f"{'max |diff|':>12}")
    for key, name, xt, pts, dv in rows:
        for i, (peer, pt) in enumerate(pts.items()):
            ratio = pt / xt
            mark = "" if ratio >= TARGETS[key] else "  (below target)"
            print(f"{name if i == 0 else '':<64}{xt:>9.4f}  {peer:<22}{pt:>8.3f}{ratio:>8.1f}x"
                  f"{TARGETS[key]:>7.0f}x{dv if i == 0 else float('nan'):>12.2e}{mark}")

if __name__ == "__main__":
    main()
