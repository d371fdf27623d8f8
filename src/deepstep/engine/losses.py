"""Losses (costs): each registry entry bundles the cost, its gradient and its fused output.

All take ``AL`` (the network's output, shape (n[L], m)) and ``Y`` (same shape) and average
over the m examples; an optional ``weights`` row (1, m) weighs each example's loss
(weights of mean 1 keep the scale; None is the plain mean, bit for bit). Logs never see 0:
in the costs, probabilities are clipped to [eps, 1 - eps] with eps the dtype's machine
epsilon, as scikit-learn's ``log_loss`` does. The gradients are not clipped at eps (that
would cut the gradient of a confidently wrong prediction to almost nothing); the categorical
one only keeps 1 / AL finite.

Where the output activation is the loss's natural partner (sigmoid + binary cross-entropy,
softmax + categorical cross-entropy, linear + squared error) the engine skips dA[L] and uses
the fused gradient dZ[L] = A[L] - Y, which is both faster and free of the 1/A division.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..registry import resolve_name

Array = NDArray[np.floating]


@dataclass(frozen=True)
class Loss:
    """A named cost J(AL, Y) with dJ/dAL (per example) and the activation it fuses with."""

    name: str
    cost: Callable[..., float]
    gradient: Callable[[Array, Array], Array]
    fused_activation: str

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


_EPS = {np.dtype(t): float(np.finfo(t).eps) for t in (np.float32, np.float64)}


def _clip(AL: Array) -> Array:
    # np.clip's bits, without its Python wrapper (a tenth of a small step's overhead)
    eps = _EPS.get(AL.dtype)
    if eps is None:
        eps = float(np.finfo(AL.dtype).eps)
    return np.minimum(np.maximum(AL, eps), 1 - eps)


def binary_cross_entropy(AL: Array, Y: Array, weights: Array | None = None) -> float:
    """J = -1/m sum(Y log(AL) + (1 - Y) log(1 - AL)) (each term times its weight).

    Examples
    --------
    >>> binary_cross_entropy(np.array([[.8, .9, .4]]), np.array([[1, 1, 0]]))
    0.2797765635793422
    """
    m = AL.shape[1]
    P = _clip(AL)
    terms = Y * np.log(P) + (1 - Y) * np.log(1 - P)
    return float(-1.0 / m * np.sum(terms if weights is None else terms * weights))


def _bce_gradient(AL: Array, Y: Array) -> Array:
    # The course's dAL, unclipped (its published test cases feed AL outside (0, 1)). Training
    # never takes this path: sigmoid + cross-entropy uses the fused dZ = AL - Y.
    return -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))


def categorical_cross_entropy(AL: Array, Y: Array, weights: Array | None = None) -> float:
    """J = -1/m sum_j sum_k Y[k, j] log(AL[k, j]), Y one-hot of shape (n[L], m)."""
    m = AL.shape[1]
    terms = Y * np.log(_clip(AL))
    return float(-np.sum(terms if weights is None else terms * weights) / m)


def _cce_gradient(AL: Array, Y: Array) -> Array:
    # dA = -Y / AL, guarded only against AL = 0 (floored at the smallest normal number, not at
    # eps): the output's backward multiplies by AL again (softmax: dZ = AL (dA - sum(dA AL))),
    # so dZ = AL - Y comes out exact to rounding for every AL >= tiny (2.2e-308 in float64,
    # 1.2e-38 in float32), as the fused path gives it. Flooring at eps made dZ = -AL / eps
    # instead of AL - 1 for a true class below 2.2e-16, a gradient that all but vanished.
    return -np.divide(Y, np.maximum(AL, np.finfo(AL.dtype).tiny))


def mean_squared_error(AL: Array, Y: Array, weights: Array | None = None) -> float:
    """J = 1/(2m) sum (AL - Y)^2: half the squared error per example, so dJ/dAL = AL - Y."""
    m = AL.shape[1]
    D = AL - Y
    D2 = D * D
    return float(np.sum(D2 if weights is None else D2 * weights) / (2 * m))


def _mse_gradient(AL: Array, Y: Array) -> Array:
    return AL - Y


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("binary_cross_entropy", binary_cross_entropy, _bce_gradient, "sigmoid"),
        Loss("categorical_cross_entropy", categorical_cross_entropy, _cce_gradient, "softmax"),
        Loss("mse", mean_squared_error, _mse_gradient, "linear"),
    )
}
ALIASES = {
    "bce": "binary_cross_entropy",
    "log_loss": "binary_cross_entropy",
    "cross_entropy": "binary_cross_entropy",
    "cce": "categorical_cross_entropy",
    "mean_squared_error": "mse",
    "squared_error": "mse",
}
DEFAULT_LOSS_FOR_OUTPUT = {
    "sigmoid": "binary_cross_entropy",
    "softmax": "categorical_cross_entropy",
}


def get_loss(identifier: str | Loss) -> Loss:
    """Look a loss up by name (or pass a :class:`Loss` through).

    Examples
    --------
    >>> get_loss("bce")
    Loss('binary_cross_entropy')
    """
    if isinstance(identifier, Loss):
        return identifier
    return LOSSES[resolve_name("loss", identifier, LOSSES, ALIASES)]


def loss_for_output(output_activation: str) -> Loss:
    """The loss that fuses with an output activation (linear and others: squared error)."""
    return LOSSES[DEFAULT_LOSS_FOR_OUTPUT.get(output_activation, "mse")]
