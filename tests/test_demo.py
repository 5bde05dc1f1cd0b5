"""`python -m xnn demo`: tiny runs on the offline digits and on IDX files the
test writes; no network (OpenML is pointed at a closed local port)."""
import gzip
import socket
import struct
import subprocess
import sys

import numpy as np
import pytest

from xnn import __main__ as cli

FIGURES = ["history.png", "predictions.png", "saliency.png", "activations.png"]
try:
    from xnn import explain
except ImportError:
    explain = None
if hasattr(explain, "lrp"):
    FIGURES.append("relevance.png")


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """No MNIST anywhere: an empty cache, no $XNN_MNIST_DIR, OpenML unreachable."""
    monkeypatch.setenv("XNN_DATA_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("XNN_MNIST_DIR", raising=False)
    monkeypatch.setenv("XNN_OPENML_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("MPLBACKEND", "Agg")


def _write_idx(directory, n=60, side=28, seed=0):
    """t10k IDX files of n random images (class k has a bright k-th row band)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.uint8) % 10
    X = (rng.random((n, side, side)) * 60).astype(np.uint8)
    for i, k in enumerate(y):
        X[i, 2 * k:2 * k + 3] = 255
    with gzip.open(directory / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, side, side) + X.tobytes())
    with gzip.open(directory / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + y.tobytes())


def _table_rows(out, epochs):
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["epoch", "cross-entropy"])
    rows = []
    for line in lines[start + 1:]:
        parts = line.split()
        if len(parts) != 4:
            break
        rows.append((int(parts[0]), *map(float, parts[1:])))
    assert [r[0] for r in rows] == list(range(0, epochs, max(1, epochs // 10)))
    for _, ce, ssr, acc in rows:
        assert ce > 0 and 0 <= ssr <= 1 and 0 <= acc <= 1
    return rows


def test_demo_offline_digits(no_mnist, tmp_path, capsys):
    out = tmp_path / "figs"
    assert cli.main(["demo", "--out", str(out), "--epochs", "20", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "digits" in captured.err  # the one-line notice
    assert "skipped" not in captured.err and "failed" not in captured.err
    assert "data: scikit-learn's offline 8x8 digits" in captured.out
    assert "1437 training rows, 360 test rows, 8x8 pixels" in captured.out
    rows = _table_rows(captured.out, 20)
    assert len(rows) == 10
    assert "test accuracy:" in captured.out
    for name in FIGURES:
        path = out / name
        assert path.is_file() and path.stat().st_size > 1000
        assert str(path) in captured.out
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_demo_idx_files_and_options(no_mnist, tmp_path, capsys):
    data = tmp_path / "mnist"
    data.mkdir()
    _write_idx(data)
    out = tmp_path / "figs"
    args = ["demo", "--data", str(data), "--out", str(out), "--epochs", "3",
            "--hidden", "8", "4", "--lr", "0.05", "--train-rows", "30", "--no-progress"]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert f"data: MNIST IDX files in {data}" in captured.out
    assert "30 of the 48 training rows, 12 test rows, 28x28 pixels" in captured.out
    assert "784-8-4-10" in captured.out and "lr 0.05, 3 epochs" in captured.out
    assert len(_table_rows(captured.out, 3)) == 3
    assert sorted(p.name for p in out.iterdir() if p.name in FIGURES) == sorted(FIGURES)


def test_demo_xnn_mnist_dir_and_offline(no_mnist, tmp_path, monkeypatch, capsys):
    data = tmp_path / "mnist"
    data.mkdir()
    _write_idx(data, n=40)
    monkeypatch.setenv("XNN_MNIST_DIR", str(data))
    assert cli.main(["demo", "--out", str(tmp_path / "o"), "--epochs", "2", "--offline",
                     "--no-progress"]) == 0
    assert "$XNN_MNIST_DIR" in capsys.readouterr().out


def test_demo_report_settings(monkeypatch):
    seen = {}

    def fake_demo(args):
        seen.update(vars(args))
        return 0

    monkeypatch.setattr(cli, "_demo", fake_demo)
    cli.main(["demo", "--report"])
    assert seen["report"] and seen["epochs"] is None  # resolved inside _demo
    args = cli._parser().parse_args(["demo"])
    assert args.out == "xnn-demo" and list(args.hidden) == [32, 32] and args.seed == 42


def test_bad_arguments_and_help(capsys):
    for argv in (["demo", "--epochs", "0"], ["demo", "--lr", "-1"],
                 ["demo", "--data", "/no/such/dir"], ["demo", "--hidden", "0", "3"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--epochs" in err and "--data" in err
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "demo" in out and "info" in out
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    out = capsys.readouterr().out
    assert f"{cli.DEMO_EPOCHS} epochs" in out and "--report" in out


def test_python_m_xnn_runs(tmp_path):
    from conftest import subprocess_kwargs
    r = subprocess.run([sys.executable, "-m", "xnn", "info"], capture_output=True, text=True,
                       check=True, **subprocess_kwargs(tmp_path))
    assert r.stdout.startswith("xnn ")
    r = subprocess.run([sys.executable, "-m", "xnn"], capture_output=True, text=True,
                       check=True, **subprocess_kwargs(tmp_path))
    assert "demo" in r.stdout
