"""Training diagnostics: spotting a run that collapsed to predicting one class."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .activations import Activation
from .metrics import predict_classes
from .network import predict_forward


def prior_entropy(Y: NDArray) -> float:
    """Cross-entropy of the best constant prediction: what a network that learned only biases
    reaches. For 0/1 labels with positive rate p it is -(p log p + (1-p) log(1-p)).
    """
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape[0] == 1:
        p = np.clip(Y.mean(), 1e-12, 1 - 1e-12)
        return float(-(p * np.log(p) + (1 - p) * np.log(1 - p)))
    q = np.clip(Y.mean(axis=1), 1e-12, 1)
    return float(-np.sum(q * np.log(q)))


def collapse_message(Y: NDArray, predicted: NDArray, final_cost: float, init: str) -> str | None:
    """A warning text when training ended predicting a single class with a cost no better
    than the label prior's entropy (the network learned the class frequencies, nothing else);
    None otherwise.

    Parameters
    ----------
    Y : ndarray of shape (n[L], m), the training labels (0/1 or one-hot)
    predicted : ndarray of shape (1, m) or (m,), the predicted classes on the training set
    final_cost : float, the last training cost
    init : str, the initialiser used (named in the advice)
    """
    if np.unique(np.asarray(predicted)).size != 1:
        return None
    if np.unique(np.asarray(Y), axis=-1).shape[-1] < 2:
        return None
    baseline = prior_entropy(Y)
    if final_cost < 0.98 * baseline:
        return None
    advice = (
        "initialise with 'course_app' (randn / sqrt(n[l-1])) or 'he' instead: x 0.01 weights "
        "shrink the signal layer after layer in a deep network"
        if init == "course"
        else "try another seed, a smaller learning rate, standardised inputs or 'he' init"
    )
    return (
        f"training collapsed: every training example is predicted as one class and the cost "
        f"ended at {final_cost:.4f}, no better than the entropy of the class frequencies "
        f"({baseline:.4f}); "
        f"{advice}"
    )


def warn_if_collapsed(X: NDArray, Y: NDArray, params: dict[str, NDArray],
                      activations: Sequence[Activation], final_cost: float, init: str,
                      *, stacklevel: int = 2) -> None:
    """Predict the training set once and warn (RuntimeWarning) with :func:`collapse_message`.

    A final cost clearly below the class prior's entropy rules a collapse out without the
    forward pass over the training set (which cost as much as an epoch of forward steps).

    ``stacklevel`` counts from the caller of this function, as in :func:`warnings.warn`.
    """
    if final_cost < 0.98 * prior_entropy(Y):
        return  # better than the class prior: not collapsed, no need to predict
    predicted = predict_classes(predict_forward(X, params, activations))
    message = collapse_message(Y, predicted, final_cost, init)
    if message:
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel + 1)
