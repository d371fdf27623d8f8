"""MNIST's IDX format, parsed here: magic number, big-endian dimensions, raw data.

Header: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions d, then d big-endian uint32 sizes;
then the values, big-endian, row-major. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import math
import os
import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .checks import check_file, check_finite, check_size, memory_guard
from .dataset import Dataset, encode_labels

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_NAME = re.compile(r"idx[0-9]-ubyte", re.IGNORECASE)


def _read_bytes(path: Path, n: int | None = None) -> bytes:
    """The first ``n`` bytes (all without ``n``) of the file, gunzipped if it is gzip."""
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as fh:
        return fh.read() if n is None else fh.read(n)


def is_idx(path: str | os.PathLike) -> bool:
    """Whether the file (raw or gzip) starts with a valid IDX magic number."""
    try:
        head = _read_bytes(Path(path), 4)
    except (OSError, EOFError):
        return False
    return len(head) == 4 and head[:2] == b"\0\0" and head[2] in IDX_TYPES and 1 <= head[3] <= 4


def read_idx(path: str | os.PathLike) -> NDArray:
    """Parse an IDX file (``.gz`` or raw) into an ndarray of its stored shape, native byte order.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    ...     _ = Path(d, "a-idx2-ubyte").write_bytes(raw)
    ...     read_idx(Path(d, "a-idx2-ubyte"))
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    p = check_file(path, "IDX file")
    try:
        head = _read_bytes(p, 4 + 4 * 255)
    except (OSError, EOFError) as e:
        raise ValueError(f"cannot read {p} as an IDX file: {e}") from None
    if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in IDX_TYPES:
        raise ValueError(f"{p} is not an IDX file (bad magic number {head[:4].hex()})")
    ndim = head[3]
    offset = 4 + 4 * ndim
    if len(head) < offset:
        raise ValueError(f"{p}: the IDX header is truncated ({len(head)} bytes)")
    dims = np.frombuffer(head, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    dtype = np.dtype(IDX_TYPES[head[2]])
    expected = math.prod(dims.tolist()) * dtype.itemsize
    check_size(expected, p, f"an IDX array of shape {dims.tolist()}")  # before gunzipping
    try:
        with memory_guard(p, f"an IDX array of shape {dims.tolist()}", expected):
            data = _read_bytes(p, offset + expected + 1)
    except (OSError, EOFError) as e:
        raise ValueError(f"cannot read {p} as an IDX file: {e}") from None
    if len(data) - offset != expected:
        found = ("more bytes follow" if len(data) - offset > expected
                 else f"{len(data) - offset} bytes follow")
        raise ValueError(f"{p}: header promises dims {dims.tolist()} ({expected} bytes) but "
                         f"{found}; the file is truncated or corrupt")
    arr = np.frombuffer(data, dtype=dtype, offset=offset).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def labels_path_for(images: Path) -> Path:
    """The labels file beside an images file (``...images-idx3-ubyte[.gz]``)."""
    stem = images.name.replace("images", "labels").replace("idx3", "idx1")
    for name in (stem, stem.removesuffix(".gz"), stem + ".gz"):
        if name != images.name and (images.parent / name).is_file():
            return images.parent / name
    raise ValueError(
        f"no labels file for {images}: expected {images.parent / stem} (or its .gz/raw twin)"
    )


def find_idx_pair(folder: Path) -> Path:
    """The single IDX images file in ``folder`` (which also holds its labels file)."""
    images = sorted(p for p in folder.iterdir() if "idx3" in p.name.lower() and p.is_file())
    if len(images) != 1:
        found = [p.name for p in folder.iterdir() if _IDX_NAME.search(p.name)]
        raise ValueError(
            f"{folder} should hold one IDX images file (...-idx3-ubyte[.gz]) and its labels; "
            f"found {found or 'none'}: pass the images file itself"
        )
    return images[0]


def load_idx(path: str | os.PathLike, *, task: str = "auto") -> Dataset:
    """Load an IDX images file and its labels: X uint8 (H * W, m), y int (m,).

    ``path`` is the images file or a folder holding one images + labels pair.
    """
    p = Path(path)
    images = find_idx_pair(p) if p.is_dir() else p
    arr = read_idx(images)
    if arr.ndim < 2:
        raise ValueError(f"{images} holds a 1-D array (labels?): pass the images file")
    m = arr.shape[0]
    if m == 0:
        raise ValueError(f"{images} holds no examples (shape {list(arr.shape)}); give a file "
                         "with at least one image")
    labels = read_idx(labels_path_for(images))
    if labels.shape != (m,):
        raise ValueError(f"{images} has {m} images but its labels file has shape {labels.shape}")
    y, classes = encode_labels(labels, task=task, source=str(labels_path_for(images)))
    shape = (int(arr.shape[1]), int(arr.shape[2]) if arr.ndim > 2 else 1, 1)
    X = arr.reshape(m, -1).T
    check_finite(X, images, where="image {i}, pixel {j}")
    return Dataset(X, y, classes, shape, images.name, "idx")
