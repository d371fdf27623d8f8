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


def _labels(f: h5py.File, lay: H5Layout, task: str = "auto"
            ) -> tuple[NDArray, list[str] | None]:
    raw = f[lay.y][()].ravel()
    names = None
    if lay.classes is not None and task != "regression":
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in f[lay.classes][()]]
    return encode_labels(raw, names, task=task)


def _open(path: str | os.PathLike) -> h5py.File:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"h5 file not found: {p}")
    try:
        return h5py.File(p, "r")
    except OSError as e:
        raise ValueError(f"cannot read {p} as an HDF5 file: {e}") from e


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
        lay = find_layout(f)
        y, classes = _labels(f, lay, task)
        raw = f[lay.x][()]
    X = raw.reshape(lay.m, -1).T if lay.axis == 0 else raw
    return Dataset(X, y, classes, lay.image_shape, Path(path).name, "h5")


def stream_h5(path: str | os.PathLike, *, chunk_bytes: int = 64 * 2**20) -> BatchSource:
    """A ``BatchSource`` over an h5 file: labels in memory, examples read per batch/chunk.

    Unshuffled passes read consecutive slices of ``batch_size`` examples; shuffled passes use
    chunk shuffling (``deepstep.data.streaming``) because h5 reads are fast only for
    contiguous slices.
    """
    with _open(path) as f:
        lay = find_layout(f)
        y, classes = _labels(f, lay)

    @contextmanager
    def open_take():
        with _open(path) as fh:
            ds = fh[lay.x]
            if lay.axis == 1:
                yield lambda sel: ds[:, sel]
            else:

                def take(sel):
                    a = ds[sel]
                    return a.reshape(a.shape[0], -1).T

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
