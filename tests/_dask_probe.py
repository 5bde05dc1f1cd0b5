"""An object that records, in a file, every process that unpickles it: put
in a model's __dict__, it counts how often the model is deserialised."""
import os


class UnpickleProbe:
    def __init__(self, path):
        self.path = path

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.path = state["path"]
        with open(self.path, "a") as f:
            f.write(f"{os.getpid()}\n")


def count(path):
    """(unpickles, distinct processes)."""
    if not os.path.exists(path):
        return 0, 0
    with open(path) as f:
        pids = f.read().split()
    return len(pids), len(set(pids))
