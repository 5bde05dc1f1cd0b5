"""Command line: ``python -m xnn demo`` and friends (``python -m xnn --help``)."""
import argparse
import sys
import time


def _demo(args):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import xnn

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, d.target, test_size=0.2, random_state=42)
    print(f"data: scikit-learn's offline digits, {len(X_tr)} train / {len(X_te)} test rows "
          f"of {X.shape[1]} pixels")
    h1, h2 = args.hidden
    model = xnn.Sequential([
        xnn.layers.Dense(X.shape[1], h1, activation="relu"),
        xnn.layers.Dense(h1, h2, activation="relu"),
        xnn.layers.Dense(h2, 10, activation="softmax"),
    ], init="mnist_report", seed=args.seed)
    print(f"network: {X.shape[1]}-{h1}-{h2}-10, ReLU, softmax; full-batch gradient descent, "
          f"lr {args.lr}, {args.epochs} epochs")
    t0 = time.perf_counter()
    hist = model.fit(X_tr, y_tr, epochs=args.epochs, batch_size=None, lr=args.lr,
                     verbose=1 if args.progress else 0)
    elapsed = time.perf_counter() - t0
    h = hist.history
    every = max(1, args.epochs // 10)
    print(f"\n{'epoch':>6} {'cross-entropy':>14} {'SSR':>10} {'accuracy':>9}")
    for e in range(0, args.epochs, every):
        print(f"{e:>6} {h['loss'][e]:>14.6f} {h['ssr'][e]:>10.6f} {h['accuracy'][e]:>9.4f}")
    test = model.evaluate(X_te, y_te)
    print(f"\ntest accuracy: {test['accuracy']:.4f} (trained in {elapsed:.2f} s)")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m xnn",
                                     description="xnn: explainable neural networks with a C core")
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo = sub.add_parser("demo", help="train the MNIST report's network and print its table")
    demo.add_argument("--epochs", type=int, default=1000, help="training epochs (default 1000)")
    demo.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    demo.add_argument("--hidden", type=int, nargs=2, default=(32, 32), metavar=("H1", "H2"),
                      help="hidden widths (default 32 32, as in the report's code)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--no-progress", dest="progress", action="store_false",
                      help="no progress bar")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs < 1:
            parser.error(f"--epochs: expected an integer >= 1, got {args.epochs}")
        return _demo(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
