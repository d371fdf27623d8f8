"""HDF5 files such as the course's ``train_catvnoncat.h5``, with the keys found, not assumed.

Detection: the examples are the numeric dataset of 2 to 4 dimensions (``(m, H, W, C)``,
``(m, H, W)``, ``(m, n_x)`` or course-layout ``(n_x, m)``); the labels are the numeric
dataset of shape (m,) (or (1, m) / (m, 1)) with the same m; the class names are the
1-D string dataset (the one named like "class" if several). When a file holds several x/y
pairs (train and test in one file) the pair whose names share a stem (``train_set_x`` /
``train_set_y``) is taken only if it is the single such pair; otherwise a ValueError lists
them.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from numpy.typing import NDArray

from .checks import check_file, check_finite, check_size, memory_guard
from .dataset import Dataset, encode_labels
from .streaming import BatchSource

H5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class H5Layout:
    """Where the data sit in an h5 file.

    ``x``, ``y``, ``classes``: dataset names; ``axis``: the examples axis of ``x`` (0, or 1
    for a 2-D course-layout (n_x, m) array); ``image_shape``: (H, W, C) or None.
    """

    x: str
    y: str
    classes: str | None
    axis: int
    m: int
    n_x: int
    image_shape: tuple[int, int, int] | None
    example_bytes: int


def _stem(name: str, letter: str) -> str | None:
    """``train_set_x`` -> ``train_set_`` for letter "x"; None when the name does not end so."""
    base = name.rsplit("/", 1)[-1]
    match = re.fullmatch(rf"(.*?)[_\-.]?{letter}", base, flags=re.IGNORECASE)
    return match.group(1).lower() if match else None


def find_layout(f: h5py.File) -> H5Layout:
    """Find the x, y and class-name datasets of an open h5 file by shape, dtype and name."""
    found: dict[str, h5py.Dataset] = {}

    def collect(name: str, obj: object) -> None:  # visititems stops on a non-None return
        if isinstance(obj, h5py.Dataset):
            found[name] = obj

    f.visititems(collect)
    numeric = {n: d for n, d in found.items() if d.dtype.kind in "biuf"}
    xs = {n: d for n, d in numeric.items() if 2 <= d.ndim <= 4}
    ys = {n: d for n, d in numeric.items() if d.ndim == 1 or (d.ndim == 2 and 1 in d.shape)}
    pairs = []
    for xn, xd in xs.items():
        for yn, yd in ys.items():
            if xn == yn:
                continue
            if xd.shape[0] == yd.size:
                pairs.append((xn, yn, 0))
            elif xd.ndim == 2 and xd.shape[1] == yd.size:
                pairs.append((xn, yn, 1))
    if len(pairs) > 1:
        named = [p for p in pairs if (s := _stem(p[0], "x")) is not None and s == _stem(p[1], "y")]
        pairs = named or pairs
    desc = ", ".join(f"{n} {d.shape} {d.dtype}" for n, d in found.items()) or "no datasets"
    if not pairs:
        raise ValueError(
            "found no examples/labels pair: need a numeric dataset of shape (m, ...) and a "
            f"label dataset of shape (m,); the file holds: {desc}"
        )
    if len(pairs) > 1:
        raise ValueError(
            "ambiguous h5 file: several examples/labels pairs "
            f"{[(x, y) for x, y, _ in pairs]}; write one pair per file (file holds: {desc})"
        )
    xn, yn, axis = pairs[0]
    xd = found[xn]
    strings = [n for n, d in found.items() if d.dtype.kind in "SUO" and d.ndim == 1]
    classy = [n for n in strings if "class" in n.lower()]
    cn: str | None = (classy or strings)[0] if strings else None
    m = xd.shape[axis]
    n_x = int(np.prod(xd.shape)) // max(m, 1)
    shape: tuple[int, int, int] | None = None
    if axis == 0 and xd.ndim == 4:
        shape = (int(xd.shape[1]), int(xd.shape[2]), int(xd.shape[3]))
    elif axis == 0 and xd.ndim == 3:
        shape = (int(xd.shape[1]), int(xd.shape[2]), 1)
    return H5Layout(xn, yn, cn, axis, int(m), n_x, shape, n_x * xd.dtype.itemsize)


def _labels(f: h5py.File, lay: H5Layout, path: str | os.PathLike, task: str = "auto"
            ) -> tuple[NDArray, list[str] | None]:
    nbytes = int(f[lay.y].size) * f[lay.y].dtype.itemsize
    check_size(nbytes, path, f"the labels {lay.y!r}")
    with memory_guard(path, f"the labels {lay.y!r}", nbytes):
        raw = f[lay.y][()].ravel()
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        i = int(np.flatnonzero(~np.isfinite(raw))[0])
        raise ValueError(f"{path}, dataset {lay.y!r}, example {i}: the label is {raw[i]}; "
                         "labels must be finite numbers: drop or fix that example")
    names = None
    if lay.classes is not None and task != "regression":
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in f[lay.classes][()]]
    return encode_labels(raw, names, task=task, source=f"{path}, dataset {lay.y!r}")


def _open(path: str | os.PathLike) -> h5py.File:
    p = check_file(path, "h5 file")
    try:
        return h5py.File(p, "r")
    except OSError as e:
        raise ValueError(f"cannot read {p} as an HDF5 file: {e}") from e


def _layout(f: h5py.File, path: str | os.PathLike) -> H5Layout:
    """``find_layout`` (its errors naming the file) plus at least one example."""
    try:
        lay = find_layout(f)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    if lay.m == 0:
        raise ValueError(f"{path} holds no examples: dataset {lay.x!r} has shape "
                         f"{f[lay.x].shape}; give a file with at least one example")
    return lay


def _where(lay: H5Layout) -> str:
    return f"dataset {lay.x!r}, example {{i}}, feature {{j}}"


def load_h5(path: str | os.PathLike, *, task: str = "auto") -> Dataset:
    """Load a whole h5 file: X (n_x, m) in the stored dtype (uint8 for the cat images).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with h5py.File(f"{d}/t.h5", "w") as f:
    ...         f["set_x"] = np.zeros((3, 2, 2, 3), np.uint8)
    ...         f["set_y"] = np.array([0, 1, 1])
    ...         f["list_classes"] = [b"no", b"yes"]
    ...     ds = load_h5(f"{d}/t.h5")
    >>> ds.X.shape, ds.classes, ds.image_shape
    ((12, 3), ['no', 'yes'], (2, 2, 3))
    """
    with _open(path) as f:
        lay = _layout(f, path)
        xd = f[lay.x]
        nbytes, what = lay.m * lay.example_bytes, f"dataset {lay.x!r} {xd.shape} {xd.dtype}"
        check_size(nbytes, path, what)
        y, classes = _labels(f, lay, path, task)
        with memory_guard(path, what, nbytes):
            raw = xd[()]
    X = raw.reshape(lay.m, -1).T if lay.axis == 0 else raw
    check_finite(X, path, where=_where(lay))
    return Dataset(X, y, classes, lay.image_shape, Path(path).name, "h5")


def stream_h5(path: str | os.PathLike, *, chunk_bytes: int = 64 * 2**20,
              task: str = "auto") -> BatchSource:
    """A ``BatchSource`` over an h5 file: labels in memory, examples read per batch/chunk.

    Unshuffled passes read consecutive slices of ``batch_size`` examples; shuffled passes use
    chunk shuffling (``deepstep.data.streaming``) because h5 reads are fast only for
    contiguous slices. The same checks as ``load_h5`` apply where they can: at least one
    example, labels within the size cap, and NaN/inf in each batch read (the error names
    the example).
    """
    with _open(path) as f:
        lay = _layout(f, path)
        y, classes = _labels(f, lay, path, task)
    check_size(lay.example_bytes, path, f"one example of dataset {lay.x!r}",
               hint="store fewer features per example")

    @contextmanager
    def open_take():
        with _open(path) as fh:
            ds = fh[lay.x]

            def take(sel):
                if lay.axis == 1:
                    X = ds[:, sel]
                else:
                    a = ds[sel]
                    X = a.reshape(a.shape[0], -1).T
                if X.dtype.kind == "f" and not np.isfinite(X).all():
                    i = int(np.flatnonzero(~np.isfinite(X).all(axis=0))[0])
                    example = int(np.arange(lay.m)[sel][i])  # its index in the file
                    check_finite(X[:, i : i + 1], path, offset=example, where=_where(lay))
                return X

            yield take

    return BatchSource(
        open_take,
        y,
        n_x=lay.n_x,
        classes=classes,
        image_shape=lay.image_shape,
        name=Path(path).name,
        kind="h5",
        shuffle="chunk",
        example_bytes=lay.example_bytes,
        chunk_bytes=chunk_bytes,
    )
