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
from deepstep.report import sections
from deepstep.report.classification import ClassEvaluation
from deepstep.report.mislabeled import Mislabeled
from deepstep.report.regression import RegressionEvaluation

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d2330; background: #f6f7f9; margin: 0; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
       min-height: 100vh; box-shadow: 0 0 12px rgba(0, 0, 0, .06); }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e3e7ee; }
h3 { font-size: 15px; margin: 18px 0 6px; color: #4a5568; }
nav a { color: #2b6cb0; margin-right: 14px; text-decoration: none; font-size: 14px;
        white-space: nowrap; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
th, td { border: 1px solid #dde2ea; padding: 4px 12px; text-align: left; }
th { background: #eef2f7; font-weight: 600; }
tr:nth-child(even) td { background: #f9fafc; }
td.num { text-align: right; font-variant-numeric: tabular-nums;
         font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
tr.total td { font-weight: 600; border-top: 2px solid #c7ceda; }
tr.total + tr.total td { border-top: 1px solid #dde2ea; }
figure { margin: 8px 0; }
img { max-width: 100%; height: auto; border: 1px solid #e3e7ee; }
.muted { color: #4a5568; margin: 4px 0 8px; }
.headline { font-size: 17px; color: #2d3748; margin: 2px 0 10px; }
ul { margin: 6px 0 10px; padding-left: 22px; color: #2d3748; }
li { margin: 2px 0; }
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


def build_report(
    path: str | os.PathLike[str],
    *,
    title: str,
    hyperparameters: Mapping[str, Any],
    shapes: Sequence[Mapping[str, Any]],
    history: Mapping[str, Sequence[float]] | None,
    metrics: Mapping[str, Any],
    evaluation: ClassEvaluation | RegressionEvaluation | None = None,
    mislabeled: Mislabeled | None = None,
    training: Mapping[str, Any] | None = None,
    notes: Sequence[str] | None = None,
) -> Path:
    """Write one self-contained HTML report of a training run, atomically.

    Under the title, one line with the task, the main test metric and the training time.
    Sections, in order, each left out when there is nothing to show: metrics (mean ± std
    and a per-seed table for several seeds); for a classifier precision / recall / F1 per
    class, the confusion matrix, the ROC curve (two classes) and the mislabeled images with
    their attribution maps; for a regression predicted-against-true and residual plots; the
    training curves with what they show (L2 penalty, learning rate, time); hyperparameters;
    layer shapes; notes. All text is HTML-escaped; images are embedded PNGs with ids
    ``cost-curve``, ``confusion-matrix``, ``roc-curve``, ``regression-plots`` and
    ``mislabeled-images`` (section ids differ from image ids).

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
        Per-point curves for :func:`deepstep.report.plots.plot_costs` (with ``"iteration"``
        for full-batch runs, else ``"epoch"``) and ``"seconds"`` per point.
    metrics : mapping
        ``{"train": {"loss": .., "accuracy": ..}, "test": {..}}``; for several seeds
        also ``"seeds"`` (list of per-seed dicts, may nest like the splits) and
        ``"mean"`` / ``"std"`` (dicts of the same keys; computed when absent).
    evaluation : ClassEvaluation or RegressionEvaluation, optional
        Predictions on the data the report is about (see :mod:`deepstep.report.run`).
    mislabeled : Mislabeled, optional
        Mislabeled images with their attributions (image data only).
    training : mapping, optional
        The fit's settings (``Network.config_``) and ``"loss"`` (the loss's name):
        ``l2``, ``batch_size`` (None: full batch), ``m``, ``schedule``, ``best_epoch``,
        ``preprocess``; they explain the curves.
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
    ...     metrics={"test": {"accuracy": 0.8}})
    >>> "<h1>demo</h1>" in out.read_text()
    True
    """
    training = training or {}
    data = getattr(evaluation, "data", "")
    parts: list[tuple[str, str, str]] = [
        ("metrics", "Metrics", sections.metrics_section(metrics, training.get("loss"),
                                                          training.get("l2")))]
    if isinstance(evaluation, ClassEvaluation):
        parts += [
            ("per-class", "Precision, recall and F1 per class",
             sections.per_class_section(evaluation)),
            ("confusion", "Confusion matrix", sections.confusion_section(evaluation)),
            ("roc", "ROC curve", sections.roc_section(evaluation)),
        ]
    elif isinstance(evaluation, RegressionEvaluation):
        parts.append(("regression", "Predicted and true values",
                      sections.regression_section(evaluation)))
    if mislabeled is not None:
        parts.append(("mislabeled", "Mislabeled images", sections.mislabeled_section(
            mislabeled, data, training.get("preprocess"))))
    parts += [
        ("costs", "Training curves", sections.costs_section(history, training)),
        ("hyperparameters", "Hyperparameters", sections.hyperparameters_section(hyperparameters)),
        ("shapes", "Layer shapes", sections.shapes_section(shapes)),
        ("notes", "Notes", sections.items([str(n) for n in notes or []])),
    ]
    shown = [(i, h, c) for i, h, c in parts if c]
    seconds = (history or {}).get("seconds")
    total = float(np.nansum(np.asarray(seconds, dtype=float))) if seconds else None
    head = sections.headline(metrics, evaluation, total)

    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'"
    )
    nav = "".join(f'<a href="#{i}">{escape(h)}</a>' for i, h, _ in shown)
    body = "".join(f'<section id="{i}"><h2>{escape(h)}</h2>{c}</section>' for i, h, c in shown)
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body><main><h1>{escape(title)}</h1>{head}<nav>{nav}</nav>\n{body}\n</main>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
    return atomic_write(path, page.encode("utf-8"))
