"""Attributions: how much each raw input feature contributed to one class's score.

Three methods, each the engine's own backward pass started from dZ[L] = the one-hot of the
explained class (:func:`deepstep.engine.backward_from` with ``need_dA0=True``): the only new
math is dA[0] = W[1]^T dZ[1], the gradient with respect to the network's input, which training
skips. It is carried to the raw inputs through the recorded preprocessing (x -> (x - mean) / std,
x / 255 or x: a per-feature factor 1 / std, 1 / 255 or 1).

The score f of the explained class c at a raw input x (one column of X):

- softmax (k outputs): f = Z[L][c], the output layer's pre-activation (the class's logit);
- sigmoid (one output): f = +z for ``classes_[1]`` and f = -z for ``classes_[0]``, with z = Z[L]:
  each class's log-odds log(p_c / (1 - p_c)), so both classes are explained on the same terms
  and the two maps are each other's negatives;
- regression: f = target_std * Z[L][j] + target_mean, output j in the training targets'
  units (the prediction itself for a linear output).

Methods (``METHODS``):

- ``"saliency"``: the gradient df/dx at x (Simonyan et al. 2014, signed: a positive value
  means raising that feature raises the score). Units: score per unit of the feature.
- ``"integrated_gradients"``: (x - x') * mean over the path of df/dx at x' + alpha (x - x')
  (Sundararajan et al. 2017, "Axiomatic attribution for deep networks"). Completeness:
  the attributions sum to f(x) - f(x').
- ``"smoothgrad"``: the mean saliency over noisy copies x + N(0, sigma^2) (Smilkov et al. 2017).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import engine
from .engine.validation import check_X
from .registry import resolve_name

Array = NDArray[np.floating]

_ALIASES = {"ig": "integrated_gradients", "gradient": "saliency", "smooth_grad": "smoothgrad"}

#: Elements of cached activations per engine call: path points are evaluated in chunks of
#: about this many numbers (Z[l] and A[l] of every layer), so memory stays bounded (about
#: 64 MB in float64) whatever m and ``steps`` are: 341 columns for a 12288-pixel image.
CHUNK_ELEMENTS = 2**23
#: Hidden activations whose derivative jumps (at 0): integrated gradients refine the path
#: cells where one of them switches.
KINKED = ("relu", "leaky_relu")
#: Sub-points of each refined cell.
REFINE = 16


@dataclass(frozen=True)
class Explanation:
    """Attributions for m examples together with what the network said about them.

    Attributes
    ----------
    attributions : ndarray of shape (n_x, m), float64
        Column i: each raw feature's attribution for example i (see :func:`attribute`).
    method : str
        The method's name, one of ``METHODS``.
    target : ndarray of shape (m,)
        What was explained: a label from ``classes_`` per example, or the output index j
        for regression.
    predicted : ndarray of shape (m,)
        The predicted label (classification) or the explained output's value in target
        units (regression).
    probability : ndarray of shape (m,), float64
        The probability of the predicted label (NaN for regression).
    score : ndarray of shape (m,), float64
        f(x), the explained score at each example.
    baseline_score : ndarray of shape (m,), float64, or None
        f(x') at the baseline (integrated gradients only).
    """

    attributions: Array
    method: str
    target: NDArray
    predicted: NDArray
    probability: Array
    score: Array
    baseline_score: Array | None = None

    @property
    def completeness_gap(self) -> Array | None:
        """sum_i attributions[i] - (f(x) - f(x')), shape (m,): the integration error of
        integrated gradients (None for the other methods)."""
        if self.baseline_score is None:
            return None
        return self.attributions.sum(axis=0) - (self.score - self.baseline_score)


@dataclass(frozen=True)
class _Head:
    """The explained score per example: f = coef * Z[L][index] + offset, all of shape (m,)."""

    index: NDArray[np.intp]
    coef: Array
    offset: Array
    label: NDArray

    def score(self, ZL: Array) -> Array:
        """The score f of each example from Z[L] (n[L], m): shape (m,), float64."""
        return self.coef * ZL[self.index, np.arange(ZL.shape[1])] + self.offset


class _Front:
    """The network seen from its raw inputs: input transform, engine calls in chunks."""

    def __init__(self, net: Any) -> None:
        self.params = net.params
        self.activations = net.activations
        self.dtype = net.params["W1"].dtype
        self.n_x = int(net.params["W1"].shape[1])
        self.preprocessor = net.preprocessor
        self.inv_scale = _input_scale(net.preprocessor, self.n_x)
        dims = engine.layer_dims(net.params)
        self.chunk = max(1, CHUNK_ELEMENTS // (2 * sum(dims)))
        # the gradient of a ReLU-like network jumps where a hidden unit switches
        self.kinked = any(a.name in KINKED for a in self.activations[:-1])
        codes = np.random.default_rng(0).integers(1, 2**62, size=sum(dims[1:-1]))
        self._codes = np.split(codes, np.cumsum(dims[1:-2])) if len(dims) > 2 else []

    def to_input(self, X: NDArray) -> Array:
        """Raw X (n_x, m) -> the network's input A[0] in its dtype, as ``predict`` makes it."""
        if self.preprocessor is not None:
            X = self.preprocessor.transform(X, dtype=self.dtype)
        return np.asarray(X, dtype=self.dtype)

    def outputs(self, U: Array) -> tuple[Array, Array]:
        """Z[L] and A[L], each (n[L], m), at input columns U (n_x, m), in chunks."""
        ZL, AL = [], []
        for j in range(0, U.shape[1], self.chunk):
            A, caches = engine.forward(U[:, j:j + self.chunk], self.params, self.activations)
            ZL.append(caches[-1][1])
            AL.append(A)
        return np.concatenate(ZL, axis=1), np.concatenate(AL, axis=1)

    def gradient(self, U: Array, head: _Head, cols: NDArray) -> tuple[Array, NDArray]:
        """df/dA[0] (n_x, c) at input columns U (n_x, c) for the examples ``cols`` (c,): the
        engine's backward from dZ[L] = coef * one-hot(index); and each column's activation
        pattern as one integer (which hidden units are on), to find where the path crosses
        a kink."""
        _, caches = engine.forward(U, self.params, self.activations)
        dZL = np.zeros_like(caches[-1][1])
        dZL[head.index[cols], np.arange(U.shape[1])] = head.coef[cols]
        key = np.zeros(U.shape[1], dtype=np.int64)
        if self.kinked:
            for l, cache in enumerate(caches[:-1]):
                key += (cache[1] > 0).T.astype(np.int64) @ self._codes[l]
        return engine.backward_from(dZL, caches, self.activations, need_dA0=True)["dA0"], key

    def summed_gradients(self, m: int, ex: NDArray, p: NDArray,
                         points: Callable[[NDArray, NDArray], Array], head: _Head,
                         weights: NDArray | None = None, keys: NDArray | None = None) -> Array:
        """Sum over the points of each example of df/dA[0] at ``points(ex, p)`` (times
        ``weights``): (n_x, m), float64. ``ex`` (sorted) and ``p`` list the points; ``keys``
        (same length), when given, receives each point's activation pattern.

        The points are evaluated ``self.chunk`` columns at a time, example-major, so a chunk
        holds consecutive points of consecutive examples and is summed with one ``reduceat``.
        """
        total = np.zeros((self.n_x, m))
        for j0 in range(0, ex.size, self.chunk):
            sel = slice(j0, j0 + self.chunk)
            G, key = self.gradient(points(ex[sel], p[sel]), head, ex[sel])
            if weights is not None:
                G = G * weights[sel]
            if keys is not None:
                keys[sel] = key
            starts = np.flatnonzero(np.r_[True, ex[sel][1:] != ex[sel][:-1]])
            total[:, ex[sel][starts]] += np.add.reduceat(G, starts, axis=1, dtype=np.float64)
        return total


def _grid(m: int, k: int) -> tuple[NDArray, NDArray]:
    """Every example's points 0..k-1, example-major: (example, point) of shape (m k,)."""
    return np.divmod(np.arange(m * k), k)


def _input_scale(preprocessor: Any, n_x: int) -> Array:
    """dA[0]/dx per feature, (n_x, 1) float64: 1 / std, 1 / 255 or 1."""
    mode = "none" if preprocessor is None else getattr(preprocessor, "mode", None)
    if mode == "none":
        return np.ones((n_x, 1))
    if mode == "scale255":
        return np.full((n_x, 1), 1 / 255)
    if mode == "standardize" and getattr(preprocessor, "std_", None) is not None:
        return 1.0 / np.asarray(preprocessor.std_, dtype=np.float64).reshape(n_x, 1)
    raise ValueError(
        f"attributions need the derivative of the input preprocessing, known for deepstep's "
        f"Preprocessor modes 'none', 'scale255' and a fitted 'standardize'; this network has "
        f"{preprocessor!r}")


def _head(net: Any, target: Any, AL: Array) -> _Head:
    """The explained score of each example from ``target`` (None: the predicted class)."""
    n_y, m = AL.shape
    if net.task == "regression":
        std = getattr(net, "target_std_", None)
        mean = getattr(net, "target_mean_", None)
        if target is None:
            if n_y > 1:
                raise ValueError(f"this regression network has {n_y} outputs; pass target=j "
                                 f"(an output index 0..{n_y - 1}) to choose the one explained")
            index = np.zeros(m, dtype=np.intp)
        else:
            index = np.asarray(_per_example(target, m).tolist())
            if not (np.issubdtype(index.dtype, np.integer) and np.all((index >= 0)
                                                                       & (index < n_y))):
                raise ValueError(f"target for a regression network is an output index "
                                 f"0..{n_y - 1} (or one per example); got {target!r}")
            index = index.astype(np.intp)
        coef = np.ones(m) if std is None else np.asarray(std, np.float64).ravel()[index]
        offset = np.zeros(m) if mean is None else np.asarray(mean, np.float64).ravel()[index]
        return _Head(index, coef, offset, index)

    classes = net.classes_ if net.classes_ is not None else np.arange(max(n_y, 2))
    classes = np.asarray(classes)
    if target is None:
        k = engine.metrics.predict_classes(AL).ravel().astype(np.intp)
    else:
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        wanted = _per_example(target, m).tolist()
        unknown = [t for t in wanted if t not in lookup]
        if unknown:
            raise ValueError(f"target {unknown[0]!r} is not one of the network's classes "
                             f"{classes.tolist()}; give a label from classes_ (or None for "
                             "the predicted class)")
        k = np.array([lookup[t] for t in wanted], dtype=np.intp)
    if n_y == 1:  # one sigmoid unit: classes_[1] scores +z, classes_[0] scores -z
        return _Head(np.zeros(m, dtype=np.intp), np.where(k == 1, 1.0, -1.0), np.zeros(m),
                     classes[k])
    return _Head(k, np.ones(m), np.zeros(m), classes[k])


def _per_example(target: Any, m: int) -> NDArray:
    """``target`` as an (m,) object array of Python values: one for every example, or one per
    example (an object array, so a list mixing labels of several types is kept as given)."""
    t = np.asarray(target, dtype=object)
    if t.ndim == 0:
        return np.full(m, t.item(), dtype=object)
    t = t.reshape(-1) if t.ndim == 2 and 1 in t.shape else t
    if t.ndim != 1 or t.shape[0] != m:
        raise ValueError(f"target must be one label or one per example ({m}); got shape "
                         f"{np.shape(target)}")
    return t


def _baseline(baseline: ArrayLike | None, preprocessor: Any, n_x: int, m: int) -> Array:
    """The raw baseline x' broadcast to (n_x, m), float64."""
    if baseline is None:
        mean = getattr(preprocessor, "mean_", None)
        base = np.zeros((n_x, 1)) if mean is None else np.asarray(mean, np.float64)
        return np.broadcast_to(base.reshape(n_x, 1), (n_x, m))
    b = np.asarray(baseline, dtype=np.float64)
    if b.ndim == 1 and b.shape[0] == n_x:
        b = b.reshape(n_x, 1)
    try:
        return np.broadcast_to(b, (n_x, m))
    except ValueError:
        raise ValueError(f"baseline must be a number or an array of shape ({n_x},), ({n_x}, 1) "
                         f"or ({n_x}, {m}) (X is ({n_x}, {m})); got shape {b.shape}") from None


def attribute(
    net: Any,
    X: ArrayLike,
    method: str = "integrated_gradients",
    target: Any = None,
    baseline: ArrayLike | None = None,
    steps: int = 64,
    seed: int | np.random.Generator | None = None,
    *,
    n_samples: int = 50,
    noise: float = 0.15,
) -> Explanation:
    """Attributions of each raw input feature to the explained score, with the predictions.

    Parameters
    ----------
    net : Network
        A trained network (``params``, ``activations``, ``task``, ``classes_``,
        ``preprocessor``; ``target_mean_`` / ``target_std_`` when present).
    X : array-like of shape (n_x, m)
        Raw inputs as ``predict`` takes them (uint8 pixels, unscaled features).
    method : {"integrated_gradients", "saliency", "smoothgrad"}
    target : label, sequence of m labels, or None
        The class explained, from ``net.classes_`` (one for all examples or one per
        example); None explains each example's predicted class. For regression, the output
        index j (default 0 when there is one output).
    baseline : number or array of shape (n_x,), (n_x, 1) or (n_x, m), optional
        Integrated gradients' reference input x' in raw units. Default: the training mean
        recorded by a "standardize" preprocessor (the zero input after standardisation);
        without one (``"scale255"``, ``"none"``) all zeros, i.e. a black image.
    steps : int
        Integrated gradients' points on the path from x' to x (midpoint rule, see Notes).
    seed : int or numpy.random.Generator, optional
        SmoothGrad's noise; the same seed gives the same attributions.
    n_samples : int
        SmoothGrad's noisy copies per example.
    noise : float
        SmoothGrad's sigma as a fraction of the example's range max - min, measured in the
        network's input space (after preprocessing, where standardised features share one
        scale; for scale255 images this is Smilkov et al.'s sigma / (x_max - x_min)).
        Smilkov et al. recommend 0.1-0.2; 0 gives the saliency.

    Returns
    -------
    Explanation
        ``attributions`` (n_x, m), float64: saliency and SmoothGrad give df/dx (score per
        unit of each raw feature); integrated gradients give (x - x') * mean_k df/dx at the
        path points, in units of the score, summing to f(x) - f(x').

    Notes
    -----
    Integrated gradients use the midpoint rule: the points x' + alpha_k (x - x') with
    alpha_k = (k + 1/2) / steps, k = 0..steps-1, equally weighted (no point sits on the
    baseline itself). For a smooth f (tanh, sigmoid hidden layers) its error is O(1 / steps^2)
    and half the trapezoid rule's for the same number of gradient evaluations. For a ReLU
    network f is piecewise linear along the path and its gradient jumps where a unit
    switches, so an equal-step rule is only first order there; so wherever two neighbouring
    points have different activation patterns, the two cells around the switch are
    re-evaluated at ``REFINE`` sub-points each. On small ReLU networks at 256 steps this took
    the completeness gap from 0.7% to 0.1% of |f(x) - f(x')| (norm over examples); a single
    example whose attributions cancel (f(x) - f(x') much smaller than the attributions) can
    still miss by a few percent: ``Explanation.completeness_gap`` shows it, and more steps
    shrink it.

    Points are evaluated in chunks of about ``CHUNK_ELEMENTS`` cached numbers, so memory does
    not grow with ``steps`` or m.

    Examples
    --------
    >>> from deepstep import Network
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3, 100)); y = (X[0] - X[1] > 0).astype(int)
    >>> net = Network([3, 4, 1], dtype="float64")
    >>> _ = net.fit(X, y, epochs=20, learning_rate=0.01, verbose=False)
    >>> ex = attribute(net, X[:, :2], steps=256)
    >>> ex.attributions.shape
    (3, 2)
    >>> bool(np.all(np.abs(ex.completeness_gap) < 0.01 * np.abs(ex.score - ex.baseline_score)))
    True
    """
    name = resolve_name("attribution method", method, METHODS, _ALIASES)
    front = _Front(net)
    X = check_X(np.asarray(X), front.n_x)
    if name != "integrated_gradients" and baseline is not None:
        raise ValueError(f"baseline is used by integrated_gradients only, not by {name}")
    U = front.to_input(X)
    ZL, AL = front.outputs(U)
    head = _head(net, target, AL)
    predicted, probability = _predictions(net, AL, head)
    options = _Options(baseline, steps, seed, n_samples, noise)
    attr, base_score = METHODS[name](front, X, U, head, options)
    return Explanation(attr, name, head.label, predicted, probability, head.score(ZL),
                       base_score)


def _predictions(net: Any, AL: Array, head: _Head) -> tuple[NDArray, Array]:
    """Predicted label and its probability per example (regression: the explained value)."""
    m = AL.shape[1]
    if net.task == "regression":
        value = head.coef * AL[head.index, np.arange(m)] + head.offset
        return value, np.full(m, np.nan)
    k = engine.metrics.predict_classes(AL).ravel()
    classes = net.classes_ if net.classes_ is not None else np.arange(max(AL.shape[0], 2))
    if AL.shape[0] == 1:
        p1 = AL[0].astype(np.float64)
        return np.asarray(classes)[k], np.where(k == 1, p1, 1 - p1)
    return np.asarray(classes)[k], AL[k, np.arange(m)].astype(np.float64)


@dataclass(frozen=True)
class _Options:
    baseline: ArrayLike | None
    steps: int
    seed: int | np.random.Generator | None
    n_samples: int
    noise: float


def _saliency(front: _Front, X: NDArray, U: Array, head: _Head,
              options: _Options) -> tuple[Array, None]:
    """df/dx at x: (n_x, m)."""
    m = U.shape[1]
    G = front.summed_gradients(m, *_grid(m, 1), lambda ex, p: U[:, ex], head)
    return G * front.inv_scale, None


def _integrated_gradients(front: _Front, X: NDArray, U: Array, head: _Head,
                          options: _Options) -> tuple[Array, Array]:
    """(x - x') * mean_k df/dx at x' + alpha_k (x - x') (midpoint rule), and f(x')."""
    steps = options.steps
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    m = X.shape[1]
    base = _baseline(options.baseline, front.preprocessor, front.n_x, m)
    Ub = front.to_input(base)
    D = U - Ub
    ex, k = _grid(m, steps)
    keys = np.zeros(ex.size, dtype=np.int64)
    G = front.summed_gradients(m, ex, (k + 0.5) / steps, _on_path(Ub, D, front.dtype), head,
                               keys=keys)
    if front.kinked and steps > 1:
        G += _refine(front, m, steps, keys.reshape(m, steps), _on_path(Ub, D, front.dtype), head)
    attr = (X.astype(np.float64) - base) * front.inv_scale * (G / steps)
    return attr, head.score(front.outputs(Ub)[0])


def _on_path(Ub: Array, D: Array, dtype: Any) -> Callable[[NDArray, NDArray], Array]:
    """The points x' + alpha (x - x') of each example's path, in the network's input."""
    return lambda ex, alpha: Ub[:, ex] + alpha.astype(dtype) * D[:, ex]


def _refine(front: _Front, m: int, steps: int, keys: NDArray,
            path: Callable[[NDArray, NDArray], Array], head: _Head) -> Array:
    """The correction, in units of one cell's weight, that replaces each kinked cell's
    midpoint by ``REFINE`` sub-midpoints.

    Between two neighbouring midpoints whose activation patterns differ, a unit switched;
    the two cells around that switch are refined, which divides their error (the only error
    of a piecewise-linear score) by about ``REFINE``.
    """
    e, k = np.nonzero(keys[:, 1:] != keys[:, :-1])
    cells = np.unique(np.concatenate([e * steps + k, e * steps + k + 1]))
    if cells.size == 0:
        return np.zeros((front.n_x, m))
    e, k = np.divmod(cells, steps)
    sub = (np.arange(REFINE) + 0.5) / REFINE
    ex = np.repeat(e, REFINE + 1)
    alpha = (k[:, None] + np.r_[sub, 0.5][None, :]).ravel() / steps
    weights = np.tile(np.r_[np.full(REFINE, 1.0 / REFINE), -1.0], cells.size)
    return front.summed_gradients(m, ex, alpha, path, head, weights=weights)


def _smoothgrad(front: _Front, X: NDArray, U: Array, head: _Head,
                options: _Options) -> tuple[Array, None]:
    """The mean of df/dx over n_samples copies x + N(0, sigma^2), in input space."""
    n_samples, noise = options.n_samples, options.noise
    if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite fraction >= 0, got {noise!r}")
    rng = np.random.default_rng(options.seed)
    sigma = (noise * (U.max(axis=0) - U.min(axis=0))).astype(front.dtype)

    def points(ex: NDArray, p: NDArray) -> Array:
        # drawn point by point (rows of (c, n_x)), so the chunk size does not change the draws
        eps = rng.standard_normal((ex.size, front.n_x), dtype=front.dtype).T
        return U[:, ex] + sigma[ex] * eps

    m = U.shape[1]
    G = front.summed_gradients(m, *_grid(m, n_samples), points, head)
    return G * front.inv_scale / n_samples, None


_Method = Callable[[_Front, NDArray, Array, _Head, _Options], tuple[Array, Array | None]]
#: The methods by name; each returns the attributions (n_x, m) and f(baseline) or None.
METHODS: dict[str, _Method] = {
    "integrated_gradients": _integrated_gradients,
    "saliency": _saliency,
    "smoothgrad": _smoothgrad,
}
