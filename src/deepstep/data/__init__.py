"""Data loading and batching: ``load`` a source into a ``Dataset``, or ``stream`` it.

Sources: an h5 file, an image folder (one subfolder per class), a CSV file, an MNIST IDX
images file (``.gz`` or raw) or a folder holding an IDX images + labels pair, or the name of
a data set bundled with scikit-learn (``BUNDLED``). The kind is detected from the path:
known suffixes first (.h5/.hdf5, .csv), then the file's magic bytes (HDF5 signature, IDX
magic number, raw or gzip), folders by their content.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .bundled import BUNDLED, load_bundled
from .csv import load_csv
from .dataset import Dataset, encode_labels
from .h5 import H5_SIGNATURE, load_h5, stream_h5
from .idx import is_idx, load_idx, read_idx
from .images import SkippedFilesWarning, load_image_folder, stream_image_folder
from .preprocessing import MODES, Preprocessor, default_mode
from .streaming import BatchSource, iter_batches

__all__ = [
    "BUNDLED",
    "MODES",
    "BatchSource",
    "Dataset",
    "Preprocessor",
    "SkippedFilesWarning",
    "default_mode",
    "detect_kind",
    "encode_labels",
    "iter_batches",
    "load",
    "read_idx",
    "stream",
]

KINDS = ("h5", "images", "csv", "idx", "bundled")
_SUFFIXES = {".h5": "h5", ".hdf5": "h5", ".hdf": "h5", ".csv": "csv"}

_LOADERS: dict[str, Callable[..., Dataset]] = {
    "h5": lambda p, image_size, label_column, task: load_h5(p, task=task),
    "images": lambda p, image_size, label_column, task: load_image_folder(
        p, image_size=image_size),
    "csv": lambda p, image_size, label_column, task: load_csv(p, label_column=label_column,
                                                             task=task),
    "idx": lambda p, image_size, label_column, task: load_idx(p, task=task),
    "bundled": lambda p, image_size, label_column, task: load_bundled(str(p)),
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
    if p.is_dir():
        if any("idx3" in c.name.lower() for c in p.iterdir()):
            return "idx"
        return "images"
    if p.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[p.suffix.lower()]
    with p.open("rb") as fh:
        head = fh.read(8)
    if head == H5_SIGNATURE:
        return "h5"
    if is_idx(p):
        return "idx"
    raise ValueError(
        f"cannot tell what kind of data {p} holds: expected an .h5/.hdf5 file, a .csv file, "
        "an IDX file (raw or .gz), an image folder with one subfolder per class, or a "
        f"bundled name ({', '.join(BUNDLED)})"
    )


def load(
    source: str | os.PathLike, *, image_size: int = 64, label_column: str | None = None,
    task: str = "auto",
) -> Dataset:
    """Load a data set into memory, examples as columns.

    Parameters
    ----------
    source : path-like or str
        File or folder (kind detected, see ``detect_kind``) or a bundled name.
    image_size : int
        Side of the square images an image folder is resized to.
    label_column : str, optional
        CSV label column name (default the last column).
    task : {"auto", "binary", "multiclass", "regression"}
        How to read the labels of files that do not say (CSV, IDX, h5 without class names):
        "auto" applies :func:`deepstep.targets.detect_task`.

    Returns
    -------
    Dataset
        ``X`` (n_x, m) raw values (uint8 for images, float64 for CSV and bundled sets),
        ``y`` (m,), ``classes``, ``image_shape``.

    Examples
    --------
    >>> ds = load("digits")
    >>> ds.X.shape, ds.y.shape, ds.image_shape, ds.task
    ((64, 1797), (1797,), (8, 8, 1), 'multiclass')
    """
    kind = detect_kind(source)
    return _LOADERS[kind](source, image_size, label_column, task)


def stream(
    source: str | os.PathLike,
    *,
    image_size: int = 64,
    label_column: str | None = None,
    chunk_bytes: int = 64 * 2**20,
    preprocessor: Preprocessor | None = None,
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
        src = stream_h5(source, chunk_bytes=chunk_bytes)
    elif kind == "images":
        src = stream_image_folder(source, image_size=image_size)
    else:
        ds = _LOADERS[kind](source, image_size, label_column, "auto")
        src = BatchSource.from_arrays(
            ds.X, ds.y, classes=ds.classes, image_shape=ds.image_shape, name=ds.name, kind=kind
        )
    src.preprocessor = preprocessor
    return src
