"""A training step allocates nothing: workspaces are made once per fit."""
import tracemalloc

import numpy as np

import xnn
from xnn import _core


def resident_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_trainer_step_allocates_no_arrays_and_rss_is_flat():
    rng = np.random.default_rng(0)
    model = xnn.Sequential([xnn.layers.Dense(196, 64, activation="relu", keep_prob=0.9),
                            xnn.layers.Dense(64, 32, activation="tanh"),
                            xnn.layers.Dense(32, 10, activation="softmax")], seed=0)
    X = rng.random((128, 196), dtype=np.float32)
    labels = rng.integers(0, 10, 128)
    for opt in (_core.OPT_SGD, _core.OPT_MOMENTUM, _core.OPT_ADAM):
        trainer = _core.Trainer(model._network(), 128, _core.LOSS_CROSS_ENTROPY, opt, 0.01,
                                momentum=0.9)
        for _ in range(20):  # warm up any lazily grown buffers
            trainer.step(X, labels)
        rss0 = resident_kb()
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _ in range(1000):
                trainer.step(X, labels)
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # NumPy reports every array it allocates to tracemalloc: a step that
        # made even one (128, 10) float32 array would show 5 KB here.
        assert peak - base < 2048, (opt, peak - base)
        assert current - base < 1024
        assert resident_kb() - rss0 < 1024
