"""What a network learns to output: the task, decided from the labels, and the encoding
between the user's labels and the training targets Y of shape (n[L], m).

One rule decides the task everywhere (``Network.fit``, the estimators, ``deepstep train``):

============================================  ==========================================
labels                                        task
============================================  ==========================================
strings, bytes or booleans                    classes (binary for 2, multiclass above)
floats with a fractional part                 regression
integers (or whole-valued floats), k values   classes when k <= 20, or when there are at
                                              least 20 examples per value on average
                                              (m >= 20 k); regression otherwise (many
                                              distinct values with few examples each:
                                              ages, counts, prices in whole units)
a (k, m) block of 0/1 columns summing to 1    multiclass (one-hot)
any other (n_y, m) block with n_y > 1         regression with n_y targets
============================================  ==========================================

The choice can always be overridden (``task=`` / ``--task``). Regression targets are
standardised with the training mean and std (recorded with the model) so that the squared
error is on a scale the default learning rate suits whatever the units; predictions are
returned in the original units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

TASKS = ("binary", "multiclass", "regression")
#: Integer labels with at most this many distinct values are classes whatever m is.
MAX_SMALL_CLASSES = 20
#: With more distinct integers, they are classes only with this many examples per value.
MIN_EXAMPLES_PER_CLASS = 20
#: Classification with more classes than this is refused (an output unit per class).
MAX_CLASSES = 10_000


@dataclass(frozen=True)
class TaskChoice:
    """The task and, in words, why it was chosen.

    Examples
    --------
    >>> detect_task([0, 1, 1, 0])
    TaskChoice(task='binary', reason='integer labels with 2 distinct values')
    """

    task: str
    reason: str

    def message(self, override: str = "task=") -> str:
        """One line for the user: what was chosen, why, and how to choose otherwise."""
        others = " or ".join(f"{override}{t}" for t in TASKS if t != self.task)
        return f"task: {self.task} ({self.reason}); to choose otherwise give {others}"


def _is_one_hot(Y: NDArray) -> bool:
    return bool(np.isin(Y, (0, 1)).all() and np.all(Y.sum(axis=0) == 1))


def detect_task(y: Any) -> TaskChoice:
    """Decide the task from the training labels (the rule in the module docstring).

    Parameters
    ----------
    y : array-like of shape (m,), (1, m) or (n_y, m)

    Returns
    -------
    TaskChoice

    Examples
    --------
    >>> detect_task(["cat", "dog", "bird"]).task
    'multiclass'
    >>> detect_task([1.5, 2.25, 3.0]).reason
    'numbers with fractional parts'
    >>> detect_task(np.arange(200) % 150).task  # 150 values, about 1 example each
    'regression'
    """
    Y = np.asarray(y)
    if Y.ndim == 2 and Y.shape[0] > 1:
        if _is_one_hot(Y):
            return TaskChoice("multiclass", f"one-hot columns for {Y.shape[0]} classes")
        return TaskChoice("regression", f"{Y.shape[0]} target rows that are not one-hot")
    flat = Y.ravel()
    if flat.size == 0:
        raise ValueError("there are no labels: give one label per example")
    kind = flat.dtype.kind
    if kind in "SUOb":
        k = np.unique(flat.astype(str) if kind == "O" else flat).size
        what = "boolean" if kind == "b" else "text"
        return TaskChoice("binary" if k <= 2 else "multiclass", f"{what} labels, {k} classes")
    if kind not in "iuf":
        raise ValueError(f"labels of dtype {flat.dtype} are neither numbers nor text")
    if kind == "f":
        if not np.all(np.isfinite(flat)):
            bad = int(np.flatnonzero(~np.isfinite(flat))[0])
            raise ValueError(f"label {bad} is {flat[bad]}: labels must be finite numbers")
        if np.any(flat != np.round(flat)):
            return TaskChoice("regression", "numbers with fractional parts")
    k = np.unique(flat).size
    m = flat.size
    if k <= 2:
        return TaskChoice("binary", f"integer labels with {k} distinct values")
    if k <= MAX_SMALL_CLASSES:
        return TaskChoice("multiclass", f"integer labels with {k} distinct values")
    if m >= MIN_EXAMPLES_PER_CLASS * k:
        return TaskChoice("multiclass", f"integer labels with {k} distinct values, "
                          f"{m / k:.0f} examples each on average")
    return TaskChoice("regression", f"integer labels with {k} distinct values, "
                      f"{m / k:.1f} examples each on average")


def check_task(task: str) -> str:
    """``task`` if it is "auto" or one of :data:`TASKS`, else a clear ValueError."""
    if task != "auto" and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose auto, {', '.join(TASKS)}")
    return task


class TargetEncoder:
    """Labels <-> training targets, fitted on the training labels of one task.

    Classification: ``classes_`` holds the sorted distinct labels as given (ints that need
    not be 0..k-1, strings, booleans); the target is a (1, m) 0/1 row for a single sigmoid
    unit, else a (k, m) one-hot block. Regression: targets are standardised per row with
    ``mean_`` and ``std_`` (float64, shape (n_y, 1)); :meth:`decode` undoes it.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
    n_outputs : int
        n[L], the network's output units: 1 with a sigmoid, k with a softmax.

    Examples
    --------
    >>> enc = TargetEncoder("binary", 1).fit(np.array([3, 8, 8, 3]))
    >>> enc.classes_.tolist(), enc.encode(np.array([8, 3])).tolist()
    ([3, 8], [[1.0, 0.0]])
    >>> reg = TargetEncoder("regression", 1).fit(np.array([100.0, 200.0, 300.0]))
    >>> reg.decode(reg.encode(np.array([250.0]))).tolist()
    [[250.0]]
    """

    def __init__(self, task: str, n_outputs: int) -> None:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        self.task = task
        self.n_outputs = int(n_outputs)
        self.classes_: NDArray | None = None
        self.mean_: NDArray | None = None
        self.std_: NDArray | None = None

    @property
    def fitted(self) -> bool:
        """Whether :meth:`encode` and :meth:`decode` can run."""
        return self.classes_ is not None or self.mean_ is not None

    # --- fitting -----------------------------------------------------------------------------

    def fit(self, y: Any, weights: NDArray | None = None) -> TargetEncoder:
        """Learn the classes or the target statistics from the training labels; returns self.

        Parameters
        ----------
        y : array-like of shape (m,), (1, m), or (n_y, m) (one-hot or several targets)
        weights : ndarray of shape (m,), optional
            Example weights: regression statistics are those of the weighted sample (as if
            an example of weight 2 appeared twice).
        """
        Y = np.asarray(y)
        if self.task == "regression":
            R = _as_rows(Y).astype(np.float64)
            if R.shape[0] != self.n_outputs:
                raise ValueError(f"there are {R.shape[0]} target rows but the output layer "
                                 f"has {self.n_outputs} units")
            if not np.all(np.isfinite(R)):
                raise ValueError("regression targets must be finite numbers (found NaN or inf)")
            w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
            self.mean_ = np.average(R, axis=1, weights=w).reshape(-1, 1)
            std = np.sqrt(np.average((R - self.mean_) ** 2, axis=1, weights=w)).reshape(-1, 1)
            self.std_ = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean_)), std, 1.0)
            return self
        if Y.ndim == 2 and Y.shape[0] > 1:
            if not _is_one_hot(Y):
                raise ValueError("a (k, m) block of labels for classification must be one-hot "
                                 "(0/1 columns that sum to 1)")
            classes = np.arange(Y.shape[0])
        else:
            classes = np.unique(Y.ravel())
        k = classes.size
        if k < 2:
            raise ValueError(f"the labels hold a single class ({classes[0]!r}); a classifier "
                             "needs examples of at least two classes")
        if k > MAX_CLASSES:
            raise ValueError(f"the labels hold {k} distinct values, too many classes (at most "
                             f"{MAX_CLASSES}); for numbers to predict use task='regression'")
        if self.task == "binary" and k > 2:
            raise ValueError(f"task 'binary' but the labels hold {k} classes; use 'multiclass'")
        if self.n_outputs == 1 and k > 2:
            raise ValueError(
                f"the labels have {k} classes; a single output unit (sigmoid) needs 2 classes "
                f"(for {k} classes make the last layer {k} units: output='softmax'; for numbers "
                "give task='regression')")
        if self.n_outputs > 1 and k != self.n_outputs:
            raise ValueError(f"the labels have {k} classes but the output layer has "
                             f"{self.n_outputs} units; make the last entry of layer_dims {k}")
        self.classes_ = classes
        return self

    # --- encoding ----------------------------------------------------------------------------

    def encode(self, y: Any, dtype: DTypeLike = np.float64) -> NDArray:
        """Labels -> Y (n[L], m) in ``dtype``: 0/1 row, one-hot block or standardised values.

        Raises a ValueError naming the labels that training did not see.
        """
        Y = np.asarray(y)
        if self.task == "regression":
            if self.mean_ is None or self.std_ is None:
                raise ValueError("the target encoder is not fitted: call fit first")
            R = _as_rows(Y).astype(np.float64)
            if R.shape[0] != self.mean_.shape[0]:
                raise ValueError(f"targets have {R.shape[0]} rows; the model predicts "
                                 f"{self.mean_.shape[0]}")
            return ((R - self.mean_) / self.std_).astype(dtype)
        if self.classes_ is None:
            raise ValueError("the target encoder is not fitted: call fit first")
        if Y.ndim == 2 and Y.shape[0] > 1:  # already one-hot
            if Y.shape[0] != self.classes_.size or not _is_one_hot(Y):
                raise ValueError(f"one-hot targets must be {self.classes_.size} rows of 0/1 "
                                 f"columns that sum to 1, got shape {Y.shape}")
            index = np.argmax(Y, axis=0)
        else:
            index = self.index(Y.ravel())
        m = index.size
        if self.n_outputs == 1:
            return index.reshape(1, m).astype(dtype)
        out = np.zeros((self.n_outputs, m), dtype=dtype)
        out[index, np.arange(m)] = 1
        return out

    def index(self, labels: NDArray) -> NDArray:
        """The position of each label in ``classes_``, shape (m,); unseen labels are named."""
        assert self.classes_ is not None
        classes, labels = self.classes_, np.asarray(labels).ravel()
        if _comparable(classes, labels):
            pos = np.clip(np.searchsorted(classes, labels), 0, classes.size - 1)
            known = classes[pos] == labels
        else:  # e.g. strings against integer classes, or object arrays
            lookup = {c: i for i, c in enumerate(classes.tolist())}
            values = labels.tolist()
            pos = np.array([lookup.get(v, 0) for v in values], dtype=np.int64)
            known = np.array([v in lookup for v in values], dtype=bool)
        if not np.all(known):
            raise ValueError(f"labels {_unique_list(labels[~known])[:5]} were not seen in "
                             f"training; known classes: {classes.tolist()}")
        return pos.astype(np.int64)

    def decode(self, AL: NDArray) -> NDArray:
        """The network's output -> predictions: labels (1, m) from ``classes_``, or values
        (n_y, m) in the original units (float64).
        """
        if self.task == "regression":
            assert self.mean_ is not None and self.std_ is not None
            return np.asarray(AL, dtype=np.float64) * self.std_ + self.mean_
        assert self.classes_ is not None
        if AL.shape[0] == 1:
            index = (AL > 0.5).astype(np.int64)
        else:
            index = np.argmax(AL, axis=0).reshape(1, -1)
        return self.classes_[index]

    def probabilities(self, AL: NDArray) -> NDArray:
        """(k, m) probability of every class, also for a single sigmoid unit (1 - a, a)."""
        if self.task == "regression":
            raise ValueError("a regression model has no class probabilities")
        return np.vstack([1 - AL, AL]) if AL.shape[0] == 1 else AL


def _comparable(a: NDArray, b: NDArray) -> bool:
    """Whether sorted ``a`` can be searched for ``b``'s values (numbers with numbers, text
    with text of the same kind)."""
    numeric = "iufb"
    return (a.dtype.kind in numeric and b.dtype.kind in numeric) or (
        a.dtype.kind == b.dtype.kind and a.dtype.kind in "US")


def _as_rows(Y: NDArray) -> NDArray:
    return Y.reshape(1, -1) if Y.ndim <= 1 else Y


def _unique_list(values: NDArray) -> list[Any]:
    try:
        return np.unique(values).tolist()
    except TypeError:
        return list(dict.fromkeys(values.tolist()))
