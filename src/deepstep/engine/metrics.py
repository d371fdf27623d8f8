"""Turning outputs into predictions, and the metrics reported for them."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def predict_classes(AL: NDArray, threshold: float = 0.5) -> NDArray:
    """Class indices from the output: a (1, m) sigmoid row is thresholded (AL > 0.5 -> 1, as
    the course does), an (n[L], m) softmax block is arg-maxed. Returns shape (1, m).
    """
    if AL.shape[0] == 1:
        return (AL > threshold).astype(np.int64)
    return np.argmax(AL, axis=0).reshape(1, -1)


def accuracy(predicted: NDArray, Y: NDArray) -> float:
    """The fraction of correct predictions: a mean, so 209 of 209 is exactly 1.0."""
    return float(np.mean(np.asarray(predicted).ravel() == np.asarray(Y).ravel()))
