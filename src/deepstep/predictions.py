"""What a classifier or regressor says about each input, and the three ways to print it.

:func:`predict_items` turns the columns of X (n_x, m) into :class:`Prediction` records: the
predicted class with its probability (and the ``top_k`` most probable classes), or the
predicted values in the training targets' units. :func:`format_text`, :func:`format_json` and
:func:`format_csv` print them for ``deepstep predict --format text|json|csv``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .engine.metrics import predict_classes

if TYPE_CHECKING:
    from .model import Network

FORMATS = ("text", "json", "csv")


def class_names(net: Network) -> list[str] | None:
    """The name of each of the model's classes, in ``net.classes_`` order (None: regression).

    A model from ``deepstep train`` has classes 0..k-1, indices into its training data's
    names (``config_["data"]["classes"]``); any other (``Network.fit`` on labels like
    {3, 8}, strings or booleans) is named by its labels, whole floats written as integers.

    Examples
    --------
    >>> from deepstep import Network
    >>> net = Network([2, 1]); net.classes_ = np.array([3, 8]); class_names(net)
    ['3', '8']
    >>> net.config_ = {"data": {"classes": ["cat", "dog"]}}; net.classes_ = np.arange(2)
    >>> class_names(net)
    ['cat', 'dog']
    """
    if net.classes_ is None:
        return None
    labels = np.asarray(net.classes_).ravel().tolist()
    names = (net.config_.get("data") or {}).get("classes")
    if names and len(names) == len(labels) and labels == list(range(len(names))) and all(
            type(c) is int for c in labels):
        return [str(n) for n in names]
    return [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in labels]


@dataclass
class Prediction:
    """One input's prediction.

    Attributes
    ----------
    name : str
        The input (file, or ``file:row``).
    label : str or None
        The predicted class's name (None for regression).
    probability : float or None
        The probability of ``label``.
    top : list of (str, float)
        The ``top_k`` most probable classes with their probabilities, most probable first
        (empty unless asked for).
    values : list of float or None
        Regression: the n_y predicted values, in the units of the training targets.
    notes : list of str
        What was changed to fit the input to the model.
    """

    name: str
    label: str | None = None
    probability: float | None = None
    top: list[tuple[str, float]] = field(default_factory=list)
    values: list[float] | None = None
    notes: list[str] = field(default_factory=list)


def check_top_k(net: Network, top_k: int | None) -> None:
    """Raise a ValueError when ``top_k`` does not fit the model (regression, > k classes)."""
    if not top_k:
        return
    names = class_names(net)
    if names is None:
        raise ValueError("--top-k is for classifiers; this model predicts values (regression)")
    if top_k > len(names):
        raise ValueError(f"--top-k {top_k} but the model has {len(names)} classes; give "
                         f"--top-k 1 to {len(names)}")


def predict_items(net: Network, X: NDArray, names: Sequence[str],
                  notes: Sequence[Sequence[str]] | None = None,
                  top_k: int | None = None) -> list[Prediction]:
    """One :class:`Prediction` per column of X.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_x, m)
        Raw inputs, as ``net.predict`` takes them.
    names : sequence of m str
    notes : sequence of m lists of str, optional
    top_k : int, optional
        Also list the ``top_k`` most probable classes of each input (classifiers).

    Examples
    --------
    >>> from deepstep import Network
    >>> net = Network([1, 1]); net.classes_ = np.array(["no", "yes"])
    >>> net.params["W1"][:] = 4.0; net.params["b1"][:] = 0.0
    >>> p = predict_items(net, np.array([[1.0]]), ["a"], top_k=2)[0]
    >>> p.label, round(p.probability, 3), [n for n, _ in p.top]
    ('yes', 0.982, ['yes', 'no'])
    """
    check_top_k(net, top_k)
    m = X.shape[1]
    notes = notes if notes is not None else [[] for _ in range(m)]
    labels = class_names(net)
    if labels is None:
        values = np.asarray(net.predict(X), dtype=np.float64)
        return [Prediction(names[i], values=[float(v) for v in values[:, i]],
                           notes=list(notes[i])) for i in range(m)]
    proba = np.asarray(net.predict_proba(X), dtype=np.float64)
    best = predict_classes(proba).ravel()  # the rule net.predict follows
    # P(class | x) in classes_ order, (k, m): a sigmoid's p of classes_[1] gives (1 - p, p)
    P = np.vstack([1 - proba, proba]) if proba.shape[0] == 1 else proba
    out = []
    for i in range(m):
        top = []
        if top_k:
            order = np.argsort(-P[:, i], kind="stable")[:top_k]
            top = [(labels[j], float(P[j, i])) for j in order]
        out.append(Prediction(names[i], labels[best[i]], float(P[best[i], i]), top,
                              notes=list(notes[i])))
    return out


def _number(v: float) -> str:
    return f"{v:.4f}"


def format_text(predictions: Sequence[Prediction]) -> str:
    """``name: label (probability 0.9731)``, ``; top 3: a 0.97, b 0.02, c 0.01`` with top-k,
    or ``name: 152.3`` for regression; one line per input."""
    lines = []
    for p in predictions:
        if p.values is not None:
            lines.append(f"{p.name}: " + ", ".join(f"{v:.6g}" for v in p.values))
            continue
        line = f"{p.name}: {p.label} (probability {_number(p.probability or 0.0)})"
        if p.top:
            line += f"; top {len(p.top)}: " + ", ".join(f"{n} {_number(q)}" for n, q in p.top)
        lines.append(line)
    return "\n".join(lines)


def format_json(predictions: Sequence[Prediction], failures: Sequence[tuple[str, str]],
                model: str) -> str:
    """One JSON document: ``{"model", "predictions": [...], "failed": [...]}``.

    Each prediction has ``input``, then ``label`` and ``probability`` (and ``top_k``, a list
    of ``{"label", "probability"}``) or ``values``, and ``notes``. Labels are the class names
    as text.
    """
    records = []
    for p in predictions:
        r: dict[str, object] = {"input": p.name}
        if p.values is not None:
            r["values"] = [_finite(v) for v in p.values]
        else:
            r["label"], r["probability"] = p.label, _finite(p.probability)
            if p.top:
                r["top_k"] = [{"label": n, "probability": _finite(q)} for n, q in p.top]
        r["notes"] = p.notes
        records.append(r)
    doc = {"model": model, "predictions": records,
           "failed": [{"input": n, "error": why} for n, why in failures]}
    return json.dumps(doc, indent=2, allow_nan=False)


def _finite(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else v


def format_csv(predictions: Sequence[Prediction]) -> str:
    """A CSV table with a header: ``input,label,probability`` (+ ``top1,p1,...`` with
    top-k), or ``input,value`` (``value_1,...`` for several outputs) for regression."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if not predictions:
        return ""
    first = predictions[0]
    if first.values is not None:
        n = len(first.values)
        w.writerow(["input", *(["value"] if n == 1 else [f"value_{j + 1}" for j in range(n)])])
        for p in predictions:
            w.writerow([p.name, *(f"{v:.17g}" for v in p.values or [])])
    else:
        k = len(first.top)
        w.writerow(["input", "label", "probability",
                    *(c for j in range(k) for c in (f"top{j + 1}", f"p{j + 1}"))])
        for p in predictions:
            w.writerow([p.name, p.label, f"{p.probability:.6g}",
                        *(c for n, q in p.top for c in (n, f"{q:.6g}"))])
    return buf.getvalue().rstrip("\n")


def predictions(net: Network, X: NDArray) -> list[tuple[str, float | None]]:
    """For each column of X: (class name or value, probability of that class or None).

    The short form of :func:`predict_items` (a regression value as text, 6 significant
    digits, with None; several outputs joined by ", ").
    """
    names = [str(i) for i in range(X.shape[1])]
    out: list[tuple[str, float | None]] = []
    for p in predict_items(net, X, names):
        if p.values is not None:
            out.append((", ".join(f"{v:.6g}" for v in p.values), None))
        else:
            out.append((str(p.label), p.probability))
    return out
