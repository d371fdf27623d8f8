"""Atomic file writes: readers see the old file or the whole new one, never a part.

One writer for everything deepstep saves (models, metrics, plots, the HTML report), and the
one conversion of NumPy values to JSON (model headers, metrics files).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np


def atomic_write(path: str | os.PathLike[str], data: bytes | Callable[[BinaryIO], object]
                 ) -> Path:
    """Write ``data`` (bytes, or a function that writes to the open file) to ``path``.

    The content goes to a temporary file in the same folder (so ``os.replace`` is a rename on
    one file system), is flushed and fsynced, then renamed over ``path``, and the folder is
    fsynced so the rename itself is durable. On any error the temporary file is removed and
    ``path`` is left untouched. Parent folders are created; the mode follows the umask.

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                data(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # not every platform can open a folder
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return path


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays turned into Python numbers and lists.

    Dicts (keys as str), lists and tuples are converted recursively; anything else is
    returned as it is (``json`` then rejects what it cannot write).

    Examples
    --------
    >>> jsonable({"m": np.int64(3), "dims": (np.array([2, 1]),)})
    {'m': 3, 'dims': [[2, 1]]}
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON (NaN kept as NaN), atomically, creating the folder."""
    blob = json.dumps(jsonable(data), indent=2).encode("utf-8")
    return atomic_write(path, lambda f: f.write(blob + b"\n"))
