"""Regularisation: L2 weight decay, inverted dropout masks and gradient clipping."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .flat import FlatParams

Array = NDArray[np.floating]
Params = dict[str, Array]


def weight_names(params: Params) -> list[str]:
    """The weight keys "W1", ..., "WL" in layer order (biases are not regularised)."""
    return [f"W{l}" for l in range(1, len(params) // 2 + 1)]


def l2_cost(params: Params, l2: float, m: int) -> float:
    """Lambda / (2 m) * sum_l ||W[l]||_F^2 (course 2, "Regularization")."""
    if not l2:
        return 0.0
    total = sum(float(np.vdot(params[k], params[k])) for k in weight_names(params))
    return l2 / (2 * m) * total


def add_l2_gradient(
    dW: Array, W: Array, l2: float, m: int, scratch: Array | None = None
) -> Array:
    """DW += lambda / m * W, in place; returns dW. ``scratch`` (shaped like W) saves a
    temporary.
    """
    if l2:
        dW += np.multiply(W, l2 / m, out=scratch)
    return dW


def dropout_mask(
    shape: tuple[int, ...], keep_prob: float, rng: np.random.Generator, dtype: DTypeLike
) -> Array:
    """Inverted dropout: D / keep_prob, where D[i, j] = 1 with probability keep_prob, else 0.

    Multiplying A[l] by the mask in the forward pass and dA[l] by the same mask in the backward
    pass keeps the expected activation unchanged, so prediction needs no rescaling.
    """
    if not 0 < keep_prob <= 1:
        raise ValueError(f"keep probability must be in (0, 1], got {keep_prob}")
    keep = rng.random(shape) < keep_prob
    return keep.astype(dtype) / np.asarray(keep_prob, dtype=dtype)


def clip_by_global_norm(grads: Params, max_norm: float) -> float:
    """Scale every dW and db in place so that their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping. Flat gradients (one buffer) are scaled in one pass. The
    squared norms of the arrays are added exactly (``math.fsum``), so the order of the keys
    (layer L first as ``backward`` fills them, or layer 1 first as a flat buffer holds them)
    does not change the bits.
    """
    keys = [k for k in grads if k.startswith(("dW", "db"))]
    norm = math.sqrt(math.fsum(float(np.vdot(grads[k], grads[k])) for k in keys))
    if max_norm and norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        if isinstance(grads, FlatParams) and len(keys) == len(grads):
            grads.buffer *= scale  # the padding between arrays is zero and stays so
        else:
            for k in keys:
                grads[k] *= scale
    return norm
