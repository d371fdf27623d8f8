"""A classifier's results on one data set: confusion matrix, per-class precision / recall /
F1 and, for two classes, the ROC curve, all from scikit-learn's metrics.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepstep.engine.metrics import predict_classes
from deepstep.report.formatting import fmt
from deepstep.report.plots import TRAIN_COLOR, _figure, _png, confusion_matrix


@dataclass(frozen=True)
class Roc:
    """The ROC curve of the positive class: false and true positive rates at each threshold."""

    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]
    auc: float
    positive: str


@dataclass(frozen=True)
class ClassEvaluation:
    """Labels and predictions of a classifier on m examples.

    Attributes
    ----------
    classes : list of str, length k
        Class names; labels are indices into it.
    y_true : ndarray of int, shape (m,)
        True class index of each example.
    y_pred : ndarray of int, shape (m,)
        Predicted class index.
    probability : ndarray of shape (m,)
        The probability the network gave its prediction.
    positive_score : ndarray of shape (m,), optional
        For two classes: the probability of ``classes[1]``, the positive class (the ROC
        curve's score). None otherwise.
    data : str
        What the examples are, e.g. "test_catvnoncat.h5 (50 examples)".

    Examples
    --------
    >>> ev = ClassEvaluation(["non-cat", "cat"], np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]),
    ...                      np.array([0.9, 0.8, 0.6, 0.7]), np.array([0.1, 0.8, 0.4, 0.3]))
    >>> ev.confusion().tolist()
    [[2, 0], [1, 1]]
    >>> round(ev.roc().auc, 3)
    1.0
    """

    classes: list[str]
    y_true: NDArray[np.int64]
    y_pred: NDArray[np.int64]
    probability: NDArray[np.float64]
    positive_score: NDArray[np.float64] | None = None
    data: str = ""

    @property
    def m(self) -> int:
        """Number of examples."""
        return int(self.y_true.size)

    def confusion(self) -> NDArray[np.int64]:
        """(k, k) counts, rows true classes, columns predicted classes."""
        return confusion_matrix(self.y_true, self.y_pred, len(self.classes))

    def per_class(self) -> list[list[Any]]:
        """Rows [class, precision, recall, F1, support] (scikit-learn's
        ``precision_recall_fscore_support``; a ratio with nothing to divide is 0)."""
        from sklearn.metrics import precision_recall_fscore_support

        p, r, f, s = precision_recall_fscore_support(
            self.y_true, self.y_pred, labels=np.arange(len(self.classes)), zero_division=0)
        return [[c, float(pi), float(ri), float(fi), int(si)]
                for c, pi, ri, fi, si in zip(self.classes, p, r, f, s, strict=True)]

    def macro_average(self) -> list[Any]:
        """["macro average", precision, recall, F1, m]: the unweighted means over classes."""
        rows = self.per_class()
        return ["macro average", *(float(np.mean([r[i] for r in rows])) for i in (1, 2, 3)),
                self.m]

    def roc(self) -> Roc | None:
        """The ROC curve and its area (scikit-learn's ``roc_curve``, ``roc_auc_score``), or
        None when it is undefined: not two classes, or only one of them present."""
        if self.positive_score is None or len(self.classes) != 2 or (
                np.unique(self.y_true).size < 2):
            return None
        from sklearn.metrics import roc_auc_score, roc_curve

        positive = self.y_true == 1
        fpr, tpr, _ = roc_curve(positive, self.positive_score)
        return Roc(fpr, tpr, float(roc_auc_score(positive, self.positive_score)),
                   self.classes[1])

    def roc_missing(self) -> str:
        """Why there is no ROC curve, in one line ("" when there is one)."""
        if len(self.classes) != 2:
            return ""
        if self.positive_score is None:
            return "No ROC curve: the network gave no probabilities."
        if np.unique(self.y_true).size < 2:
            return (f"No ROC curve: the {self.data or 'data'} holds only "
                    f"{self.classes[int(self.y_true[0])] if self.m else 'no'} examples.")
        return ""


def plot_roc(roc: Roc, path: str | os.PathLike[str] | None = None) -> bytes:
    """Draw the ROC curve with the chance diagonal; the title carries the AUC.

    Parameters
    ----------
    roc : Roc
        fpr, tpr : ndarray of shape (t,), from (0, 0) to (1, 1).
    path : str or path-like, optional
        Also write the PNG here (atomically).

    Returns
    -------
    bytes
        The PNG image.

    Examples
    --------
    >>> plot_roc(Roc(np.array([0, 0.2, 1.0]), np.array([0, 0.7, 1.0]), 0.75, "cat"))[1:4]
    b'PNG'
    """
    fig = _figure(4.8, 4.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="chance")
    ax.plot(roc.fpr, roc.tpr, color=TRAIN_COLOR, linewidth=2,
            label=f"network (AUC {fmt(roc.auc)})")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel(f"false positive rate (not {roc.positive}, called {roc.positive})")
    ax.set_ylabel(f"true positive rate ({roc.positive} found)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(f"ROC curve, positive class {roc.positive} (AUC {fmt(roc.auc)})", fontsize=11)
    return _png(fig, path)


def from_predictions(classes: Sequence[str], y_true: Any, proba: Any, data: str = ""
                     ) -> ClassEvaluation:
    """Build a :class:`ClassEvaluation` from true indices and the network's probabilities.

    Parameters
    ----------
    classes : list of str, length k
    y_true : array-like of int, shape (m,)
        Indices into ``classes``.
    proba : ndarray of shape (1, m) or (k, m)
        A[L]: the probability of ``classes[1]`` (sigmoid output) or of each class
        (softmax), as :meth:`deepstep.Network.predict_proba` returns it; its rows follow
        the network's classes, which must be ``classes`` in order.
    data : str
        What the examples are.

    Examples
    --------
    >>> ev = from_predictions(["a", "b"], [0, 1, 1], np.array([[0.2, 0.7, 0.4]]))
    >>> ev.y_pred.tolist(), ev.probability.round(2).tolist()
    ([0, 1, 0], [0.8, 0.7, 0.6])
    """
    A = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_true).ravel().astype(np.int64)
    pred = predict_classes(A).ravel().astype(np.int64)  # as Network.predict decides
    if A.shape[0] == 1:  # sigmoid: A[L] is P(classes[1])
        p1 = A[0]
        return ClassEvaluation(list(classes), y, pred, np.where(pred == 1, p1, 1 - p1), p1,
                               data)
    score = A[1] if A.shape[0] == 2 else None
    return ClassEvaluation(list(classes), y, pred, A[pred, np.arange(A.shape[1])], score, data)
