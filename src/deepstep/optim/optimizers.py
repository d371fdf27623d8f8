"""Optimisers as pure ``init`` / ``update`` pairs over the parameter dict (course 2, week 2).

``init(params) -> state`` and ``update(params, grads, state, lr, t, inplace=False) ->
(params, state)``. With ``inplace=False`` (the default) nothing passed in is modified; the
training loop passes ``inplace=True`` to update the parameters and the state where they lie.
That path allocates nothing after the first step: each optimiser keeps one scratch array per
parameter (reused across steps), so an instance must not be shared between threads. The
gradients are never modified.

Formulas, for each parameter P with gradient dP at step t = 1, 2, ...:

- gd:       P -= lr dP
- momentum: v = beta v + (1 - beta) dP; P -= lr v                 (Qian 1999; course 2)
- rmsprop:  s = beta2 s + (1 - beta2) dP^2; P -= lr dP / (sqrt(s) + eps)   (Hinton 2012)
- adam:     v, s as above; P -= lr (v / (1 - beta1^t)) / (sqrt(s / (1 - beta2^t)) + eps)
            (Kingma & Ba 2015, with bias correction, as in course 2 and PyTorch)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
    return {k: np.zeros_like(v) for k, v in params.items()}


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

    def update(params, grads, state, lr, t=1, inplace=False):
        new = _target(params, inplace)
        for k, g in _pairs(params):
            if inplace:
                new[k] -= np.multiply(grads[g], lr, out=scratch(k, new[k]))
            else:
                new[k] = params[k] - lr * grads[g]
        return new, state

    return Optimizer("gd", init, update)


def momentum(beta: float = 0.9) -> Optimizer:
    """Gradient descent with momentum: v = beta v + (1 - beta) dP; P -= lr v."""
    scratch = _Scratch()

    def init(params: Params) -> State:
        return {"v": _zeros(params)}

    def update(params, grads, state, lr, t=1, inplace=False):
        new = _target(params, inplace)
        v = state["v"] if inplace else {k: a.copy() for k, a in state["v"].items()}
        for k, g in _pairs(params):
            tmp = scratch(k, v[k])
            v[k] *= beta
            v[k] += np.multiply(grads[g], 1 - beta, out=tmp)
            new[k] -= np.multiply(v[k], lr, out=tmp)
        return new, {"v": v}

    return Optimizer("momentum", init, update, {"beta": beta})


def rmsprop(beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """RMSprop: s = beta2 s + (1 - beta2) dP^2; P -= lr dP / (sqrt(s) + eps)."""
    scratch = _Scratch()

    def init(params: Params) -> State:
        return {"s": _zeros(params)}

    def update(params, grads, state, lr, t=1, inplace=False):
        new = _target(params, inplace)
        s = state["s"] if inplace else {k: a.copy() for k, a in state["s"].items()}
        for k, g in _pairs(params):
            dP, tmp = grads[g], scratch(k, s[k])
            s[k] *= beta2
            np.multiply(dP, dP, out=tmp)
            tmp *= 1 - beta2
            s[k] += tmp
            # lr dP / (sqrt(s) + eps), in the scratch array
            np.sqrt(s[k], out=tmp)
            tmp += eps
            np.divide(dP, tmp, out=tmp)
            tmp *= lr
            new[k] -= tmp
        return new, {"s": s}

    return Optimizer("rmsprop", init, update, {"beta2": beta2, "eps": eps})


def adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam with bias correction (Kingma & Ba 2015), in the course-2 / PyTorch form."""
    scratch = _Scratch()

    def init(params: Params) -> State:
        return {"v": _zeros(params), "s": _zeros(params)}

    def update(params, grads, state, lr, t=1, inplace=False):
        new = _target(params, inplace)
        if inplace:
            v, s = state["v"], state["s"]
        else:
            v = {k: a.copy() for k, a in state["v"].items()}
            s = {k: a.copy() for k, a in state["s"].items()}
        c1 = 1 - beta1**t
        c2 = np.sqrt(1 - beta2**t)
        for k, g in _pairs(params):
            dP, tmp = grads[g], scratch(k, v[k])
            v[k] *= beta1
            v[k] += np.multiply(dP, 1 - beta1, out=tmp)
            s[k] *= beta2
            np.multiply(dP, dP, out=tmp)
            tmp *= 1 - beta2
            s[k] += tmp
            # lr v / c1 / (sqrt(s) / c2 + eps) = (lr c2 / c1) v / (sqrt(s) + eps c2): the
            # same step with one pass less over the arrays, in the scratch array
            denom = np.sqrt(s[k], out=tmp)
            denom += eps * c2
            np.divide(v[k], denom, out=denom)
            denom *= lr * c2 / c1
            new[k] -= denom
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
