"""Checks every loader makes before and after reading, with errors that name the file and
say what to do: a folder where a file is expected (and the reverse), a size cap checked
before anything is allocated, out-of-memory turned into a message with the size asked
for, and NaN/inf located by file, row and column.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

#: Raw bytes ``load`` reads into memory at most (examples + labels); above it a
#: ``DataTooLargeError`` asks for ``deepstep.data.stream``. Float training copies come on
#: top of this (8 bytes per value), so 4 GiB of uint8 pixels is already a large machine.
MAX_LOAD_BYTES = 4 * 2**30
#: Largest CSV file read: its cells live as Python strings (about fifteen times the file's
#: size) until they are parsed into X.
MAX_CSV_BYTES = 256 * 2**20


class DataTooLargeError(ValueError, MemoryError):
    """The data would not fit: refused before reading, or the allocation failed.

    Both a ValueError (a user error: the CLI exits with status 2) and a MemoryError (what
    it is about), so either ``except`` catches it.
    """


def size_text(nbytes: float) -> str:
    """Bytes in words: ``size_text(12 * 2**30)`` is ``'12.0 GiB'``.

    Examples
    --------
    >>> size_text(12 * 2**30), size_text(1536), size_text(5)
    ('12.0 GiB', '1.5 KiB', '5 bytes')
    """
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def check_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` as a Path when it is an existing file; a clear error otherwise.

    A folder is named as a folder (not "file not found"), so the user knows to pass one of
    the files inside it.
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{p} is a folder, but a {what} is expected here: give the file "
                         "itself (e.g. one of the files inside that folder)")
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {p}")
    return p


def check_folder(path: str | os.PathLike, what: str = "folder") -> Path:
    """``path`` as a Path when it is an existing folder; a clear error otherwise."""
    p = Path(path)
    if p.is_file():
        raise ValueError(f"{p} is a file, but an {what} is expected here: give the folder "
                         "that holds one subfolder of images per class")
    if not p.is_dir():
        raise FileNotFoundError(f"{what} not found: {p}")
    return p


_STREAM_HINT = "read it in mini-batches with deepstep.data.stream(...) instead, or use a " \
               "smaller file"


def check_size(nbytes: int, path: str | os.PathLike, what: str, cap: int | None = None,
               hint: str = _STREAM_HINT) -> None:
    """Refuse to load ``nbytes`` into memory above ``cap`` (default ``MAX_LOAD_BYTES``).

    Called with the size a file declares (h5 shapes, IDX headers, image counts) before
    anything is read, so a sparse or compressed file cannot make the process allocate it.

    Raises
    ------
    DataTooLargeError
        Naming the file, the size asked for, the cap and (``hint``) what to do instead.

    Examples
    --------
    >>> check_size(12 * 2**30, "big.h5", "dataset 'x'")
    Traceback (most recent call last):
    ...
    deepstep.data.checks.DataTooLargeError: big.h5: loading dataset 'x' needs 12.0 GiB of \
memory, above the 4.0 GiB that deepstep.data.load reads at once; read it in mini-batches \
with deepstep.data.stream(...) instead, or use a smaller file
    """
    cap = MAX_LOAD_BYTES if cap is None else cap
    if nbytes > cap:
        raise DataTooLargeError(
            f"{path}: loading {what} needs {size_text(nbytes)} of memory, above the "
            f"{size_text(cap)} that deepstep.data.load reads at once; {hint}"
        )


#: What to do about a CSV file too large to read (``stream`` reads CSV into memory too).
CSV_HINT = ("split the file, or convert it to an h5 file, which deepstep.data.stream reads "
            "in mini-batches")


@contextmanager
def memory_guard(path: str | os.PathLike, what: str, nbytes: int | None = None,
                 hint: str = _STREAM_HINT) -> Iterator[None]:
    """Turn a MemoryError inside the block into a ``DataTooLargeError`` that says how much
    was asked for (``nbytes`` when known) and (``hint``) what to do."""
    try:
        yield
    except MemoryError as e:
        if isinstance(e, DataTooLargeError):
            raise
        asked = f" ({size_text(nbytes)})" if nbytes else ""
        raise DataTooLargeError(
            f"{path}: not enough memory to load {what}{asked}; free memory, or {hint}"
        ) from None


def check_finite(X: NDArray, path: str | os.PathLike, *, offset: int = 0,
                 where: str = "example {i}, feature {j}") -> None:
    """Raise a ValueError naming the first NaN or infinite value of X (n_x, m).

    Integer arrays pass at once. ``where`` formats the location from ``i`` (column of X
    plus ``offset``, 0-based) and ``j`` (row of X, 0-based).
    """
    if X.dtype.kind not in "fc" or X.size == 0:
        return
    if np.isfinite(X).all():
        return
    bad_cols = np.flatnonzero(~np.isfinite(X).all(axis=0))
    i = int(bad_cols[0])
    j = int(np.flatnonzero(~np.isfinite(X[:, i]))[0])
    raise ValueError(
        f"{path}, {where.format(i=i + offset, j=j)}: the value is {X[j, i]}; the features "
        "must be finite numbers: drop the examples with NaN or infinite values or fill them "
        "in (impute) before training"
    )
