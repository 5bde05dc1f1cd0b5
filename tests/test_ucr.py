"""Tests of xnn.datasets.load_ts and load_ucr: .ts files the tests write, and,
when aeon is installed, every .ts file aeon ships against aeon's own reader."""

import gzip
import importlib
import importlib.util

import numpy as np
import pytest

from _deps import require as _require

from xnn import datasets as ds
from xnn.datasets import ucr


def require(module, extra):
    return _require(module, f'pip install "xnn[{extra}]"')



def ts_text(cases, labels=None, *, names=None, header=None, target=False):
    """A .ts file: ``cases`` is a list of (channels, length) arrays."""
    lines = ["#A small problem written by the tests", "@problemName Small",
             "@timeStamps false", "@missing false",
             f"@univariate {'true' if len(cases[0]) == 1 else 'false'}",
             f"@dimensions {len(cases[0])}", "@equalLength true",
             f"@seriesLength {len(cases[0][0])}"]
    if target:
        lines.append("@targetLabel true")
    elif names is not None:
        lines.append("@classLabel true " + " ".join(names))
    else:
        lines.append("@classLabel false")
    lines += header or []
    lines.append("@data")
    for k, case in enumerate(cases):
        row = ":".join(",".join(repr(float(v)) for v in ch) for ch in case)
        if labels is not None:
            row += f":{labels[k]}"
        lines.append(row)
    return "\n".join(lines) + "\n"


def write(path, text, gz=False):
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def motions():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 3, 11))
    names = ["Standing", "Running", "Walking"]
    labels = [names[k % 3] for k in range(7)]
    return X, labels, names


@pytest.mark.parametrize("gz", [False, True])
def test_load_ts_multivariate(tmp_path, motions, gz):
    X, labels, names = motions
    path = write(tmp_path / "m.ts", ts_text(list(X), labels, names=names), gz)
    Xr, y, classes = ds.load_ts(path, dtype=np.float64)
    assert Xr.shape == (7, 3, 11) and Xr.dtype == np.float64
    np.testing.assert_array_equal(Xr, X)  # repr round-trips float64 exactly
    assert classes == names  # not numbers: the header's order
    assert y.dtype == np.int64 and [classes[k] for k in y] == labels
    X32, y32, _ = ds.load_ts(path)
    assert X32.dtype == np.float32 and np.array_equal(X32, X.astype(np.float32))
    assert np.array_equal(y32, y)


def test_load_ts_numeric_classes_sort_by_value(tmp_path):
    cases = [np.full((1, 4), k, dtype=float) for k in range(4)]
    text = ts_text(cases, ["10", "2", "1", "2"], names=["1", "10", "2"])
    X, y, classes = ds.load_ts(write(tmp_path / "n.ts", text))
    assert classes == ["1", "2", "10"]
    np.testing.assert_array_equal(y, [2, 1, 0, 1])
    assert X.shape == (4, 1, 4)


def test_load_ts_missing_values_regression_and_unlabelled(tmp_path):
    text = ("@problemName r\n@missing true\n@targetLabel true\n@data\n"
            "1.5,?,3:4,5,NaN:0.25\n\n7,8,9:10,11,12:-3e2\n")
    X, y, classes = ds.load_ts(write(tmp_path / "r.ts", text), dtype=np.float64)
    assert classes is None and y.dtype == np.float64
    np.testing.assert_array_equal(y, [0.25, -300.0])
    assert X.shape == (2, 2, 3)
    assert np.isnan(X[0, 0, 1]) and np.isnan(X[0, 1, 2]) and X[1, 1, 2] == 12
    X, y, classes = ds.load_ts(write(tmp_path / "u.ts", "@classLabel false\n@data\n1,2\n3,4\n"))
    assert y is None and classes is None and X.shape == (2, 1, 2)


def test_load_ts_labels_case_insensitively_when_unambiguous(tmp_path):
    text = "@classLabel true Walk Run\n@data\n1,2:walk\n3,4:RUN\n"
    _, y, classes = ds.load_ts(write(tmp_path / "c.ts", text))
    assert classes == ["Walk", "Run"] and y.tolist() == [0, 1]


@pytest.mark.parametrize("text, message", [
    ("@classLabel true a b\n1,2:a\n", "line 2: expected a @ header line"),
    ("@classLabel true a b\n", "no @data line"),
    ("@problemName x\n@data\n1,2:a\n", "no @classLabel"),
    ("@classLabel true\n@data\n", "must be followed by the class names"),
    ("@classLabel maybe\n@data\n", "expected true followed by the class names, or false"),
    ("@classLabel true a a\n@data\n", "repeat"),
    ("@missing perhaps\n@classLabel false\n@data\n", r"line 1 \(@missing\): expected true or"),
    ("@dimensions two\n@classLabel false\n@data\n", "expected a positive integer"),
    ("@classLabel false\n@data x\n", "@data takes no value"),
    ("@classLabel false\n@data\n\n\n", "no cases after @data"),
    ("@timeStamps true\n@classLabel false\n@data\n(2007-01-01 00:00:00,1.0)\n",
     "timeStamps true .* not supported"),
    ("@classLabel true a b\n@data\n1,2:a\n3,4:c\n",
     r"line 4 \(case 2\): the class label 'c' is not one of the declared \['a', 'b'\]"),
    ("@classLabel true a b\n@data\n1,2\n", "found no ':'"),
    ("@classLabel true a b\n@data\n1,2:a\n1,2:3,4:a\n",
     r"case 2\): 2 channel\(s\), the first case has 1"),
    ("@classLabel true a b\n@data\n1,2:a\n1,2,3:b\n",
     r"case 2\), channel 1: a series of length 3, the first has length 2"),
    ("@classLabel true a b\n@data\n1,x:a\n", "could not convert string to float: 'x'"),
    ("@classLabel true a b\n@data\n1,inf:a\n", "a value beyond the float32 range"),
    ("@classLabel true a b\n@data\n1,-1e39:a\n", "a value beyond the float32 range"),
    ("@classLabel false\n@data\n1,,2\n", "could not convert string to float: ''"),
    ("@targetLabel true\n@data\n1,2:high\n", "the target 'high' is not a number"),
    ("@dimensions 2\n@classLabel false\n@data\n1,2\n", "the header says @dimensions 2"),
    ("@univariate true\n@classLabel false\n@data\n1,2:3,4\n", "@univariate true"),
])
def test_load_ts_rejects(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        ds.load_ts(write(tmp_path / "bad.ts", text))


def test_load_ts_limits(tmp_path):
    path = write(tmp_path / "big.ts", "@classLabel false\n@data\n" + "1,2,3\n" * 1000, gz=True)
    with pytest.raises(ValueError, match="larger than max_bytes=1,000 bytes"):
        ds.load_ts(path, max_bytes=1000)
    assert ds.load_ts(path, max_bytes=10000)[0].shape == (1000, 1, 3)
    with pytest.raises(ValueError, match="NUL byte"):
        ds.load_ts(write(tmp_path / "z.ts", gzip.compress(bytes(1 << 20))))
    with pytest.raises(ValueError, match="not UTF-8"):
        ds.load_ts(write(tmp_path / "l.ts", b"@classLabel false\n@data\n1,2 \xff\n"))
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        ds.load_ts(path, dtype=np.int32)
    with pytest.raises(FileNotFoundError, match="nope.ts"):
        ds.load_ts(tmp_path / "nope.ts")


# ---------------------------------------------------------------------------
# load_ucr from a directory of archive files


@pytest.fixture
def archive(tmp_path, motions):
    """<root>/Motions/Motions_{TRAIN,TEST}.ts, Flat_{TRAIN,TEST}.ts in the root,
    an unequal-length Vowels with its Vowels_eq, and a regression problem."""
    X, labels, names = motions
    root = tmp_path / "Archive"
    (root / "Motions").mkdir(parents=True)
    write(root / "Motions" / "Motions_TRAIN.ts", ts_text(list(X[:4]), labels[:4], names=names))
    write(root / "Motions" / "Motions_TEST.ts", ts_text(list(X[4:]), labels[4:], names=names))
    flat = [np.arange(5.0)[None] + k for k in range(3)]
    write(root / "Flat_TRAIN.ts", ts_text(flat, ["2", "1", "2"], names=["1", "2"]))
    write(root / "Flat_TEST.ts", ts_text(flat[:1], ["1"], names=["1", "2"]))
    (root / "Vowels").mkdir()
    unequal = "@equalLength false\n@classLabel true 1 2\n@data\n1,2,3:1\n1,2:2\n"
    equal = "@classLabel true 1 2\n@data\n1,2,3:1\n1,2,0:2\n"
    for part in ("TRAIN", "TEST"):
        write(root / "Vowels" / f"Vowels_{part}.ts", unequal)
        write(root / "Vowels" / f"Vowels_eq_{part}.ts", equal)
        write(root / f"Covid_{part}.ts", "@targetLabel true\n@data\n1,2:0.5\n")
    return root, X, labels, names


def test_load_ucr_from_a_directory(archive):
    root, X, labels, names = archive
    Xtr, ytr, classes = ds.load_ucr("Motions", "train", data_dir=root, dtype=np.float64)
    np.testing.assert_array_equal(Xtr, X[:4])
    assert classes == names and [classes[k] for k in ytr] == labels[:4]
    Xte, yte, _ = ds.load_ucr("motions", split="TEST", data_dir=str(root), dtype=np.float64)
    np.testing.assert_array_equal(Xte, X[4:])
    Xall, yall, _ = ds.load_ucr("Motions", data_dir=root, dtype=np.float64)
    np.testing.assert_array_equal(Xall, X)
    np.testing.assert_array_equal(yall, np.concatenate([ytr, yte]))
    Xf, yf, cf = ds.load_ucr("Flat", data_dir=root)
    assert Xf.shape == (4, 1, 5) and Xf.dtype == np.float32 and cf == ["1", "2"]
    np.testing.assert_array_equal(yf, [1, 0, 1, 0])
    Xv, yv, _ = ds.load_ucr("Vowels_eq", "train", data_dir=root)
    assert Xv.shape == (2, 1, 3) and yv.tolist() == [0, 1]


def test_load_ucr_rejects(archive):
    root = archive[0]
    with pytest.raises(ValueError, match=r"no data set 'GunPoint' in data_dir=.*available: "
                                         "Covid, Flat, Motions, Vowels, Vowels_eq"):
        ds.load_ucr("GunPoint", data_dir=root)
    with pytest.raises(ValueError, match=r"load_ucr\('Vowels_eq'\) is its equal-length"):
        ds.load_ucr("Vowels", data_dir=root)
    with pytest.raises(ValueError, match="regression problem .* read it with "
                                         "xnn.datasets.load_ts"):
        ds.load_ucr("Covid", "train", data_dir=root)
    with pytest.raises(ValueError, match="split must be 'train', 'test' or None"):
        ds.load_ucr("Flat", split="validation", data_dir=root)
    for bad in ("../Flat", "", "Flat/x", 3):
        with pytest.raises(ValueError, match="name must be a data set name"):
            ds.load_ucr(bad, data_dir=root)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ds.load_ucr("Flat", data_dir=root / "missing")
    (root / "Flat_TEST.ts").write_text("@classLabel true 1 3\n@data\n1,2,3,4,5:3\n")
    with pytest.raises(ValueError, match=r"the training file declares the classes \['1', "
                                         r"'2'\], the test file \['1', '3'\]"):
        ds.load_ucr("Flat", data_dir=root)


def test_load_ucr_without_aeon_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "aeon" else real(name, *a))
    with pytest.raises(ImportError, match=r'pip install "xnn\[timeseries\]".*data_dir='):
        ds.load_ucr("GunPoint")


# ---------------------------------------------------------------------------
# against aeon (the test installs nothing; CI installs xnn[timeseries])


def aeon_files():
    spec = importlib.util.find_spec("aeon")
    if spec is None:
        return []
    root = ucr._aeon_data_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.ts"))


def test_every_ts_file_aeon_ships_reads_as_aeon_reads_it():
    aeon_datasets = require("aeon.datasets", "timeseries")
    root = ucr._aeon_data_dir()
    files = aeon_files()
    assert len(files) >= 20, files  # GunPoint, ItalyPowerDemand, ... and their splits
    compared = 0
    for name in files:
        path = root / name
        Xa, ya, meta = aeon_datasets.load_from_ts_file(str(path), return_meta_data=True)
        if meta["timestamps"]:
            with pytest.raises(ValueError, match="timeStamps true"):
                ds.load_ts(path)
            continue
        if not meta["equallength"]:
            with pytest.raises(ValueError, match="must have the same length"):
                ds.load_ts(path)
            continue
        X, y, classes = ds.load_ts(path, dtype=np.float64)
        assert X.shape == Xa.shape, name
        np.testing.assert_array_equal(X, Xa, err_msg=name)  # both parse with float()
        if classes is None:
            np.testing.assert_array_equal(y, ya.astype(np.float64), err_msg=name)
        else:  # aeon lower-cases the labels; xnn keeps the file's spelling
            assert [classes[k].lower() for k in y] == list(ya), name
            assert sorted(c.lower() for c in classes) == sorted(meta["class_values"]), name
        compared += 1
    assert compared >= 20


@pytest.mark.parametrize("name, loader, shape", [
    ("GunPoint", "load_gunpoint", (50, 1, 150)),
    ("ItalyPowerDemand", "load_italy_power_demand", (67, 1, 24)),
    ("ArrowHead", "load_arrow_head", (36, 1, 251)),
    ("BasicMotions", "load_basic_motions", (40, 6, 100)),
])
def test_load_ucr_equals_aeon_loaders(name, loader, shape):
    aeon_datasets = require("aeon.datasets", "timeseries")
    for split, rows in (("train", shape[0]), (None, None)):
        Xa, ya = getattr(aeon_datasets, loader)(split=split)
        X, y, classes = ds.load_ucr(name, split, dtype=np.float64)
        if rows is not None:
            assert X.shape == shape
        assert X.shape == Xa.shape and X.dtype == np.float64
        np.testing.assert_array_equal(X, Xa)
        assert [classes[k].lower() for k in y] == [str(v).lower() for v in ya]
        assert y.min() == 0 and y.max() == len(classes) - 1
    X32, _, _ = ds.load_ucr(name, "test")
    assert X32.dtype == np.float32 and X32.shape[1:] == shape[1:]
