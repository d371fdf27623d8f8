"""The small data sets that ship inside scikit-learn (no download), by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import datasets as _sk

from .dataset import Dataset, encode_labels

BUNDLED: dict[str, tuple[Callable[[], Any], tuple[int, int, int] | None]] = {
    "digits": (_sk.load_digits, (8, 8, 1)),
    "breast_cancer": (_sk.load_breast_cancer, None),
    "iris": (_sk.load_iris, None),
    "wine": (_sk.load_wine, None),
    "diabetes": (_sk.load_diabetes, None),
}
"""name -> (scikit-learn loader, image shape or None)."""


def load_bundled(name: str) -> Dataset:
    """One of ``BUNDLED`` as a Dataset: X float64 (n_features, m); diabetes is regression.

    Examples
    --------
    >>> ds = load_bundled("iris")
    >>> ds.X.shape, ds.classes, ds.task
    ((4, 150), ['setosa', 'versicolor', 'virginica'], 'multiclass')
    """
    if name not in BUNDLED:
        raise ValueError(f"unknown bundled data set {name!r}; choose one of {', '.join(BUNDLED)}")
    loader, shape = BUNDLED[name]
    bunch = loader()
    names = getattr(bunch, "target_names", None)
    if names is None:
        y, classes = bunch.target.astype(np.float64), None
    else:
        y, classes = encode_labels(bunch.target, [str(n) for n in names])
    X = np.ascontiguousarray(bunch.data.T, dtype=np.float64)
    return Dataset(X, y, classes, shape, name, "bundled")
