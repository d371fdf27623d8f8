"""Activations: each backward against a numerical derivative, the out= path, and properties."""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep import course
from deepstep.engine import ACTIVATIONS, get_activation
from deepstep.engine.activations import sigmoid, softmax

NAMES = list(ACTIVATIONS)


def _away_from_zero(rng, shape, margin=0.05):
    Z = rng.standard_normal(shape) * 2
    return np.where(np.abs(Z) < margin, Z + np.sign(Z + 1e-12) * margin, Z)


def _numerical_jvp(g, Z, dA, eps=1e-6):
    """d/dZ of sum(dA * g(Z)), entry by entry: what backward(dA, Z) must return."""
    dZ = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += eps
        Zm[idx] -= eps
        dZ[idx] = (np.sum(dA * g(Zp)) - np.sum(dA * g(Zm))) / (2 * eps)
    return dZ


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_numerical_derivative(name, rng):
    act = ACTIVATIONS[name]
    Z = _away_from_zero(rng, (4, 3))
    dA = rng.standard_normal((4, 3))
    expected = _numerical_jvp(act.forward, Z, dA)
    np.testing.assert_allclose(act.backward(dA, Z), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_cached_A_and_out_paths_equal_the_pure_path(name, rng):
    act = ACTIVATIONS[name]
    Z = rng.standard_normal((5, 4))
    A = act.forward(Z)
    dA = rng.standard_normal((5, 4))
    dA_saved = dA.copy()
    pure = act.backward(dA, Z)
    np.testing.assert_array_equal(dA, dA_saved)  # the pure path leaves dA alone
    np.testing.assert_allclose(act.backward(dA, Z, A), pure, rtol=1e-15, atol=1e-15)

    target = np.empty_like(dA)
    written = act.backward(dA, Z, A, out=target)
    assert written is target
    np.testing.assert_allclose(target, pure, rtol=1e-15, atol=1e-15)

    inplace = dA.copy()
    result = act.backward(inplace, Z, A, out=inplace)
    assert result is inplace
    np.testing.assert_allclose(inplace, pure, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_negative_Z_gives_the_left_slope(name):
    # A seed version tested `activation_cache.any() < 0`, which is never true: negative Z
    # passed dA through unchanged.
    Z = np.array([[-3.0, -1e-9, 0.0, 1e-9, 2.0]])
    dA = np.full_like(Z, 5.0)
    left = 0.0 if name == "relu" else 0.01 * 5.0
    np.testing.assert_array_equal(ACTIVATIONS[name].backward(dA, Z), [[left, left, left, 5, 5]])


def test_course_relu_backward_zeroes_negative_Z(rng):
    Z = -np.abs(rng.standard_normal((3, 4))) - 0.1
    np.testing.assert_array_equal(course.relu_backward(np.ones_like(Z), Z), 0.0)
    np.testing.assert_array_equal(course.relu_backward(np.ones_like(Z), -Z), 1.0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(name, dtype, rng):
    act = ACTIVATIONS[name]
    Z = rng.standard_normal((3, 4)).astype(dtype)
    A = act.forward(Z)
    assert A.dtype == dtype
    assert act.backward(np.ones_like(Z), Z, A).dtype == dtype
    assert act.backward(np.ones_like(Z), Z).dtype == dtype


def test_aliases_and_unknown_names():
    assert get_activation("none") is ACTIVATIONS["linear"]
    assert get_activation(" Logistic ") is ACTIVATIONS["sigmoid"]
    with pytest.raises(ValueError, match="unknown activation 'swish'.*relu"):
        get_activation("swish")


def test_sigmoid_of_integers():
    # The old floor had the wrong sign for integer input, so sigmoid(0) was 1.
    np.testing.assert_allclose(sigmoid(np.array([[-1, 0, 1]])), [[0.26894142, 0.5, 0.73105858]])


finite_floats = st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dt: hnp.arrays(
        dt,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.one_of(
            st.floats(-1e4, 1e4, width=32),
            st.sampled_from([-1e4, 1e4, -1e3, 1e3, -89.0, -750.0, 0.0]),
        ),
    )
)


@given(finite_floats)
def test_sigmoid_in_unit_interval_without_warnings(Z):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = sigmoid(Z)
    assert A.dtype == Z.dtype
    assert np.all(np.isfinite(A))
    assert np.all((A >= 0) & (A <= 1))


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.floats(-1e3, 1e3),
    ),
    st.floats(-1e3, 1e3),
)
def test_softmax_columns_sum_to_one_and_shift_invariant(Z, c):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = softmax(Z)
        shifted = softmax(Z + c)
    assert np.all(np.isfinite(A)) and np.all(A >= 0)
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(shifted, A, atol=1e-9)


@given(
    Z=hnp.arrays(np.float32, (3, 5), elements=st.floats(-2.0, 2.0, width=32)),
    dA=hnp.arrays(np.float32, (3, 5), elements=st.floats(width=32)),
    into=st.booleans(),
)
def test_relu_backward_is_the_course_masked_copy_bit_for_bit(Z, dA, into):
    """The bitwise-AND form gives the masked copy's bits for any dA (signed zeros, inf and
    NaN too), with or without out=."""
    want = dA.copy()
    np.copyto(want, 0, where=Z <= 0)
    got = ACTIVATIONS["relu"].backward(dA, Z, None, out=np.empty_like(dA) if into else None)
    assert got.tobytes() == want.tobytes()
    assert ACTIVATIONS["relu"].backward(dA, Z, None, out=dA) is dA
    assert dA.tobytes() == want.tobytes()
