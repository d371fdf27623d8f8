"""Losses: gradients against differences, the fused output gradient, costs at 0 and 1."""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
