"""What a classifier or regressor says about each input: the predicted class with its
probability, or the predicted value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .engine.metrics import predict_classes

if TYPE_CHECKING:
    from .model import Network


def predictions(net: Network, X: NDArray) -> list[tuple[str, float | None]]:
    """For each column of X: (class name or value, probability of that class or None)."""
    if net.classes_ is None:
        return [(f"{v:.6g}", None) for v in net.predict(X)[0]]
    proba = net.predict_proba(X)
    names = (net.config_.get("data") or {}).get("classes") or [str(c) for c in net.classes_]
    idx = np.asarray(predict_classes(proba)).ravel().astype(np.int64)
    if proba.shape[0] == 1:
        p = np.where(idx == 1, proba[0], 1 - proba[0])
    else:
        p = proba[idx, np.arange(proba.shape[1])]
    return [(str(names[int(net.classes_[i])]), float(q)) for i, q in zip(idx, p, strict=True)]
