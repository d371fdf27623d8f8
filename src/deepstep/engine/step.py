"""One training step: forward, cost, backward, optimiser update. Every training loop calls it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..optim.optimizers import Optimizer, State
from .activations import Activation
from .losses import Loss
from .network import Workspace, backward, compute_cost, forward
from .regularizers import clip_by_global_norm, l2_cost

Array = NDArray[np.floating]


def train_step(
    X: Array,
    Y: Array,
    params: dict[str, Array],
    activations: Sequence[Activation],
    loss: Loss,
    optimizer: Optimizer,
    state: State,
    lr: float,
    t: int,
    *,
    l2: float = 0.0,
    keep_probs: Sequence[float] | None = None,
    rng: np.random.Generator | None = None,
    clip_norm: float | None = None,
    workspace: Workspace | None = None,
    weights: Array | None = None,
    parts: dict[str, float] | None = None,
) -> tuple[float, Array, State]:
    """Take one step on the batch (X, Y); ``params`` is updated in place.

    Parameters
    ----------
    X : ndarray of shape (n[0], m)
    Y : ndarray of shape (n[L], m)
    params : dict of W{l} (n[l], n[l-1]) and b{l} (n[l], 1), updated in place
    activations, loss : one :class:`Activation` per layer and the :class:`Loss`
    optimizer, state : the optimiser and its state; t is the step number, from 1
    lr : learning rate for this step
    l2, keep_probs, rng, clip_norm : L2 strength, dropout keep probabilities (one per hidden
        layer) with their Generator, and the global-norm clipping threshold.
    workspace : Workspace, optional
        Preallocated arrays kept by the training loop across steps (see :class:`Workspace`);
        the step then allocates next to nothing. AL lives in it until the next step.
    weights : ndarray of shape (1, m), optional
        Per-example loss weights (mean 1 over the training set keeps the learning rate's
        scale): class or sample weights.
    parts : dict, optional
        Receives "data_loss", the cost without the L2 penalty (for curves that show both).

    Returns
    -------
    cost : float
        The cost of the forward pass, before the update (what the course records).
    AL : ndarray of shape (n[L], m)
        The output of that forward pass (for running accuracy without a second pass).
    state : the optimiser's new state
    """
    AL, caches = forward(X, params, activations, keep_probs=keep_probs, rng=rng,
                         workspace=workspace)
    data_loss = compute_cost(AL, Y, loss, weights=weights)
    cost = data_loss + l2_cost(params, l2, AL.shape[1]) if l2 else data_loss
    if parts is not None:
        parts["data_loss"] = data_loss
    grads = backward(AL, Y, caches, activations, loss, l2=l2, workspace=workspace,
                     weights=weights)
    del caches
    if workspace is not None:  # one flat gradient buffer when the parameters are flat
        grads = workspace.gradients(grads)
    if clip_norm:
        clip_by_global_norm(grads, clip_norm)
    _, state = optimizer.update(params, grads, state, lr, t, inplace=True)
    return cost, AL, state
