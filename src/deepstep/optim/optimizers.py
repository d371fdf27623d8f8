"""Optimisers as pure ``init`` / ``update`` pairs over the parameter dict (course 2, week 2).

``init(params) -> state`` and ``update(params, grads, state, lr, t, inplace=False) ->
(params, state)``. With ``inplace=False`` (the default) nothing passed in is modified; the
training loop passes ``inplace=True`` to update the parameters and the state where they lie.
That path allocates nothing after the first step: each optimiser keeps one scratch array per
parameter (reused across steps), so an instance must not be shared between threads. The
gradients are never modified.

Flat fast path: when ``inplace=True`` and the parameters and gradients are
:class:`~deepstep.engine.flat.FlatParams` of one layout (what the training loop's packed
parameters and its Workspace give), each line of a formula below is one NumPy call over the
whole network's buffer instead of one per array; the state is then FlatParams too (``init``
of flat parameters makes it so; a per-array state is packed at the first flat step). The
buffers are split across as many threads as the BLAS uses (:mod:`deepstep.engine.parallel`).
The numbers are the per-array in-place path's, bit for bit.

The in-place paths compute in the parameters' dtype. The pure path (``inplace=False``) keeps
its historical arithmetic, where Adam's two bias-correction constants are NumPy float64 and
promote those two passes of a float32 network to float64 (4x slower, and not bit-equal to
the in-place path in float32; identical in float64).

Formulas, for each parameter P with gradient dP at step t = 1, 2, ...:

- gd:       P -= lr dP
- momentum: v = beta v + (1 - beta) dP; P -= lr v                 (Qian 1999; course 2)
- rmsprop:  s = beta2 s + (1 - beta2) dP^2; P -= lr dP / (sqrt(s) + eps)   (Hinton 2012)
- adam:     v, s as above; P -= lr (v / (1 - beta1^t)) / (sqrt(s / (1 - beta2^t)) + eps)
            (Kingma & Ba 2015, with bias correction, as in course 2 and PyTorch)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine.flat import FlatParams, flat_like, flat_pair
from ..engine.parallel import run_split
from ..registry import resolve_name

Array = NDArray[np.floating]
Params = dict[str, Array]
State = dict[str, Any]


def _pairs(params: Params) -> list[tuple[str, str]]:
    """(parameter key, gradient key) pairs: ("W1", "dW1"), ("b1", "db1"), ..."""
    return [(k, "d" + k) for k in params]


def _target(params: Params, inplace: bool) -> Params:
    return params if inplace else {k: v.copy() for k, v in params.items()}


def _zeros(params: Params) -> dict[str, Array]:
    if isinstance(params, FlatParams):
        return params.zeros_like()
    return {k: np.zeros_like(v) for k, v in params.items()}


def _flat_state(arrays: dict[str, Array], params: FlatParams) -> FlatParams:
    """One state moment laid out like ``params`` (packed once if it came per array)."""
    if flat_like(params, arrays):
        return arrays  # type: ignore[return-value]
    out = params.zeros_like()
    for k in params:
        out[k] = arrays[k]
    return out


class _Scratch:
    """One reusable temporary per parameter key: the in-place updates write into it."""

    def __init__(self) -> None:
        self._arrays: dict[str, Array] = {}

    def __call__(self, key: str, like: Array) -> Array:
        a = self._arrays.get(key)
        if a is None or a.shape != like.shape or a.dtype != like.dtype:
            a = self._arrays[key] = np.empty_like(like)
        return a


@dataclass(frozen=True)
class Optimizer:
    """A named optimiser: ``init(params) -> state`` and ``update(...) -> (params, state)``."""

    name: str
    init: Callable[[Params], State]
    update: Callable[..., tuple[Params, State]]
    hyper: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Optimizer({self.name!r}, {self.hyper})"


def gd() -> Optimizer:
    """Plain (mini-batch) gradient descent: P -= lr dP."""
    scratch = _Scratch()

    def init(params: Params) -> State:
        return {}

    def step(P, dP, tmp, lr):
        P -= np.multiply(dP, lr, out=tmp)

    def update(params, grads, state, lr, t=1, inplace=False):
        if inplace and flat_pair(params, grads):
            P = params.buffer
            run_split(step, (P, grads.buffer, scratch("", P)), float(lr))
            return params, state
        new = _target(params, inplace)
        for k, g in _pairs(params):
            if inplace:
                step(new[k], grads[g], scratch(k, new[k]), lr)
            else:
                new[k] = params[k] - lr * grads[g]
        return new, state

    return Optimizer("gd", init, update)


def momentum(beta: float = 0.9) -> Optimizer:
    """Gradient descent with momentum: v = beta v + (1 - beta) dP; P -= lr v."""
    scratch = _Scratch()

    def init(params: Params) -> State:
        return {"v": _zeros(params)}

    def step(P, dP, v, tmp, lr):
        v *= beta
        v += np.multiply(dP, 1 - beta, out=tmp)
        P -= np.multiply(v, lr, out=tmp)

    def update(params, grads, state, lr, t=1, inplace=False):
        if inplace and flat_pair(params, grads):
            v = _flat_state(state["v"], params)
            run_split(step, (params.buffer, grads.buffer, v.buffer, scratch("", v.buffer)),
                      float(lr))
            return params, {"v": v}
        new = _target(params, inplace)
        v = state["v"] if inplace else {k: a.copy() for k, a in state["v"].items()}
        for k, g in _pairs(params):
            step(new[k], grads[g], v[k], scratch(k, v[k]), lr)
        return new, {"v": v}

    return Optimizer("momentum", init, update, {"beta": beta})


def rmsprop(beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """RMSprop: s = beta2 s + (1 - beta2) dP^2; P -= lr dP / (sqrt(s) + eps)."""
    scratch = _Scratch()

    def init(params: Params) -> State:
        return {"s": _zeros(params)}

    def step(P, dP, s, tmp, lr):
        s *= beta2
        np.multiply(dP, dP, out=tmp)
        tmp *= 1 - beta2
        s += tmp
        # lr dP / (sqrt(s) + eps), in the scratch array
        np.sqrt(s, out=tmp)
        tmp += eps
        np.divide(dP, tmp, out=tmp)
        tmp *= lr
        P -= tmp

    def update(params, grads, state, lr, t=1, inplace=False):
        if inplace and flat_pair(params, grads):
            s = _flat_state(state["s"], params)
            run_split(step, (params.buffer, grads.buffer, s.buffer, scratch("", s.buffer)),
                      float(lr))
            return params, {"s": s}
        new = _target(params, inplace)
        s = state["s"] if inplace else {k: a.copy() for k, a in state["s"].items()}
        for k, g in _pairs(params):
            step(new[k], grads[g], s[k], scratch(k, s[k]), lr)
        return new, {"s": s}

    return Optimizer("rmsprop", init, update, {"beta2": beta2, "eps": eps})


def adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam with bias correction (Kingma & Ba 2015), in the course-2 / PyTorch form."""
    scratch = _Scratch()

    def init(params: Params) -> State:
        return {"v": _zeros(params), "s": _zeros(params)}

    def step(P, dP, v, s, tmp, eps_c2, rate):
        v *= beta1
        v += np.multiply(dP, 1 - beta1, out=tmp)
        s *= beta2
        np.multiply(dP, dP, out=tmp)
        tmp *= 1 - beta2
        s += tmp
        # lr v / c1 / (sqrt(s) / c2 + eps) = (lr c2 / c1) v / (sqrt(s) + eps c2): the
        # same step with one pass less over the arrays, in the scratch array
        denom = np.sqrt(s, out=tmp)
        denom += eps_c2
        np.divide(v, denom, out=denom)
        denom *= rate
        P -= denom

    def update(params, grads, state, lr, t=1, inplace=False):
        c1 = 1 - beta1**t
        # Python floats keep the in-place paths in the parameters' dtype; the pure path's
        # NumPy float64 (its historical arithmetic) promotes a float32 network's last passes
        c2 = math.sqrt(1 - beta2**t) if inplace else np.sqrt(1 - beta2**t)
        eps_c2, rate = eps * c2, float(lr) * c2 / c1
        if inplace and flat_pair(params, grads):
            v, s = _flat_state(state["v"], params), _flat_state(state["s"], params)
            run_split(step, (params.buffer, grads.buffer, v.buffer, s.buffer,
                             scratch("", v.buffer)), eps_c2, rate)
            return params, {"v": v, "s": s}
        new = _target(params, inplace)
        if inplace:
            v, s = state["v"], state["s"]
        else:
            v = {k: a.copy() for k, a in state["v"].items()}
            s = {k: a.copy() for k, a in state["s"].items()}
        for k, g in _pairs(params):
            step(new[k], grads[g], v[k], s[k], scratch(k, v[k]), eps_c2, rate)
        return new, {"v": v, "s": s}

    return Optimizer("adam", init, update, {"beta1": beta1, "beta2": beta2, "eps": eps})


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "gd": gd,
    "momentum": momentum,
    "rmsprop": rmsprop,
    "adam": adam,
}
ALIASES = {"sgd": "gd", "gradient_descent": "gd"}


def get_optimizer(identifier: str | Optimizer, **hyper: float) -> Optimizer:
    """An optimiser by name, with its hyperparameters (or pass an :class:`Optimizer` through).

    Examples
    --------
    >>> get_optimizer("adam", beta1=0.8)
    Optimizer('adam', {'beta1': 0.8, 'beta2': 0.999, 'eps': 1e-08})
    """
    if isinstance(identifier, Optimizer):
        return identifier
    return OPTIMIZERS[resolve_name("optimizer", identifier, OPTIMIZERS, ALIASES)](**hyper)
