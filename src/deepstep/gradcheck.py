"""Gradient checking: backpropagation against central differences, in float64.

For every parameter entry theta_i the numerical derivative is

    (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)

with J the engine's own cost (:func:`deepstep.engine.forward` then
:func:`deepstep.engine.compute_cost`); the analytic gradient is
:func:`deepstep.engine.backward`. Nothing here repeats the network's math, so what is
checked is the code that trains. The agreement is the relative error (course 2, week 1)

    ||g - g_num|| / (||g|| + ||g_num||)

which is about 1e-9 or below when backpropagation is right (eps = 1e-6, float64) and
around 1e-3 or above when it is wrong.

Dropout is checked with fixed masks (``masks=``): with a fresh draw per forward pass the
cost would not be a function of the parameters at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from . import engine
from .engine.activations import Activation
from .engine.losses import Loss
from .engine.regularizers import dropout_mask

Array = NDArray[np.floating]
Params = dict[str, Array]
Masks = Sequence[Array | None] | None

TOLERANCE = 1e-7


@dataclass(frozen=True)
class GradCheckResult:
    """The outcome of :func:`gradient_check`.

    Attributes
    ----------
    relative_error : float
        ||g - g_num|| / (||g|| + ||g_num||) over all parameters together.
    per_parameter : dict of str to float
        The same ratio for each parameter on its own, keyed "W1", "b1", ..., "WL", "bL".
    shapes : dict of str to tuple
        Each parameter's shape: W{l} (n[l], n[l-1]), b{l} (n[l], 1).
    tol : float
        The threshold :attr:`passed` compares against.
    checked : dict of str to int
        How many entries of each parameter were compared (all of them unless the check
        sampled, see :func:`sample_entries`); empty means all.
    """

    relative_error: float
    per_parameter: dict[str, float]
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    tol: float = TOLERANCE
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether the overall relative error is below ``tol``."""
        return self.relative_error < self.tol

    def rows(self) -> list[tuple[str, tuple[int, ...], float]]:
        """Return one (name, shape, relative error) row per parameter, in layer order."""
        return [(k, self.shapes.get(k, ()), e) for k, e in self.per_parameter.items()]

    @property
    def n_checked(self) -> int:
        """The number of parameter entries compared."""
        if self.checked:
            return sum(self.checked.values())
        return sum(int(np.prod(s)) for s in self.shapes.values())

    @property
    def n_total(self) -> int:
        """The number of parameter entries of the network."""
        return sum(int(np.prod(s)) for s in self.shapes.values())

    def __str__(self) -> str:
        sampled = self.n_checked < self.n_total
        lines = [f"{'parameter':<10} {'shape':<12} {'checked':<18} relative error"
                 if sampled else f"{'parameter':<10} {'shape':<12} relative error"]
        for k, s, e in self.rows():
            size = int(np.prod(s)) if s else 0
            of = f"{self.checked.get(k, size):,} of {size:,}"
            lines.append(f"{k:<10} {str(s):<12} {of:<18} {e:.3e}" if sampled
                         else f"{k:<10} {str(s):<12} {e:.3e}")
        verdict = "ok" if self.passed else f"FAILED (tolerance {self.tol:g})"
        lines.append(f"{'overall':<10} {'':<12} {'':<18} {self.relative_error:.3e}  {verdict}"
                     if sampled else
                     f"{'overall':<10} {'':<12} {self.relative_error:.3e}  {verdict}")
        return "\n".join(lines)


def relative_error(g: Array, g_num: Array) -> float:
    """Compute ||g - g_num|| / (||g|| + ||g_num||), taken as 0 when both are zero.

    Examples
    --------
    >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    >>> round(relative_error(np.array([1.0]), np.array([3.0])), 3)
    0.5
    """
    denom = np.linalg.norm(g) + np.linalg.norm(g_num)
    return float(np.linalg.norm(g - g_num) / denom) if denom > 0 else 0.0


def _float64(X: Array, Y: Array, params: Params, masks: Masks):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    if masks is not None:
        masks = [None if M is None else np.asarray(M, dtype=np.float64) for M in masks]
    return X, Y, params, masks


def _resolve(activations: Sequence[str | Activation], loss: str | Loss):
    return [engine.get_activation(a) for a in activations], engine.get_loss(loss)


def numerical_gradients(
    X: Array,
    Y: Array,
    params: Params,
    activations: Sequence[str | Activation],
    loss: str | Loss,
    *,
    l2: float = 0.0,
    masks: Masks = None,
    eps: float = 1e-6,
    entries: Mapping[str, NDArray[np.intp]] | None = None,
) -> dict[str, Array]:
    """Estimate dJ/dW[l] and dJ/db[l] by central differences, in float64.

    Parameters
    ----------
    X : ndarray of shape (n[0], m)
    Y : ndarray of shape (n[L], m)
    params : dict with W{l} of shape (n[l], n[l-1]) and b{l} of shape (n[l], 1)
        Not modified (the differences are taken on a float64 copy).
    activations : sequence of L activation names or :class:`Activation`
        One per layer, the output's last.
    loss : str or :class:`Loss`
    l2 : float
        L2 strength lambda; the cost gets lambda / (2 m) sum_l ||W[l]||^2.
    masks : sequence of L - 1 arrays (or None), optional
        Fixed inverted-dropout masks, masks[l - 1] of shape (n[l], m), as for
        :func:`deepstep.engine.forward`.
    eps : float
        The step; 1e-6 balances truncation (eps^2) against rounding (1e-16 / eps).
    entries : dict of str to ndarray of int, optional
        Only these flat indices of each parameter (e.g. from :func:`sample_entries`); the
        other entries of the result are 0. Default: every entry.

    Returns
    -------
    grads : dict
        "dW{l}" of shape (n[l], n[l-1]) and "db{l}" of shape (n[l], 1), float64.

    Examples
    --------
    >>> X, Y = np.array([[1.0, -2.0]]), np.array([[1.0, 0.0]])
    >>> params = {"W1": np.array([[0.5]]), "b1": np.array([[0.1]])}
    >>> g = numerical_gradients(X, Y, params, ["sigmoid"], "bce")
    >>> g["dW1"].shape, g["db1"].shape
    ((1, 1), (1, 1))
    """
    X, Y, theta, masks = _float64(X, Y, params, masks)
    acts, loss_ = _resolve(activations, loss)

    def cost() -> float:
        AL, _ = engine.forward(X, theta, acts, masks=masks)
        return engine.compute_cost(AL, Y, loss_, theta, l2)

    grads: dict[str, Array] = {}
    for name, P in theta.items():
        G = np.zeros_like(P)
        flat, gflat = P.reshape(-1), G.reshape(-1)  # views: P is a fresh contiguous copy
        for i in (range(flat.size) if entries is None else entries[name]):
            saved = flat[i]
            flat[i] = saved + eps
            plus = cost()
            flat[i] = saved - eps
            minus = cost()
            flat[i] = saved
            gflat[i] = (plus - minus) / (2 * eps)
        grads["d" + name] = G
    return grads


def gradient_check(
    X: Array,
    Y: Array,
    params: Params,
    activations: Sequence[str | Activation],
    loss: str | Loss,
    *,
    l2: float = 0.0,
    masks: Masks = None,
    eps: float = 1e-6,
    fused: bool = True,
    tol: float = TOLERANCE,
    entries: Mapping[str, NDArray[np.intp]] | None = None,
) -> GradCheckResult:
    """Compare :func:`deepstep.engine.backward` with :func:`numerical_gradients`.

    Parameters
    ----------
    X : ndarray of shape (n[0], m)
    Y : ndarray of shape (n[L], m)
    params : dict with W{l} of shape (n[l], n[l-1]) and b{l} of shape (n[l], 1)
    activations : sequence of L activation names or :class:`Activation`
    loss : str or :class:`Loss`
    l2, masks, eps : as for :func:`numerical_gradients`
    fused : bool
        Check the fused output gradient dZ[L] = A[L] - Y where it applies (what training
        uses); False checks the textbook path through dA[L].
    tol : float
        Threshold for :attr:`GradCheckResult.passed`.
    entries : dict of str to ndarray of int, optional
        Compare only these flat indices of each parameter (:func:`sample_entries`), so a
        large network costs two forward passes per sampled entry instead of per parameter.

    Returns
    -------
    GradCheckResult
        The overall relative error and one per parameter, over the entries compared.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((3, 4)), np.array([[0.0, 1.0, 1.0, 0.0]])
    >>> params = {"W1": rng.standard_normal((2, 3)), "b1": np.full((2, 1), 0.1),
    ...           "W2": rng.standard_normal((1, 2)), "b2": np.zeros((1, 1))}
    >>> result = gradient_check(X, Y, params, ["tanh", "sigmoid"], "bce", l2=0.1)
    >>> result.passed, sorted(result.per_parameter)
    (True, ['W1', 'W2', 'b1', 'b2'])
    """
    X, Y, params, masks = _float64(X, Y, params, masks)
    acts, loss_ = _resolve(activations, loss)
    AL, caches = engine.forward(X, params, acts, masks=masks)
    analytic = engine.backward(AL, Y, caches, acts, loss_, l2=l2, fused=fused)
    numeric = numerical_gradients(X, Y, params, acts, loss_, l2=l2, masks=masks, eps=eps,
                                  entries=entries)
    names = list(params)
    pick = {k: (slice(None) if entries is None else np.asarray(entries[k], dtype=np.intp))
            for k in names}
    a = {k: analytic["d" + k].ravel()[pick[k]] for k in names}
    n = {k: numeric["d" + k].ravel()[pick[k]] for k in names}
    return GradCheckResult(
        relative_error=relative_error(np.concatenate(list(a.values())),
                                      np.concatenate(list(n.values()))),
        per_parameter={k: relative_error(a[k], n[k]) for k in names},
        shapes={k: params[k].shape for k in names},
        tol=tol,
        checked={k: int(a[k].size) for k in names},
    )


def sample_entries(shapes: Mapping[str, tuple[int, ...]], per_parameter: int,
                   rng: np.random.Generator) -> dict[str, NDArray[np.intp]]:
    """Draw at most ``per_parameter`` distinct flat indices of each parameter, sorted.

    A parameter with no more entries than that keeps them all, so small networks are
    checked whole.

    Parameters
    ----------
    shapes : dict of str to tuple
        W{l} (n[l], n[l-1]) and b{l} (n[l], 1).
    per_parameter : int
        Entries checked per parameter array (>= 1).
    rng : numpy.random.Generator

    Returns
    -------
    dict of str to ndarray of int

    Examples
    --------
    >>> idx = sample_entries({"W1": (128, 784), "b1": (128, 1)}, 3, np.random.default_rng(0))
    >>> [len(v) for v in idx.values()], bool(np.all(idx["W1"] < 128 * 784))
    ([3, 3], True)
    >>> sample_entries({"b1": (2, 1)}, 3, np.random.default_rng(0))["b1"].tolist()
    [0, 1]
    """
    if per_parameter < 1:
        raise ValueError(f"per_parameter must be >= 1, got {per_parameter}")
    out = {}
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        if size <= per_parameter:
            out[name] = np.arange(size, dtype=np.intp)
        else:
            out[name] = np.sort(rng.choice(size, per_parameter, replace=False)).astype(np.intp)
    return out


def random_labels(loss: str | Loss, shape: tuple[int, int], rng: np.random.Generator) -> Array:
    """Draw labels a loss accepts: 0/1 for BCE, one-hot columns for CCE, normal otherwise.

    Parameters
    ----------
    loss : str or :class:`Loss`
    shape : (n[L], m)
    rng : numpy.random.Generator

    Returns
    -------
    Y : ndarray of shape (n[L], m), float64

    Examples
    --------
    >>> random_labels("cce", (3, 4), np.random.default_rng(0)).sum(axis=0)
    array([1., 1., 1., 1.])
    """
    name = engine.get_loss(loss).name
    n, m = shape
    if name == "binary_cross_entropy":
        return (rng.random(shape) < 0.5).astype(np.float64)
    if name == "categorical_cross_entropy":
        return np.eye(n)[:, rng.integers(0, n, size=m)]
    return rng.standard_normal(shape)


def _min_abs_preactivation(
    X: Array, params: Params, acts: Sequence[Activation], masks: Masks
) -> float:
    _, caches = engine.forward(X, params, acts, masks=masks)
    return min(float(np.min(np.abs(c[1]))) for c in caches)


def check_architecture(
    layer_dims: Sequence[int],
    hidden: str | Activation | Sequence[str | Activation],
    output: str | Activation,
    loss: str | Loss,
    *,
    m: int = 5,
    l2: float = 0.0,
    keep_prob: float = 1.0,
    seed: int = 0,
    margin: float = 1e-3,
    eps: float = 1e-6,
    samples: int | None = None,
) -> GradCheckResult:
    """Gradient-check a random network of the given shape on random data.

    X is standard normal (n[0], m); W[l] is He-initialised and b[l] drawn small and nonzero
    (so db is checked on something); Y comes from :func:`random_labels`. Draws are repeated
    (from the same Generator) until every pre-activation Z[l] is at least ``margin`` away from 0:
    relu and leaky_relu have a kink there, and a difference step across it is not a derivative.

    Parameters
    ----------
    layer_dims : sequence of int
        [n[0], n[1], ..., n[L]].
    hidden : activation name (or a list of L - 1 names) for layers 1..L-1
    output : activation name for layer L
    loss : loss name
    m : int
        Number of examples.
    l2 : float
        L2 strength lambda.
    keep_prob : float
        Below 1, every hidden layer gets a fixed inverted-dropout mask with this keep
        probability.
    seed : int
        Seed of the Generator that draws everything.
    margin, eps : float
        Distance of every Z[l] from 0, and the difference step.
    samples : int, optional
        Check at most this many entries of each parameter, drawn with the same Generator
        (:func:`sample_entries`); None checks every entry.

    Returns
    -------
    GradCheckResult
        ``str(result)`` is a table with one row per parameter; ``result.rows()`` gives the rows.

    Examples
    --------
    >>> result = check_architecture([4, 5, 3], "relu", "softmax", "cce", l2=0.7, keep_prob=0.8)
    >>> result.passed, [name for name, shape, err in result.rows()]
    (True, ['W1', 'b1', 'W2', 'b2'])
    """
    dims = list(layer_dims)
    acts = engine.resolve_activations(hidden, output, len(dims) - 1)
    rng = np.random.default_rng(seed)
    for _ in range(100):
        X = rng.standard_normal((dims[0], m))
        params = engine.initialize(dims, "he", rng=rng)
        for k, n in enumerate(dims[1:], start=1):
            params[f"b{k}"] = 0.1 * rng.standard_normal((n, 1))
        masks = None
        if keep_prob < 1:
            masks = [dropout_mask((n, m), keep_prob, rng, np.float64) for n in dims[1:-1]]
        if _min_abs_preactivation(X, params, acts, masks) >= margin:
            break
    else:
        raise RuntimeError(f"no draw kept every |Z| >= {margin}; use a smaller margin or m")
    Y = random_labels(loss, (dims[-1], m), rng)
    entries = None
    if samples is not None:
        entries = sample_entries({k: v.shape for k, v in params.items()}, samples, rng)
    return gradient_check(X, Y, params, acts, loss, l2=l2, masks=masks, eps=eps,
                          entries=entries)
