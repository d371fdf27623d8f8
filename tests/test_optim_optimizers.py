"""Optimisers: two steps against hand-computed numbers, purity, dtypes, zero gradients."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepstep.optim import OPTIMIZERS, get_optimizer

LR = 0.1
# W1 = [[1, -2]] and b1 = [[0.5]]; gradients at step 1 and step 2. The second entry of W1 sees
# a zero gradient first (rmsprop and adam must then divide 0 by eps, not by 0).
GRADS = [
    {"dW1": np.array([[0.5, 0.0]]), "db1": np.array([[2.0]])},
    {"dW1": np.array([[-1.0, 0.25]]), "db1": np.array([[2.0]])},
]
# Worked by hand (course-2 formulas, default hyperparameters), W1 after steps 1 and 2:
#   gd:       1 - 0.1*0.5 = 0.95;  0.95 + 0.1 = 1.05;  -2 - 0.1*0.25 = -2.025
#   momentum: v = 0.05, 1 - 0.005 = 0.995;  v = 0.045 - 0.1 = -0.055, 0.995 + 0.0055 = 1.0005
#   rmsprop:  s = 0.001*0.25, 1 - 0.1*0.5/(0.0158113883 + 1e-8) = -2.16227566...
#   adam:     v^ = 0.5, s^ = 0.25: 1 - 0.1*0.5/(0.5 + 1e-8) = 0.900000002;
#             v^ = -0.055/0.19, s^ = 0.00124975/0.001999: 0.93661035...
EXPECTED_W1 = {
    "gd": ([0.95, -2.0], [1.05, -2.025]),
    "momentum": ([0.995, -2.0], [1.0005, -2.0025]),
    "rmsprop": ([-2.1622756601696445, -2.0], [0.6664335495626941, -5.162273660173439]),
    "adam": ([0.9000000019999999, -2.0], [0.9366103542405653, -2.0744136781482774]),
}
# b1 sees the same gradient 2.0 twice.
EXPECTED_b1 = {
    "gd": (0.3, 0.1),
    "momentum": (0.5 - 0.1 * 0.2, 0.48 - 0.1 * 0.38),
    "adam": (0.5 - 0.1 * 2 / (2 + 1e-8), 0.5 - 2 * 0.1 * 2 / (2 + 1e-8)),
}


def _params():
    return {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[0.5]])}


def test_the_registry_is_covered():
    assert set(EXPECTED_W1) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("inplace", [False, True])
def test_two_steps_match_hand_computed_values(name, inplace):
    opt = get_optimizer(name)
    params = _params()
    state = opt.init(params)
    for t, (grads, want) in enumerate(zip(GRADS, EXPECTED_W1[name], strict=True), start=1):
        params, state = opt.update(params, grads, state, LR, t, inplace=inplace)
        np.testing.assert_allclose(params["W1"], [want], rtol=1e-14, atol=1e-15)
        if name in EXPECTED_b1:
            np.testing.assert_allclose(params["b1"], [[EXPECTED_b1[name][t - 1]]], rtol=1e-14)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_inplace_false_leaves_every_input_untouched(name):
    opt = get_optimizer(name)
    params = _params()
    _, state = opt.update(params, GRADS[0], opt.init(params), LR, 1)
    snapshot = (
        {k: v.copy() for k, v in params.items()},
        {k: v.copy() for k, v in GRADS[1].items()},
        {s: {k: v.copy() for k, v in d.items()} for s, d in state.items()},
    )
    new, new_state = opt.update(params, GRADS[1], state, LR, 2)
    for before, after in zip(snapshot, (params, GRADS[1]), strict=False):
        for k in before:
            np.testing.assert_array_equal(after[k], before[k])
    for s, d in snapshot[2].items():
        for k in d:
            np.testing.assert_array_equal(state[s][k], d[k])
            assert new_state[s][k] is not state[s][k]
    assert all(new[k] is not params[k] for k in params)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_inplace_true_updates_the_arrays_where_they_lie(name):
    opt = get_optimizer(name)
    params = _params()
    W1 = params["W1"]
    new, _ = opt.update(params, GRADS[0], opt.init(params), LR, 1, inplace=True)
    assert new is params and new["W1"] is W1
    assert not np.array_equal(W1, [[1.0, -2.0]])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("inplace", [False, True])
def test_float32_stays_float32(name, inplace, rng):
    opt = get_optimizer(name)
    params = {
        "W1": rng.standard_normal((3, 2)).astype(np.float32),
        "b1": np.zeros((3, 1), np.float32),
    }
    grads = {"d" + k: rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()}
    state = opt.init(params)
    for t in (1, 2):
        params, state = opt.update(params, grads, state, LR, t, inplace=inplace)
    assert {v.dtype for v in params.values()} == {np.dtype(np.float32)}
    assert {a.dtype for d in state.values() for a in d.values()} <= {np.dtype(np.float32)}


def test_hyperparameters_and_unknown_names():
    assert get_optimizer("sgd").name == "gd"
    assert get_optimizer("momentum", beta=0.5).hyper == {"beta": 0.5}
    opt = get_optimizer("adam")
    assert get_optimizer(opt) is opt
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        get_optimizer("lbfgs")


@given(
    name=st.sampled_from(list(OPTIMIZERS)),
    W=hnp.arrays(np.float64, (2, 3), elements=st.floats(-1e6, 1e6)),
    lr=st.floats(1e-6, 10.0),
    t=st.integers(1, 1000),
    inplace=st.booleans(),
)
def test_a_zero_gradient_changes_nothing(name, W, lr, t, inplace):
    opt = get_optimizer(name)
    params = {"W1": W.copy(), "b1": np.ones((2, 1))}
    grads = {"dW1": np.zeros_like(W), "db1": np.zeros((2, 1))}
    new, state = opt.update(params, grads, opt.init(params), lr, t, inplace=inplace)
    np.testing.assert_array_equal(new["W1"], W)
    np.testing.assert_array_equal(new["b1"], 1.0)
    for d in state.values():
        for a in d.values():
            np.testing.assert_array_equal(a, 0.0)
