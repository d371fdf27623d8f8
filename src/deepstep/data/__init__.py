"""Data loading and batching: ``load`` a source into a ``Dataset``, or ``stream`` it.

Sources: an h5 file, an image folder (one subfolder per class), a CSV file, an MNIST IDX
images file (``.gz`` or raw) or a folder holding an IDX images + labels pair, or the name of
a data set bundled with scikit-learn (``BUNDLED``). The kind is detected from the path:
known suffixes first (.h5/.hdf5; .csv, .tsv, .txt and UCI's .data are CSV), then the file's
magic bytes (HDF5 signature, IDX magic number, raw or gzip), then UTF-8 text with commas,
semicolons or tabs is CSV; folders by their content.

CSV rules (header detection, label column, categorical columns, missing values,
delimiters, encodings): :mod:`deepstep.data.table` and :mod:`deepstep.data.features`.
Every bad input is a FileNotFoundError or ValueError naming the file and what to do
(:mod:`deepstep.data.checks`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .bundled import BUNDLED, load_bundled
from .checks import MAX_LOAD_BYTES, DataTooLargeError
from .csv import load_csv, read_feature_rows
from .dataset import Dataset, encode_labels
from .features import Features
from .h5 import H5_SIGNATURE, load_h5, stream_h5
from .idx import is_idx, load_idx, read_idx
from .images import SkippedFilesWarning, load_image_folder, stream_image_folder
from .preprocessing import MODES, Preprocessor, default_mode
from .streaming import BatchSource, iter_batches

__all__ = [
    "BUNDLED",
    "MAX_LOAD_BYTES",
    "MODES",
    "BatchSource",
    "DataTooLargeError",
    "Dataset",
    "Features",
    "Preprocessor",
    "SkippedFilesWarning",
    "default_mode",
    "detect_kind",
    "encode_labels",
    "iter_batches",
    "load",
    "load_csv",
    "load_like",
    "read_feature_rows",
    "read_idx",
    "stream",
]

KINDS = ("h5", "images", "csv", "idx", "bundled")
_SUFFIXES = {".h5": "h5", ".hdf5": "h5", ".hdf": "h5", ".csv": "csv", ".tsv": "csv",
             ".txt": "csv", ".data": "csv"}


def _looks_like_csv(head: bytes) -> bool:
    """UTF-8 text (a character cut at the end allowed) with a line holding a delimiter."""
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:
            return False
        text = head[: e.start].decode("utf-8-sig")
    return "\0" not in text and any(d in text for d in ",;\t")

_LOADERS: dict[str, Callable[..., Dataset]] = {
    "h5": lambda p, image_size, label_column, task, features: load_h5(p, task=task),
    "images": lambda p, image_size, label_column, task, features: load_image_folder(
        p, image_size=image_size),
    "csv": lambda p, image_size, label_column, task, features: load_csv(
        p, label_column=label_column, task=task, features=features),
    "idx": lambda p, image_size, label_column, task, features: load_idx(p, task=task),
    "bundled": lambda p, image_size, label_column, task, features: load_bundled(str(p)),
}


def detect_kind(source: str | os.PathLike) -> str:
    """Which loader reads ``source``: one of ``KINDS``; raises if none can.

    Examples
    --------
    >>> detect_kind("iris")
    'bundled'
    """
    p = Path(source)
    if not p.exists():
        if isinstance(source, str) and source in BUNDLED:
            return "bundled"
        if isinstance(source, str) and os.sep not in source and not p.suffix:
            raise ValueError(
                f"{source!r} is neither an existing path nor a bundled data set; bundled "
                f"names: {', '.join(BUNDLED)}"
            )
        raise FileNotFoundError(f"no such file or folder: {p}")
    if p.is_dir() and p.suffix.lower() in _SUFFIXES:
        raise ValueError(f"{p} is a folder, but its name says a {_SUFFIXES[p.suffix.lower()]} "
                         "file: give the data file itself")
    if p.is_dir():
        if any("idx3" in c.name.lower() for c in p.iterdir()):
            return "idx"
        return "images"
    if p.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[p.suffix.lower()]
    with p.open("rb") as fh:
        head = fh.read(4096)
    if head[:8] == H5_SIGNATURE:
        return "h5"
    if is_idx(p):
        return "idx"
    if _looks_like_csv(head):
        return "csv"
    raise ValueError(
        f"cannot tell what kind of data {p} holds: expected an .h5/.hdf5 file, a .csv file, "
        "an IDX file (raw or .gz), an image folder with one subfolder per class, or a "
        f"bundled name ({', '.join(BUNDLED)})"
    )


def load(
    source: str | os.PathLike, *, image_size: int = 64, label_column: str | int | None = None,
    task: str = "auto", features: Features | Mapping[str, Any] | None = None,
) -> Dataset:
    """Load a data set into memory, examples as columns.

    Parameters
    ----------
    source : path-like or str
        File or folder (kind detected, see ``detect_kind``) or a bundled name.
    image_size : int
        Side of the square images an image folder is resized to.
    label_column : str or int, optional
        CSV label column: a name or a 0-based index (negative from the end); default the
        last column (see :func:`deepstep.data.load_csv`).
    task : {"auto", "binary", "multiclass", "regression"}
        How to read the labels of files that do not say (CSV, IDX, h5 without class names):
        "auto" applies :func:`deepstep.targets.detect_task`.
    features : Features or its ``to_dict()``, optional
        CSV only: read the feature columns as recorded from the training file (same
        columns, same categories); other kinds ignore it.

    Returns
    -------
    Dataset
        ``X`` (n_x, m) raw values (uint8 for images, float64 for CSV and bundled sets),
        ``y`` (m,), ``classes``, ``image_shape``, ``features`` (CSV).

    Raises
    ------
    FileNotFoundError
        No such file or folder.
    ValueError
        Anything wrong with the data, naming the file (and row and column) and what to do;
        :class:`DataTooLargeError` (also a MemoryError) when it would not fit in memory.

    Examples
    --------
    >>> ds = load("digits")
    >>> ds.X.shape, ds.y.shape, ds.image_shape, ds.task
    ((64, 1797), (1797,), (8, 8, 1), 'multiclass')
    """
    kind = detect_kind(source)
    return _LOADERS[kind](source, image_size, label_column, task, features)


def load_like(source: str | os.PathLike, train: Dataset, *, what: str = "the test data"
              ) -> Dataset:
    """Load ``source`` the way ``train`` was read: a test file for a training file.

    CSV files are read with the training file's feature columns and categories (an unseen
    category is an error) and its label column; every kind gets the training task (a
    regression training set keeps a test set of few integers as regression) and the
    labels re-indexed into the training classes (a class training lacks is an error);
    image folders are resized to the training images' size.

    Examples
    --------
    >>> train = load("iris")
    >>> load_like("iris", train).classes == train.classes
    True
    """
    side = train.image_shape[0] if train.kind == "images" and train.image_shape else 64
    ds = load(source, image_size=side, task=train.task, features=train.features)
    if ds.n_x != train.n_x:
        shape = f" (images {ds.image_shape})" if ds.image_shape else ""
        raise ValueError(f"{what} ({source}) has {ds.n_x} features{shape} but the training "
                         f"data has {train.n_x}; use data of the same kind")
    return ds.for_task(train.task, f"{what} ({source})").with_classes(
        train.classes, f"{what} ({source})")


def stream(
    source: str | os.PathLike,
    *,
    image_size: int = 64,
    label_column: str | int | None = None,
    chunk_bytes: int = 64 * 2**20,
    preprocessor: Preprocessor | None = None,
    task: str = "auto",
) -> BatchSource:
    """Open a source for mini-batch reading without loading all of it.

    h5 files (chunk shuffle, ``chunk_bytes`` read at a time) and image folders (full
    shuffle, only the batch's images decoded) are read lazily; other kinds are small and are
    loaded into memory, then wrapped in the same ``BatchSource`` protocol.

    Examples
    --------
    >>> src = stream("iris", preprocessor=Preprocessor("none"))
    >>> Xb, yb = next(src.batches(32))
    >>> src.n_x, src.m, Xb.shape, yb.shape
    (4, 150, (4, 32), (32,))
    """
    kind = detect_kind(source)
    if kind == "h5":
        src = stream_h5(source, chunk_bytes=chunk_bytes, task=task)
    elif kind == "images":
        src = stream_image_folder(source, image_size=image_size)
    else:
        ds = _LOADERS[kind](source, image_size, label_column, task, None)
        src = BatchSource.from_arrays(
            ds.X, ds.y, classes=ds.classes, image_shape=ds.image_shape, name=ds.name, kind=kind
        )
    src.preprocessor = preprocessor
    return src
