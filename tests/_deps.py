"""Optional dependencies of the cross-checks: skipped where one is missing,
but a failure under CI (CI=true), where every one must be installed."""
import importlib
import os

import pytest


def require(name):
    """The module, imported; pytest.skip (or pytest.fail under CI=true) with
    a clear message when it cannot be imported."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        msg = f"{name} is needed for this cross-check and cannot be imported: {e}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg, allow_module_level=True)
