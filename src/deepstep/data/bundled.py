"""The small data sets that ship inside scikit-learn (no download), by name."""

from __future__ import annotations

import importlib

import numpy as np

from .dataset import Dataset, encode_labels

BUNDLED: dict[str, tuple[int, int, int] | None] = {
    "digits": (8, 8, 1),
    "breast_cancer": None,
    "iris": None,
    "wine": None,
    "diabetes": None,
}
"""name -> image shape or None; the data come from ``sklearn.datasets.load_<name>``.

scikit-learn is imported only when a bundled set is asked for: it costs about 100 MiB of
memory and a second of start-up that streaming a file should not pay.
"""


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
    bunch = getattr(importlib.import_module("sklearn.datasets"), f"load_{name}")()
    names = getattr(bunch, "target_names", None)
    if names is None:
        y, classes = bunch.target.astype(np.float64), None
    else:
        y, classes = encode_labels(bunch.target, [str(n) for n in names])
    X = np.ascontiguousarray(bunch.data.T, dtype=np.float64)
    return Dataset(X, y, classes, BUNDLED[name], name, "bundled")
