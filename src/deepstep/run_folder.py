"""Run folders that are never mixed: built in a hidden sibling, renamed into place when done.

A run that will end in ``runs/20250301-142501-3fa9`` writes into ``runs/.20250301-142501-3fa9
.partial`` and renames it to its name only when every file is written. So a folder without
the dot is always one complete run; two runs never share a folder; an interrupted run leaves
its partial folder (with the checkpoint) to be resumed; a failed run removes it.

The process that writes a partial folder holds an exclusive ``flock`` on it, so another
process can tell a folder in use (:data:`BUSY`) from an interrupted run (:data:`INTERRUPTED`).

Default names are ``<YYYYmmdd-HHMMSS>-<4 hex>``: the random part makes two runs started in
the same second unlikely to draw the same name, and the name is reserved by creating its
partial folder (``mkdir`` is atomic), so two processes never both get it; the rename at the
end picks another suffix in the rare case the final name appeared meanwhile.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import platform
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import atomic_write

#: The files of a run folder (see :mod:`deepstep.training_run` for what each holds).
MODEL_FILE = "model.safetensors"
CHECKPOINT_FILE = "checkpoint.safetensors"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.jsonl"
SETTINGS_FILE = "settings.toml"
COMMAND_FILE = "command.txt"
VERSIONS_FILE = "versions.json"
REPORT_FILE = "report.html"
COSTS_FILE = "costs.png"
#: Seeds finished so far, one JSON line each (only in a partial folder).
PROGRESS_FILE = "seeds.jsonl"

PARTIAL_SUFFIX = ".partial"
DEFAULT_ROOT = "runs"

# the states of an output folder, as :func:`inspect_out` reports them
MISSING, EMPTY, FULL, NOT_A_FOLDER, BUSY, INTERRUPTED, UNWRITABLE = (
    "missing", "empty", "full", "not a folder", "busy", "interrupted", "unwritable")


def partial_path(final: str | os.PathLike[str]) -> Path:
    """The hidden sibling a run destined for ``final`` is written in.

    Examples
    --------
    >>> partial_path("runs/cat").as_posix()
    'runs/.cat.partial'
    """
    final = Path(final)
    if final.name in ("", ".", ".."):
        final = Path(os.path.abspath(final))
    return final.with_name(f".{final.name}{PARTIAL_SUFFIX}")


def final_path(partial: str | os.PathLike[str]) -> Path | None:
    """The folder a partial folder becomes when complete, or None if ``partial`` is not one.

    Examples
    --------
    >>> final_path("runs/.cat.partial").as_posix(), final_path("runs/cat")
    ('runs/cat', None)
    """
    p = Path(partial)
    if not (p.name.startswith(".") and p.name.endswith(PARTIAL_SUFFIX)) \
            or len(p.name) <= len(PARTIAL_SUFFIX) + 1:
        return None
    return p.with_name(p.name[1:-len(PARTIAL_SUFFIX)])


def default_name(now: _dt.datetime | None = None) -> str:
    """``<YYYYmmdd-HHMMSS>-<4 hex>`` for a run started ``now``."""
    now = now or _dt.datetime.now()
    return f"{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def first_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def creatable(path: Path) -> tuple[bool, Path]:
    """Whether ``path`` (absent) could be created: (ok, the ancestor that decides)."""
    base = first_existing(path)
    return base.is_dir() and os.access(base, os.W_OK | os.X_OK), base


def inspect_out(out: str | os.PathLike[str]) -> tuple[str, Path]:
    """The state of an output folder before a run: one of the module's states, and the path
    it concerns (the folder, its partial sibling, or the ancestor that cannot be written).
    """
    out = Path(out)
    partial = partial_path(out)
    if partial.exists():
        return (BUSY if in_use(partial) else INTERRUPTED), partial
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            return NOT_A_FOLDER, out
        parent = Path(os.path.abspath(out)).parent
        if not os.access(parent, os.W_OK | os.X_OK):
            return UNWRITABLE, parent
        return (FULL if any(out.iterdir()) else EMPTY), out
    ok, base = creatable(out)
    if not ok:
        return (NOT_A_FOLDER if not base.is_dir() else UNWRITABLE), base
    return MISSING, out


class RunFolder:
    """A run being written: its partial folder (locked while this object lives) and its
    final name.

    Use :meth:`create` for a new run, :meth:`reopen` to resume an interrupted one; then
    :meth:`finish` renames it into place, or :meth:`discard` removes it.
    """

    def __init__(self, partial: Path, final: Path, *, default_name: bool, overwrite: bool,
                 created: list[Path]) -> None:
        self.partial, self.final = partial, final
        self.default_name, self.overwrite = default_name, overwrite
        self._created = created  # folders made for this run (removed again by discard)
        self._lock = _lock(partial)
        self.complete = False  # every file written: never discard it from here on

    def __truediv__(self, name: str) -> Path:
        return self.partial / name

    @classmethod
    def create(cls, out: str | os.PathLike[str] | None, *, overwrite: bool = False,
               root: str | os.PathLike[str] = DEFAULT_ROOT) -> RunFolder:
        """Reserve the partial folder of a new run ending in ``out`` (None: a new default
        name under ``root``). Raises FileExistsError if another run holds that name."""
        if out is not None:
            final = Path(out)
            created = _mkdirs(final.parent)
            try:
                os.mkdir(partial_path(final))
            except FileExistsError:
                raise FileExistsError(f"{partial_path(final)} exists: another run is writing "
                                      f"{final}, or was interrupted") from None
            return cls(partial_path(final), final, default_name=False, overwrite=overwrite,
                       created=created)
        created = _mkdirs(Path(root))
        while True:
            final = Path(root) / default_name()
            if final.exists():
                continue
            try:
                os.mkdir(partial_path(final))
            except FileExistsError:
                continue
            return cls(partial_path(final), final, default_name=True, overwrite=False,
                       created=created)

    @classmethod
    def reopen(cls, partial: str | os.PathLike[str]) -> RunFolder:
        """Take over the partial folder of an interrupted run (to resume it)."""
        partial = Path(partial)
        final = final_path(partial)
        if final is None or not partial.is_dir():
            raise ValueError(f"{partial} is not the folder of an interrupted run")
        return cls(partial, final, default_name=_is_default(final.name), overwrite=False,
                   created=[])

    def finish(self) -> Path:
        """Rename the partial folder to its final name and return that name.

        With ``overwrite`` an existing final folder is replaced (moved aside, then removed
        once the new one is in place). Without it, if the final name was taken while this run
        trained, the run gets a free sibling name (a new suffix) rather than mixing.
        """
        self.complete = True
        target = self.final
        if self.overwrite and (target.exists() or target.is_symlink()):
            old = target.with_name(f".{target.name}.old-{secrets.token_hex(3)}")
            os.rename(target, old)
            try:
                os.rename(self.partial, target)
            except OSError:
                os.rename(old, target)  # put the old run back
                raise
            _remove(old)
        else:
            while True:
                try:
                    os.rename(self.partial, target)
                    break
                except OSError as e:
                    if e.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                        raise
                stem = target.name[:-5] if self.default_name else self.final.name
                target = target.with_name(f"{stem}-{secrets.token_hex(2)}")
        self.final = target
        self._unlock()
        return target

    def discard(self) -> None:
        """Remove the partial folder and any folder made for it that is now empty."""
        self._unlock()
        _remove(self.partial)
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                break

    def release(self) -> None:
        """Leave the partial folder as it is (interrupted: to be resumed) and unlock it."""
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _is_default(name: str) -> bool:
    stamp, _, suffix = name.rpartition("-")
    return len(suffix) == 4 and len(stamp) == 15 and stamp[8] == "-"


def _mkdirs(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; return those made (outermost first)."""
    missing = []
    p = Path(folder)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _lock(folder: str | os.PathLike[str]) -> int | None:
    """Hold an exclusive flock on ``folder`` (None where flock does not exist); raises
    BlockingIOError when another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise BlockingIOError(f"{folder} is in use by another deepstep process") from None
    return fd


def in_use(folder: str | os.PathLike[str]) -> bool:
    """Whether another process holds ``folder``'s lock (a run is writing it)."""
    try:
        fd = _lock(folder)
    except (BlockingIOError, OSError):
        return True
    if fd is not None:
        os.close(fd)
    return False


# --- the small files ---------------------------------------------------------------------


def versions() -> dict[str, str]:
    """The versions a run used: deepstep, python, numpy, scikit-learn and the platform."""
    from importlib.metadata import PackageNotFoundError, version

    import numpy as np

    from . import __version__

    try:
        sklearn = version("scikit-learn")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        sklearn = "not installed"
    return {"deepstep": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "scikit-learn": sklearn, "platform": platform.platform()}


def write_versions(path: Path) -> Path:
    """``versions.json``: :func:`versions` as JSON."""
    return atomic_write(path, (json.dumps(versions(), indent=2) + "\n").encode("utf-8"))


def toml_value(value: Any) -> str:
    """One TOML value: a string, number, boolean, or a list / inline table of them.

    Examples
    --------
    >>> toml_value([20, 7]), toml_value(2e-4), toml_value("full"), toml_value({"cat": 2.0})
    ('[20, 7]', '0.0002', '"full"', '{"cat" = 2.0}')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value else "nan"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def write_settings(path: Path, settings: Mapping[str, Any], notes: Mapping[str, str]) -> Path:
    """``settings.toml``: one ``key = value`` line per setting (None values left out: they
    mean "not set"), each followed by its note as a comment (e.g. "recipe")."""
    lines = ["# the resolved settings of this run; `deepstep train --config` reads them back"]
    for key, value in settings.items():
        if value is None:
            continue
        note = f"  # {notes[key]}" if key in notes else ""
        lines.append(f"{key} = {toml_value(value)}{note}")
    return atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))
