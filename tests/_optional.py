"""Optional test dependencies: skipped on a developer's machine, a clear
failure under CI=true (where .ci/run installs them)."""
import importlib
import os
import shutil

import pytest


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(what, how):
    """Skip, or under CI fail, for a missing dependency."""
    msg = f"{what} is missing ({how})"
    if in_ci():
        pytest.fail(f"CI=true: {msg}", pytrace=False)
    pytest.skip(msg)


def need_module(name, how=None):
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"the Python module {name!r}", how or f"pip install {name}")


def need_program(name, how, env=None):
    """The path of an executable: $env when set, else the first of name on PATH."""
    path = os.environ.get(env) if env else None
    path = path or shutil.which(name)
    if not path or not os.path.exists(path):
        missing(f"the program {name!r}", how)
    return path
