"""Input checks shared by every front: clear errors that say what is wrong and what to do."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def check_X(X: NDArray, n_x: int | None = None) -> NDArray:
    """X as a 2-D float array of shape (n_x, m), with a clear error otherwise."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D of shape (n_x, m), one column per example; got shape {X.shape}. "
            "Flatten images first, e.g. X = images.reshape(m, -1).T"
        )
    if n_x is not None and X.shape[0] != n_x:
        raise ValueError(
            f"X has {X.shape[0]} rows but the network expects n_x = {n_x} features "
            f"(X is {X.shape}; is it transposed? the layout is (n_x, m))"
        )
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    return X


def check_labels(Y: NDArray, m: int) -> NDArray:
    """Y as (n_y, m): a vector of shape (m,) becomes a (1, m) row; a wrong m is named.

    Examples
    --------
    >>> check_labels(np.array([0, 1, 1]), 3).shape
    (1, 3)
    """
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2:
        raise ValueError(f"labels must have shape (m,) or (n_y, m); got {Y.shape}")
    if Y.shape[1] != m:
        if Y.shape == (m, 1):
            return Y.T
        raise ValueError(
            f"labels have {Y.shape[1]} examples (shape {Y.shape}) but X has m = {m} columns; "
            "give one label per column of X"
        )
    return Y
