"""The dual path for the first layer, for wide data (n_x >> m).

Under gradient descent and momentum, every change to W[1] is a mix of W[1] itself (L2 decay)
and of dZ[1] X_b^T (the data term, X_b the batch's columns of the training inputs X), so from
its initial value W1_0 the first layer's weights keep the form

    W[1] = c W1_0 + A X^T,       c a scalar, A of shape (n[1], m),

with m the number of training examples. With the Gram matrix K = X^T X (m, m) and
P0 = W1_0 X (n[1], m) computed once, a step needs

    Z[1] = c P0[:, idx] + A K[:, idx] + b[1]            (n[1] m b multiply-adds)

instead of W[1] X_b (n[1] n_x b), and dW[1] X_b^T is never formed: the update moves c and the
batch's columns of A. For the course's cat network (n_x = 12288, m = 209) each first-layer
product costs 59x less. W[1] is formed once at the end (:meth:`DualFirstLayer.sync`), or when
the training loop needs it (validation, a checkpoint).

What the dual form needs, and where it comes from:

- L2 (lambda): dW[1] = (dZ[1] X_b^T + lambda W[1]) / b = G X^T + h W1_0, with
  G = (D + lambda A) / b (D: dZ[1] in the batch's columns of an (n[1], m) zero block) and
  h = lambda c / b.
- gradient clipping: ||dW[1]||^2 = <G K, G> + 2 h <G, P0> + h^2 ||W1_0||^2 (no n_x term).
- the L2 cost: ||W[1]||^2 = c^2 ||W1_0||^2 + 2 c <A, P0> + <A K, A>.
- momentum: the velocity of W[1] has the same form, v = cv W1_0 + Av X^T, updated as
  cv = beta cv + (1 - beta) s h and Av = beta Av + (1 - beta) s G (s: the clipping scale).
- dropout on hidden layers, schedules, shuffling: unchanged (the layers after the first are
  the engine's own forward/backward, with the same random draws in the same order).

Adam and RMSprop divide each weight's step by its own running scale, which breaks the form:
``solver="dual"`` refuses them (``"auto"`` takes the primal path for them).

The cost model behind ``solver="auto"`` (:func:`plan_costs`), in multiply-adds x 2 (flops):

- primal, per step: 4 n[1] n_x b (the forward product W[1] X_b and dW[1] = dZ[1] X_b^T);
- dual, per step: 2 n[1] m b (A K[:, idx]), plus 2 n[1] m^2 when L2 or clipping needs the
  dense terms above, plus 2 n[1] m^2 more for the L2 cost when the batch is not the full set;
- dual, once: 2 m^2 n_x (K) + 2 n[1] n_x m (P0) + 2 n[1] n_x m per formed W[1] (the end, and
  once per epoch when the loop validates);
- memory: K holds m^2 floats (plus P0, A and, for momentum, Av: n[1] m each).

``auto`` takes the dual path when the optimiser allows it, K is no larger than X itself
(m <= n_x) and the dual flops are below half the primal ones (the margin pays for the dual's
extra calls per step).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> X = rng.random((500, 20)); W1 = rng.standard_normal((3, 500))
>>> dual = DualFirstLayer(X, W1)
>>> bool(np.allclose(dual.weights(), W1))
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..optim.optimizers import Optimizer, State
from .activations import Activation
from .losses import Loss
from .network import Workspace, backward, compute_cost, forward
from .regularizers import dropout_mask

Array = NDArray[np.floating]

SOLVERS = ("auto", "primal", "dual")
DUAL_OPTIMIZERS = ("gd", "momentum")


def check_solver(solver: str) -> str:
    """``solver`` if it is one of "auto", "primal", "dual", else a ValueError naming them."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}; got "
                         f"{solver!r}")
    return solver


@dataclass(frozen=True)
class PlanCosts:
    """Flops of a whole training run on each path, and the dual's memory for K."""

    primal_flops: float
    dual_flops: float
    k_bytes: int
    x_bytes: int

    @property
    def dual_wins(self) -> bool:
        """The ``auto`` rule: K no larger than X, dual flops below half the primal ones."""
        return self.k_bytes <= self.x_bytes and self.dual_flops < 0.5 * self.primal_flops


def plan_costs(n_x: int, n1: int, m: int, batch_size: int | None, epochs: int, *,
               itemsize: int = 8, l2: float = 0.0, clip: bool = False,
               syncs: int = 1) -> PlanCosts:
    """The cost model of the module docstring for one run of ``epochs`` epochs.

    Parameters
    ----------
    n_x, n1, m : input size, first layer's width, number of training examples
    batch_size : int or None (the full batch)
    epochs : passes over the data
    itemsize : bytes per float (4 for float32)
    l2, clip : whether L2 and gradient clipping are on (they add n1 m^2 terms to a dual step)
    syncs : how many times W[1] is formed (1: at the end; + epochs when validating each epoch)
    """
    b = m if batch_size is None else max(1, min(batch_size, m))
    steps = epochs * -(-m // b)
    primal = steps * 4.0 * n1 * n_x * b
    per_step = 2.0 * n1 * m * b
    if l2 or clip:
        per_step += 2.0 * n1 * m * m
    if l2 and b < m:
        per_step += 2.0 * n1 * m * m
    once = 2.0 * m * m * n_x + 2.0 * n1 * n_x * m + syncs * 2.0 * n1 * n_x * m
    return PlanCosts(primal, steps * per_step + once, m * m * itemsize, n_x * m * itemsize)


def plan(solver: str, optimizer: Optimizer, X: Array | None, params: dict[str, Array], *,
         batch_size: int | None, epochs: int, l2: float = 0.0, clip_norm: float | None = None,
         validation: bool = False, state: State | None = None, resuming: bool = False
         ) -> tuple[DualFirstLayer | None, str]:
    """Decide the path for a training run; start the dual path when it is taken.

    Parameters
    ----------
    solver : {"auto", "primal", "dual"}
    optimizer : the run's :class:`~deepstep.optim.Optimizer`
    X : ndarray of shape (n_x, m), the training inputs (None for streamed data: primal)
    params : the initial parameters; W1 (n[1], n_x) becomes W1_0
    batch_size, epochs, l2, clip_norm : the run's settings
    validation : whether W[1] is needed after every epoch (validation, early stopping)
    state : the optimiser state training continues from, if any (momentum's velocity for W1
        must be zero: the dual form starts from rest)
    resuming : whether the run continues from a checkpoint (read after this call: the dual
        form then starts from the restored W1 at the first step; momentum cannot resume)

    Returns
    -------
    dual : DualFirstLayer or None
        None for the primal path.
    reason : str
        Why (recorded by the training loop).
    """
    check_solver(solver)
    if solver == "primal":
        return None, "solver='primal'"
    why_not = None
    if optimizer.name not in DUAL_OPTIMIZERS:
        why_not = (f"the {optimizer.name} optimiser rescales each weight on its own, which "
                   "breaks W1 = c W1_0 + A X^T (the dual path needs gd or momentum)")
    elif X is None:
        why_not = "streamed data: the dual path needs all of X in memory (for K = X^T X)"
    elif (state and "v" in state and np.any(state["v"]["W1"])) or (
            resuming and optimizer.name == "momentum"):
        why_not = ("training continues with a velocity for W1 from an earlier run; the dual "
                   "form starts from rest")
    if why_not is not None:
        if solver == "dual":
            raise ValueError(f"solver='dual' is not possible here: {why_not}; use "
                             "solver='primal' or 'auto'")
        return None, f"auto -> primal: {why_not}"
    assert X is not None  # the streamed case returned above
    n1, (n_x, m) = params["W1"].shape[0], X.shape
    costs = plan_costs(n_x, n1, m, batch_size, epochs, itemsize=X.dtype.itemsize, l2=l2,
                       clip=bool(clip_norm), syncs=1 + (epochs if validation else 0))
    ratio = f"dual/primal flops {costs.dual_flops / costs.primal_flops:.3g}"
    if solver == "auto" and not costs.dual_wins:
        more = (f"; K would take {costs.k_bytes} bytes, more than X" if
                costs.k_bytes > costs.x_bytes else "")
        return None, f"auto -> primal: {ratio}{more}"
    beta = optimizer.hyper.get("beta", 0.9) if optimizer.name == "momentum" else None
    return DualFirstLayer(X, params["W1"], beta=beta), f"{solver} -> dual: {ratio}"


class DualFirstLayer:
    """W[1] (n[1], n_x) = c W1_0 + A X^T over fixed training inputs X (n_x, m).

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
        The training inputs (kept by reference: forming W[1] reads them).
    W1 : ndarray of shape (n[1], n_x)
        The first layer's weights at the start (copied: W1_0).
    beta : float, optional
        Momentum's beta; None for gradient descent.

    Attributes
    ----------
    c : float
    A : ndarray of shape (n[1], m)
    K : ndarray of shape (m, m), X^T X, in W1's dtype
    P0 : ndarray of shape (n[1], m), W1_0 X, in W1's dtype
    cv, Av : momentum's velocity in the same form (Av None for gradient descent)

    K and P0 are computed in float64 and kept in the network's dtype, so a step's product
    A K[:, idx] runs in that dtype as the primal path's products do; c, A (and cv, Av) are
    accumulated in float64 whatever the dtype. Accumulating A in float32 instead let
    2500 cat iterations drift (test accuracy 0.74 where the primal path and float64 reach
    0.80).
    """

    def __init__(self, X: Array, W1: Array, beta: float | None = None) -> None:
        X64 = np.asarray(X, dtype=np.float64)
        self.X = X
        self.m = X.shape[1]
        self.K = (X64.T @ X64).astype(W1.dtype, copy=False)
        self.beta = beta
        self._all = np.arange(self.m)
        self._ws = Workspace()  # its own: the other layers' arrays are named as layers 1..L-1
        self._steps = 0
        self.start(W1)

    def start(self, W1: Array) -> None:
        """Start the dual form at W1_0 = ``W1`` (n[1], n_x): c = 1, A = 0, at rest."""
        self.W0 = np.array(W1, dtype=np.float64)
        self.P0 = (self.W0 @ np.asarray(self.X, dtype=np.float64)).astype(self.K.dtype,
                                                                         copy=False)
        self._P0_rows = np.ascontiguousarray(self.P0.T)  # (m, n[1]): a batch is rows
        self.w0_sq = float(np.vdot(self.W0, self.W0))
        self.c = 1.0
        self.A: NDArray[np.float64] = np.zeros(self.P0.shape, np.float64)
        self.cv = 0.0
        self.Av: NDArray[np.float64] | None = (None if self.beta is None
                                               else np.zeros_like(self.A))
        self._G: NDArray[np.float64] = np.zeros_like(self.A)

    # --- the dual form --------------------------------------------------------------------

    def weights(self) -> Array:
        """W[1] = c W1_0 + A X^T, shape (n[1], n_x) (n[1] n_x m multiply-adds)."""
        W = self.A @ self.X.T
        W += self.c * self.W0
        return W

    def velocity(self) -> Array | None:
        """Momentum's v for W[1] = cv W1_0 + Av X^T, or None for gradient descent."""
        if self.Av is None:
            return None
        v = self.Av @ self.X.T
        v += self.cv * self.W0
        return v

    def sync(self, params: dict[str, Array], state: State | None = None) -> None:
        """Write W[1] into ``params["W1"]`` (and momentum's v into ``state["v"]["W1"]``) in
        place, so that the parameters (and the optimiser state) are the primal ones."""
        np.copyto(params["W1"], self.weights())
        v = self.velocity()
        if v is not None and state is not None and "W1" in state.get("v", {}):
            np.copyto(state["v"]["W1"], v)

    def sq_norm(self, AK: Array | None = None) -> float:
        """||W[1]||_F^2 = c^2 ||W1_0||^2 + 2 c <A, P0> + <A K, A>; ``AK`` is A K if known."""
        if AK is None:
            AK = self.A.astype(self.K.dtype, copy=False) @ self.K
        return (self.c * self.c * self.w0_sq + 2 * self.c * float(np.vdot(self.A, self.P0))
                + float(np.vdot(AK, self.A)))

    # --- one step -------------------------------------------------------------------------

    def train_step(
        self,
        index: NDArray,
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
        """:func:`deepstep.engine.step.train_step` with the first layer in the dual form.

        Parameters
        ----------
        index : int ndarray of shape (1, b) or (b,), or None
            The batch's columns of X (example indices); None or all m columns in order is
            the full batch (K and P0 used as they are).
        Y : ndarray of shape (n[L], b)
        params : W{l}, b{l}; b1 and the layers after the first are updated in place. W1 is
            not read or written (see :meth:`sync`).
        activations, loss, optimizer, state, lr, t, l2, keep_probs, rng, clip_norm, weights,
        parts
            As in ``train_step``; the optimiser must be gd or momentum.
        workspace : accepted for ``train_step``'s signature; the dual path keeps its own
            (its other layers are numbered 1..L-1 there).

        Returns
        -------
        cost, AL, state : as ``train_step`` (the cost before the update, with the L2 term)
        """
        if optimizer.name not in DUAL_OPTIMIZERS:
            raise ValueError(f"the dual path needs gd or momentum, got {optimizer.name}")
        if self._steps == 0:  # W1 may have moved since (a checkpoint restored): start there
            if not np.array_equal(params["W1"], self.W0):
                self.start(params["W1"])
            if self.Av is not None and "v" in state and np.any(state["v"]["W1"]):
                raise ValueError("the dual path starts momentum from rest, but the optimiser "
                                 "state holds a velocity for W1: train with solver='primal'")
        self._steps += 1
        ws = self._ws
        idx: NDArray | None = None if index is None else np.asarray(index).reshape(-1)
        if idx is not None and idx.size == self.m and np.array_equal(idx, self._all):
            idx = None
        b = self.m if idx is None else idx.size
        L = len(activations)
        dtype = self.K.dtype  # the network's
        Y = np.asarray(Y, dtype=dtype)

        # forward, layer 1: Z1 = c P0[:, idx] + A K[:, idx] + b1
        n1 = self.A.shape[0]
        if idx is None:
            Kb, P0b = self.K, self.P0
        else:
            Kb = np.take(self.K, idx, axis=0, out=ws.array("dual.Kb", (b, self.m), dtype),
                         mode="clip").T  # K is symmetric: its rows idx are its columns idx
            P0b = np.take(self._P0_rows, idx, axis=0, mode="clip",
                          out=ws.array("dual.P0b", (b, n1), dtype)).T
        A: Array = self.A
        if A.dtype != dtype:  # the product in the network's dtype
            A = ws.array("dual.A", A.shape, dtype)
            np.copyto(A, self.A, casting="same_kind")
        AKb = np.matmul(A, Kb, out=ws.array("dual.AKb", (n1, b), dtype))
        Z1 = np.multiply(P0b, self.c, out=ws.array("dual.Z1", (n1, b), dtype))
        Z1 += AKb
        Z1 += params["b1"]
        g1 = activations[0]
        A1 = g1.forward(Z1, out=ws.array("dual.A1", (n1, b), dtype))
        mask1 = None
        if L > 1 and keep_probs is not None and keep_probs[0] < 1.0:
            if rng is None:
                raise ValueError("dropout needs a numpy.random.Generator (rng)")
            mask1 = dropout_mask(A1.shape, keep_probs[0], rng, dtype)
            A1 = np.multiply(A1, mask1, out=A1)

        # the other layers: the engine's own forward, cost and backward on A1
        sub = {k: params[key] for k, key in _shifted(L)}
        if L > 1:
            sub_keep = None if keep_probs is None else list(keep_probs[1:])
            AL, caches = forward(A1, sub, activations[1:], keep_probs=sub_keep, rng=rng,
                                 workspace=ws)
            data_loss = compute_cost(AL, Y, loss, weights=weights)
            grads = backward(AL, Y, caches, activations[1:], loss, l2=l2, need_dA0=True,
                             workspace=ws, weights=weights)
            dZ1 = grads.pop("dA0")
            if mask1 is not None:
                dZ1 = np.multiply(dZ1, mask1, out=dZ1)
            dZ1 = g1.backward(dZ1, Z1, None if mask1 is not None else A1, out=dZ1)
        else:
            AL, grads = A1, {}
            data_loss = compute_cost(AL, Y, loss, weights=weights)
            if loss.fused_activation == g1.name:
                dZ1 = np.subtract(AL, Y, out=ws.array("dual.dZ1", AL.shape, dtype))
            else:
                dZ1 = g1.backward(loss.gradient(AL, Y), Z1, None)
            if weights is not None:
                dZ1 *= weights
        cost = data_loss
        if l2:  # lambda / (2 b) (||W1||^2 + the other layers' squares), as train_step has it
            full = AKb if idx is None else None
            cost += l2 / (2 * b) * (self.sq_norm(full) + sum(
                float(np.vdot(sub[k], sub[k])) for k in sub if k.startswith("W")))
        if parts is not None:
            parts["data_loss"] = data_loss
        db1 = np.add.reduce(dZ1, axis=1, keepdims=True, out=ws.array("dual.db1", (n1, 1), dtype))
        db1 *= 1.0 / b

        # the first layer's gradient dW1 = G X^T + h W1_0, G = (D + l2 A) / b, h = l2 c / b
        h = l2 * self.c / b
        G = None
        if l2 or clip_norm or self.Av is not None:
            G = self._G
            if l2:
                np.multiply(self.A, l2, out=G)
            else:
                G.fill(0)
            if idx is None:
                G += dZ1
            else:
                G[:, idx] += dZ1
            G *= 1.0 / b
        scale = 1.0
        if clip_norm:
            assert G is not None
            GK = G.astype(dtype, copy=False) @ self.K
            dW1_sq = (float(np.vdot(GK, G)) + 2 * h * float(np.vdot(G, self.P0))
                      + h * h * self.w0_sq)
            rest = [float(np.vdot(g, g)) for g in grads.values()]
            norm = math.sqrt(math.fsum([dW1_sq, float(np.vdot(db1, db1)), *rest]))
            if norm > clip_norm:
                scale = clip_norm / (norm + 1e-12)
                for g in grads.values():
                    g *= scale
                db1 *= scale

        # update: b1 and the other layers by the optimiser, W1 through c and A
        rest_params, rest_grads = {"b1": params["b1"]}, {"db1": db1}
        for k, key in _shifted(L):  # "W1" of the sub-network is W2 of the network
            rest_params[key], rest_grads["d" + key] = params[key], grads["d" + k]
        _, state = optimizer.update(rest_params, rest_grads, state, lr, t, inplace=True)
        if self.Av is None:  # gd: W1 -= lr s dW1
            step = lr * scale
            if G is not None:
                self.A -= step * G
            else:  # no L2, no clipping: only the batch's columns move
                if idx is None:
                    self.A -= (step / b) * dZ1
                else:
                    self.A[:, idx] -= (step / b) * dZ1
            self.c -= step * h
        else:  # momentum: v = beta v + (1 - beta) s dW1; W1 -= lr v
            assert G is not None and self.beta is not None
            self.Av *= self.beta
            self.Av += ((1 - self.beta) * scale) * G
            self.cv = self.beta * self.cv + (1 - self.beta) * scale * h
            self.A -= lr * self.Av
            self.c -= lr * self.cv
        return cost, AL, state

    def memory(self) -> dict[str, Any]:
        """Bytes held by the dual form: K (m^2 floats), P0, A, W1_0 (and Av)."""
        parts = {"K": self.K, "P0": self.P0, "A": self.A, "W1_0": self.W0, "G": self._G}
        if self.Av is not None:
            parts["Av"] = self.Av
        return {k: v.nbytes for k, v in parts.items()}


@functools.cache
def _shifted(L: int) -> tuple[tuple[str, str], ...]:
    """("W1", "W2"), ("b1", "b2"), ...: the sub-network's keys (layers 2..L renumbered from 1)
    and the network's."""
    return tuple((f"{p}{l - 1}", f"{p}{l}") for l in range(2, L + 1) for p in "Wb")
