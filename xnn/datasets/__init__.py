"""Datasets for xnn: MNIST from OpenML, IDX and CSV files, time series, and an
offline default.

The image loaders return plain NumPy arrays ``(X, y)``: ``X`` has one
flattened image per row (float32 in [0, 1] by default, or the raw uint8
pixels with ``as_float=False``) and ``y`` holds integer class labels (int64).
The time-series loaders return ``(X, y, classes)`` with ``X`` shaped
``(m, channels, length)``.

Where does MNIST come from?
    :func:`load_mnist` downloads OpenML's ``mnist_784`` (version 1, data id
    554; 70,000 rows: the 60,000 training images, then the 10,000 test
    images) once, checks its MD5 checksum and keeps the parsed arrays in a
    cache file. Later calls read the cache and take well under a second.

Where is the cache?
    In the first of: the ``cache_dir`` argument, ``$XNN_DATA_HOME``,
    ``$XDG_CACHE_HOME/xnn``, ``~/.cache/xnn`` (``%LOCALAPPDATA%\\xnn`` on
    Windows). :func:`get_data_home` tells which directory is used. The cache
    is one ``.npz`` file per dataset (``mnist_784-v1.npz``); delete it to force
    a new download, or copy it to another machine to skip the download there.

How do I work offline?
    * :func:`load_digits` needs no download: scikit-learn's bundled 8x8 digits
      (1,797 images).
    * :func:`load_idx_dir` / :func:`load_idx` read the classic MNIST or
      Fashion-MNIST IDX files (``train-images-idx3-ubyte.gz`` ...) from a
      directory you downloaded once; ``load_idx_dir()`` with no argument uses
      ``$XNN_MNIST_DIR``.
    * :func:`load_csv` reads the label-first CSV layout of Kaggle's "digit
      recognizer" ``train.csv``.
    * A cache file made by :func:`load_mnist` on a machine with network access.

Another OpenML server (a mirror) can be used by setting ``$XNN_OPENML_URL``
(default ``https://api.openml.org``).

Time series: :func:`load_ucr` loads a UCR/UEA classification data set by name
(GunPoint, ItalyPowerDemand, ArrowHead, BasicMotions, ...) from the copies the
``aeon`` package ships (``pip install "xnn[timeseries]"``) or from downloaded
archive files (``data_dir=``); :func:`load_ts` reads one ``.ts`` file.

Limits (nothing a file or a server sends can take unbounded memory or time):
    * IDX files are read up to the size their header declares and no further;
      a header declaring more than the file can hold is refused first.
    * CSV and ``.ts`` files are read up to ``max_bytes`` (default 1 GiB of
      decompressed text), gzip or not.
    * :func:`load_mnist` fetches only http(s) URLs on OpenML's hosts or on the
      ``$XNN_OPENML_URL`` server, reads at most 256 MiB of data (1 MiB of
      description), decodes ``Content-Encoding: gzip`` at most once and gives
      up after ``deadline`` seconds (600) in all; its cache file is read with
      ``allow_pickle=False`` after checking the declared array sizes.
    A size limit that is passed raises a ValueError (:class:`DatasetError`)
    that names it, as soon as it is passed; the deadline raises a
    :class:`DownloadError` that names it.

Preparing data: :func:`split` is scikit-learn's ``train_test_split(X, y,
test_size=..., random_state=seed)``, and :func:`one_hot` turns labels into
one-hot rows.
"""

from ._common import DatasetError, DownloadError
from .csv import load_csv
from .digits import load_digits
from .idx import load_idx, load_idx_dir, read_idx
from .openml import get_data_home, load_mnist
from .prepare import one_hot, split
from .ucr import load_ts, load_ucr

__all__ = [
    "DatasetError",
    "DownloadError",
    "get_data_home",
    "load_mnist",
    "load_idx",
    "load_idx_dir",
    "read_idx",
    "load_csv",
    "load_digits",
    "load_ucr",
    "load_ts",
    "split",
    "one_hot",
]
