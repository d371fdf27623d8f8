"""Past training runs: read their folders, list them in a table, compare two side by side.

A run folder (``deepstep train --out``, by default ``runs/<date-time>-<id>/``) may hold
``metrics.json``, ``settings.toml`` (the resolved settings), ``history.jsonl`` (one JSON
object per epoch), ``versions.json``, ``command.txt`` and the model file, whose recorded
config repeats the settings, the data description, the metrics and the history. Each is
read when present; what one lacks is taken from the next (files first, then the model), so
an older run with only a model and ``metrics.json`` is listed as well. A folder with no
metrics anywhere (still training, interrupted, not a run) is skipped with a note saying why.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Model file names of a run folder, newest format first.
MODEL_FILES = ("model.safetensors", "model.npz")
#: Settings shown in the table (the full set is in ``--compare``), as (column, key).
KEY_SETTINGS = (("optimizer", "optimizer"), ("lr", "lr"), ("batch", "batch_size"),
                ("epochs", "epochs"), ("l2", "l2"), ("dropout", "dropout"))
#: Metrics where smaller is better (sorted ascending); every other metric descending.
SMALLER_IS_BETTER = ("loss", "data_loss", "mae", "rmse", "mse", "time", "seconds")
_STAMP = re.compile(r"^(\d{8}-\d{6})")


@dataclass
class RunRecord:
    """What is known about one run.

    Attributes
    ----------
    path : Path
        The run folder.
    date : datetime or None
        When it started: from the folder name (``YYYYmmdd-HHMMSS``), ``versions.json``, or
        the files' modification time.
    data : str or None
        The training data's name.
    layers : list of int or None
        The hidden layer sizes (what ``--layers`` means).
    settings : dict
        Every setting known (``settings.toml`` first, then the model's config), keys as the
        TOML keys with "_".
    metrics : dict of str to float
        Flattened: ``"test.accuracy"``, ``"train.loss"``, ``"mean.test.accuracy"``, ...
    seconds : float or None
        Training time (the sum of the epochs' ``seconds``).
    epochs_run : int or None
        Epochs in the history (early stopping may end before ``epochs``).
    command : str or None
        The command line (``command.txt``).
    versions : dict
        ``versions.json``.
    notes : list of str
        Files that were missing or unreadable.
    """

    path: Path
    date: _dt.datetime | None = None
    data: str | None = None
    layers: list[int] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None
    epochs_run: int | None = None
    command: str | None = None
    versions: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The folder's name."""
        return self.path.name

    def value(self, key: str) -> Any:
        """A metric (``"test.accuracy"``), ``"time"``, ``"date"``, ``"data"``, ``"layers"`` or
        a setting, None when unknown."""
        if key in self.metrics:
            return self.metrics[key]
        if key in ("time", "seconds"):
            return self.seconds
        if key in ("date", "data", "layers"):
            return getattr(self, key)
        return self.settings.get(key.replace("-", "_"))


class RunFolderError(ValueError):
    """A folder that holds no usable run (the message says why)."""


def read_run(path: str | Path) -> RunRecord:
    """Read what a run folder holds; raise :class:`RunFolderError` when it has no metrics."""
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path} is not a folder")
    rec = RunRecord(path)
    settings = _read(path / "settings.toml", _toml, rec)
    metrics = _read(path / "metrics.json", _json, rec)
    history = _read(path / "history.jsonl", _jsonl, rec)
    rec.versions = _read(path / "versions.json", _json, rec) or {}
    command = _read(path / "command.txt", lambda p: p.read_text(encoding="utf-8"), rec)
    rec.command = " ".join(command.split()) if command else None
    cfg, net = _model_config(path, rec)
    hyper = cfg.get("hyperparameters") or {}
    rec.settings = {**_settings_from_model(cfg, hyper), **(settings or {})}
    given = rec.settings.get("data")
    rec.data = (cfg.get("data") or {}).get("name") or (None if given is None
                                                        else Path(str(given)).name)
    rec.layers = _hidden_layers(settings, hyper, net)
    if metrics is None and cfg.get("metrics"):
        metrics = cfg["metrics"]
    if not isinstance(metrics, Mapping) or not metrics:
        if rec.notes:
            raise RunFolderError(f"no metrics: {'; '.join(rec.notes)}")
        found = ", ".join(sorted(p.name for p in path.iterdir())) or "nothing"
        raise RunFolderError(f"no metrics (no metrics.json or model file; holds {found})")
    rec.metrics = dict(flatten_metrics(metrics))
    if history is None and net is not None and net.history_:
        h = net.history_
        history = [{k: v[i] for k, v in h.items() if i < len(v)}
                   for i in range(len(next(iter(h.values()))))]
    if history:
        secs = [v for e in history if isinstance(e, Mapping)
                if (v := _number(e.get("seconds"))) is not None]
        rec.seconds = sum(secs) if secs else None
        rec.epochs_run = len(history)
    if rec.seconds is None:
        rec.seconds = _number(metrics.get("seconds") or metrics.get("training_seconds"))
    rec.date = _date(path, rec.versions)
    return rec


def scan_runs(root: str | Path) -> tuple[list[RunRecord], list[str]]:
    """Every run folder directly under ``root`` (or ``root`` itself when it is one).

    Returns
    -------
    runs : list of RunRecord
        In folder-name order (which is date order for ``runs/<date-time>`` folders).
    skipped : list of str
        One line per folder that was skipped, with the reason. Hidden folders (runs still
        being written, e.g. ``runs/.tmp-...``) are passed over without a note.
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"runs folder not found: {root} (train writes runs/ in the "
                                "current folder; give the folder that holds the runs)")
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is a file; give the folder that holds the runs")
    if _looks_like_run(root):
        return [read_run(root)], []
    runs, skipped = [], []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            runs.append(read_run(d))
        except RunFolderError as e:
            skipped.append(f"{d.name}: {e}")
    return runs, skipped


def _looks_like_run(path: Path) -> bool:
    return any((path / f).is_file() for f in ("metrics.json", "settings.toml", *MODEL_FILES))


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, float]]:
    """``{"test": {"accuracy": 0.9}}`` -> ``("test.accuracy", 0.9)``; per-seed lists are left
    out (their mean and std are under ``mean.`` and ``std.``).

    Examples
    --------
    >>> dict(flatten_metrics({"test": {"accuracy": 0.9}, "seeds": [{"seed": 0}]}))
    {'test.accuracy': 0.9}
    """
    for k, v in metrics.items():
        if isinstance(v, Mapping):
            yield from flatten_metrics(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield f"{prefix}{k}", float(v)


def sort_runs(runs: Sequence[RunRecord], key: str) -> list[RunRecord]:
    """Best first by ``key``: ascending for losses, errors and time, descending for other
    metrics (accuracy, r2); settings and dates ascending. Runs without it go last."""
    if not any(r.value(key) is not None for r in runs):
        known = sorted({k for r in runs for k in r.metrics})
        raise ValueError(f"--sort {key}: no run has it; metrics: {', '.join(known) or 'none'}"
                         "; also time, date, data, layers and settings such as lr")
    descending = key in {k for r in runs for k in r.metrics} and key.rsplit(
        ".", 1)[-1] not in SMALLER_IS_BETTER

    def order(r: RunRecord) -> tuple[int, Any]:
        v = r.value(key)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return (1, 0)
        if isinstance(v, (int, float)):
            return (0, -v if descending else v)
        return (0, str(v))

    return sorted(runs, key=order)


# --- tables ---------------------------------------------------------------------------------


def runs_table(runs: Sequence[RunRecord], sort_key: str | None = None) -> str:
    """One row per run: run, date, data, layers, key settings, test metrics, time."""
    test = list(dict.fromkeys(k for r in runs for k in r.metrics if k.startswith("test.")))
    metric_cols = sorted(test, key=_metric_order)
    if sort_key and sort_key in {k for r in runs for k in r.metrics} and sort_key not in test:
        metric_cols.append(sort_key)
    header = ["run", "date", "data", "layers", *(c for c, _ in KEY_SETTINGS), *metric_cols,
              "time"]
    rows = [header]
    for r in runs:
        rows.append([r.name, _fmt_date(r.date), r.data or "-", _fmt_layers(r.layers),
                     *(fmt(r.settings.get(k)) for _, k in KEY_SETTINGS),
                     *(fmt(r.metrics.get(k)) for k in metric_cols), _fmt_time(r.seconds)])
    return _align(rows)


def compare_runs(a: RunRecord, b: RunRecord) -> str:
    """Two runs' settings and metrics side by side; ``*`` marks the rows that differ."""
    rows = [["", a.name, b.name, ""]]

    def add(label: str, x: str, y: str) -> None:
        rows.append([label, x, y, "*" if x != y else ""])

    add("date", _fmt_date(a.date), _fmt_date(b.date))
    add("data", a.data or "-", b.data or "-")
    add("layers", _fmt_layers(a.layers), _fmt_layers(b.layers))
    skip = {"data", "layers", "out", "json"}
    for k in sorted((set(a.settings) | set(b.settings)) - skip):
        add(k, fmt(a.settings.get(k)), fmt(b.settings.get(k)))
    add("epochs run", fmt(a.epochs_run), fmt(b.epochs_run))
    add("time", _fmt_time(a.seconds), _fmt_time(b.seconds))
    for k in sorted(set(a.metrics) | set(b.metrics), key=_metric_order):
        add(k, fmt(a.metrics.get(k)), fmt(b.metrics.get(k)))
    for k in sorted(set(a.versions) | set(b.versions)):
        add(f"version {k}", fmt(a.versions.get(k)), fmt(b.versions.get(k)))
    lines = [_align(rows)]
    for r in (a, b):
        if r.command:
            lines.append(f"{r.name}: {r.command}")
    return "\n".join(lines)


def fmt(v: Any) -> str:
    """A value in a table cell: 4 significant digits for floats, "-" when unknown.

    Examples
    --------
    >>> fmt(0.961111), fmt(None), fmt([20, 7]), fmt(0.0075)
    ('0.9611', '-', '20,7', '0.0075')
    """
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ",".join(fmt(x) for x in v) or "none"
    if isinstance(v, Mapping):
        return json.dumps(v, sort_keys=True)
    return str(v)


_SPLITS = ("train", "validation", "test", "mean", "std")


def _metric_order(key: str) -> tuple[int, str]:
    head = key.split(".", 1)[0]
    return (_SPLITS.index(head) if head in _SPLITS else len(_SPLITS), key)


def _fmt_layers(layers: list[int] | None) -> str:
    return "-" if layers is None else (",".join(map(str, layers)) or "none")


def _fmt_date(d: _dt.datetime | None) -> str:
    return "-" if d is None else d.strftime("%Y-%m-%d %H:%M")


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:  # two significant digits: small runs take hundredths of a second
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _align(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


# --- reading the files ------------------------------------------------------------------------


def _read(path: Path, parse: Any, rec: RunRecord) -> Any:
    """``parse(path)``, or None with a note on ``rec`` when the file is missing or broken."""
    if not path.is_file():
        return None
    try:
        return parse(path)
    except (OSError, ValueError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        rec.notes.append(f"{path.name} unreadable ({' '.join(str(e).split())[:120]})")
        return None


def _toml(path: Path) -> dict[str, Any]:
    """settings.toml with its keys as the settings name them ("batch-size" -> "batch_size",
    "learning_rate" -> "lr", as ``deepstep train --config`` reads them)."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    out = {k.replace("-", "_"): v for k, v in raw.items()}
    if "learning_rate" in out and "lr" not in out:
        out["lr"] = out.pop("learning_rate")
    return out


def _json(path: Path) -> Any:
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut short by an interrupted run: keep the complete ones
    return [e for e in out if isinstance(e, dict)]


def _model_config(path: Path, rec: RunRecord) -> tuple[dict[str, Any], Any]:
    """The model file's config and the network (({}, None) without a readable model)."""
    for name in MODEL_FILES:
        if (path / name).is_file():
            from .model import Network

            try:
                net = Network.load(path / name)
            except (ValueError, OSError, MemoryError) as e:
                rec.notes.append(f"{name} unreadable ({' '.join(str(e).split())[:120]})")
                return {}, None
            return dict(net.config_ or {}), net
    return {}, None


def _settings_from_model(cfg: Mapping[str, Any], hyper: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a model's config records, under the settings.toml keys."""
    names = {"optimizer": "optimizer", "lr": "learning_rate", "epochs": "epochs",
             "batch_size": "batch_size", "l2": "l2", "dropout": "dropout", "seed": "seed",
             "seeds": "seeds", "preprocess": "preprocess", "init": "init", "dtype": "dtype",
             "preset": "preset"}
    out = {}
    for key, src in names.items():
        v = hyper.get(src, cfg.get(src))
        if key == "batch_size" and v == "full batch":
            v = "full"
        if isinstance(v, list) and key == "dropout":
            v = max(v) if v else 0.0
        if v is not None:
            out[key] = v
    acts = hyper.get("activations")
    if acts:
        out["hidden"] = acts[0] if len(set(acts[:-1])) == 1 else ",".join(acts[:-1])
        out["output"] = acts[-1]
    return out


def _hidden_layers(settings: Mapping[str, Any] | None, hyper: Mapping[str, Any],
                   net: Any) -> list[int] | None:
    if settings and isinstance(settings.get("layers"), list):
        return [int(n) for n in settings["layers"]]
    dims = hyper.get("layer_dims") or (net.layer_dims if net is not None else None)
    return [int(n) for n in dims[1:-1]] if dims else None


def _date(path: Path, versions: Mapping[str, Any]) -> _dt.datetime | None:
    m = _STAMP.match(path.name)
    if m:
        return _dt.datetime.strptime(m.group(1), "%Y%m%d-%H%M%S")
    for key in ("date", "started", "created", "time"):
        v = versions.get(key)
        if isinstance(v, str):
            try:
                return _dt.datetime.fromisoformat(v)
            except ValueError:
                pass
    times = [p.stat().st_mtime for p in path.iterdir() if p.is_file()]
    return _dt.datetime.fromtimestamp(min(times)) if times else None


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
