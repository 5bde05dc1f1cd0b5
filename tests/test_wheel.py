"""Packaging: `python -m build` makes an sdist holding every C source and
header, a wheel built from that sdist alone, and the wheel installs into a
fresh virtual environment (its dependencies from the package index) where
tools/smoke.py and a short `python -m xnn demo` run. About a minute."""
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from _deps import require

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.wheel


def _run(cmd, cwd, env=None, timeout=600):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n"
                                 f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    require("build")
    out = tmp_path_factory.mktemp("dist")
    # the sdist first, then the wheel built from the unpacked sdist
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    sdists, wheels = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return sdists[0], wheels[0]


def test_sdist_holds_every_c_source(dist):
    sdist, _ = dist
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "csrc").rglob("*")
               if p.suffix in (".c", ".h")}
    assert sources and not sources - names, sorted(sources - names)
    for f in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in", "tools/smoke.py"):
        assert f in names, f


def test_wheel_installs_and_runs_in_a_fresh_venv(dist, tmp_path):
    _, wheel = dist
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(MPLBACKEND="Agg", XNN_DATA_HOME=str(tmp_path / "data"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    _run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path, env=env)
    # the installed package, not the checkout
    where = _run([str(py), "-c", "import xnn; print(xnn.__file__)"], cwd=tmp_path, env=env)
    assert str(venv) in where, where
    shutil.copy(ROOT / "tools" / "smoke.py", tmp_path / "smoke.py")
    out = _run([str(py), "smoke.py"], cwd=tmp_path, env=env)
    assert "thread counts and kernels agree" in out
    out = _run([str(py), "-m", "xnn", "demo", "--offline", "--no-progress", "--epochs", "20",
                "--train-rows", "500", "--out", str(tmp_path / "demo")], cwd=tmp_path, env=env)
    assert "accuracy" in out.lower(), out
    assert sorted(p.name for p in (tmp_path / "demo").glob("*.png")), "no figures written"
