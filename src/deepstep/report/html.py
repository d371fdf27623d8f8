"""One self-contained HTML report of a training run.

Every image is a base64 ``data:`` PNG, the CSS is inline and a Content-Security-Policy
forbids any other resource, so the file can be mailed or archived on its own. The page
needs no JavaScript; one tiny inline script (allowed by its hash) only records each
image's decoded size in ``data-loaded`` so a headless browser test can see it rendered.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from deepstep.files import atomic_write
from deepstep.report import plots

SHAPE_COLUMNS = ("layer", "W", "b", "Z", "A", "params")
MAX_MISLABELED = 10
_RESERVED = ("seeds", "mean", "std")

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d2330; background: #f6f7f9; margin: 0; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
       min-height: 100vh; box-shadow: 0 0 12px rgba(0, 0, 0, .06); }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e3e7ee; }
h3 { font-size: 15px; margin: 18px 0 6px; color: #4a5568; }
nav a { color: #2b6cb0; margin-right: 14px; text-decoration: none; font-size: 14px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
th, td { border: 1px solid #dde2ea; padding: 4px 12px; text-align: left; }
th { background: #eef2f7; font-weight: 600; }
tr:nth-child(even) td { background: #f9fafc; }
td.num { text-align: right; font-variant-numeric: tabular-nums;
         font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
tr.total td { font-weight: 600; border-top: 2px solid #c7ceda; }
figure { margin: 8px 0; }
img { max-width: 100%; height: auto; border: 1px solid #e3e7ee; }
.empty, .muted { color: #718096; font-style: italic; }
.headline { font-size: 17px; }
"""

# Records each image's decoded size; the page reads fine without it.
_SCRIPT = """
document.querySelectorAll("img").forEach(function (img) {
  function mark() {
    img.dataset.loaded = img.naturalWidth ? img.naturalWidth + "x" + img.naturalHeight : "error";
  }
  if (img.complete) { mark(); } else {
    img.addEventListener("load", mark);
    img.addEventListener("error", mark);
  }
});
"""


def _fmt(value: Any) -> str:
    """Format one cell: 4 significant digits for floats, tuples as shapes, None as a dash."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        text = f"{value:.4g}"
        return text if any(c in text for c in ".ein") else text + ".0"  # 1.0, not 1
    if isinstance(value, tuple) and all(isinstance(v, int | np.integer) for v in value):
        return "(" + ", ".join(str(int(v)) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list | np.ndarray):  # e.g. layers_dims, without thousands commas
        return (
            "["
            + ", ".join(str(v) if isinstance(v, int | np.integer) else _fmt(v) for v in value)
            + "]"
        )
    return str(value)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], total: Sequence[Any] = ()) -> str:
    """Build an escaped <table>; numeric cells right-aligned, an optional bold total row."""

    def row(cells: Sequence[Any], cls: str = "") -> str:
        tds = "".join(
            f'<td class="num">{escape(_fmt(c))}</td>'
            if _is_num(c)
            else f"<td>{escape(_fmt(c))}</td>"
            for c in cells
        )
        return f"<tr{cls}>{tds}</tr>"

    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(row(r) for r in rows) + (row(total, ' class="total"') if total else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(png: bytes, ident: str, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img id="{ident}" alt="{escape(alt)}" '
        f'src="data:image/png;base64,{data}"></figure>'
    )


def _empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"accuracy": 0.9}} -> {"train accuracy": 0.9}."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix} {key}".strip()
        if isinstance(value, Mapping):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _hyperparameters(hp: Mapping[str, Any]) -> str:
    if not hp:
        return _empty("No hyperparameters recorded.")
    return _table(["hyperparameter", "value"], [(k, v) for k, v in _flatten(hp).items()])


def _shapes(shapes: Sequence[Mapping[str, Any]]) -> str:
    if not shapes:
        return _empty("No layer shapes recorded.")
    rows = [[r.get(c) for c in SHAPE_COLUMNS] for r in shapes]
    params = [r.get("params") for r in shapes]
    total = ["total", "", "", "", "", sum(params)] if all(map(_is_num, params)) else ()
    return _table(SHAPE_COLUMNS, rows, total)


def _metrics(metrics: Mapping[str, Any]) -> str:
    parts = []
    splits = {k: v for k, v in metrics.items() if k not in _RESERVED and isinstance(v, Mapping)}
    if splits:
        names = list(dict.fromkeys(m for v in splits.values() for m in _flatten(v)))
        rows = [[split, *(_flatten(v).get(m) for m in names)] for split, v in splits.items()]
        parts.append(_table(["split", *names], rows))
    scalars = {
        k: v for k, v in metrics.items() if k not in _RESERVED and not isinstance(v, Mapping)
    }
    if scalars:
        parts.append(_table(["metric", "value"], list(scalars.items())))

    seeds = [_flatten(s) for s in metrics.get("seeds") or []]
    mean, std = _flatten(metrics.get("mean") or {}), _flatten(metrics.get("std") or {})
    if seeds and not mean:  # summarise the seeds ourselves (sample std) when not given
        cols = [c for c in dict.fromkeys(c for s in seeds for c in s) if c != "seed"]
        cols = [c for c in cols if all(_is_num(s.get(c)) for s in seeds)]
        mean = {c: float(np.mean([s[c] for s in seeds])) for c in cols}
        ddof = 1 if len(seeds) > 1 else 0
        std = {c: float(np.std([s[c] for s in seeds], ddof=ddof)) for c in cols}
    if mean:
        n = f" over {len(seeds)} seeds" if seeds else ""
        parts.append(f"<h3>Mean \u00b1 std{escape(n)}</h3>")
        rows = [
            (k, f"{_fmt(v)} \u00b1 {_fmt(std[k])}" if k in std else _fmt(v))
            for k, v in mean.items()
        ]
        parts.append(_table(["metric", "mean \u00b1 std"], rows))
    if seeds:
        cols = list(dict.fromkeys(c for s in seeds for c in s))
        parts.append("<h3>Per seed</h3>")
        parts.append(_table(cols, [[s.get(c) for c in cols] for s in seeds]))
    return "".join(parts) or _empty("No metrics recorded.")


def build_report(
    path: str | os.PathLike[str],
    *,
    title: str,
    hyperparameters: Mapping[str, Any],
    shapes: Sequence[Mapping[str, Any]],
    history: Mapping[str, Sequence[float]] | None,
    metrics: Mapping[str, Any],
    confusion: tuple[np.ndarray, Sequence[str]] | None,
    mislabeled: tuple[np.ndarray, Sequence[str], Sequence[str], Sequence[float] | None] | None,
    notes: Sequence[str] | None = None,
) -> Path:
    """Write one self-contained HTML report of a training run, atomically.

    Sections, in order: hyperparameters, layer shapes, cost curves, metrics (with
    mean ± std and a per-seed table for several seeds), confusion matrix, mislabeled
    images, notes. A missing part keeps its section with a short note. All text is
    HTML-escaped; images are embedded PNGs with ids ``cost-curve``,
    ``confusion-matrix`` and ``mislabeled``.

    Parameters
    ----------
    path : str or path-like
        Destination file; replaced only once the new report is complete.
    title : str
        Page title and heading.
    hyperparameters : mapping of str to value
        E.g. ``{"layers_dims": [12288, 20, 7, 5, 1], "learning_rate": 0.0075}``.
    shapes : list of dict
        The course's shape table, one row per layer l with keys ``layer``, ``W``
        (n[l], n[l-1]), ``b`` (n[l], 1), ``Z`` and ``A`` (n[l], m) and ``params``.
    history : dict of lists, optional
        Per-epoch curves for :func:`deepstep.report.plots.plot_costs`.
    metrics : mapping
        ``{"train": {"loss": .., "accuracy": ..}, "test": {..}}``; for several seeds
        also ``"seeds"`` (list of per-seed dicts, may nest like the splits) and
        ``"mean"`` / ``"std"`` (dicts of the same keys; computed when absent).
    confusion : tuple (cm, classes), optional
        cm ndarray of shape (k, k), classes list of k names.
    mislabeled : tuple (images, true, predicted, probabilities), optional
        images uint8 ndarray of shape (n, H, W, C), see
        :func:`deepstep.report.plots.plot_mislabeled`.
    notes : list of str, optional
        Free-text remarks shown at the end.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> out = build_report(Path(tempfile.mkdtemp()) / "r.html", title="demo",
    ...     hyperparameters={"learning_rate": 0.0075}, shapes=[], history=None,
    ...     metrics={"test": {"accuracy": 0.8}}, confusion=None, mislabeled=None)
    >>> "<h1>demo</h1>" in out.read_text()
    True
    """
    sections = [
        ("hyperparameters", "Hyperparameters", _hyperparameters(hyperparameters)),
        ("shapes", "Layer shapes", _shapes(shapes)),
    ]
    if history and history.get("loss"):
        costs = _img(plots.plot_costs(history), "cost-curve", "Cost curve: train and validation")
    else:
        costs = _empty("No training history recorded.")
    sections.append(("costs", "Cost curves", costs))
    sections.append(("metrics", "Metrics", _metrics(metrics)))
    if confusion is not None:
        cm, classes = confusion
        cmat = _img(plots.plot_confusion(cm, classes), "confusion-matrix", "Confusion matrix")
    else:
        cmat = _empty("No confusion matrix.")
    sections.append(("confusion", "Confusion matrix", cmat))
    if mislabeled is not None:
        images, true, predicted, probabilities = mislabeled
        png = plots.plot_mislabeled(images, true, predicted, probabilities, None, MAX_MISLABELED)
        n = len(true)
        mis = f'<p class="muted">{n} mislabeled example{"s" * (n != 1)}' + (
            f", showing the first {MAX_MISLABELED}.</p>" if n > MAX_MISLABELED else ".</p>"
        )
        mis += _img(png, "mislabeled", "Mislabeled images: prediction and true class")
    else:
        mis = _empty("No mislabeled images recorded.")
    sections.append(("mislabeled", "Mislabeled images", mis))
    if notes:
        items = "".join(f"<li>{escape(str(n))}</li>" for n in notes)
        sections.append(("notes", "Notes", f"<ul>{items}</ul>"))

    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'"
    )
    nav = "".join(f'<a href="#{i}">{escape(h)}</a>' for i, h, _ in sections)
    body = "".join(f'<section id="{i}"><h2>{escape(h)}</h2>{c}</section>' for i, h, c in sections)
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body><main><h1>{escape(title)}</h1><nav>{nav}</nav>\n{body}\n</main>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
    return atomic_write(path, page.encode("utf-8"))
