"""The linear part of a layer: Z[l] = W[l] A[l-1] + b[l], and its backward step."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


def linear_forward(A: Array, W: Array, b: Array) -> Array:
    """Z = W A + b.

    Parameters
    ----------
    A : ndarray of shape (n[l-1], m)
    W : ndarray of shape (n[l], n[l-1])
    b : ndarray of shape (n[l], 1)

    Returns
    -------
    Z : ndarray of shape (n[l], m)
    """
    Z = W @ A
    Z += b
    return Z


def linear_backward(
    dZ: Array, A_prev: Array, W: Array, *, need_dA_prev: bool = True
) -> tuple[Array | None, Array, Array]:
    """Backward step of Z[l] = W[l] A[l-1] + b[l].

    Parameters
    ----------
    dZ : ndarray of shape (n[l], m)
        Gradient of the cost with respect to Z[l], per example (not yet divided by m).
    A_prev : ndarray of shape (n[l-1], m)
    W : ndarray of shape (n[l], n[l-1])
    need_dA_prev : bool
        False skips dA[l-1] = W.T dZ, which nobody needs for the first layer of a training
        step (it is the gradient with respect to the input X).

    Returns
    -------
    dA_prev : ndarray of shape (n[l-1], m), or None when not needed
    dW : ndarray of shape (n[l], n[l-1])
        dZ A_prev.T / m
    db : ndarray of shape (n[l], 1)
        the row sums of dZ, / m
    """
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T
    dW *= 1.0 / m
    db = np.sum(dZ, axis=1, keepdims=True)
    db *= 1.0 / m
    dA_prev = W.T @ dZ if need_dA_prev else None
    return dA_prev, dW, db
