"""Losses: gradients against differences, the fused output gradient, costs at 0 and 1."""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep import course, engine
from deepstep.engine import ACTIVATIONS, LOSSES, get_loss, loss_for_output

NAMES = list(LOSSES)


def _labels(name, n, m, rng):
    if name == "categorical_cross_entropy":
        return np.eye(n)[:, rng.integers(0, n, size=m)]
    return (rng.random((n, m)) < 0.5).astype(np.float64)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_is_m_times_the_cost_derivative(name, rng):
    loss = LOSSES[name]
    AL = rng.uniform(0.1, 0.9, (3, 4))
    Y = _labels(name, 3, 4, rng)
    eps, numeric = 1e-6, np.zeros_like(AL)
    for idx in np.ndindex(AL.shape):
        P, M = AL.copy(), AL.copy()
        P[idx] += eps
        M[idx] -= eps
        numeric[idx] = (loss.cost(P, Y) - loss.cost(M, Y)) / (2 * eps)
    # The engine's gradients are per example; linear_backward divides by m.
    np.testing.assert_allclose(loss.gradient(AL, Y), 4 * numeric, rtol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_fused_output_gradient_is_the_textbook_one(name, rng):
    loss = LOSSES[name]
    out = ACTIVATIONS[loss.fused_activation]
    Z = rng.standard_normal((3, 6))
    AL = out.forward(Z)
    Y = _labels(name, 3, 6, rng)
    textbook = out.backward(loss.gradient(AL, Y), Z, AL)
    np.testing.assert_allclose(AL - Y, textbook, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cost_and_gradient_keep_the_dtype(name, dtype, rng):
    AL = rng.uniform(0.1, 0.9, (3, 4)).astype(dtype)
    Y = _labels(name, 3, 4, rng).astype(dtype)
    assert LOSSES[name].gradient(AL, Y).dtype == dtype
    assert isinstance(LOSSES[name].cost(AL, Y), float)


def test_reference_values():
    AL, Y = np.array([[0.8, 0.9, 0.4]]), np.array([[1, 1, 0]])
    expected = -(np.log(0.8) + np.log(0.9) + np.log(0.6)) / 3
    assert LOSSES["binary_cross_entropy"].cost(AL, Y) == pytest.approx(expected, rel=1e-15)
    AL = np.array([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]])
    Y = np.array([[1, 0], [0, 0], [0, 1]])
    expected = -(np.log(0.7) + np.log(0.3)) / 2
    assert LOSSES["categorical_cross_entropy"].cost(AL, Y) == pytest.approx(expected, rel=1e-15)
    assert LOSSES["mse"].cost(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]])) == 1.25


def test_lookup():
    assert get_loss("log_loss") is LOSSES["binary_cross_entropy"]
    assert get_loss("cce") is LOSSES["categorical_cross_entropy"]
    assert loss_for_output("softmax").name == "categorical_cross_entropy"
    assert loss_for_output("tanh").name == "mse"
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        get_loss("hinge")


@st.composite
def outputs_and_labels(draw):
    """AL with entries that are often exactly 0 or 1, and 0/1 (or one-hot) labels."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    AL = draw(
        hnp.arrays(
            dtype,
            (n, m),
            elements=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1, width=32)),
        )
    )
    Y = draw(hnp.arrays(np.int64, (n, m), elements=st.integers(0, 1)))
    Y_onehot = np.eye(n, dtype=np.int64)[
        :, draw(hnp.arrays(np.int64, m, elements=st.integers(0, n - 1)))
    ]
    return AL, Y, Y_onehot


@given(outputs_and_labels())
def test_every_cost_is_finite_and_nonnegative(data):
    AL, Y, Y_onehot = data
    for name, loss in LOSSES.items():
        labels = Y_onehot if name == "categorical_cross_entropy" else Y
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            J = loss.cost(AL, labels)
        assert isinstance(J, float)
        assert np.isfinite(J) and J >= 0, (name, AL, labels)


def test_a_perfect_prediction_costs_almost_nothing():
    Y = np.array([[1.0, 0.0, 1.0]])
    assert 0 <= LOSSES["binary_cross_entropy"].cost(Y.copy(), Y) < 1e-12
    assert LOSSES["binary_cross_entropy"].cost(1 - Y, Y) == pytest.approx(-np.log(2.0**-52))


# --- the textbook softmax + cross-entropy path far from the truth -----------------------------


def test_textbook_cce_gradient_when_the_true_class_has_probability_1e_26():
    # Issue 9's numbers: one example x = 0.5, two classes with logits -30 and 30, the true
    # class first. Its probability is e^-60 = 8.8e-27, below machine epsilon (2.2e-16).
    X = np.array([[0.5]])
    params = {"W1": np.array([[-60.0], [60.0]]), "b1": np.zeros((2, 1))}
    Y = np.array([[1.0], [0.0]])
    AL, caches = course.L_model_forward(X, params, output="softmax")
    p = AL[0, 0]
    assert 8.7e-27 < p < 8.8e-27
    textbook = course.L_model_backward(AL, Y, caches, output="softmax", cost="cce")
    fused = engine.backward(AL, Y, caches, engine.resolve_activations("relu", "softmax", 1),
                            get_loss("cce"), fused=True)
    # exact: dW = (A - Y) x = (p - 1) 0.5 = -0.5 for the true class, (1 - p) 0.5 for the other
    np.testing.assert_allclose(fused["dW1"], [[-0.5], [0.5]], rtol=1e-15)
    np.testing.assert_allclose(textbook["dW1"], fused["dW1"], rtol=1e-15)
    np.testing.assert_allclose(textbook["db1"], fused["db1"], rtol=1e-15)
    # what dA clipped at eps gave (the issue's -1.97e-11): dZ = p (-1/eps) instead of p - 1
    clipped = p * -1 / np.finfo(np.float64).eps * 0.5
    assert clipped == pytest.approx(-1.97e-11, rel=1e-2)
    assert textbook["dW1"][0, 0] / clipped > 1e10


@pytest.mark.parametrize(
    ("dtype", "gaps", "rtol"),
    [(np.float64, [0, 10, 40, 100, 300, 700], 1e-12), (np.float32, [0, 10, 20, 40, 80], 1e-5)],
)
def test_textbook_cce_path_is_the_fused_one_down_to_the_smallest_normal(dtype, gaps, rtol, rng):
    # Logit gaps up to 700 (float64) / 80 (float32) put the true class's probability near
    # e^-700 = 1e-304 / e^-80 = 1.8e-35, just above the smallest normal number.
    k, m = 4, len(gaps)
    Z = rng.standard_normal((k, m)).astype(dtype)
    truth = rng.integers(0, k, size=m)
    Z[truth, np.arange(m)] -= np.asarray(gaps, dtype=dtype)  # the true class far below
    Y = np.eye(k, dtype=dtype)[:, truth]
    softmax = ACTIVATIONS["softmax"]
    AL = softmax.forward(Z)
    assert AL[truth, np.arange(m)].min() > np.finfo(dtype).tiny
    textbook = softmax.backward(get_loss("cce").gradient(AL, Y), Z, AL)
    assert textbook.dtype == dtype
    np.testing.assert_allclose(textbook, AL - Y, rtol=rtol, atol=rtol * np.abs(AL - Y).max())


def test_textbook_cce_gradient_stays_finite_at_probability_zero():
    # e^-800 underflows to exactly 0: there the textbook chain rule multiplies by A = 0 and
    # cannot recover A - Y (the fused path can); it must at least not produce inf or nan.
    Z = np.array([[-800.0], [0.0]])
    Y = np.array([[1.0], [0.0]])
    softmax = ACTIVATIONS["softmax"]
    AL = softmax.forward(Z)
    assert AL[0, 0] == 0.0
    dA = get_loss("cce").gradient(AL, Y)
    assert np.all(np.isfinite(dA))
    assert np.all(np.isfinite(softmax.backward(dA, Z, AL)))


def test_textbook_bce_gradient_is_the_course_formula_unclipped():
    # The course's published L_model_backward case feeds AL = 1.79 > 1: the textbook BCE
    # gradient stays exactly -(Y / AL - (1 - Y) / (1 - AL)), with no clipping at all.
    AL = np.array([[1.78862847, 0.43650985, 1e-30, 1 - 1e-12]])
    Y = np.array([[1, 0, 1, 0]])
    np.testing.assert_array_equal(get_loss("bce").gradient(AL, Y),
                                  -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)))
