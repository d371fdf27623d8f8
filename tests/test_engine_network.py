"""engine.forward / engine.backward: fused and textbook paths agree, dtypes, fixed masks."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep import engine
from deepstep.engine import ACTIVATIONS, INITIALIZERS, LOSSES
from deepstep.engine.regularizers import dropout_mask
from deepstep.gradcheck import random_labels

FUSED = [(loss.fused_activation, name) for name, loss in LOSSES.items()]


def _net(rng, dims, dtype=np.float64, m=6):
    params = engine.initialize(dims, "he", rng=rng, dtype=dtype)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    return X, params


@pytest.mark.parametrize(("output", "loss"), FUSED)
@pytest.mark.parametrize("hidden", list(ACTIVATIONS))
@pytest.mark.parametrize(("l2", "keep"), [(0.0, 1.0), (0.5, 0.7)])
def test_fused_and_textbook_backward_agree(output, loss, hidden, l2, keep, rng):
    X, params = _net(rng, [4, 5, 3, 3])
    acts = engine.resolve_activations(hidden, output, 3)
    Y = random_labels(loss, (3, 6), rng)
    masks = [dropout_mask((n, 6), keep, rng, np.float64) for n in (5, 3)] if keep < 1 else None
    AL, caches = engine.forward(X, params, acts, masks=masks)
    spec = LOSSES[loss]
    fused = engine.backward(AL, Y, caches, acts, spec, l2=l2, fused=True, keep_dA=True)
    textbook = engine.backward(AL, Y, caches, acts, spec, l2=l2, fused=False, keep_dA=True)
    assert (
        fused.keys()
        == textbook.keys()
        == {"dW1", "db1", "dW2", "db2", "dW3", "db3", "dA0", "dA1", "dA2"}
    )
    for k in fused:
        np.testing.assert_allclose(fused[k], textbook[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_keep_dA_and_need_dA0_do_not_change_the_gradients(rng):
    X, params = _net(rng, [4, 5, 3, 1])
    acts = engine.resolve_activations("tanh", "sigmoid", 3)
    Y = random_labels("bce", (1, 6), rng)
    AL, caches = engine.forward(X, params, acts)
    lean = engine.backward(AL, Y, caches, acts, LOSSES["binary_cross_entropy"])
    full = engine.backward(AL, Y, caches, acts, LOSSES["binary_cross_entropy"], keep_dA=True)
    dA0 = engine.backward(AL, Y, caches, acts, LOSSES["binary_cross_entropy"], need_dA0=True)
    assert set(lean) == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}
    assert "dA0" in dA0 and "dA1" not in dA0
    for k in lean:
        np.testing.assert_array_equal(lean[k], full[k])
        np.testing.assert_array_equal(lean[k], dA0[k])
    np.testing.assert_array_equal(dA0["dA0"], full["dA0"])


def test_predict_forward_is_forward_without_caches(rng):
    X, params = _net(rng, [4, 5, 3, 2])
    acts = engine.resolve_activations("relu", "softmax", 3)
    np.testing.assert_array_equal(
        engine.predict_forward(X, params, acts), engine.forward(X, params, acts)[0]
    )


# --- fixed dropout masks -----------------------------------------------------------------------


def test_drawn_masks_replay_as_fixed_masks(rng):
    X, params = _net(rng, [4, 5, 3, 1])
    acts = engine.resolve_activations("relu", "sigmoid", 3)
    AL, caches = engine.forward(X, params, acts, keep_probs=[0.8, 0.5], rng=rng)
    masks = [c[2] for c in caches[:2]]
    assert len(caches[2]) == 2  # no dropout on the output
    AL2, caches2 = engine.forward(X, params, acts, masks=masks)
    np.testing.assert_array_equal(AL, AL2)
    for c, c2 in zip(caches, caches2, strict=True):
        assert len(c) == len(c2)
        np.testing.assert_array_equal(c[1], c2[1])


def test_a_None_mask_leaves_its_layer_alone(rng):
    X, params = _net(rng, [4, 5, 3, 1])
    acts = engine.resolve_activations("relu", "sigmoid", 3)
    plain, _ = engine.forward(X, params, acts)
    AL, caches = engine.forward(X, params, acts, masks=[None, None])
    np.testing.assert_array_equal(AL, plain)
    assert all(len(c) == 2 for c in caches)


def test_bad_masks_are_named(rng):
    X, params = _net(rng, [4, 5, 3, 1])
    acts = engine.resolve_activations("relu", "sigmoid", 3)
    with pytest.raises(ValueError, match="not both"):
        engine.forward(X, params, acts, keep_probs=[0.5, 0.5], masks=[None, None], rng=rng)
    with pytest.raises(ValueError, match="got 1 for 2 hidden layers"):
        engine.forward(X, params, acts, masks=[None])
    with pytest.raises(
        ValueError, match=r"layer 2: the dropout mask is \(3, 5\) but A2 is \(3, 6\)"
    ):
        engine.forward(X, params, acts, masks=[None, np.ones((3, 5))])
    with pytest.raises(ValueError, match="Generator"):
        engine.forward(X, params, acts, keep_probs=[0.5, 1.0])


# --- dtypes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(INITIALIZERS))
def test_initialize_float32(method):
    params = engine.initialize([4, 3, 2], method, seed=0, dtype=np.float32)
    assert {v.dtype for v in params.values()} == {np.dtype(np.float32)}
    wide = engine.initialize([4, 3, 2], method, seed=0)
    for k in params:  # drawn in float64, then cast: the same numbers
        np.testing.assert_array_equal(params[k], wide[k].astype(np.float32))


@pytest.mark.parametrize(("output", "loss"), FUSED + [("tanh", "mse"), ("sigmoid", "mse")])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("label_dtype", [np.int64, np.float32, np.float64])
def test_float32_in_float32_out(output, loss, fused, label_dtype, rng):
    X, params = _net(rng, [4, 5, 3], np.float32)
    acts = engine.resolve_activations("relu", output, 2)
    Y = random_labels(loss, (3, 6), rng)
    Y = np.round(Y).astype(label_dtype) if label_dtype is np.int64 else Y.astype(label_dtype)
    AL, caches = engine.forward(X, params, acts, keep_probs=[0.8], rng=rng)
    assert AL.dtype == np.float32
    assert all(c[1].dtype == np.float32 for c in caches)
    assert caches[0][2].dtype == np.float32
    assert isinstance(engine.compute_cost(AL, Y, LOSSES[loss], params, 0.1), float)
    grads = engine.backward(AL, Y, caches, acts, LOSSES[loss], l2=0.1, fused=fused, keep_dA=True)
    assert {k: g.dtype for k, g in grads.items()} == dict.fromkeys(grads, np.dtype(np.float32))
