"""Atomic file writes: readers see the old file or the whole new one, never a part.

One writer for everything deepstep saves (models, checkpoints, metrics, plots, the report),
the one conversion of NumPy values to JSON (metrics files), and the one reader of the TOML
settings files (``deepstep train`` and ``deepstep search`` ``--config``).

A write goes to a hidden temporary file beside the target, named
``.<target>.<host>-<pid>-<random>.tmp`` (``host`` is a hash of the machine's name, ``pid``
the writing process). A process killed mid-save leaves that file behind; the next save to the
same folder removes it, and never removes a live writer's file:

- a temporary of *this* machine is removed only when its pid is no longer running (a live
  process with that pid, even a different one after pid reuse, keeps it: at worst a
  leftover waits for a later save);
- a temporary of another machine (a shared network folder, where this machine cannot see
  the writer's processes), deepstep 0.1's ``.<target>.<12 hex>.tmp`` and, on Windows (where
  probing a pid would need other APIs), every temporary, is removed only when it has not been
  written to for :data:`STALE_SECONDS`. A save takes seconds and writes all the time, so an
  hour of silence means the writer is gone (or frozen; its rename then fails and the target
  keeps its previous content).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import time
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

#: A temporary file of another machine, or of deepstep 0.1, is stale after an hour untouched.
STALE_SECONDS = 3600.0

_TEMP = re.compile(r"^\.(?P<target>.+)\.(?P<host>[0-9a-f]{8})-(?P<pid>[1-9][0-9]{0,9})"
                   r"-[0-9a-f]{8}\.tmp$")
_LEGACY_TEMP = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")


@cache
def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def temp_name(path: Path) -> Path:
    """The temporary file a write of ``path`` goes through (recognisable, see above)."""
    return path.with_name(f".{path.name}.{_host()}-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (POSIX only)."""
    try:
        os.kill(pid, 0)  # signal 0: no signal is sent, only the existence check
    except ProcessLookupError:
        return False
    except OverflowError:  # beyond any pid this system can have
        return False
    except OSError:  # PermissionError: it exists, owned by someone else
        return True
    return True


def is_stale_temp(entry: os.DirEntry[str] | Path, now: float | None = None) -> bool:
    """Whether ``entry`` is a temporary file left by a dead writer (see the module docs)."""
    m = _TEMP.match(entry.name)
    if m is None and not _LEGACY_TEMP.match(entry.name):
        return False
    if m is not None and m["host"] == _host() and os.name != "nt":
        return not _running(int(m["pid"]))
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return (time.time() if now is None else now) - st.st_mtime > STALE_SECONDS


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of interrupted saves in ``folder``; returns what was removed.

    Best effort: a file that cannot be listed or removed is left alone.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and is_stale_temp(entry):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def atomic_write(path: str | os.PathLike[str], data: bytes | Callable[[BinaryIO], object]
                 ) -> Path:
    """Write ``data`` (bytes, or a function that writes to the open file) to ``path``.

    The content goes to a temporary file in the same folder (so ``os.replace`` is a rename on
    one file system), is flushed and fsynced, then renamed over ``path``, and the folder is
    fsynced so the rename itself is durable. On any error the temporary file is removed and
    ``path`` is left untouched. Parent folders are created; the mode follows the umask.
    Temporaries of earlier, interrupted saves to the folder are removed first
    (:func:`remove_stale_temps`).

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, (bytes, bytearray, memoryview)):
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


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The table of a TOML settings file; a clear error when it is a folder, missing or not
    TOML (naming the file)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; --config takes a TOML file")
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid TOML: {e}") from None
