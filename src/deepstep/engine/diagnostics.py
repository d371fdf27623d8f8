"""Training diagnostics: spotting a run that collapsed to predicting one class.

A run has *collapsed* when, after it had the chance to learn, it predicts a single class for
every training example and its cost sits at the entropy of the class frequencies H (what a
network that learned only its output bias reaches). The rule, on the recorded cost history
(the course's one cost per 100 iterations, ``Network.fit``'s one per epoch):

1. at least ``MIN_STEPS`` (300) parameter updates were taken, so a short run (the course's
   2-iteration unit tests, whose x 0.01 start costs log 2 = 0.693 before anything moved) is
   never judged;
2. at least 3 costs were recorded, and the last half of them (the tail) is flat at H: none is
   below (1 - ``PLATEAU_TOLERANCE``) H and they span at most ``PLATEAU_TOLERANCE`` H
   (``PLATEAU_TOLERANCE`` = 2%), so a run still descending is left alone;
3. one forward pass over the training set predicts the same class for every example.

Only when 1 and 2 hold is the forward pass taken. The advice names what fits the network:
a hidden layer whose output no longer depends on the example (dead or saturated units), x 0.01
weights in a deep network (the signal shrinks in every hidden layer), or, for a shallow one,
the learning rate, the inputs and the labels.

On the course's cat data the 4-layer network with x 0.01 weights ends 800 iterations at 0.6468
with H = 0.6440, its last five recorded costs (iterations 400-799) spanning 1.35% of H: it
warns. The course's 2-iteration unit tests and every run that learns (the 2500-iteration
application runs end at 0.088 and 0.044) stay silent. The course's one-cost-per-100 record
makes the tail coarse for short runs (3 costs need 201 iterations). Why 300 updates: by then
the stalled deep network is within 3% of H (0.660) while one that learns has left H behind
(the two-layer cat model: 0.602, 6.6% below).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .activations import Activation
from .linear import linear_forward
from .metrics import predict_classes

MIN_STEPS = 300
PLATEAU_TOLERANCE = 0.02


def prior_entropy(Y: NDArray) -> float:
    """Cross-entropy of the best constant prediction: what a network that learned only biases
    reaches. For 0/1 labels with positive rate p it is -(p log p + (1-p) log(1-p)).
    """
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape[0] == 1:
        p = np.clip(Y.mean(), 1e-12, 1 - 1e-12)
        return float(-(p * np.log(p) + (1 - p) * np.log(1 - p)))
    q = np.clip(Y.mean(axis=1), 1e-12, 1)
    return float(-np.sum(q * np.log(q)))


def plateaued_at_prior(costs: Sequence[float], steps: int, baseline: float) -> bool:
    """Rules 1 and 2 of the module docstring: enough updates, and a flat tail at ``baseline``.

    Parameters
    ----------
    costs : sequence of float
        The recorded cost history, oldest first, evenly spread over the run.
    steps : int
        Parameter updates taken in the run (iterations, or epochs x batches).
    baseline : float
        The entropy of the class frequencies, :func:`prior_entropy`.

    Examples
    --------
    >>> plateaued_at_prior([0.693, 0.66, 0.645, 0.644], 400, 0.644)
    True
    >>> plateaued_at_prior([0.693, 0.693, 0.693], 2, 0.693)  # two iterations: too early
    False
    """
    if steps < MIN_STEPS or len(costs) < 3:
        return False
    tail = np.asarray(costs[len(costs) // 2:], dtype=np.float64)
    low, high = float(tail.min()), float(tail.max())
    return bool(low >= (1 - PLATEAU_TOLERANCE) * baseline
                and high - low <= PLATEAU_TOLERANCE * baseline)


def collapse_advice(n_layers: int, init: str, constant_layer: int | None = None) -> str:
    """What to try, for a network of ``n_layers`` layers (L) initialised with ``init``.

    ``constant_layer`` is the first hidden layer l whose A[l] is the same for every training
    example (found by :func:`warn_if_collapsed`), or None.

    Examples
    --------
    >>> "3 hidden layers" in collapse_advice(4, "course")
    True
    >>> "3 hidden layers" in collapse_advice(4, "he")
    False
    """
    if constant_layer is not None:
        return (f"hidden layer {constant_layer} gives every training example the same output "
                "(its units are dead or saturated), so the prediction cannot depend on the "
                "input: lower the learning rate, or try leaky_relu or another seed")
    if init == "course" and n_layers >= 3:
        return (f"initialise with 'course_app' (randn / sqrt(n[l-1])) or 'he' instead: x 0.01 "
                f"weights shrink the signal in each of the {n_layers - 1} hidden layers, so "
                "the output hardly depends on the input and the gradients vanish")
    if n_layers == 1:
        return ("a single output unit found no signal in the inputs: standardise them, raise "
                "the learning rate, and check that the labels belong to the examples")
    start = ("x 0.01 weights make a slow start; try 'he' init, " if init == "course"
             else "try ")
    return (f"{start}a larger learning rate or more iterations, standardised inputs or "
            "another seed, and check that the labels belong to the examples")


def collapse_message(Y: NDArray, predicted: NDArray, costs: Sequence[float], steps: int,
                     init: str, *, n_layers: int = 2,
                     constant_layer: int | None = None) -> str | None:
    """A warning text when training collapsed (the module docstring's three rules); None
    otherwise.

    Parameters
    ----------
    Y : ndarray of shape (n[L], m), the training labels (0/1 or one-hot)
    predicted : ndarray of shape (1, m) or (m,), the predicted classes on the training set
    costs : sequence of float, the recorded cost history (the last one is the final cost)
    steps : int, the parameter updates taken
    init : str, the initialiser used
    n_layers, constant_layer : the network's L and its first constant hidden layer (or None),
        for :func:`collapse_advice`
    """
    if np.unique(np.asarray(predicted)).size != 1:
        return None
    if np.unique(np.asarray(Y), axis=-1).shape[-1] < 2:
        return None
    baseline = prior_entropy(Y)
    if not plateaued_at_prior(costs, steps, baseline):
        return None
    return (
        f"training collapsed: every training example is predicted as one class and the cost "
        f"has stayed at {costs[-1]:.4f} over the last half of {steps} steps, no better than "
        f"the entropy of the class frequencies ({baseline:.4f}); "
        f"{collapse_advice(n_layers, init, constant_layer)}"
    )


def _predict_and_find_constant_layer(
    X: NDArray, params: dict[str, NDArray], activations: Sequence[Activation]
) -> tuple[NDArray, int | None]:
    """Predicted classes on X, and the first hidden layer whose A[l] is the same in every
    column (None if there is none). Each A[l] is freed once A[l+1] exists."""
    A, constant = X, None
    L = len(activations)
    for l in range(1, L + 1):
        A = activations[l - 1].forward(linear_forward(A, params[f"W{l}"], params[f"b{l}"]))
        if constant is None and l < L and A.shape[1] > 1 and np.all(A == A[:, :1]):
            constant = l
    return predict_classes(A), constant


def warn_if_collapsed(X: NDArray, Y: NDArray, params: dict[str, NDArray],
                      activations: Sequence[Activation], costs: Sequence[float], steps: int,
                      init: str, *, stacklevel: int = 2) -> None:
    """Warn (RuntimeWarning) with :func:`collapse_message` when the run collapsed.

    Parameters
    ----------
    X : ndarray of shape (n[0], m), the training inputs
    Y : ndarray of shape (n[L], m), the training labels
    params, activations : the trained network
    costs : sequence of float
        The recorded cost history, oldest first, evenly spread over the run (one per epoch,
        or one per 100 iterations); its last entry is the final cost.
    steps : int
        Parameter updates taken.
    init : str
        The initialiser used (for the advice).
    stacklevel : int
        Counts from the caller of this function, as in :func:`warnings.warn`.

    The forward pass over X is taken only when the cost history already shows a plateau at
    the prior (rules 1 and 2), so a run that learns pays nothing for the check.
    """
    if not plateaued_at_prior(costs, steps, prior_entropy(Y)):
        return
    predicted, constant = _predict_and_find_constant_layer(X, params, activations)
    message = collapse_message(Y, predicted, costs, steps, init, n_layers=len(activations),
                               constant_layer=constant)
    if message:
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel + 1)
