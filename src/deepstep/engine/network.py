"""Forward and backward propagation over L layers, each with its own activation.

Conventions (course 1, week 4): X = A[0] is (n[0], m); W[l] is (n[l], n[l-1]); b[l] is
(n[l], 1). Each layer's cache is ``(linear_cache, activation_cache)`` with
``linear_cache = (A_prev, W, b)`` and ``activation_cache = Z``; a layer trained with dropout
carries its mask as a third element, ``(linear_cache, Z, mask)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .activations import Activation, get_activation
from .flat import FlatParams
from .linear import linear_backward, linear_forward
from .losses import Loss
from .regularizers import add_l2_gradient, dropout_mask, l2_cost

Array = NDArray[np.floating]
Params = dict[str, Array]
Cache = tuple  # ((A_prev, W, b), Z) or ((A_prev, W, b), Z, mask)


class Workspace:
    """Preallocated arrays that a training loop keeps across steps.

    Given to :func:`forward` and :func:`backward` (through ``train_step``), it makes them write
    Z[l], A[l], dZ[l], dW[l] and db[l] into arrays allocated at the first step and reused while
    the shapes stay the same, instead of allocating (and page-faulting) new ones every step.
    What they return then lives in the workspace: valid until the next step overwrites it.

    The arrays take X's memory order: with X F-contiguous (the (m, n_x) rows of a C array seen
    as X.T, as mini-batches gathered by rows are) every A[l] is too, which makes each product
    W[l] A[l-1] read its operands contiguously (measured 1.5-2x faster for the cat network's
    first layer than W @ X with a C-ordered X on OpenBLAS).

    When the parameters are a :class:`~deepstep.engine.flat.FlatParams` (one buffer), the
    workspace lays dW[l] and db[l] out the same way in one gradient buffer
    (:attr:`flat_grads`), so that the optimiser updates the whole network in a few calls.

    Examples
    --------
    >>> ws = Workspace()
    >>> a = ws.array("Z1", (3, 4), np.float32, like=np.zeros((5, 4)))
    >>> a is ws.array("Z1", (3, 4), np.float32, like=np.zeros((5, 4)))
    True
    """

    def __init__(self) -> None:
        # name -> (array, whether it was asked for F-ordered)
        self._arrays: dict[str, tuple[Array, bool]] = {}
        self._like: Array | None = None  # the last ``like`` seen and its order: one check
        self._like_f = False  # per step instead of one per array
        self.flat_grads: FlatParams | None = None

    def attach(self, params: Params) -> None:
        """Lay the gradients out like ``params`` when it is a FlatParams (once per layout)."""
        if not isinstance(params, FlatParams):
            return
        have = self.flat_grads
        if have is None or have.layout is not params.layout.gradients:
            self.flat_grads = params.zeros_like(gradients=True)
            self._arrays.update((k, (v, False)) for k, v in self.flat_grads.items())

    def gradients(self, grads: dict[str, Array]) -> dict[str, Array]:
        """``grads`` as the workspace's FlatParams when it holds exactly its arrays (the
        gradients :func:`backward` wrote into it), else ``grads`` unchanged."""
        flat = self.flat_grads
        if flat is None or len(grads) != len(flat):
            return grads
        for k, v in flat.items():
            if grads.get(k) is not v:
                return grads
        return flat

    def array(self, name: str, shape: tuple[int, ...], dtype, like: Array | None = None) -> Array:
        """The array called ``name``, reallocated only when its shape, dtype or order change."""
        f = False
        if like is not None:
            if like is not self._like:
                self._like, self._like_f = like, _f_ordered(like)
            f = self._like_f
        entry = self._arrays.get(name)
        if entry is not None:
            a, a_f = entry
            if a_f == f and a.shape == shape and a.dtype == dtype:
                return a
        a = np.empty(shape, dtype=dtype, order="F" if f else "C")
        self._arrays[name] = (a, f)
        return a

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return sum(a.nbytes for a, _ in self._arrays.values())


def _f_ordered(a: Array) -> bool:
    return a.ndim == 2 and a.shape[0] > 1 and a.flags.f_contiguous and not a.flags.c_contiguous


def n_layers(params: Params) -> int:
    """L, the number of layers with parameters (W1, b1, ..., WL, bL)."""
    L = len(params) // 2
    missing = [k for l in range(1, L + 1) for k in (f"W{l}", f"b{l}") if k not in params]
    if missing or L == 0:
        raise ValueError(
            f"parameters must hold W1, b1, ..., WL, bL; missing {missing or ['W1', 'b1']}"
        )
    return L


def layer_dims(params: Params) -> list[int]:
    """[n[0], n[1], ..., n[L]] read off the weight shapes."""
    L = n_layers(params)
    return [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]


def resolve_activations(
    hidden: str | Activation | Sequence[str | Activation], output: str | Activation, L: int
) -> list[Activation]:
    """One Activation per layer: ``hidden`` for layers 1..L-1 (a name or a list), ``output``."""
    if isinstance(hidden, (str, Activation)):
        hidden_list = [hidden] * (L - 1)
    else:
        hidden_list = list(hidden)
        if len(hidden_list) != L - 1:
            raise ValueError(
                f"hidden activations: got {len(hidden_list)} names for {L - 1} hidden layers"
            )
    return [get_activation(a) for a in hidden_list] + [get_activation(output)]


def _check_layer(l: int, A_prev: Array, W: Array, b: Array) -> None:
    a_name = "X" if l == 1 else f"A{l - 1}"
    if W.ndim != 2 or A_prev.ndim != 2:
        raise ValueError(
            f"layer {l}: W{l} is {W.shape} and {a_name} is {A_prev.shape}; both must be 2-D "
            "(course layout: X is (n_x, m))"
        )
    if W.shape[1] != A_prev.shape[0]:
        raise ValueError(
            f"layer {l}: W{l} is {W.shape} but {a_name} has {A_prev.shape[0]} rows "
            f"({a_name} is {A_prev.shape}; X must be (n_x, m), one column per example)"
        )
    if b.shape != (W.shape[0], 1):
        raise ValueError(f"layer {l}: b{l} is {b.shape} but W{l} is {W.shape}; b{l} must be "
                         f"({W.shape[0]}, 1)")


def _layer_mask(
    layer: int,
    L: int,
    A: Array,
    keep_probs: Sequence[float] | None,
    rng: np.random.Generator | None,
    masks: Sequence[Array | None] | None,
) -> Array | None:
    """Return the dropout mask for A[layer]: the fixed one, a fresh draw, or None."""
    if layer == L:
        return None
    if masks is not None:
        if keep_probs is not None:
            raise ValueError("give dropout either as keep_probs (with rng) or as masks, not both")
        if len(masks) != L - 1:
            raise ValueError(f"masks: got {len(masks)} for {L - 1} hidden layers")
        mask = masks[layer - 1]
        if mask is not None and np.shape(mask) != A.shape:
            raise ValueError(
                f"layer {layer}: the dropout mask is {np.shape(mask)} but A{layer} is {A.shape}"
            )
        return mask
    keep = keep_probs[layer - 1] if keep_probs is not None else 1.0
    if keep >= 1.0:
        return None
    if rng is None:
        raise ValueError("dropout needs a numpy.random.Generator (rng)")
    return dropout_mask(A.shape, keep, rng, A.dtype)


def forward(
    X: Array,
    params: Params,
    activations: Sequence[Activation],
    *,
    keep_probs: Sequence[float] | None = None,
    rng: np.random.Generator | None = None,
    masks: Sequence[Array | None] | None = None,
    workspace: Workspace | None = None,
) -> tuple[Array, list[Cache]]:
    """A[L] and the caches: A[l] = g[l](W[l] A[l-1] + b[l]) for l = 1..L.

    Parameters
    ----------
    X : ndarray of shape (n[0], m)
    params : dict with W{l} of shape (n[l], n[l-1]) and b{l} of shape (n[l], 1)
    activations : sequence of L :class:`Activation`
    keep_probs : sequence of L - 1 floats, optional
        Inverted-dropout keep probability for each hidden layer's output (1 = no dropout).
    rng : numpy.random.Generator
        Draws the dropout masks; required when any keep probability is below 1.
    masks : sequence of L - 1 arrays (or None), optional
        Fixed inverted-dropout masks, already divided by the keep probability: masks[l - 1]
        of shape (n[l], m) multiplies A[l], None leaves layer l alone. They replace
        ``keep_probs`` and ``rng``, so the cost is a deterministic function of the
        parameters (what gradient checking needs) and a step can be replayed.
    workspace : Workspace, optional
        Write every Z[l] and A[l] into its preallocated arrays (training); the returned AL
        and caches then stay valid until the workspace is used again.

    Returns
    -------
    AL : ndarray of shape (n[L], m)
    caches : list of L caches, ``((A_prev, W, b), Z)`` (plus the mask with dropout)
    """
    L = n_layers(params)
    if len(activations) != L:
        raise ValueError(f"{len(activations)} activations for {L} layers")
    if workspace is not None:
        workspace.attach(params)
    A = X
    caches: list[Cache] = []
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        _check_layer(l, A, W, b)
        A_prev = A
        if workspace is None:
            Z = linear_forward(A_prev, W, b)
            A = activations[l - 1].forward(Z)
        else:
            shape = (W.shape[0], X.shape[1])
            Z = linear_forward(A_prev, W, b, out=workspace.array(f"Z{l}", shape, W.dtype, X))
            A = activations[l - 1].forward(Z, out=workspace.array(f"A{l}", shape, W.dtype, X))
        mask = _layer_mask(l, L, A, keep_probs, rng, masks)
        if mask is not None:
            A = A * mask if workspace is None else np.multiply(A, mask, out=A)
            caches.append(((A_prev, W, b), Z, mask))
        else:
            caches.append(((A_prev, W, b), Z))
    return A, caches


def predict_forward(X: Array, params: Params, activations: Sequence[Activation]) -> Array:
    """A[L] without keeping caches (inference: each A[l] is freed once A[l+1] exists)."""
    A = X
    for l in range(1, n_layers(params) + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        _check_layer(l, A, W, b)
        A = activations[l - 1].forward(linear_forward(A, W, b))
    return A


def compute_cost(AL: Array, Y: Array, loss: Loss, params: Params | None = None,
                 l2: float = 0.0, weights: Array | None = None) -> float:
    """J = loss(AL, Y) + lambda / (2 m) sum_l ||W[l]||^2 (the second term only when l2 > 0).

    ``weights`` (1, m), optional, weighs each example's loss (see :mod:`.losses`).
    """
    J = loss.cost(AL, Y) if weights is None else loss.cost(AL, Y, weights)
    if l2 and params is not None:
        J += l2_cost(params, l2, AL.shape[1])
    return J


def backward(
    AL: Array,
    Y: Array,
    caches: Sequence[Cache],
    activations: Sequence[Activation],
    loss: Loss,
    *,
    l2: float = 0.0,
    fused: bool = True,
    need_dA0: bool = False,
    keep_dA: bool = False,
    workspace: Workspace | None = None,
    weights: Array | None = None,
) -> dict[str, Array]:
    """Gradients of the cost with respect to every W[l] and b[l] (dZ[L], then the layer loop).

    Parameters
    ----------
    AL : ndarray of shape (n[L], m)
    Y : ndarray of shape (n[L], m)
    caches : the caches returned by :func:`forward`
    activations : sequence of L :class:`Activation`
    loss : the :class:`Loss` whose gradient is taken
    l2 : float
        L2 strength lambda; adds lambda / m * W[l] to dW[l].
    fused : bool
        Use dZ[L] = A[L] - Y when the output activation is the loss's partner (sigmoid + BCE,
        softmax + CCE, linear + MSE). False takes the textbook path through dA[L].
    need_dA0 : bool
        Also compute dA[0], the gradient with respect to X (a training step does not need it).
    keep_dA : bool
        Return every dA[l] too (the course's ``grads`` dict). Otherwise each dA[l] is
        overwritten in place by dZ[l], which saves an allocation per layer.
    workspace : Workspace, optional
        Write dZ[l], dW[l], db[l] and dA[l] into its preallocated arrays (training); the
        gradients then stay valid until the workspace is used again. Not with ``keep_dA``.
    weights : ndarray of shape (1, m), optional
        Per-example loss weights, as given to :func:`compute_cost`: they scale dZ[L].

    Returns
    -------
    grads : dict
        "dW{l}" (n[l], n[l-1]) and "db{l}" (n[l], 1), and "dA{l}" (n[l], m) where asked for.
    """
    L = len(caches)
    # Labels in the output's dtype: int64 labels (as the course's h5 files hold) would otherwise
    # promote dZ = AL - Y, and with it every gradient of a float32 network, to float64.
    Y = np.asarray(Y, dtype=AL.dtype)
    ws = None if keep_dA else workspace
    out = activations[-1]
    if fused and loss.fused_activation == out.name:
        into = None if ws is None else ws.array(f"dZ{L}", AL.shape, AL.dtype, AL)
        dZ = np.subtract(AL, Y, out=into)
    else:
        # the textbook path, as the course writes it: dA[L] from the loss, then g'(Z[L]) from
        # the cached Z (not from AL), so hand-made caches give the course's numbers too
        dAL = loss.gradient(AL, Y)
        dZ = out.backward(dAL, caches[-1][1], None, out=dAL)
    if weights is not None:
        dZ *= weights
    return backward_from(dZ, caches, activations, l2=l2, need_dA0=need_dA0, keep_dA=keep_dA,
                         workspace=workspace, like=AL)


def backward_from(
    dZL: Array,
    caches: Sequence[Cache],
    activations: Sequence[Activation],
    *,
    l2: float = 0.0,
    need_dA0: bool = False,
    keep_dA: bool = False,
    workspace: Workspace | None = None,
    like: Array | None = None,
) -> dict[str, Array]:
    """The layer loop of :func:`backward`, started from a given dZ[L], down to dW[1] (or dA[0]).

    dA[l-1] = W[l]^T dZ[l] and dZ[l-1] = dA[l-1] * g[l-1]'(Z[l-1]) for l = L..1, with
    dW[l] = dZ[l] A[l-1]^T / m and db[l] = the row sums of dZ[l] / m on the way. ``backward``
    calls it with the loss's dZ[L]; attributions call it with dZ[L] = the one-hot of the
    explained class and ``need_dA0=True``, so dA[0] is the gradient of that class's score
    with respect to the network's input, through the same code that trains.

    Parameters
    ----------
    dZL : ndarray of shape (n[L], m)
        Gradient of the objective with respect to Z[L], per example (not divided by m).
        Overwritten when a workspace is given (it is then usually the workspace's own dZ[L]).
    caches : the caches returned by :func:`forward`
    activations : sequence of L :class:`Activation`
    l2, need_dA0, keep_dA, workspace
        As in :func:`backward`.
    like : ndarray of shape (n[L], m), optional
        The array whose memory order the workspace's arrays follow (``backward`` passes A[L]);
        default ``dZL``.

    Returns
    -------
    grads : dict
        "dW{l}" (n[l], n[l-1]) and "db{l}" (n[l], 1), and "dA{l}" (n[l], m) where asked for
        ("dA0", of shape (n[0], m), with ``need_dA0``).
    """
    L = len(caches)
    m = dZL.shape[1]
    like = dZL if like is None else like
    dtype = like.dtype
    grads: dict[str, Array] = {}
    ws = None if keep_dA else workspace

    def buffer(name: str, shape_of: Array) -> Array | None:
        return None if ws is None else ws.array(name, shape_of.shape, dtype, like)

    dZ = dZL
    for l in range(L, 0, -1):
        (A_prev, W, _), _Z = caches[l - 1][:2]
        need = l > 1 or need_dA0 or keep_dA
        into = None if ws is None else (
            buffer(f"dZ{l - 1}", A_prev) if need else None,
            ws.array(f"dW{l}", W.shape, dtype), ws.array(f"db{l}", (W.shape[0], 1), dtype))
        dA_prev, dW, db = linear_backward(dZ, A_prev, W, need_dA_prev=need, out=into)
        scratch = ws.array(f"l2_{l}", W.shape, dtype) if ws is not None and l2 else None
        grads[f"dW{l}"] = add_l2_gradient(dW, W, l2, m, scratch)
        grads[f"db{l}"] = db
        if dA_prev is None:
            break
        if keep_dA or l == 1:
            grads[f"dA{l - 1}"] = dA_prev
        if l == 1:
            break
        prev = caches[l - 2]
        Z_prev = prev[1]
        if len(prev) > 2:  # dropout: the mask scales dA[l-1]; A[l-1] before it is not cached
            dA_prev = dA_prev * prev[2] if ws is None else np.multiply(dA_prev, prev[2],
                                                                        out=dA_prev)
            dZ = activations[l - 2].backward(dA_prev, Z_prev, None, out=dA_prev)
        else:
            target = None if keep_dA else dA_prev
            dZ = activations[l - 2].backward(dA_prev, Z_prev, A_prev, out=target)
    return grads
