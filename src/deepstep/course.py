"""The deep learning course's functions (course 1, week 4), under their own names.

Each function keeps the course's signature, shapes and return values and is a few lines over
:mod:`deepstep.engine`; there is no second copy of the math here.

Layout: X is (n_x, m), W[l] is (n[l], n[l-1]), b[l] is (n[l], 1), Y is (1, m).

The course has two notebooks, and their helpers differ in one place, which the defaults here
follow:

- "Building your Deep Neural Network: Step by Step" -> :func:`initialize_parameters` (seed 1,
  randn x 0.01) and :func:`initialize_parameters_deep` (seed 3, randn x 0.01), and every
  forward / backward function.
- "Deep Neural Network for Image Classification: Application" -> :func:`two_layer_model`
  (seed 1, randn x 0.01) and :func:`L_layer_model` (seed 1, randn / sqrt(n[l-1]), the init
  called ``course_app`` here; ``init="course"`` gives the step-by-step x 0.01, which stalls on
  deep networks and is detected with a warning).

Beyond the course, keyword-only arguments choose other activations and costs, e.g. the
seeds' linear ("none") output with a squared-error cost:
``L_model_forward(X, parameters, output="none")`` and ``compute_cost(AL, Y, cost="mse")``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from . import engine
from .engine.diagnostics import warn_if_collapsed
from .engine.metrics import accuracy, predict_classes
from .engine.step import train_step
from .engine.validation import check_labels, check_X
from .optim import gd

Array = NDArray[np.floating]
Params = dict[str, Array]
LinearCache = tuple[Array, Array, Array]
Cache = tuple[LinearCache, Array]
Cost = NDArray[np.float64]  # 0-d, as the course's np.squeeze(cost)


# --- initialisation -------------------------------------------------------------------------


def initialize_parameters(n_x: int, n_h: int, n_y: int) -> Params:
    """Two-layer parameters: W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1).

    Seed 1, W = randn x 0.01, b = 0, as in both notebooks.

    Examples
    --------
    >>> p = initialize_parameters(3, 2, 1)
    >>> p["W1"][0]
    array([ 0.01624345, -0.00611756, -0.00528172])
    """
    return engine.initialize([n_x, n_h, n_y], "course", seed=1)


def initialize_parameters_deep(layer_dims: Sequence[int]) -> Params:
    """L-layer parameters W{l} (n[l], n[l-1]) and b{l} (n[l], 1) for l = 1..L.

    The step-by-step notebook's version: seed 3, W = randn x 0.01.

    Examples
    --------
    >>> p = initialize_parameters_deep([5, 4, 3])
    >>> p["W1"][0]
    array([ 0.01788628,  0.0043651 ,  0.00096497, -0.01863493, -0.00277388])
    """
    return engine.initialize(layer_dims, "course", seed=3)


# --- forward ---------------------------------------------------------------------------------


def linear_forward(A: Array, W: Array, b: Array) -> tuple[Array, LinearCache]:
    """Z = W A + b; returns (Z (n[l], m), cache = (A, W, b))."""
    return engine.linear_forward(A, W, b), (A, W, b)


def sigmoid(Z: Array) -> tuple[Array, Array]:
    """A = 1 / (1 + exp(-Z)); returns (A, cache = Z)."""
    return engine.get_activation("sigmoid").forward(Z), Z


def relu(Z: Array) -> tuple[Array, Array]:
    """A = max(0, Z); returns (A, cache = Z)."""
    return engine.get_activation("relu").forward(Z), Z


def linear_activation_forward(
    A_prev: Array, W: Array, b: Array, activation: str
) -> tuple[Array, Cache]:
    """A = g(W A_prev + b) for g = "relu", "sigmoid" (or any engine activation).

    Returns (A (n[l], m), cache = ((A_prev, W, b), Z)).
    """
    Z, linear_cache = linear_forward(A_prev, W, b)
    return engine.get_activation(activation).forward(Z), (linear_cache, Z)


def L_model_forward(
    X: Array, parameters: Params, *, hidden: str = "relu", output: str = "sigmoid"
) -> tuple[Array, list[Cache]]:
    """[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID; returns (AL (n[L], m), caches)."""
    acts = engine.resolve_activations(hidden, output, engine.n_layers(parameters))
    return engine.forward(X, parameters, acts)


def compute_cost(AL: Array, Y: Array, *, cost: str = "binary_cross_entropy") -> Cost:
    """Cross-entropy J = -1/m sum(Y log AL + (1 - Y) log(1 - AL)) (or another engine loss).

    Returns
    -------
    cost : 0-d ndarray of float64
        As the course's ``compute_cost`` returns it after ``np.squeeze`` (``cost.shape == ()``);
        ``float(cost)`` gives the number.

    Examples
    --------
    >>> J = compute_cost(np.array([[.8, .9, .4]]), np.array([[1, 1, 0]]))
    >>> J.shape, float(J)
    ((), 0.2797765635793422)
    """
    AL = np.asarray(AL)
    return _as_cost(engine.get_loss(cost).cost(AL, check_labels(Y, AL.shape[1])))


def _as_cost(J: float) -> Cost:
    """The course's cost type: a 0-d float64 array holding the engine's number unchanged."""
    return np.asarray(J, dtype=np.float64)


# --- backward --------------------------------------------------------------------------------


def linear_backward(dZ: Array, cache: LinearCache) -> tuple[Array, Array, Array]:
    """From dZ (n[l], m) and cache (A_prev, W, b): (dA_prev, dW, db)."""
    A_prev, W, _ = cache
    return engine.linear_backward(dZ, A_prev, W)  # type: ignore[return-value]


def relu_backward(dA: Array, cache: Array) -> Array:
    """DZ = dA where Z > 0, else 0 (cache = Z)."""
    return engine.get_activation("relu").backward(dA, cache)


def sigmoid_backward(dA: Array, cache: Array) -> Array:
    """DZ = dA s (1 - s) with s = sigmoid(Z) (cache = Z)."""
    return engine.get_activation("sigmoid").backward(dA, cache)


def linear_activation_backward(
    dA: Array, cache: Cache, activation: str
) -> tuple[Array, Array, Array]:
    """Backward through g then the linear step: returns (dA_prev, dW, db)."""
    linear_cache, Z = cache
    dZ = engine.get_activation(activation).backward(dA, Z)
    return linear_backward(dZ, linear_cache)


def L_model_backward(
    AL: Array,
    Y: Array,
    caches: list[Cache],
    *,
    hidden: str = "relu",
    output: str = "sigmoid",
    cost: str = "binary_cross_entropy",
) -> dict[str, Array]:
    """Gradients "dA{l-1}", "dW{l}", "db{l}" for l = L..1, starting from the textbook
    dAL = -(Y / AL - (1 - Y) / (1 - AL)).
    """
    acts = engine.resolve_activations(hidden, output, len(caches))
    Y = check_labels(Y, AL.shape[1])
    return engine.backward(AL, Y, caches, acts, engine.get_loss(cost), fused=False, keep_dA=True)


def update_parameters(parameters: Params, grads: dict[str, Array], learning_rate: float) -> Params:
    """One gradient-descent step, W[l] -= learning_rate dW[l] (likewise b); returns new dict."""
    return gd().update(parameters, grads, {}, learning_rate)[0]


# --- models ----------------------------------------------------------------------------------


def _train(
    X: Array,
    Y: Array,
    parameters: Params,
    learning_rate: float,
    num_iterations: int,
    print_cost: bool,
    init: str,
    hidden: str = "relu",
    output: str = "sigmoid",
    cost: str = "binary_cross_entropy",
) -> tuple[Params, list[Cost]]:
    """The application notebook's loop.

    As the course: the cost is recorded at i % 100 == 0 (25 costs for 2500 iterations) and
    printed, with ``print_cost``, at i % 100 == 0 and at the last iteration. (The course's
    ``if print_cost and i % 100 == 0 or i == num_iterations - 1`` also prints the last line
    when print_cost is False, by operator precedence; deepstep prints only when asked.)
    """
    X = check_X(X, parameters["W1"].shape[1])
    Y = check_labels(Y, X.shape[1])
    acts = engine.resolve_activations(hidden, output, engine.n_layers(parameters))
    loss, optimizer, workspace = engine.get_loss(cost), gd(), engine.Workspace()
    costs: list[Cost] = []
    J = float("nan")
    for i in range(num_iterations):
        J, _, _ = train_step(X, Y, parameters, acts, loss, optimizer, {}, learning_rate, i + 1,
                             workspace=workspace)
        if i % 100 == 0:
            costs.append(_as_cost(J))
        if print_cost and (i % 100 == 0 or i == num_iterations - 1):
            print(f"Cost after iteration {i}: {J}")
    if num_iterations and loss.name != "mse":
        # the collapse check sees the final cost too, which the course does not record
        history = [float(c) for c in costs] + ([J] if (num_iterations - 1) % 100 else [])
        warn_if_collapsed(X, Y, parameters, acts, history, num_iterations, init, stacklevel=3)
    return parameters, costs


def two_layer_model(
    X: Array,
    Y: Array,
    layers_dims: Sequence[int],
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    print_cost: bool = False,
) -> tuple[Params, list[Cost]]:
    """LINEAR -> RELU -> LINEAR -> SIGMOID, trained by full-batch gradient descent.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m) (or (m,)), labels 0/1
    layers_dims : (n_x, n_h, n_y)

    Returns
    -------
    parameters : dict, W1 (n_h, n_x), b1, W2 (n_y, n_h), b2
    costs : list of 0-d float64 ndarrays
        The cost at iterations 0, 100, 200, ... (i % 100 == 0): ceil(num_iterations / 100)
        of them, 25 for 2500 iterations, each what :func:`compute_cost` returns. With
        ``print_cost`` the last iteration's cost is printed too, but not recorded.
    """
    n_x, n_h, n_y = layers_dims
    parameters = initialize_parameters(n_x, n_h, n_y)
    return _train(X, Y, parameters, learning_rate, num_iterations, print_cost, "course")


def L_layer_model(
    X: Array,
    Y: Array,
    layers_dims: Sequence[int],
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    print_cost: bool = False,
    *,
    init: str = "course_app",
    seed: int = 1,
    dtype: str = "float64",
) -> tuple[Params, list[Cost]]:
    """[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID, trained by full-batch gradient descent.

    Initialised as the application notebook does (seed 1, randn / sqrt(n[l-1])); ``init``,
    ``seed`` and ``dtype`` go beyond the course.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m) (or (m,)), labels 0/1
    layers_dims : [n_x, n[1], ..., n[L]]

    Returns
    -------
    parameters : dict, W{l} (n[l], n[l-1]) and b{l} (n[l], 1)
    costs : list of 0-d float64 ndarrays
        As for :func:`two_layer_model`: iterations 0, 100, 200, ..., 25 for 2500 iterations.
    """
    parameters = engine.initialize(layers_dims, init, seed=seed, dtype=dtype)
    X = np.asarray(X, dtype=dtype)
    return _train(X, Y, parameters, learning_rate, num_iterations, print_cost, init)


def predict(X: Array, y: Array, parameters: Params) -> NDArray[np.int64]:
    """Predict 0/1 labels (probability > 0.5) with an L-layer model and print the accuracy.

    Returns
    -------
    p : ndarray of shape (1, m)
    """
    AL, _ = L_model_forward(X, parameters)
    p = predict_classes(AL)
    print("Accuracy: " + str(accuracy(p, check_labels(y, p.shape[1]))))
    return p
