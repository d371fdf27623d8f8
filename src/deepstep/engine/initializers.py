"""Parameter initialisers, one registry keyed by name.

``course`` and ``course_app`` reproduce the deep learning course's numbers: they draw from the
legacy Mersenne-Twister stream that ``np.random.seed(seed)`` followed by ``np.random.randn``
per layer would give (through a private ``RandomState``, so the global state is left alone).
``he`` and ``xavier`` draw from a ``numpy.random.Generator``.

Every initialiser returns ``{"W1": (n[1], n[0]), "b1": (n[1], 1), ...}`` with zero biases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import DTypeLike, NDArray

Params = dict[str, NDArray[np.floating]]
# scale(N, n[l], n[l-1]) -> W[l], from N, a standard normal draw of shape (n[l], n[l-1]).
# Written as the course writes it (x 0.01, / sqrt), so the bits match, not only the values.
Scale = Callable[[NDArray[np.float64], int, int], NDArray[np.float64]]

INITIALIZERS: dict[str, tuple[str, Scale]] = {
    # name: (random stream, scale)
    "course": ("legacy", lambda N, n, n_prev: N * 0.01),
    "course_app": ("legacy", lambda N, n, n_prev: N / np.sqrt(n_prev)),
    "he": ("generator", lambda N, n, n_prev: N * np.sqrt(2 / n_prev)),
    "xavier": ("generator", lambda N, n, n_prev: N * np.sqrt(2 / (n + n_prev))),
}


def validate_layer_dims(layer_dims: Sequence[int]) -> list[int]:
    """Check that ``layer_dims`` is [n[0], ..., n[L]] of positive integers, L >= 1."""
    dims = list(layer_dims)
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims needs at least the input and the output size, e.g. [12288, 1]; got {dims}"
        )
    for l, n in enumerate(dims):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"layer_dims[{l}] must be a positive integer, got {n!r}")
    return [int(n) for n in dims]


def initialize(
    layer_dims: Sequence[int],
    method: str = "he",
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    dtype: DTypeLike = np.float64,
) -> Params:
    """Initialise W[l] with scaled standard normal draws and b[l] with zeros.

    Parameters
    ----------
    layer_dims : sequence of int
        [n[0], n[1], ..., n[L]]: input size, hidden sizes, output size.
    method : {"course", "course_app", "he", "xavier"}
        ``course``: randn x 0.01 (step-by-step notebook); ``course_app``: randn / sqrt(n[l-1])
        (the application notebook's helper); ``he``: randn x sqrt(2 / n[l-1]);
        ``xavier`` (Glorot): randn x sqrt(2 / (n[l] + n[l-1])).
    seed : int, optional
        The legacy seed for the course methods (default 1), or a seed for a new Generator.
    rng : numpy.random.Generator, optional
        Used by ``he`` and ``xavier`` when given (takes precedence over ``seed``).
    dtype : float32 or float64
        W and b are drawn in float64 and then cast, so both dtypes start from the same numbers.

    Returns
    -------
    parameters : dict
        "W{l}" of shape (n[l], n[l-1]) and "b{l}" of shape (n[l], 1) for l = 1..L.

    Examples
    --------
    >>> p = initialize([5, 4, 3], "course", seed=3)
    >>> p["W1"].shape, p["b2"].shape
    ((4, 5), (3, 1))
    """
    dims = validate_layer_dims(layer_dims)
    if method not in INITIALIZERS:
        raise ValueError(f"unknown init {method!r}; choose one of: {', '.join(INITIALIZERS)}")
    stream, scale = INITIALIZERS[method]
    draw: Callable[..., NDArray[np.float64]]
    if stream == "legacy":
        draw = np.random.RandomState(1 if seed is None else seed).randn
    else:
        gen = rng if rng is not None else np.random.default_rng(seed)
        draw = lambda *shape: gen.standard_normal(shape)  # noqa: E731

    params: Params = {}
    for l in range(1, len(dims)):
        W = scale(draw(dims[l], dims[l - 1]), dims[l], dims[l - 1])
        params[f"W{l}"] = np.asarray(W, dtype=dtype)
        params[f"b{l}"] = np.zeros((dims[l], 1), dtype=dtype)
    return params
