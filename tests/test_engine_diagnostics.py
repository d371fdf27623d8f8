"""The collapse diagnostic: one predicted class, at the label prior's cost, after a plateau."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from deepstep import course, engine
from deepstep.engine.diagnostics import (
    MIN_STEPS,
    collapse_advice,
    collapse_message,
    plateaued_at_prior,
    prior_entropy,
    warn_if_collapsed,
)

Y = np.array([[0, 0, 0, 1, 1, 0, 0, 1, 0, 0]])  # positive rate 0.3
H = -(0.3 * np.log(0.3) + 0.7 * np.log(0.7))
FLAT = [0.75, 0.66, H * 1.005, H * 1.001, H]  # descends, then sits at H for the last half

# Measured on the course's cat data (H = 0.6440): the 4-layer network with x 0.01 weights,
# costs at iterations 0, 100, ..., 700 and the last (799), and the two-layer model's first 400
# iterations, which learn.
CAT_H = 0.6439737380528058
CAT_DEEP_X001 = [0.6931489, 0.6780102, 0.6675988, 0.6604208, 0.6554568, 0.6520125, 0.6496150,
                 0.6479411, 0.6467789]
CAT_TWO_LAYER = [0.6930497, 0.6464321, 0.6325141, 0.6015025, 0.5606305]


def test_prior_entropy():
    assert prior_entropy(Y) == pytest.approx(H, rel=1e-15)
    assert prior_entropy(np.array([[0, 1]])) == pytest.approx(np.log(2))
    onehot = np.eye(3)[:, [0, 1, 2, 0, 0, 1]]
    q = np.array([0.5, 1 / 3, 1 / 6])
    assert prior_entropy(onehot) == pytest.approx(-np.sum(q * np.log(q)))


@pytest.mark.parametrize(
    ("costs", "steps", "baseline", "expected"),
    [
        (FLAT, MIN_STEPS, H, True),
        (FLAT, MIN_STEPS - 1, H, False),  # too few updates to judge
        ([np.log(2)] * 3, 2, np.log(2), False),  # the course's 2-iteration tests: nothing moved
        (FLAT[-2:], 1000, H, False),  # two records: no tail to call flat
        ([0.9, 0.8, 0.75, 0.7, H * 1.03], 1000, H, False),  # still descending
        ([H, H, 0.9 * H, 0.9 * H], 1000, H, False),  # below the prior: it learned something
        ([H, H, H * 1.1, H * 1.1], 1000, H, True),  # stuck above the prior counts too
        (CAT_DEEP_X001, 800, CAT_H, True),
        (CAT_TWO_LAYER, 400, CAT_H, False),
    ],
    ids=["flat", "too-few-steps", "two-iterations", "two-records", "descending",
         "below-prior", "above-prior", "cat-deep-x0.01", "cat-two-layer"],
)
def test_plateau_rule(costs, steps, baseline, expected):
    assert plateaued_at_prior(costs, steps, baseline) is expected


@pytest.mark.parametrize(
    ("n_layers", "init", "constant_layer", "has", "lacks"),
    [
        (4, "course", None, ["course_app", "3 hidden layers"], ["slow start"]),
        (3, "course", None, ["2 hidden layers"], []),
        (2, "course", None, ["slow start", "'he'", "learning rate"], ["hidden layers"]),
        (2, "he", None, ["learning rate", "another seed"], ["x 0.01", "hidden layers"]),
        (1, "course", None, ["single output unit"], ["hidden"]),
        (4, "course", 2, ["hidden layer 2", "dead or saturated"], ["course_app"]),
    ],
)
def test_advice_fits_the_network(n_layers, init, constant_layer, has, lacks):
    advice = collapse_advice(n_layers, init, constant_layer)
    for text in has:
        assert text in advice
    for text in lacks:
        assert text not in advice


def test_one_class_after_a_plateau_is_reported():
    message = collapse_message(Y, np.zeros((1, 10), dtype=int), FLAT, 500, "course", n_layers=4)
    assert message is not None
    assert "collapsed" in message and f"{H:.4f}" in message and "500 steps" in message
    assert "course_app" in message
    assert collapse_message(Y, np.ones(10), FLAT, 500, "he") is not None  # (m,) predictions


def test_multiclass_collapse_is_reported():
    onehot = np.eye(3)[:, [0, 1, 2, 0, 0, 1]]
    h = prior_entropy(onehot)
    assert collapse_message(onehot, np.zeros(6), [h] * 4, 500, "he") is not None


@pytest.mark.parametrize(
    ("labels", "predicted", "costs", "steps"),
    [
        (Y, np.array([[0, 1] * 5]), FLAT, 500),  # two classes predicted
        (np.zeros((1, 10)), np.zeros((1, 10)), [1.0] * 4, 500),  # a one-class data set
        (Y, np.zeros((1, 10)), [H] * 3, 2),  # one class at H, but after two steps
        (Y, np.zeros((1, 10)), [0.9 * H] * 4, 500),  # one class, but below the prior
    ],
)
def test_otherwise_none(labels, predicted, costs, steps):
    assert collapse_message(labels, predicted, costs, steps, "he") is None


def _dead_relu_net():
    """[3, 4, 2, 1]: layer 1's ReLUs are dead on every input (b1 = -100), the output sits at
    the prior of Y (sigmoid(b3) = 0.3)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 10))
    params = {
        "W1": rng.standard_normal((4, 3)), "b1": np.full((4, 1), -100.0),
        "W2": rng.standard_normal((2, 4)), "b2": np.zeros((2, 1)),
        "W3": rng.standard_normal((1, 2)), "b3": np.full((1, 1), np.log(0.3 / 0.7)),
    }
    return X, params, engine.resolve_activations("relu", "sigmoid", 3)


def test_warning_names_the_dead_layer():
    X, params, acts = _dead_relu_net()
    with pytest.warns(RuntimeWarning, match="hidden layer 1 gives every training example"):
        warn_if_collapsed(X, Y, params, acts, FLAT, 1000, "he")


def test_no_forward_pass_without_a_plateau():
    # a short run is judged on its cost history alone: the network is not even run
    X, _, acts = _dead_relu_net()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_collapsed(X, Y, {}, acts, [H] * 3, 2, "course")


def test_a_two_iteration_course_run_is_silent():
    # the application notebook's two_layer_model_test: x 0.01 weights, cost 0.693 = log 2
    rng = np.random.RandomState(1)
    X, labels = rng.randn(10, 10), np.array([[1, 0] * 5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, costs = course.two_layer_model(X, labels, (10, 4, 1), 0.0075, 2)
    assert float(costs[0]) == pytest.approx(np.log(2), abs=1e-3)
