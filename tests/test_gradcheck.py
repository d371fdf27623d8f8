"""Backpropagation against central differences, over every registry entry.

The activation x loss grid is built from ACTIVATIONS and LOSSES, so a new entry is checked
without editing this file. A log loss is paired only with outputs that stay inside (0, 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from deepstep import engine
from deepstep.engine import ACTIVATIONS, LOSSES, Activation
from deepstep.gradcheck import (
    GradCheckResult,
    check_architecture,
    gradient_check,
    numerical_gradients,
    random_labels,
    relative_error,
)

TOL = 1e-7
Z_PROBE = np.linspace(-30.0, 30.0, 60).reshape(3, 20)


def _in_unit_interval(name: str) -> bool:
    A = ACTIVATIONS[name].forward(Z_PROBE)
    return bool(np.all((A > 0) & (A < 1)))


PROBABILITY_OUTPUTS = sorted(n for n in ACTIVATIONS if _in_unit_interval(n))
# A loss whose natural partner outputs probabilities takes logs of A[L]: only such outputs fit.
OUTPUT_LOSS = [
    (out, loss)
    for loss, spec in LOSSES.items()
    for out in ACTIVATIONS
    if out in PROBABILITY_OUTPUTS or spec.fused_activation not in PROBABILITY_OUTPUTS
]
GRID = [(h, o, loss) for h in ACTIVATIONS for o, loss in OUTPUT_LOSS]


def test_grid_holds_the_textbook_and_the_unfused_pairs():
    for pair in [
        ("sigmoid", "binary_cross_entropy"),
        ("softmax", "categorical_cross_entropy"),
        ("linear", "mse"),
        ("tanh", "mse"),
        ("sigmoid", "mse"),
        ("relu", "mse"),
    ]:
        assert pair in OUTPUT_LOSS
    assert ("relu", "binary_cross_entropy") not in OUTPUT_LOSS
    assert PROBABILITY_OUTPUTS == ["sigmoid", "softmax"]


@pytest.mark.parametrize(("hidden", "output", "loss"), GRID)
def test_every_activation_and_loss(hidden, output, loss):
    result = check_architecture([3, 4, 3, 2], hidden, output, loss, m=4, seed=1)
    assert result.relative_error < TOL, str(result)
    assert max(result.per_parameter.values()) < 1e-6, str(result)


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
def test_textbook_path_every_pair(output, loss):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 4))
    params = engine.initialize([3, 4, 2], "xavier", rng=rng)
    params["b1"] += 0.1
    Y = random_labels(loss, (2, 4), rng)
    result = gradient_check(X, Y, params, ["tanh", output], loss, fused=False)
    assert result.relative_error < TOL, str(result)


@pytest.mark.parametrize("hidden", list(ACTIVATIONS))
@pytest.mark.parametrize(
    ("output", "loss"), [("sigmoid", "bce"), ("softmax", "cce"), ("linear", "mse")]
)
def test_l2(hidden, output, loss):
    result = check_architecture([3, 4, 3, 2], hidden, output, loss, m=4, l2=0.7, seed=2)
    assert result.relative_error < TOL, str(result)


@pytest.mark.parametrize("hidden", list(ACTIVATIONS))
def test_dropout_with_fixed_masks(hidden):
    result = check_architecture(
        [3, 5, 4, 2], hidden, "softmax", "cce", m=4, l2=0.3, keep_prob=0.6, seed=4
    )
    assert result.relative_error < TOL, str(result)


def test_dropout_mask_changes_the_gradient(rng):
    X = rng.standard_normal((3, 4))
    params = engine.initialize([3, 5, 1], "he", rng=rng)
    Y = random_labels("bce", (1, 4), rng)
    mask = np.ones((5, 4))
    mask[0] = 0.0
    numeric = numerical_gradients(X, Y, params, ["tanh", "sigmoid"], "bce", masks=[mask])
    np.testing.assert_array_equal(numeric["dW1"][0], 0.0)  # a dropped unit learns nothing
    assert gradient_check(X, Y, params, ["tanh", "sigmoid"], "bce", masks=[mask]).passed


def test_a_wrong_derivative_is_caught(rng):
    def wrong_backward(dA, Z, A=None, out=None):
        return dA * 2 * Z  # the derivative of Z^2, not of tanh

    broken = Activation("tanh", np.tanh, wrong_backward)
    X = rng.standard_normal((3, 4))
    params = engine.initialize([3, 4, 1], "he", rng=rng)
    Y = random_labels("bce", (1, 4), rng)
    result = gradient_check(X, Y, params, [broken, "sigmoid"], "bce")
    assert not result.passed
    assert result.relative_error > 1e-3
    assert result.per_parameter["W2"] < TOL  # the output layer does not use the hidden derivative
    assert result.per_parameter["W1"] > 1e-3


def test_inputs_are_left_alone_and_float32_is_checked_in_float64(rng):
    X = rng.standard_normal((3, 4)).astype(np.float32)
    params = engine.initialize([3, 4, 1], "he", rng=rng, dtype=np.float32)
    before = {k: v.copy() for k, v in params.items()}
    Y = np.array([[0, 1, 1, 0]])
    numeric = numerical_gradients(X, Y, params, ["leaky_relu", "sigmoid"], "bce")
    assert all(g.dtype == np.float64 for g in numeric.values())
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
        assert params[k].dtype == np.float32
    assert set(numeric) == {"dW1", "db1", "dW2", "db2"}


def test_result_table():
    result = check_architecture([2, 3, 1], "relu", "sigmoid", "bce", seed=5)
    assert isinstance(result, GradCheckResult)
    assert result.rows() == [
        ("W1", (3, 2), result.per_parameter["W1"]),
        ("b1", (3, 1), result.per_parameter["b1"]),
        ("W2", (1, 3), result.per_parameter["W2"]),
        ("b2", (1, 1), result.per_parameter["b2"]),
    ]
    text = str(result)
    assert text.splitlines()[0].startswith("parameter")
    assert text.splitlines()[-1].startswith("overall") and text.endswith("ok")
    failed = GradCheckResult(0.1, {"W1": 0.1}, {"W1": (1, 1)})
    assert not failed.passed and "FAILED" in str(failed)


def test_check_architecture_is_reproducible_and_seeded():
    a = check_architecture([3, 4, 2], "tanh", "softmax", "cce", seed=7)
    b = check_architecture([3, 4, 2], "tanh", "softmax", "cce", seed=7)
    c = check_architecture([3, 4, 2], "tanh", "softmax", "cce", seed=8)
    assert a == b
    assert a.per_parameter != c.per_parameter


def test_check_architecture_keeps_relu_away_from_its_kink():
    with pytest.raises(RuntimeError, match="margin"):
        check_architecture([3, 50, 50, 2], "relu", "softmax", "cce", m=50, margin=0.5)


def test_relative_error_edge_cases():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.ones(3), -np.ones(3)) == 1.0


@pytest.mark.parametrize("loss", list(LOSSES))
def test_random_labels_fit_the_loss(loss, rng):
    Y = random_labels(loss, (3, 50), rng)
    assert Y.shape == (3, 50)
    if loss == "binary_cross_entropy":
        assert set(np.unique(Y)) == {0.0, 1.0}
    if loss == "categorical_cross_entropy":
        np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
