"""Optional dependencies of the tests (the cross-check peers, a browser,
aeon): skipped on a machine that lacks one, a failure under CI (CI=true),
where .ci/run installs every one."""
import importlib
import os
import shutil

import pytest


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(what, how=None):
    """Skip, or under CI fail, for a missing dependency."""
    msg = f"{what} is missing" + (f" ({how})" if how else "")
    if in_ci():
        pytest.fail(f"CI=true: {msg}", pytrace=False)
    pytest.skip(msg, allow_module_level=True)


def require(name, how=None):
    """The module, imported; pytest.skip (or pytest.fail under CI=true) with
    a clear message when it cannot be imported."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        missing(f"the Python module {name!r} ({e})", how or f"pip install {name.split('.')[0]}")


def need_program(name, how, env=None):
    """The path of an executable: $env when set, else the first of name on PATH."""
    path = os.environ.get(env) if env else None
    path = path or shutil.which(name)
    if not path or not os.path.exists(path):
        missing(f"the program {name!r}", how)
    return path
