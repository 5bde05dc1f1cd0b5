"""A quick check of an installed xnn (the wheels' test command): import,
train a small network on scikit-learn's bundled digits, explain it, and
check that the results do not depend on the thread count, and that the
portable kernels agree with the ones chosen at run time.

    python tools/smoke.py
"""
import numpy as np

import xnn


def run():
    X, y = xnn.datasets.load_digits()
    model = xnn.Sequential([xnn.layers.Dense(64, 32, activation="relu"),
                            xnn.layers.Dense(32, 10, activation="softmax")],
                           seed=0, dtype="float64")
    model.fit(X, y, epochs=5, batch_size=64, lr=0.1, verbose=0)
    return model.evaluate(X, y)["accuracy"], xnn.explain.lrp(model, X[:16], rule="epsilon")


def main():
    isa = xnn.isa()
    results = {}
    for kernels in dict.fromkeys(("ref", isa)):
        xnn._core.set_isa(kernels)
        for threads in (1, 2):
            xnn.set_num_threads(threads)
            results[kernels, threads] = run()
        (a1, r1), (a2, r2) = results[kernels, 1], results[kernels, 2]
        assert a1 == a2 and np.array_equal(r1, r2), f"{kernels}: results depend on the threads"
    xnn._core.set_isa(isa)
    acc, R = results[isa, 2]
    acc_ref, R_ref = results["ref", 2]
    assert abs(acc - acc_ref) < 0.02 and np.allclose(R, R_ref, rtol=1e-6, atol=1e-9), \
        f"{isa} and ref kernels disagree"
    assert acc > 0.8, f"training accuracy {acc:.3f}, expected > 0.8"
    print(f"xnn {xnn.__version__}: isa {isa}, {xnn.get_num_threads()} threads, digits "
          f"accuracy {acc:.3f}, thread counts and kernels agree")


if __name__ == "__main__":
    main()
