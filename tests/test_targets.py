"""Task detection and target encoding: the rule, its overrides, regression in original units."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep import Network
from deepstep.targets import TargetEncoder, detect_task


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (["cat", "dog", "cat"], "binary"),
        (["a", "b", "c"], "multiclass"),
        ([True, False, True], "binary"),
        ([0, 1, 1, 0], "binary"),
        ([3, 8, 8, 3], "binary"),
        (np.arange(300) % 10, "multiclass"),  # digits
        (np.arange(300) % 20, "multiclass"),  # 20 values: still classes at any m
        (np.arange(4000) % 26, "multiclass"),  # 26 values, 150 examples each
        (np.arange(400) % 30, "regression"),  # 30 values, 13 examples each
        (np.arange(442) % 214 + 25, "regression"),  # diabetes-like whole numbers
        (np.arange(442) % 214 + 25.0, "regression"),  # the same as whole floats
        ([1.5, 2.0, 3.25], "regression"),
        (np.eye(3)[:, [0, 1, 2, 1]], "multiclass"),  # one-hot block
        (np.ones((2, 4)) * 0.5, "regression"),  # two target rows
    ],
)
def test_the_rule(labels, task):
    choice = detect_task(labels)
    assert choice.task == task
    assert choice.reason
    assert f"task={task}" not in choice.message() and "task=" in choice.message()


def test_non_finite_labels_are_named():
    with pytest.raises(ValueError, match="label 1 is nan"):
        detect_task([1.0, np.nan])


def test_classes_keep_their_kind_and_unseen_labels_are_named():
    enc = TargetEncoder("multiclass", 3).fit(np.array(["b", "a", "c", "a"]))
    assert enc.classes_.tolist() == ["a", "b", "c"]
    assert enc.encode(["c", "a"]).tolist() == [[0, 1], [0, 0], [1, 0]]
    with pytest.raises(ValueError, match=r"labels \['z'\] were not seen"):
        enc.encode(["a", "z"])
    with pytest.raises(ValueError, match=r"labels \[7\] were not seen"):
        enc.encode([7, 7])
    booleans = TargetEncoder("binary", 1).fit(np.array([True, False]))
    assert booleans.decode(np.array([[0.9, 0.1]])).tolist() == [[True, False]]


def test_regression_targets_are_standardised_and_decoded():
    y = np.array([100.0, 200.0, 300.0, 400.0])
    enc = TargetEncoder("regression", 1).fit(y)
    Y = enc.encode(y)
    np.testing.assert_allclose(Y.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(Y.std(), 1)
    np.testing.assert_allclose(enc.decode(Y), y[None, :])
    weighted = TargetEncoder("regression", 1).fit(y, weights=np.array([1, 1, 1, 0]))
    np.testing.assert_allclose(weighted.mean_, [[200.0]])


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e6])
def test_network_regression_in_original_units(rng, scale):
    X = rng.normal(size=(3, 300))
    y = (2 * X[0] - X[1] + 0.5) * scale + 7 * scale
    net = Network([3, 16, 1], seed=0, dtype="float64")
    net.fit(X, y, epochs=150, batch_size=32, learning_rate=0.01, l2=0.0, verbose=False)
    assert net.task == "regression" and net.classes_ is None
    np.testing.assert_allclose(net.target_mean_, [[y.mean()]])
    scores = net.evaluate(X, y)
    assert scores["r2"] > 0.98
    assert set(scores) == {"loss", "r2", "mae", "rmse"}
    pred = net.predict(X)
    assert pred.dtype == np.float64 and pred.shape == (1, 300)
    assert scores["rmse"] == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)), rel=1e-9)
    with pytest.raises(ValueError, match="predicts values, not probabilities"):
        net.predict_proba(X)


def test_integer_targets_follow_the_rule_and_can_be_overridden(rng):
    X = rng.normal(size=(2, 400))
    counts = np.round(np.exp(1 + X[0])).astype(int) + np.arange(400) % 50  # many values
    net = Network([2, 8, 1], seed=0)
    net.fit(X, counts, epochs=2, verbose=False)
    assert net.task == "regression"
    few = (X[0] > 0).astype(int) + (X[1] > 0).astype(int)  # 3 classes
    with pytest.raises(ValueError, match="look like 3 classes .* task='regression'"):
        Network([2, 8, 1], seed=0).fit(X, few, epochs=1, verbose=False)
    net = Network([2, 8, 1], seed=0, task="regression")
    net.fit(X, few, epochs=2, verbose=False)
    assert net.task == "regression" and net.predict(X).dtype == np.float64
    net = Network([2, 8, 3], seed=0)
    net.fit(X, few, epochs=2, verbose=False)
    assert net.task == "multiclass" and net.classes_.tolist() == [0, 1, 2]


@pytest.mark.parametrize("labels", [[3, 8], ["no", "yes"], [False, True], [-1, 1]])
def test_binary_labels_of_any_kind_predict_themselves(rng, labels):
    X = rng.normal(size=(2, 200))
    y = np.array(labels)[(X[0] > 0).astype(int)]
    net = Network([2, 8, 1], seed=0)
    net.fit(X, y, epochs=40, learning_rate=0.01, l2=0.0, verbose=False)
    pred = net.predict(X)
    assert pred.dtype == y.dtype and set(pred.ravel().tolist()) <= set(labels)
    assert np.mean(pred.ravel() == y) > 0.95
    assert net.evaluate(X, y)["accuracy"] > 0.95


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        Network([2, 3, 1], task="ranking")
