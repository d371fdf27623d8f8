"""The course application on the cat data: two_layer_model and L_layer_model.

Reference trajectories: the costs at iterations 0, 100, ..., 2400 (the 25 that the course's
functions return) and 2499 (the last one, which they print but do not return) of
scikit-learn's MLPClassifier (float64, solver="sgd", momentum 0, alpha 0, full batch, no
shuffle) started from the course's initial weights; deepstep matched them to 2.3e-16
(L-layer) and 4.4e-15 (two-layer) when they were recorded. A short live run against
scikit-learn keeps the oracle honest; the full runs compare with the pinned values to 1e-9.
The course notebook prints the same numbers to 6 digits (0.771749, 0.672053, ... 0.088439).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from deepstep import Network, course, engine

L_LAYER_COSTS = [
    0.7717493284237688, 0.6720534400822915, 0.6482632048575212, 0.6115068816101354,
    0.567047326836611, 0.5401376634547801, 0.5279299569455267, 0.4654773771766852,
    0.369125852495928, 0.3917469743480535, 0.3151869888600616, 0.2726998441789384,
    0.23741853400268134, 0.19960120532208647, 0.18926300388463305, 0.1611885466582775,
    0.14821389662363316, 0.13777487812972944, 0.1297401754919012, 0.12122535068005211,
    0.1138206066863371, 0.10783928526254133, 0.10285466069352679, 0.10089745445261784,
    0.09287821526472395,
]
L_LAYER_LAST = 0.088439943441702  # iteration 2499
TWO_LAYER_COSTS = [
    0.6930497356599891, 0.6464320953428849, 0.6325140647912677, 0.6015024920354665,
    0.5601966311605748, 0.515830477276473, 0.4754901313943326, 0.4339163151225749,
    0.4007977536203889, 0.35807050113237987, 0.3394281538366412, 0.3052753636196264,
    0.27491377282130175, 0.24681768210614827, 0.19850735037466086, 0.17448318112556666,
    0.17080762978096387, 0.11306524562164726, 0.09629426845937147, 0.08342617959726861,
    0.07439078704319078, 0.06630748132267929, 0.05919329501038166, 0.0533614034856055,
    0.04855478562877014,
]
TWO_LAYER_LAST = 0.04421498215868952  # iteration 2499


def sklearn_costs(X, Y, params, iterations):
    """The oracle: MLPClassifier from the same weights, one full-batch SGD step per call."""
    L = len(params) // 2
    hidden = tuple(params[f"W{l}"].shape[0] for l in range(1, L))
    clf = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", solver="sgd",
                        learning_rate_init=0.0075, momentum=0.0, nesterovs_momentum=False,
                        alpha=0.0, batch_size=X.shape[1], shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X.T, Y.ravel(), classes=[0, 1])  # builds the estimator's state
    clf.coefs_ = [params[f"W{l}"].T.copy() for l in range(1, L + 1)]
    clf.intercepts_ = [params[f"b{l}"].ravel().copy() for l in range(1, L + 1)]
    costs = []
    for i in range(iterations):
        clf.partial_fit(X.T, Y.ravel())
        if i % 100 == 0:
            costs.append(clf.loss_)
    return costs, clf


def test_L_layer_model_matches_scikit_learn_live(cat_data):
    X, Y, _, _ = cat_data
    start = engine.initialize([12288, 20, 7, 5, 1], "course_app", seed=1)
    want, clf = sklearn_costs(X, Y, start, 101)
    params, costs = course.L_layer_model(X, Y, [12288, 20, 7, 5, 1], 0.0075, 101)
    np.testing.assert_allclose(costs, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(costs, L_LAYER_COSTS[:2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(params["W1"], clf.coefs_[0].T, rtol=0, atol=1e-12)


def assert_course_costs(costs, expected) -> None:
    """What the course returns: a list with one 0-d float64 ndarray per 100 iterations."""
    assert isinstance(costs, list)
    assert len(costs) == len(expected)
    for c in costs:
        assert isinstance(c, np.ndarray)
        assert c.shape == ()
        assert c.dtype == np.float64
    np.testing.assert_allclose(np.array(costs), expected, rtol=0, atol=1e-9)


def printed_costs(out: str) -> dict[int, float]:
    """{i: cost} from the "Cost after iteration i: cost" lines."""
    lines = [line for line in out.splitlines() if line.startswith("Cost after iteration ")]
    pairs = [line.removeprefix("Cost after iteration ").split(": ") for line in lines]
    return {int(i): float(c) for i, c in pairs}


@pytest.mark.slow
def test_L_layer_model_reproduces_the_course(cat_data, capsys):
    X, Y, Xt, Yt = cat_data
    params, costs = course.L_layer_model(X, Y, [12288, 20, 7, 5, 1], 0.0075, 2500,
                                         print_cost=True)
    assert_course_costs(costs, L_LAYER_COSTS)  # 25: iterations 0, 100, ..., 2400
    assert costs[0] == pytest.approx(0.7717493284, abs=1e-10)
    printed = printed_costs(capsys.readouterr().out)
    assert list(printed) == [*range(0, 2500, 100), 2499]
    assert [printed[i] for i in range(0, 2500, 100)] == [float(c) for c in costs]
    assert printed[2499] == pytest.approx(L_LAYER_LAST, abs=1e-9)
    p_train = course.predict(X, Y, params)
    p_test = course.predict(Xt, Yt, params)
    assert np.mean(p_train == Y) == pytest.approx(0.98565, abs=5e-6)
    assert np.mean(p_test == Yt) == 0.80


@pytest.mark.slow
def test_two_layer_model_reproduces_the_course(cat_data, capsys):
    X, Y, Xt, Yt = cat_data
    params, costs = course.two_layer_model(X, Y, (12288, 7, 1), 0.0075, 2500, print_cost=True)
    assert_course_costs(costs, TWO_LAYER_COSTS)
    assert costs[0] == pytest.approx(0.6930497357, abs=1e-10)
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Cost after iteration 0: 0.69304973")
    assert out.splitlines()[-1].startswith("Cost after iteration 2499: ")
    printed = printed_costs(out)
    assert list(printed) == [*range(0, 2500, 100), 2499]
    assert printed[2499] == pytest.approx(TWO_LAYER_LAST, abs=1e-9)
    course.predict(X, Y, params)
    course.predict(Xt, Yt, params)
    accuracy_lines = capsys.readouterr().out.splitlines()
    # a mean, not the course's sum of fractions (which prints 0.9999999999999998)
    assert accuracy_lines == ["Accuracy: 1.0", "Accuracy: 0.72"]


def test_network_gd_is_L_layer_model_bit_for_bit(cat_data):
    X, Y, _, _ = cat_data
    params, costs = course.L_layer_model(X, Y, [12288, 20, 7, 5, 1], 0.0075, 201)
    # the primal path is the course's arithmetic ("auto" takes the dual path here: the same
    # run to 1e-15, see test_dual.py)
    net = Network([12288, 20, 7, 5, 1], init="course_app", seed=1, dtype="float64",
                  solver="primal")
    history = net.fit(X, Y, iterations=201, batch_size=None, optimizer="gd",
                      learning_rate=0.0075, l2=0.0, preprocess="none", verbose=False)
    # the Network keeps every iteration's cost; the course returns iterations 0, 100 and 200
    assert len(history["loss"]) == 201 and len(costs) == 3
    assert [history["loss"][i] for i in (0, 100, 200)] == [float(c) for c in costs]
    for key in params:
        assert np.array_equal(net.params[key], params[key]), key


def test_deep_course_init_stalls_and_is_detected(cat_data):
    X, Y, _, _ = cat_data
    with pytest.warns(RuntimeWarning, match="course_app.*he|he.*course_app") as record:
        _, costs = course.L_layer_model(X, Y, [12288, 20, 7, 5, 1], 0.0075, 800, init="course")
    assert "one class" in str(record[0].message)
    # the cost has settled at the entropy of the class frequencies (137 non-cat of 209); the
    # last returned cost is iteration 700's
    p = 72 / 209
    assert len(costs) == 8
    assert float(costs[-1]) == pytest.approx(-(p * np.log(p) + (1 - p) * np.log(1 - p)), abs=5e-3)


def test_labels_as_a_vector_are_accepted(cat_data):
    X, Y, _, _ = cat_data
    _, a = course.L_layer_model(X[:, :50], Y[:, :50], [12288, 3, 1], 0.0075, 3)
    _, b = course.L_layer_model(X[:, :50], Y.ravel()[:50], [12288, 3, 1], 0.0075, 3)
    assert len(a) == len(b) == 1
    assert float(a[0]) == float(b[0])


def test_labels_with_the_wrong_m_are_named(cat_data):
    X, Y, _, _ = cat_data
    with pytest.raises(ValueError, match="labels have 208 examples.*m = 209"):
        course.L_layer_model(X, Y[:, :208], [12288, 3, 1], 0.0075, 1)


def test_transposed_input_is_named(cat_data):
    X, Y, _, _ = cat_data
    with pytest.raises(ValueError, match="X has 209 rows.*n_x = 12288"):
        course.L_layer_model(X.T, Y, [12288, 3, 1], 0.0075, 1)
