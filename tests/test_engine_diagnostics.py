"""The collapse diagnostic: one predicted class at the cost of the label prior."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.engine.diagnostics import collapse_message, prior_entropy

Y = np.array([[0, 0, 0, 1, 1, 0, 0, 1, 0, 0]])  # positive rate 0.3
H = -(0.3 * np.log(0.3) + 0.7 * np.log(0.7))


def test_prior_entropy():
    assert prior_entropy(Y) == pytest.approx(H, rel=1e-15)
    assert prior_entropy(np.array([[0, 1]])) == pytest.approx(np.log(2))
    onehot = np.eye(3)[:, [0, 1, 2, 0, 0, 1]]
    q = np.array([0.5, 1 / 3, 1 / 6])
    assert prior_entropy(onehot) == pytest.approx(-np.sum(q * np.log(q)))


@pytest.mark.parametrize(("init", "advice"), [("course", "course_app"), ("he", "another seed")])
def test_one_class_at_the_prior_entropy_is_reported(init, advice):
    message = collapse_message(Y, np.zeros((1, 10), dtype=int), H, init)
    assert message is not None
    assert "collapsed" in message and f"{H:.4f}" in message and advice in message
    assert collapse_message(Y, np.ones(10), H * 1.5, init) is not None  # (m,) predictions


def test_multiclass_collapse_is_reported():
    onehot = np.eye(3)[:, [0, 1, 2, 0, 0, 1]]
    assert collapse_message(onehot, np.zeros(6), prior_entropy(onehot), "he") is not None


@pytest.mark.parametrize(
    ("labels", "predicted", "cost"),
    [
        (Y, np.zeros((1, 10)), 0.9 * H),  # one class, but the cost is below the prior
        (Y, np.array([[0, 1] * 5]), H),  # two classes predicted
        (np.zeros((1, 10)), np.zeros((1, 10)), 1.0),  # a one-class data set
    ],
)
def test_otherwise_none(labels, predicted, cost):
    assert collapse_message(labels, predicted, cost, "he") is None
