"""The report's sections as HTML fragments, each built from what the run recorded.

A builder returns "" when it has nothing to show, and the page leaves that section out; where
a reader would expect a section (a binary task's ROC curve), it says in one line why it is
missing. Every number goes through :mod:`deepstep.report.formatting`; all text is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, NamedTuple

import numpy as np

from deepstep.report import plots
from deepstep.report.classification import ClassEvaluation, plot_roc
from deepstep.report.formatting import SPREAD_DIGITS, fmt, fmt_pm, fmt_seconds
from deepstep.report.mislabeled import METHOD, Mislabeled
from deepstep.report.regression import RegressionEvaluation, plot_regression

SHAPE_COLUMNS = ("layer", "W", "b", "Z", "A", "params")
RESERVED = ("seeds", "mean", "std")
#: How metric keys are shown in table headers.
METRIC_NAMES = {"r2": "R\u00b2", "mae": "MAE", "rmse": "RMSE", "data_loss": "data loss"}
#: What each data loss is, for the captions.
LOSS_NAMES = {
    "binary_cross_entropy": "binary cross-entropy",
    "categorical_cross_entropy": "categorical cross-entropy",
    "mse": "half the mean squared error of the standardised targets",
}


# --- HTML pieces ---------------------------------------------------------------------------


class MeanStd(NamedTuple):
    """A table cell "mean ± std" (:func:`fmt_pm`)."""

    mean: float
    std: float


class Spread(float):
    """A table cell holding a spread, shown to ``SPREAD_DIGITS`` like the ± part."""


def cell(value: Any) -> str:
    """One table cell: numbers right-aligned through :func:`fmt`, shapes as (a, b), lists
    as [a, b], the rest escaped text."""
    if isinstance(value, tuple) and all(isinstance(v, int | np.integer) for v in value):
        text = "(" + ", ".join(str(int(v)) for v in value) + ("," if len(value) == 1 else "") + ")"
        return f"<td>{text}</td>"
    if isinstance(value, list | np.ndarray):
        items = (str(v) if isinstance(v, int | np.integer) else fmt(v) for v in value)
        return f"<td>{escape('[' + ', '.join(items) + ']')}</td>"
    if isinstance(value, MeanStd):
        return f'<td class="num">{escape(fmt_pm(*value))}</td>'
    if isinstance(value, Spread):
        return f'<td class="num">{escape(fmt(float(value), SPREAD_DIGITS))}</td>'
    if is_number(value):
        return f'<td class="num">{escape(fmt(value))}</td>'
    return f"<td>{escape(fmt(value))}</td>"


def is_number(value: Any) -> bool:
    """True for ints and floats (numpy's too), not for bools."""
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]],
          totals: Sequence[Sequence[Any]] = ()) -> str:
    """An escaped <table>; ``totals`` rows are bold below a rule."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(f"<tr>{''.join(map(cell, r))}</tr>" for r in rows)
    body += "".join(f'<tr class="total">{"".join(map(cell, r))}</tr>' for r in totals)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def img(png: bytes, ident: str, alt: str) -> str:
    """A <figure> with the PNG as a data: URI."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img id="{ident}" alt="{escape(alt)}" '
            f'src="data:image/png;base64,{data}"></figure>')


def para(text: str, cls: str = "muted") -> str:
    """An escaped paragraph."""
    return f'<p class="{cls}">{escape(text)}</p>'


def items(lines: Sequence[str]) -> str:
    """An escaped bullet list ("" for no lines)."""
    return f"<ul>{''.join(f'<li>{escape(s)}</li>' for s in lines)}</ul>" if lines else ""


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"accuracy": 0.9}} -> {"train accuracy": 0.9}."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix} {key}".strip()
        if isinstance(value, Mapping):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def metric_name(key: str) -> str:
    """"test r2" -> "test R²"."""
    head, _, last = key.rpartition(" ")
    return f"{head} {METRIC_NAMES.get(last, last)}".strip()


# --- metrics -------------------------------------------------------------------------------


def seed_summary(metrics: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict, dict]:
    """(per-seed flat dicts, mean, std) of a several-seed run; mean and std (sample, ddof 1)
    are computed from the seeds when the metrics do not give them."""
    seeds = [flatten(s) for s in metrics.get("seeds") or []]
    mean, std = flatten(metrics.get("mean") or {}), flatten(metrics.get("std") or {})
    if seeds and not mean:
        cols = [c for c in dict.fromkeys(c for s in seeds for c in s) if c != "seed"]
        cols = [c for c in cols if all(is_number(s.get(c)) for s in seeds)]
        mean = {c: float(np.mean([s[c] for s in seeds])) for c in cols}
        ddof = 1 if len(seeds) > 1 else 0
        std = {c: float(np.std([s[c] for s in seeds], ddof=ddof)) for c in cols}
    return seeds, mean, std


def metrics_section(metrics: Mapping[str, Any], loss: str | None, l2: float | None = None
                    ) -> str:
    """The split table (mean ± sample std for several seeds) and the per-seed table."""
    parts = []
    splits = {k: v for k, v in metrics.items() if k not in RESERVED and isinstance(v, Mapping)}
    seeds, mean, std = seed_summary(metrics)
    if seeds:
        parts.append(para(
            f"Mean \u00b1 sample standard deviation over {len(seeds)} seeds "
            f"({', '.join(fmt(s.get('seed')) for s in seeds)}); the saved model, whose "
            f"plots follow, is seed {fmt(seeds[0].get('seed'))}."))
    if splits:
        names = list(dict.fromkeys(m for v in splits.values() for m in flatten(v)))
        rows = []
        for split, values in splits.items():
            flat = flatten(values)
            row: list[Any] = [split]
            for name in names:
                key = f"{split} {name}"
                row.append(MeanStd(mean[key], std[key]) if key in mean and key in std
                           else flat.get(name))
            rows.append(row)
        parts.append(table(["split", *map(metric_name, names)], rows))
    scalars = {k: v for k, v in metrics.items()
               if k not in RESERVED and not isinstance(v, Mapping)}
    if scalars:
        parts.append(table(["metric", "value"], list(scalars.items())))
    if seeds:
        cols = [c for c in dict.fromkeys(c for s in seeds for c in s) if c != "seed"]
        rows = [[s.get("seed"), *(s.get(c) for c in cols)] for s in seeds]
        totals = [["mean", *(mean.get(c) for c in cols)],
                  ["std", *(None if std.get(c) is None else Spread(std[c]) for c in cols)]]
        parts.append("<h3>Per seed</h3>" + table(["seed", *map(metric_name, cols)], rows,
                                                  totals))
    if parts and loss:
        penalty = ("; training used no L2 penalty" if l2 == 0 else
                   ", without the L2 penalty that training adds to it")
        parts.append(para(f"loss: the data loss ({LOSS_NAMES.get(loss, loss)}){penalty}."))
    return "".join(parts)


def headline(metrics: Mapping[str, Any], evaluation: Any, seconds: float | None) -> str:
    """One line under the title: the task, the main test metric, the training time."""
    bits = []
    if isinstance(evaluation, ClassEvaluation):
        k = len(evaluation.classes)
        bits.append(f"binary classification ({' / '.join(evaluation.classes)})" if k == 2
                    else f"{k}-class classification")
    elif isinstance(evaluation, RegressionEvaluation):
        bits.append("regression")
    splits = [k for k, v in metrics.items() if k not in RESERVED and isinstance(v, Mapping)]
    split = "test" if "test" in splits else (splits[-1] if splits else None)
    seeds, mean, std = seed_summary(metrics)
    if split is not None:
        for key in ("accuracy", "r2", "rmse"):
            value = metrics[split].get(key)
            if value is None:
                continue
            name = f"{split} {key}"
            if name in mean and name in std:
                bits.append(f"{metric_name(name)} {fmt_pm(mean[name], std[name])} "
                            f"({len(seeds)} seeds)")
            else:
                bits.append(f"{metric_name(name)} {fmt(value)}")
            if key == "accuracy":
                break
    roc = evaluation.roc() if isinstance(evaluation, ClassEvaluation) else None
    if roc is not None:
        bits.append(f"ROC AUC {fmt(roc.auc)}")
    if seconds is not None:
        who = f"seed {fmt(seeds[0].get('seed'))} " if seeds else ""
        bits.append(f"{who}trained in {fmt_seconds(seconds)}")
    return para(" \u00b7 ".join(bits), "headline") if bits else ""


# --- classification and regression -----------------------------------------------------------


def per_class_section(ev: ClassEvaluation) -> str:
    """Precision, recall, F1 and support per class, with the macro average."""
    return (para(f"On {ev.data or 'the data'}. Precision: of the examples called this class, "
                 "the fraction that are; recall: of the examples of this class, the fraction "
                 "found; F1: their harmonic mean.")
            + table(["class", "precision", "recall", "F1", "support"], ev.per_class(),
                    [ev.macro_average()]))


def confusion_section(ev: ClassEvaluation) -> str:
    """The confusion matrix heat map."""
    png = plots.plot_confusion(ev.confusion(), ev.classes)
    return (para(f"On {ev.data or 'the data'}: rows are the true classes, columns the "
                 "predictions.")
            + img(png, "confusion-matrix", "Confusion matrix"))


def roc_section(ev: ClassEvaluation) -> str:
    """The ROC curve of a binary task, or one line saying why there is none."""
    roc = ev.roc()
    if roc is None:
        return para(ev.roc_missing()) if ev.roc_missing() else ""
    return (para(f"On {ev.data or 'the data'}, positive class {roc.positive}: each point is "
                 "one threshold on its probability (the predictions use 0.5).")
            + img(plot_roc(roc), "roc-curve", f"ROC curve, AUC {fmt(roc.auc)}"))


def regression_section(ev: RegressionEvaluation) -> str:
    """Predicted against true values and the residuals, in the original units."""
    met = ev.metrics()
    return (para(f"On {ev.data or 'the data'}, in the targets' original units: R\u00b2 "
                 f"{fmt(met['r2'])}, MAE {fmt(met['mae'])}, RMSE {fmt(met['rmse'])}.")
            + img(plot_regression(ev), "regression-plots",
                  "Predicted against true values, and residuals"))


def mislabeled_section(mis: Mislabeled, data: str, preprocess: str | None) -> str:
    """The mislabeled images, each with its attribution map, or one line when none is."""
    if mis.total == 0:
        return para(f"On {data or f'{mis.m} examples'}: no mislabeled examples.")
    n = len(mis.true)
    text = (f"On {data or f'{mis.m} examples'}: {mis.total} mislabeled "
            f"example{'s' * (mis.total != 1)}")
    text += (f"; the {n} most confident mistakes are shown." if n < mis.total
             else ", the most confident mistake first." if n > 1 else ".")
    lines = [text]
    if mis.attributions is not None:
        black = preprocess != "standardize"
        baseline = "a black image" if black else "the training set's mean image"
        lines.append(
            f"Right of each image: its {METHOD.replace('_', ' ')} map for the predicted class "
            f"({mis.steps} steps from {baseline}; {fmt_seconds(mis.seconds)} for all {n}). "
            "Red pixels raised the predicted class's score, blue ones lowered it; each map "
            "is scaled to its own 99th percentile of |attribution|."
            + (" Black pixels get none: they equal the baseline." if black else ""))
    png = plots.plot_mislabeled(mis.images, mis.true, mis.predicted, list(mis.probability),
                                None, n, mis.attributions)
    return "".join(para(s) for s in lines) + img(
        png, "mislabeled-images", "Mislabeled images: prediction, probability and true class")


# --- training ------------------------------------------------------------------------------


def training_notes(history: Mapping[str, Any], training: Mapping[str, Any]) -> list[str]:
    """What the curves' axes and panels mean: points, the L2 penalty, the learning rate,
    early stopping and the training time."""
    lines = []
    n = len(history.get("loss") or [])
    batch, m = training.get("batch_size"), training.get("m")
    if "iteration" in history:
        lines.append(f"{n} points: full-batch gradient descent, one per iteration "
                     "(update), each the loss before that update, as the course prints it.")
    elif batch:
        val = "; validation after the epoch" if history.get("val_loss") else ""
        lines.append(f"{n} points, one per epoch: the mean loss over the epoch's mini-batches "
                     f"of {fmt(batch)}{val}.")
    l2 = training.get("l2")
    loss = training.get("loss")
    data = LOSS_NAMES.get(loss, loss) if loss else "the data loss"
    if l2:
        if batch:
            size = f"b = {fmt(min(int(batch), int(m)) if m else int(batch))}, the mini-batch size"
        else:
            size = f"b = m = {fmt(m)}, the training examples" if m else "b the batch size"
        lines.append(f"Objective minimised = data loss ({data}) + L2 penalty "
                     f"\u03bb/(2b) \u00b7 \u03a3\u2097 \u2016W[l]\u2016\u00b2, with \u03bb = "
                     f"{float(l2):g} and {size}. The metrics table reports the data loss.")
    elif l2 is not None:
        lines.append(f"No L2 penalty (\u03bb = 0): the objective is the data loss ({data}).")
    lr = [v for v in history.get("lr") or [] if v is not None]
    if lr and max(lr) > min(lr):
        sched = training.get("schedule")
        lines.append(f"Learning rate{' (schedule ' + str(sched) + ')' if sched else ''}: "
                     f"from {fmt(float(lr[0]))} to {fmt(float(lr[-1]))}, plotted.")
    elif lr:
        lines.append(f"Learning rate: constant, {float(lr[0]):g}.")
    best = training.get("best_epoch")
    if best is not None:
        lines.append(f"Early stopping restored the weights of epoch {int(best) + 1} (the "
                     "dotted line), the best on the validation data.")
    seconds = history.get("seconds")
    if seconds:
        total = float(np.nansum(np.asarray(seconds, dtype=float)))
        unit = "iteration" if "iteration" in history else "epoch"
        lines.append(f"Training time: {fmt_seconds(total)} for {n} {unit}s "
                     f"({fmt_seconds(total / n)} per {unit}).")
    return lines


def costs_section(history: Mapping[str, Any] | None, training: Mapping[str, Any]) -> str:
    """The training curves and what they show."""
    if not history or not history.get("loss"):
        return ""
    best = training.get("best_epoch")
    if best is not None:
        best = float(best) if "iteration" in history else float(best) + 1
    png = plots.plot_costs(history, title="", best=best)
    return img(png, "cost-curve", "Training curves: data loss, objective, accuracy, learning "
               "rate") + items(training_notes(history, training))


def hyperparameters_section(hp: Mapping[str, Any]) -> str:
    """The run's settings, floats as they were given (0.1, not a measurement's 0.1000)."""
    rows = [[k, f"{v:g}" if isinstance(v, float) else v] for k, v in flatten(hp).items()]
    return table(["hyperparameter", "value"], rows) if hp else ""


def shapes_section(shapes: Sequence[Mapping[str, Any]]) -> str:
    """The course's shape table with the parameter total."""
    if not shapes:
        return ""
    rows = [[r.get(c) for c in SHAPE_COLUMNS] for r in shapes]
    params = [r.get("params") for r in shapes]
    totals = ([["total", "", "", "", "", sum(int(p) for p in params if p is not None)]]
              if all(map(is_number, params)) else [])
    return table(SHAPE_COLUMNS, rows, totals)
