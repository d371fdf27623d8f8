"""Flat parameter storage: FlatParams, the Workspace's flat gradients, train_step on them."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from deepstep import engine
from deepstep.engine.flat import ALIGN_BYTES, FlatParams, Layout, flat_pair, pack
from deepstep.engine.regularizers import clip_by_global_norm
from deepstep.engine.step import train_step
from deepstep.optim import OPTIMIZERS, get_optimizer

DIMS = [5, 4, 3, 2]


def _params(rng, dtype=np.float64):
    return engine.initialize(DIMS, "he", rng=rng, dtype=dtype)


def test_pack_keeps_keys_shapes_values_and_shares_one_aligned_buffer(rng):
    params = _params(rng)
    flat = pack(params)
    assert list(flat) == list(params)
    for k, v in params.items():
        assert flat[k].shape == v.shape and flat[k].flags.c_contiguous
        np.testing.assert_array_equal(flat[k], v)
        assert np.shares_memory(flat[k], flat.buffer)
        assert flat[k].ctypes.data % ALIGN_BYTES == 0
    assert flat.buffer.ndim == 1 and flat.buffer.size == flat.layout.size
    # the padding is zero and nothing overlaps: all views together hold every value once
    assert np.count_nonzero(flat.buffer) == sum(np.count_nonzero(v) for v in params.values())
    assert pack(flat) is flat
    assert pack(flat, np.float32).layout.dtype == np.float32


def test_writes_go_through_the_buffer(rng):
    flat = pack(_params(rng))
    W1 = flat["W1"]
    flat.buffer[:] = 2.0
    np.testing.assert_array_equal(W1, 2.0)
    flat["W1"] = np.ones_like(W1)  # copies into the view, which stays the same object
    assert flat["W1"] is W1 and np.all(W1 == 1.0)
    flat.update({"b1": np.full((4, 1), 3.0)})
    np.testing.assert_array_equal(flat["b1"], 3.0)
    with pytest.raises(ValueError, match=r"W1 is \(4, 5\); cannot write an array of shape"):
        flat["W1"] = np.ones((5, 4))
    with pytest.raises(KeyError, match="layout is fixed"):
        flat["W9"] = np.ones(3)
    for fn in (lambda: flat.pop("W1"), lambda: flat.__delitem__("W1"), flat.clear):
        with pytest.raises(TypeError, match="keys of a FlatParams are fixed"):
            fn()


def test_copies_keep_the_layout(rng):
    flat = pack(_params(rng))
    for clone in (copy.deepcopy(flat), pickle.loads(pickle.dumps(flat))):
        assert isinstance(clone, FlatParams) and clone.layout == flat.layout
        assert not np.shares_memory(clone.buffer, flat.buffer)
        assert all(np.shares_memory(v, clone.buffer) for v in clone.values())
        np.testing.assert_array_equal(clone.buffer, flat.buffer)
    shallow = copy.copy(flat)
    assert shallow.buffer is flat.buffer


def test_layout_of_an_empty_dict_is_named():
    with pytest.raises(ValueError, match="nothing to lay out"):
        Layout.of({})


def test_the_workspace_lays_gradients_out_like_flat_parameters(rng):
    params = pack(_params(rng))
    acts = engine.resolve_activations("relu", "softmax", 3)
    X = rng.standard_normal((5, 7))
    Y = np.eye(2)[:, rng.integers(0, 2, 7)]
    ws = engine.Workspace()
    AL, caches = engine.forward(X, params, acts, workspace=ws)
    grads = ws.gradients(engine.backward(AL, Y, caches, acts, engine.get_loss("cce"),
                                         workspace=ws))
    assert isinstance(grads, FlatParams) and flat_pair(params, grads)
    AL2, caches2 = engine.forward(X, dict(params), acts)
    reference = engine.backward(AL2, Y, caches2, acts, engine.get_loss("cce"))
    for k, v in reference.items():
        np.testing.assert_array_equal(grads[k], v, err_msg=k)
    # a plain dict of parameters keeps plain gradients
    ws2 = engine.Workspace()
    AL3, caches3 = engine.forward(X, dict(params), acts, workspace=ws2)
    plain = ws2.gradients(engine.backward(AL3, Y, caches3, acts, engine.get_loss("cce"),
                                          workspace=ws2))
    assert not isinstance(plain, FlatParams)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("l2", "keep", "clip"), [(0.0, 1.0, None), (0.7, 0.8, 0.05)])
def test_train_step_on_flat_parameters_is_bit_for_bit_the_per_array_step(
        name, dtype, l2, keep, clip, rng):
    """Twenty steps: the flat fast path (one buffer, a few calls) and the per-array in-place
    path compute the same bits, with L2, dropout and clipping."""
    start = _params(rng, dtype)
    X = rng.standard_normal((5, 16)).astype(dtype)
    Y = np.eye(2, dtype=dtype)[:, rng.integers(0, 2, 16)]
    acts, loss = engine.resolve_activations("relu", "softmax", 3), engine.get_loss("cce")
    runs = []
    for flat in (False, True):
        params = pack(start) if flat else {k: v.copy() for k, v in start.items()}
        opt, ws, gen = get_optimizer(name), engine.Workspace(), np.random.default_rng(3)
        state, costs = opt.init(params), []
        for t in range(1, 21):
            J, _, state = train_step(X, Y, params, acts, loss, opt, state, 0.05, t, l2=l2,
                                     keep_probs=[keep, keep], rng=gen, clip_norm=clip,
                                     workspace=ws)
            costs.append(J)
        assert isinstance(params, FlatParams) == flat
        assert all(isinstance(s, FlatParams) == flat for s in state.values())
        runs.append((costs, {k: v.copy() for k, v in params.items()}))
    assert runs[0][0] == runs[1][0]
    for k in start:
        np.testing.assert_array_equal(runs[1][1][k], runs[0][1][k], err_msg=k)


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam"])
def test_a_per_array_state_is_packed_at_the_first_flat_step(name, rng):
    params = pack(_params(rng))
    grads = params.zeros_like(gradients=True)
    for k in grads:
        grads[k] = rng.standard_normal(grads[k].shape)
    opt = get_optimizer(name)
    state = opt.init(dict(params))  # per array, as a checkpoint written by hand might hold
    twin, twin_state = {k: v.copy() for k, v in params.items()}, opt.init(dict(params))
    _, state = opt.update(params, grads, state, 0.1, 1, inplace=True)
    opt.update(twin, dict(grads), twin_state, 0.1, 1, inplace=True)
    assert all(isinstance(s, FlatParams) for s in state.values())
    for k in params:
        np.testing.assert_array_equal(params[k], twin[k])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_pure_path_keeps_its_historical_float64_constants(dtype, rng):
    """inplace=False computes as before the flat work: the bias-correction constants are
    NumPy float64 (which promotes two passes of a float32 network); in float64 every path
    gives the same bits."""
    params = {"W1": rng.standard_normal((3, 4)).astype(dtype)}
    grads = {"dW1": rng.standard_normal((3, 4)).astype(dtype)}
    opt = get_optimizer("adam")
    new, _ = opt.update(params, grads, opt.init(params), 0.01, 3)
    g, b1, b2, eps = grads["dW1"], 0.9, 0.999, 1e-8
    v = (np.zeros_like(g) * b1) + g * (1 - b1)
    s = (np.zeros_like(g) * b2) + (g * g) * (1 - b2)
    c1, c2 = 1 - b1**3, np.sqrt(1 - b2**3)
    denom = np.sqrt(s)
    denom = (denom + eps * c2).astype(dtype)
    step = (v / denom * (0.01 * c2 / c1)).astype(dtype)
    np.testing.assert_array_equal(new["W1"], params["W1"] - step)
    inplace = {"W1": params["W1"].copy()}
    opt.update(inplace, grads, opt.init(inplace), 0.01, 3, inplace=True)
    if dtype == np.float64:
        np.testing.assert_array_equal(inplace["W1"], new["W1"])
    else:
        np.testing.assert_allclose(inplace["W1"], new["W1"], rtol=1e-6)


def test_clip_by_global_norm_on_flat_gradients_matches_per_array(rng):
    params = pack(_params(rng))
    grads = params.zeros_like(gradients=True)  # the padding between arrays stays zero
    for k in grads:
        grads[k] = rng.standard_normal(grads[k].shape)
    plain = {k: v.copy() for k, v in grads.items()}
    n_flat, n_plain = clip_by_global_norm(grads, 0.5), clip_by_global_norm(plain, 0.5)
    assert n_flat == pytest.approx(n_plain, rel=1e-14)
    for k in plain:
        np.testing.assert_allclose(grads[k], plain[k], rtol=1e-14)


def test_fit_packs_the_parameters_and_early_stopping_restores_into_the_buffer(rng):
    from deepstep import Network

    X = rng.standard_normal((4, 120))
    y = (X[0] - X[1] > 0).astype(int)
    net = Network([4, 6, 1], seed=0)
    net.fit(X[:, :80], y[:80], epochs=30, batch_size=16, learning_rate=0.05, l2=0.0,
            validation_data=(X[:, 80:], y[80:]), early_stopping=3, verbose=False)
    assert isinstance(net.params, FlatParams)
    buffer = net.params.buffer
    net.fit(X[:, :80], y[:80], epochs=2, batch_size=16, learning_rate=0.05, l2=0.0,
            verbose=False)
    assert net.params.buffer is buffer  # packed once: a second fit trains the same buffer
