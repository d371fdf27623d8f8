"""The linear part of a layer: Z[l] = W[l] A[l-1] + b[l], and its backward step."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


def linear_forward(A: Array, W: Array, b: Array, out: Array | None = None) -> Array:
    """Z = W A + b.

    Parameters
    ----------
    A : ndarray of shape (n[l-1], m)
    W : ndarray of shape (n[l], n[l-1])
    b : ndarray of shape (n[l], 1)
    out : ndarray of shape (n[l], m), optional
        Where to write Z (the training step's preallocated array); a new array otherwise.

    Returns
    -------
    Z : ndarray of shape (n[l], m)
    """
    Z = np.matmul(W, A, out=out)
    Z += b
    return Z


def linear_backward(
    dZ: Array,
    A_prev: Array,
    W: Array,
    *,
    need_dA_prev: bool = True,
    out: tuple[Array | None, Array, Array] | None = None,
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
    out : tuple (dA_prev, dW, db) of arrays, optional
        Where to write the results (dA_prev may be None); new arrays otherwise.

    Returns
    -------
    dA_prev : ndarray of shape (n[l-1], m), or None when not needed
    dW : ndarray of shape (n[l], n[l-1])
        dZ A_prev.T / m
    db : ndarray of shape (n[l], 1)
        the row sums of dZ, / m
    """
    dA_out, dW_out, db_out = (None, None, None) if out is None else out
    m = A_prev.shape[1]
    dW = np.matmul(dZ, A_prev.T, out=dW_out)
    dW *= 1.0 / m
    db = np.add.reduce(dZ, axis=1, keepdims=True, out=db_out)  # np.sum without its wrapper
    db *= 1.0 / m
    dA_prev = np.matmul(W.T, dZ, out=dA_out) if need_dA_prev else None
    return dA_prev, dW, db
