"""Checks on the files a command will write, made before any work (nothing half-done)."""

from __future__ import annotations

from pathlib import Path


def check_new_file(path: str | Path, flag: str, *, overwrite: bool) -> Path:
    """Raise a ValueError naming ``flag`` when ``path`` cannot be written as a new file.

    A folder, a file under a path that is a file, and (unless ``overwrite``) an existing
    file are refused; a missing parent folder is fine (it is created).

    Examples
    --------
    >>> check_new_file("/", "--out", overwrite=False)
    Traceback (most recent call last):
    ...
    ValueError: --out / is a folder; give a file name
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{flag} {p} is a folder; give a file name")
    for parent in p.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"{flag} {p}: {parent} is a file, not a folder")
    if p.exists() and not overwrite:
        raise ValueError(f"{flag} {p} exists; pass --overwrite to replace it, or choose "
                         "another file")
    return p
