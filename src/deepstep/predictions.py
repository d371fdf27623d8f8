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


def class_names(net: Network) -> list[str]:
    """The name of each of the model's classes, in ``net.classes_`` order.

    A model from ``deepstep train`` has classes 0..k-1, indices into its training data's
    names (``config_["data"]["classes"]``); any other (``Network.fit`` on labels like {3, 8},
    strings or booleans) is named by its labels, integral floats written as integers the
    way the data loaders name them.

    Examples
    --------
    >>> from deepstep import Network
    >>> net = Network([2, 1]); net.classes_ = np.array([3, 8]); class_names(net)
    ['3', '8']
    >>> net.config_ = {"data": {"classes": ["cat", "dog"]}}; net.classes_ = np.arange(2)
    >>> class_names(net)
    ['cat', 'dog']
    """
    labels = [] if net.classes_ is None else np.asarray(net.classes_).ravel().tolist()
    names = (net.config_.get("data") or {}).get("classes")
    if names and labels == list(range(len(names))) and all(type(c) is int for c in labels):
        return [str(n) for n in names]
    return [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in labels]


def predictions(net: Network, X: NDArray) -> list[tuple[str, float | None]]:
    """For each column of X: (class name or value, probability of that class or None)."""
    if net.classes_ is None:
        return [(f"{v:.6g}", None) for v in net.predict(X)[0]]
    proba = net.predict_proba(X)
    names = class_names(net)
    idx = np.asarray(predict_classes(proba)).ravel().astype(np.int64)
    if proba.shape[0] == 1:
        p = np.where(idx == 1, proba[0], 1 - proba[0])
    else:
        p = proba[idx, np.arange(proba.shape[1])]
    return [(names[i], float(q)) for i, q in zip(idx, p, strict=True)]
