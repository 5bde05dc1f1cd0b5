"""The notebooks run headless (nbclient, kernel python3) with
XNN_NOTEBOOK_FAST=1 (a few epochs on a few rows), and are committed without
outputs. Set XNN_NOTEBOOK_FULL=1 to run them with their full settings."""
import os
from pathlib import Path

import pytest
from _deps import require

import xnn

nbformat = require("nbformat")
nbclient = require("nbclient")
require("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["01_mnist_saliency.ipynb", "02_initialisation.ipynb", "03_lrp_poster.ipynb",
         "04_survey_methods.ipynb", "05_feature_visualization.ipynb"]
FULL = os.environ.get("XNN_NOTEBOOK_FULL", "") not in ("", "0")


def _run(name, tmp_path, monkeypatch, env=None):
    # the kernel imports the same xnn as this test process
    pkg_root = str(Path(xnn.__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [pkg_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, str(value))
    if FULL:
        monkeypatch.delenv("XNN_NOTEBOOK_FAST", raising=False)
    else:
        monkeypatch.setenv("XNN_NOTEBOOK_FAST", "1")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600 if FULL else 120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = []
    images = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text.append(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                images += "image/png" in out.get("data", {})
                text.append(out.get("data", {}).get("text/plain", ""))
    return "".join(text), images


def test_mnist_saliency_notebook(tmp_path, monkeypatch):
    text, images = _run("01_mnist_saliency.ipynb", tmp_path, monkeypatch)
    assert "Data used: " in text
    assert "Table 2" in text and "100,480" in text
    assert "epoch" in text and "Test accuracy: " in text
    assert images >= 5  # figures 6, 8, 9 (twice) and 10


def test_initialisation_notebook(tmp_path, monkeypatch):
    text, images = _run("02_initialisation.ipynb", tmp_path, monkeypatch)
    assert "Data used: " in text
    for name in ("random", "LeCun", "He", "Xavier"):
        assert f"\n{name:<16}" in "\n" + text
    assert images >= 3  # digits, the curves, compare_inits


def test_lrp_poster_notebook(tmp_path, monkeypatch):
    from conftest import mnist_dir
    text, images = _run("03_lrp_poster.ipynb", tmp_path, monkeypatch,
                        env={"XNN_MNIST_DIR": mnist_dir()})
    assert "Data used: MNIST IDX files" in text
    assert text.count("Test accuracy: ") == 3          # the DNN, the CNN, the Conv1d net
    assert "max |Grad-CAM - ReLU(CAM) / 64| = " in text
    assert "Series used: " in text and "Grad-CAM at the layer's resolution" in text
    assert "strongest correct" in text and "strongest incorrect" in text
    # the AOPC table: every LRP rule removes the decision faster than saliency, and both
    # faster than a random order, on both networks
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] in ("LRP-0", "LRP-ε", "LRP-γ", "composite", "saliency",
                                            "random"):
            rows[parts[0]] = [float(v) for v in parts[1:]]
    assert len(rows) == 6, text
    for net in (0, 2):                                  # the probability columns
        for rule in ("LRP-0", "LRP-ε", "LRP-γ", "composite"):
            assert rows[rule][net] > rows["saliency"][net] > rows["random"][net], rows
    assert images >= 6   # DNN and CNN rules, CAM grid, two pairs of curves, the time series


def test_survey_methods_notebook(tmp_path, monkeypatch):
    text, images = _run("04_survey_methods.ipynb", tmp_path, monkeypatch)
    assert "Data used: " in text
    for name in ("gradient x input", "occlusion", "LIME", "KernelSHAP", "random"):
        assert f"\n{name:<20}" in "\n" + text          # the AOPC table
    assert "Counterfactual(found" in text and "RandomizationCheck(cascading" in text
    assert "breast cancer: test accuracy" in text and "KernelSHAP exact: True" in text
    assert images >= 10  # activations, 5 rows of maps, LIME/SHAP, curves, sanity, table, text


def test_feature_visualization_notebook(tmp_path, monkeypatch):
    text, images = _run("05_feature_visualization.ipynb", tmp_path, monkeypatch)
    assert "Data used: " in text and "Test accuracy: " in text
    for part in ("codes", "pca", "tsne", "kmeans", "am"):
        assert f"{part} " in text
    assert "MLP, class 3" in text and "CNN, class 3" in text
    # AM of the classes, the trace, octaves, 2 facet figures per network,
    # 2 embeddings, Deep Dream, max/min activating for both networks
    assert images >= 12


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
