"""Command line: ``python -m xnn demo``, ``python -m xnn explore`` and friends
(``python -m xnn --help``)."""
import argparse
import os
import sys
import time

#: the demo's defaults: the MNIST report's learning rate and epochs on at
#: most DEMO_TRAIN_ROWS training rows, a run of well under a minute on two
#: cores; ``--report`` trains on every training row.
DEMO_EPOCHS = 1000
DEMO_LR = 0.01
DEMO_TRAIN_ROWS = 8000
REPORT_EPOCHS = 1000
REPORT_LR = 0.01
#: seconds the demo waits for OpenML before falling back to offline data
DEMO_TIMEOUT = 3.0

DEMO_HELP = f"""\
Train the MNIST report's network (784-32-32-10, ReLU, softmax; its
N(0, 1/fan_in) initialisation, seed 42; full-batch gradient descent), print
the report's Table 3 layout every epochs/10 epochs and the test accuracy, and
write the report's figures as PNG files.

Data, the first that is available: the IDX files in --data; the OpenML cache
of xnn.datasets.load_mnist; the IDX files in $XNN_MNIST_DIR; a download from
OpenML (given up after {DEMO_TIMEOUT:g} s without an answer; skipped with
--offline); else scikit-learn's offline 8x8 digits. The rows are split 80/20
as in the report (xnn.datasets.split, seed 42).

Defaults: the report's {DEMO_EPOCHS} epochs at learning rate {DEMO_LR:g}, on at
most {DEMO_TRAIN_ROWS} training rows, so the run takes well under a minute on
two cores (about 15 s on the 10,000-image MNIST test set split 80/20) and
its table follows the report's Table 3 (about 85% accuracy at epoch 900).
--report trains on every training row (56,000 with the full OpenML MNIST,
a few minutes); --epochs, --lr and --train-rows change one setting."""


# ---------------------------------------------------------------- data
def _load_data(args):
    """(X, y, description, image shape) of the first available data set."""
    from xnn import datasets

    if args.data is not None:
        X, y = datasets.load_idx_dir(args.data)
        return X, y, f"MNIST IDX files in {args.data}"
    cache = datasets.get_data_home() / "mnist_784-v1.npz"
    if cache.exists():
        try:
            X, y = datasets.load_mnist(verbose=False)
            return X, y, f"MNIST (OpenML mnist_784, cached in {cache})"
        except (datasets.DatasetError, OSError) as e:
            print(f"notice: the MNIST cache {cache} is not usable ({e})", file=sys.stderr)
    env = os.environ.get("XNN_MNIST_DIR")
    if env:
        try:
            X, y = datasets.load_idx_dir(env)
            return X, y, f"MNIST IDX files in $XNN_MNIST_DIR={env}"
        except (OSError, ValueError) as e:
            print(f"notice: $XNN_MNIST_DIR={env}: {e}", file=sys.stderr)
    if not args.offline:
        try:
            X, y = datasets.load_mnist(timeout=DEMO_TIMEOUT, verbose=True)
            return X, y, "MNIST (OpenML mnist_784, downloaded and cached)"
        except (datasets.DownloadError, datasets.DatasetError, OSError) as e:
            reason = str(e).splitlines()[0]
            print(f"notice: MNIST is not available ({reason}); using scikit-learn's "
                  "offline 8x8 digits instead", file=sys.stderr)
    else:
        print("notice: --offline and no MNIST files found; using scikit-learn's offline "
              "8x8 digits", file=sys.stderr)
    X, y = datasets.load_digits()
    return X, y, "scikit-learn's offline 8x8 digits (no MNIST found)"


# ---------------------------------------------------------------- explanations
def _saliency(model, x, target):
    """|d loss / d x| for one image: xnn.explain.saliency when it exists, else
    the MNIST report's formula in NumPy (dZ = P - onehot(target), back
    through the ReLU masks to the input)."""
    import numpy as np

    explain = _explain()
    if hasattr(explain, "saliency"):
        try:
            return (np.asarray(explain.saliency(model, x[None], target=target, output="loss"))[0],
                    "xnn.explain.saliency")
        except (TypeError, ValueError) as e:
            print(f"notice: xnn.explain.saliency failed ({e}); using the report's formula",
                  file=sys.stderr)
    weights = model.get_weights()
    acts = [x[None].astype(np.float64)] + [a.astype(np.float64) for a in model.activations(x[None])]
    d = acts[-1].copy()
    d[0, target] -= 1.0
    for i in range(len(model.layers) - 1, -1, -1):
        d = d @ weights[2 * i].astype(np.float64).T
        if i > 0:
            d = d * (acts[i] > 0)
    return np.abs(d[0]), "gradient of the loss (the report's formula)"


def _explain():
    """xnn.explain, or None if this installation lacks it."""
    try:
        from xnn import explain
    except ImportError:
        return None
    return explain


#: LRP variants compared in relevance.png (the LRP poster's table): title,
#: keyword arguments of xnn.explain.lrp
LRP_RULES = [("LRP-0", {"rule": "zero"}), ("LRP-ε", {"rule": "epsilon"}),
             ("LRP-γ", {"rule": "gamma"}), ("composite", {"composite": "poster"})]


def _relevances(model, x, target):
    """The LRP maps of x under each rule of LRP_RULES that xnn.explain has."""
    import numpy as np

    explain = _explain()
    maps, titles = [], []
    for title, kwargs in LRP_RULES:
        try:
            R = explain.lrp(model, x[None], target=target, **kwargs)
        except (TypeError, ValueError) as e:
            print(f"notice: {title} skipped: {e}", file=sys.stderr)
            continue
        maps.append(np.asarray(R)[0])
        titles.append(title)
    return maps, titles


# ---------------------------------------------------------------- demo
def _demo(args):
    import xnn
    from xnn import datasets

    if args.report:
        args.epochs = REPORT_EPOCHS if args.epochs is None else args.epochs
        args.lr = REPORT_LR if args.lr is None else args.lr
        args.train_rows = 0 if args.train_rows is None else args.train_rows
    epochs = DEMO_EPOCHS if args.epochs is None else args.epochs
    lr = DEMO_LR if args.lr is None else args.lr
    train_rows = DEMO_TRAIN_ROWS if args.train_rows is None else args.train_rows

    X, y, source = _load_data(args)
    X_tr, X_te, y_tr, y_te = datasets.split(X, y, test_size=0.2, seed=42)
    n_split = len(X_tr)
    if train_rows and len(X_tr) > train_rows:
        X_tr, y_tr = X_tr[:train_rows], y_tr[:train_rows]
    side = int(round(X.shape[1] ** 0.5))
    print(f"data: {source}")
    used = (f"{len(X_tr)} of the {n_split} training rows" if len(X_tr) < n_split
            else f"{len(X_tr)} training rows")
    print(f"      {used}, {len(X_te)} test rows, {side}x{side} pixels")

    n_in = X.shape[1]
    n_classes = int(max(y.max() + 1, 10))
    h1, h2 = args.hidden
    model = xnn.Sequential([
        xnn.layers.Dense(n_in, h1, activation="relu"),
        xnn.layers.Dense(h1, h2, activation="relu"),
        xnn.layers.Dense(h2, n_classes, activation="softmax"),
    ], init="mnist_report", seed=args.seed)
    print(f"network: {n_in}-{h1}-{h2}-{n_classes}, ReLU, softmax, init mnist_report, "
          f"seed {args.seed}; full-batch gradient descent, lr {lr:g}, {epochs} epochs")
    t0 = time.perf_counter()
    hist = model.fit(X_tr, y_tr, epochs=epochs, batch_size=None, lr=lr,
                     verbose=1 if args.progress else 0)
    elapsed = time.perf_counter() - t0
    h = hist.history
    every = max(1, epochs // 10)
    print(f"\n{'epoch':>6} {'cross-entropy':>14} {'SSR':>10} {'accuracy':>9}")
    for e in range(0, epochs, every):
        print(f"{e:>6} {h['loss'][e]:>14.6f} {h['ssr'][e]:>10.6f} {h['accuracy'][e]:>9.4f}")
    test = model.evaluate(X_te, y_te)
    print(f"\ntest accuracy: {test['accuracy']:.4f} ({len(X_te)} rows; "
          f"trained in {elapsed:.1f} s)")

    written = _figures(args.out, model, hist, X_te, y_te)
    print(f"\nfigures written to {args.out}:")
    for path in written:
        print(f"  {path}")
    return 0


def _figures(out, model, hist, X_te, y_te):
    """Draw the report's figures for the trained model and save them as PNG."""
    import matplotlib
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    import numpy as np

    from xnn import plot

    os.makedirs(out, exist_ok=True)
    written = []

    def save(fig, name):
        path = os.path.join(out, name)
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)

    save(plot.history(hist), "history.png")
    save(plot.predictions(model, X_te, y_te, n=10), "predictions.png")
    x = X_te[0]
    pred = int(model.predict(x[None])[0])
    sal, how = _saliency(model, x, pred)
    save(plot.saliency(x, sal, overlay=True,
                       title=f"Saliency for class {pred} ({how})"), "saliency.png")
    save(plot.activations(model, x), "activations.png")
    if hasattr(_explain(), "lrp"):
        maps, titles = _relevances(model, x, pred)
        if maps:
            save(plot.relevance(x, np.stack(maps), titles=titles), "relevance.png")
    return written


# ---------------------------------------------------------------- explore
EXPLORE_EPOCHS = {"mnist": 5, "digits": 30}

EXPLORE_HELP = """\
Serve the live explorer on 127.0.0.1: draw a digit in the browser and watch
the class probabilities, the heat maps of saliency, gradient x input,
integrated gradients, LRP and occlusion, and every layer's activations
change with every stroke. Prints the page's address; Ctrl-C stops.

Model: --model FILE.npz (written by model.save), else a network trained now
for a few seconds: 784-128-64-10 on MNIST when its IDX files are in --data
or $XNN_MNIST_DIR, else 64-32-10 on scikit-learn's offline 8x8 digits
(--digits forces them). The test rows of the data (an 80/20 split, seed 42)
can be browsed in the page when they fit the model."""


def _explore_data(args, n_in):
    """(X, y, description) of the data that fits a model with n_in inputs, or Nones."""
    from xnn import datasets

    if n_in == 784 and not args.digits:
        for where, label in ((args.data, "--data"), (os.environ.get("XNN_MNIST_DIR"), "$XNN_MNIST_DIR")):
            if not where:
                continue
            try:
                X, y = datasets.load_idx_dir(where)
                return X, y, f"MNIST IDX files in {label}={where}"
            except (OSError, ValueError) as e:
                print(f"notice: {label}={where}: {e}", file=sys.stderr)
    if n_in == 64:
        X, y = datasets.load_digits()
        return X, y, "scikit-learn's offline 8x8 digits"
    return None, None, None


def _explore(args):
    import xnn
    from xnn import datasets
    from xnn.widgets import Session
    from xnn.widgets.server import serve, url

    if args.model is not None:
        try:
            model = xnn.load(args.model)
        except (OSError, ValueError) as e:
            print(f"error: --model: {e}", file=sys.stderr)
            return 2
        n_in = model.layers[0].n_in
        X, y, source = _explore_data(args, n_in)
        what = f"model {args.model}"
    else:
        X, y, source = _explore_data(args, 64 if args.digits else 784)
        if X is None:
            X, y, source = _explore_data(args, 64)
        mnist = X.shape[1] == 784
        hidden = (128, 64) if mnist else (32,)
        sizes = [X.shape[1], *hidden, 10]
        layers = [xnn.layers.Dense(a, b, activation="relu") for a, b in zip(sizes[:-2], sizes[1:-1])]
        layers.append(xnn.layers.Dense(sizes[-2], sizes[-1], activation="softmax"))
        model = xnn.Sequential(layers, init="glorot_uniform", seed=args.seed)
        X_tr, _, y_tr, _ = datasets.split(X, y, test_size=0.2, seed=42)
        epochs = args.epochs if args.epochs is not None else EXPLORE_EPOCHS["mnist" if mnist else "digits"]
        t0 = time.perf_counter()
        if mnist:
            model.fit(X_tr, y_tr, epochs=epochs, batch_size=64, optimizer="adam", lr=1e-3, verbose=0)
        else:
            model.fit(X_tr, y_tr, epochs=epochs, batch_size=32, lr=0.2, verbose=0)
        what = (f"model {'-'.join(map(str, sizes))} trained on {len(X_tr)} rows for {epochs} "
                f"epochs ({time.perf_counter() - t0:.2f} s)")
    X_te = y_te = None
    if X is not None:
        _, X_te, _, y_te = datasets.split(X, y, test_size=0.2, seed=42)
    methods = None
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    try:
        session = Session(model, X_te, y_te, methods=methods)
    except (TypeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(what)
    if X_te is not None:
        acc = float((session.pred == session.y).mean())
        print(f"data: {source}; {len(X_te)} test rows to browse, accuracy {acc:.4f}")
    try:
        server = serve(session, port=args.port, quiet=not args.verbose)
    except OSError as e:
        print(f"error: --port {args.port}: {e}", file=sys.stderr)
        return 2
    print(f"xnn explorer: {url(server)}  (Ctrl-C to stop)", flush=True)
    try:
        while server.thread.is_alive():
            server.thread.join(0.5)
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.shutdown()
        server.server_close()
    return 0


# ---------------------------------------------------------------- info
def _info(args):
    import numpy as np

    import xnn
    print(f"xnn {xnn.__version__}")
    print(f"matrix kernels: {xnn.isa()}; threads: {xnn.get_num_threads()}")
    print(f"numpy {np.__version__}; python {sys.version.split()[0]}")
    print(f"data home: {xnn.datasets.get_data_home()}")
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m xnn",
        description="xnn: explainable neural networks with a C core")
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo = sub.add_parser(
        "demo", help="train the MNIST report's network, print its table, write its figures",
        description=DEMO_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--data", metavar="DIR",
                      help="directory of MNIST IDX files (train-/t10k-images-idx3-ubyte[.gz], ...)")
    demo.add_argument("--out", metavar="DIR", default="xnn-demo",
                      help="directory for the PNG figures (default ./xnn-demo)")
    demo.add_argument("--epochs", type=int, default=None,
                      help=f"training epochs (default {DEMO_EPOCHS}, the report's)")
    demo.add_argument("--lr", type=float, default=None,
                      help=f"learning rate (default {DEMO_LR:g}, the report's)")
    demo.add_argument("--hidden", type=int, nargs=2, default=(32, 32), metavar=("H1", "H2"),
                      help="hidden widths (default 32 32, as in the code of the report's "
                           "Table 3; the text's network is 128 64)")
    demo.add_argument("--train-rows", type=int, default=None, metavar="N",
                      help=f"train on at most N rows of the training split (default "
                           f"{DEMO_TRAIN_ROWS}; 0 = all, the default with --report)")
    demo.add_argument("--report", action="store_true",
                      help=f"the report's own settings: lr {REPORT_LR:g}, {REPORT_EPOCHS} epochs, "
                           "every training row (minutes on the full MNIST)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--offline", action="store_true",
                      help="never try to download MNIST")
    demo.add_argument("--no-progress", dest="progress", action="store_false",
                      help="no progress bar")
    explore = sub.add_parser(
        "explore", help="the live explorer in the browser: draw a digit, see why the network decides",
        description=EXPLORE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    explore.add_argument("--model", metavar="FILE.npz",
                         help="an image model saved with model.save (default: train one now)")
    explore.add_argument("--port", type=int, default=8765,
                         help="port on 127.0.0.1 (default 8765; 0 = any free port)")
    explore.add_argument("--data", metavar="DIR",
                         help="directory of MNIST IDX files (default $XNN_MNIST_DIR)")
    explore.add_argument("--digits", action="store_true",
                         help="use scikit-learn's 8x8 digits even when MNIST is available")
    explore.add_argument("--epochs", type=int, default=None,
                         help="training epochs of the default model (default "
                              f"{EXPLORE_EPOCHS['mnist']} on MNIST, {EXPLORE_EPOCHS['digits']} on the digits)")
    explore.add_argument("--methods", metavar="A,B,...",
                         help="the explanations shown, comma-separated, from saliency, "
                              "input_x_gradient, integrated_gradients, lrp, occlusion, grad_cam "
                              "(default: every one that applies to the model)")
    explore.add_argument("--seed", type=int, default=0, help="seed of the default model (default 0)")
    explore.add_argument("--verbose", action="store_true", help="log every request")
    sub.add_parser("info", help="version, instruction set, threads and data directory")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs is not None and args.epochs < 1:
            parser.error(f"--epochs: expected an integer >= 1, got {args.epochs}")
        if args.lr is not None and not args.lr > 0:
            parser.error(f"--lr: expected a number > 0, got {args.lr}")
        if args.train_rows is not None and args.train_rows < 0:
            parser.error(f"--train-rows: expected an integer >= 0, got {args.train_rows}")
        if min(args.hidden) < 1:
            parser.error(f"--hidden: expected widths >= 1, got {list(args.hidden)}")
        if args.data is not None and not os.path.isdir(args.data):
            parser.error(f"--data: no such directory: {args.data}")
        return _demo(args)
    if args.command == "explore":
        if not 0 <= args.port <= 65535:
            parser.error(f"--port: expected an integer in [0, 65535], got {args.port}")
        if args.epochs is not None and args.epochs < 1:
            parser.error(f"--epochs: expected an integer >= 1, got {args.epochs}")
        if args.data is not None and not os.path.isdir(args.data):
            parser.error(f"--data: no such directory: {args.data}")
        return _explore(args)
    if args.command == "info":
        return _info(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
