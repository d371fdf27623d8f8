"""The in-memory data set: examples as columns of ``X`` (course layout), labels in ``y``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ..targets import check_task, detect_task
from .features import Features
from .preprocessing import Preprocessor
from .streaming import iter_batches, task_of


@dataclass
class Dataset:
    """Examples as columns: ``X`` (n_x, m), one label per column in ``y`` (m,).

    Attributes
    ----------
    X : ndarray of shape (n_x, m)
        Raw values as loaded, never rescaled: uint8 for images (h5, image folders, IDX),
        float64 for CSV and the bundled scikit-learn sets. Column i is example i; for
        images ``X[:, i].reshape(image_shape)`` is the picture again.
    y : ndarray of shape (m,)
        int64 class indices into ``classes`` for classification, float64 for regression.
    classes : list of str or None
        Class names, ``classes[y[i]]`` is the name of example i; None means regression.
    image_shape : tuple (H, W, C) or None
        Shape of one image, or None for tabular data.
    name : str
        Where the data came from (file name or bundled name).
    kind : str
        "h5", "images", "csv", "idx" or "bundled".
    preprocessor : Preprocessor or None
        Applied by ``batches`` to every mini-batch when set.
    features : Features or None
        For CSV files: the feature columns (names, categorical columns and their
        categories in one-hot order, the label column) that a model records so that new
        rows are read the same way (``features.to_dict()``); None for other kinds.

    Examples
    --------
    >>> ds = Dataset(np.arange(12.0).reshape(2, 6), np.array([0, 1, 0, 1, 0, 1]), ["a", "b"])
    >>> ds.task, ds.n_x, ds.m
    ('binary', 2, 6)
    >>> train, test = ds.split(test_fraction=1 / 3, seed=0)
    >>> train.m, test.m, sorted(test.y.tolist())
    (4, 2, [0, 1])
    """

    X: NDArray
    y: NDArray
    classes: list[str] | None
    image_shape: tuple[int, int, int] | None = None
    name: str = ""
    kind: str = ""
    preprocessor: Preprocessor | None = field(default=None, repr=False)
    features: Features | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.y.ndim != 1 or self.X.shape[1] != self.y.shape[0]:
            raise ValueError(
                f"Dataset needs X of shape (n_x, m) and y of shape (m,), got X {self.X.shape} "
                f"and y {self.y.shape}"
            )
        if self.features is not None and self.features.n_x != self.X.shape[0]:
            raise ValueError(f"the features description makes {self.features.n_x} rows of X, "
                             f"but X has {self.X.shape[0]}")

    @property
    def n_x(self) -> int:
        """Number of features (rows of X)."""
        return int(self.X.shape[0])

    @property
    def m(self) -> int:
        """Number of examples (columns of X)."""
        return int(self.X.shape[1])

    @property
    def task(self) -> str:
        """The learning task: "binary" (at most 2 classes), "multiclass" or "regression"."""
        return task_of(self.classes)

    def labels(self) -> NDArray:
        """All labels, shape (m,): the same call a streamed ``BatchSource`` answers."""
        return self.y

    def subset(self, indices: ArrayLike) -> Dataset:
        """The examples at ``indices`` (ints or a boolean mask of length m), as a new Dataset."""
        idx = np.asarray(indices)
        return replace(self, X=self.X[:, idx], y=self.y[idx])

    def for_task(self, task: str, what: str = "the data") -> Dataset:
        """The same data with its labels read for ``task`` ("auto" keeps them as loaded).

        Loaders that know their classes (bundled sets, h5 files with class names, image
        folders) decide by themselves; this re-reads their labels when another task is asked
        for: numeric class names become values for regression, values become classes.

        Examples
        --------
        >>> ds = Dataset(np.zeros((1, 4)), np.array([0, 1, 2, 1]), ["1", "2", "5"])
        >>> ds.for_task("regression").y.tolist()
        [1.0, 2.0, 5.0, 2.0]
        """
        task = check_task(task)
        if task == "auto" or self.task == task:
            return self
        if task == "regression":
            try:
                values = np.array([float(c) for c in self.classes or []])
            except ValueError:
                raise ValueError(f"{what} has named classes ({', '.join(self.classes or [])}), "
                                 "not numbers: it cannot be a regression task") from None
            return replace(self, y=values[self.y], classes=None)
        if self.classes is None:
            y, classes = encode_labels(self.y, task=task)
            return replace(self, y=y, classes=classes)
        if task == "binary" and len(self.classes) > 2:
            raise ValueError(f"{what} has {len(self.classes)} classes, so it cannot be a binary "
                             "task: choose multiclass")
        return self

    def with_classes(self, classes: list[str] | None, what: str = "the data") -> Dataset:
        """The same data with ``y`` re-indexed into ``classes`` (the training classes).

        A class the training classes lack is an error for classification; regression data
        pass as they are. ``what`` names the data in messages ("the --test data").

        Examples
        --------
        >>> ds = Dataset(np.zeros((1, 3)), np.array([0, 1, 0]), ["b", "c"])
        >>> ds.with_classes(["a", "b", "c"]).y.tolist()
        [1, 2, 1]
        """
        if classes is None or self.classes is None:
            if (classes is None) != (self.classes is None):
                kind = "regression targets" if self.classes is None else "class labels"
                raise ValueError(f"{what} has {kind} but the training data had the other "
                                 "kind; give data of the same task")
            return self
        if list(self.classes) == list(classes):
            return self
        lookup = {c: i for i, c in enumerate(classes)}
        unknown = sorted(set(self.classes) - set(lookup))
        if unknown:
            raise ValueError(f"{what} has classes {unknown} that training did not have "
                             f"(training classes: {', '.join(classes)})")
        index = np.array([lookup[c] for c in self.classes], dtype=np.int64)
        return replace(self, y=index[self.y], classes=list(classes))

    def split(
        self, test_fraction: float = 0.2, seed: int | np.random.Generator | None = 0
    ) -> tuple[Dataset, Dataset]:
        """Shuffled split into (train, test), stratified by class for classification.

        Each class contributes ``round(test_fraction * count)`` examples to the test set (at
        least one when the class has two or more, and at least one left for training), so
        class proportions are kept. Both parts are shuffled; regression data is shuffled
        without strata.

        Why not ``sklearn.model_selection.train_test_split(stratify=y)`` (issue 12 asks
        for it where the behaviour is the same): it is not the same. scikit-learn sizes the
        test set as ``ceil(test_fraction * m)`` and shares it out by largest remainders, so
        a small class can get no test example at all (counts 100 and 2 at 0.2: the test
        set holds 21 and 0); and it refuses a class with a single example, which this split
        keeps on the training side. ``tests/test_data_split.py`` shows both differences.

        Parameters
        ----------
        test_fraction : float in (0, 1)
        seed : int, numpy.random.Generator or None
            Source of randomness; the same int gives the same split.

        Returns
        -------
        train, test : Dataset
            Of shapes (n_x, m - m_test) and (n_x, m_test).
        """
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
        rng = np.random.default_rng(seed)
        groups = (
            [np.arange(self.m)]
            if self.classes is None
            else [np.flatnonzero(self.y == c) for c in range(len(self.classes))]
        )
        test_parts, train_parts = [], []
        for g in groups:
            g = rng.permutation(g)
            k = int(round(test_fraction * len(g)))
            k = min(max(k, 1 if len(g) >= 2 else 0), len(g) - 1) if len(g) else 0
            test_parts.append(g[:k])
            train_parts.append(g[k:])
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
        if len(test_idx) == 0 or len(train_idx) == 0:
            raise ValueError(
                f"cannot split {self.m} examples with test_fraction={test_fraction}: one side "
                "would be empty; use more data or another fraction"
            )
        return self.subset(train_idx), self.subset(test_idx)

    def batches(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        *,
        dtype: DTypeLike = np.float64,
    ) -> Iterator[tuple[NDArray, NDArray]]:
        """Mini-batches ``(Xb (n_x, b) float, yb (b,))`` covering every example once.

        Without ``rng`` the batches are consecutive columns in order. With ``rng`` the
        examples are fully shuffled (one permutation of all m); inside a batch the columns
        come in increasing index order, which does not matter to a gradient step. The
        attached ``preprocessor`` is applied to each batch; without one the raw values are
        cast to ``dtype``. Same protocol as ``deepstep.data.BatchSource.batches``.
        """
        return iter_batches(
            lambda sel: self.X[:, sel],
            self.y,
            batch_size,
            rng,
            preprocessor=self.preprocessor,
            dtype=dtype,
        )


def encode_labels(
    raw: ArrayLike, classes: list[str] | None = None, task: str = "auto", *,
    source: str | None = None,
) -> tuple[NDArray, list[str] | None]:
    """Turn raw labels into ``(y, classes)`` as a Dataset stores them.

    The task follows the one rule of :func:`deepstep.targets.detect_task` (or ``task`` when
    given): for classes, strings (or bytes) are sorted; integers (or integer-valued floats)
    become their sorted distinct values written as strings (MNIST's 0-9 stay 0-9, a CSV's
    1/2/3 become indices 0/1/2 with names "1", "2", "3"); regression gives float64 targets
    (classes None). When ``classes`` is given, ``raw`` must already be indices into it.

    Parameters
    ----------
    raw : array-like of shape (m,)
    classes : list of str, optional
    task : {"auto", "binary", "multiclass", "regression"}
    source : str, optional
        Where the labels come from ("iris.csv, column 'y'"), put in front of any error.

    Returns
    -------
    y : ndarray of shape (m,)
        int64 indices, or float64 targets for regression.
    classes : list of str or None

    Examples
    --------
    >>> encode_labels(["dog", "cat", "dog"])
    (array([1, 0, 1]), ['cat', 'dog'])
    >>> encode_labels([2.5, 1.0])
    (array([2.5, 1. ]), None)
    >>> encode_labels([3, 1, 3], task="regression")
    (array([3., 1., 3.]), None)
    """
    try:
        return _encode_labels(np.asarray(raw), classes, task)
    except ValueError as e:
        if source is None:
            raise
        raise ValueError(f"{source}: {e}") from None


def _encode_labels(a: NDArray, classes: list[str] | None, task: str
                   ) -> tuple[NDArray, list[str] | None]:
    if classes is not None:
        y = a.astype(np.int64).ravel()
        if y.size and (y.min() < 0 or y.max() >= len(classes)):
            raise ValueError(
                f"labels run from {y.min()} to {y.max()} but there are {len(classes)} classes "
                f"{classes}"
            )
        return y, list(classes)
    task = check_task(task)
    if task == "auto":
        task = detect_task(a).task
    if task == "regression":
        if a.dtype.kind not in "iufb":
            raise ValueError(f"regression needs numeric labels; these are {a.dtype} (e.g. "
                             f"{a.ravel()[:3].tolist()}): choose a classification task")
        return a.astype(np.float64).ravel(), None
    if a.dtype.kind in "SUO":
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in a.ravel()]
        uniq = sorted(set(names))
        return np.searchsorted(np.array(uniq), np.array(names)).astype(np.int64), uniq
    if a.dtype.kind == "f" and np.any(a != np.round(a)):
        raise ValueError("the labels have fractional parts, so they cannot be classes; use "
                         "task 'regression' (or round them first)")
    ints = a.astype(np.int64).ravel()
    uniq_vals, y = np.unique(ints, return_inverse=True)
    return y.astype(np.int64), [str(v) for v in uniq_vals]
