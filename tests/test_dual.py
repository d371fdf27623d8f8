"""The dual path for the first layer (engine.dual): the same training as the primal path."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from deepstep import Network, engine
from deepstep.engine.dual import DualFirstLayer, check_solver, plan, plan_costs
from deepstep.engine.step import train_step
from deepstep.optim import get_optimizer
from deepstep.training import Callback, ModelCheckpoint, TrainingInterrupted

CAT = [12288, 20, 7, 5, 1]


def _fit(X, Y, solver, dims=CAT, **kw):
    net = Network(dims, init=kw.pop("init", "course_app"), seed=1,
                  dtype=kw.pop("dtype", "float64"), solver=solver)
    kw = {"optimizer": "gd", "learning_rate": 0.0075, "l2": 0.0, "preprocess": "none",
          "verbose": False, **kw}
    history = net.fit(X, Y, **kw)
    return net, history


def _assert_same(a, b, rtol):
    (net_a, h_a), (net_b, h_b) = a, b
    np.testing.assert_allclose(h_b["loss"], h_a["loss"], rtol=rtol, atol=0)
    for k in net_a.params:
        scale = np.max(np.abs(net_a.params[k]))
        np.testing.assert_allclose(net_b.params[k], net_a.params[k], rtol=0, atol=rtol * scale,
                                   err_msg=k)


def test_dual_and_primal_agree_over_500_full_batch_iterations_on_cat(cat_data):
    """The course application's training, 500 iterations in float64: every cost and every
    weight within 1e-10 relative."""
    X, Y, _, _ = cat_data
    primal = _fit(X, Y, "primal", iterations=500, batch_size=None)
    dual = _fit(X, Y, "dual", iterations=500, batch_size=None)
    assert primal[0].config_["solver"] == "solver='primal'"
    assert dual[0].config_["solver"].startswith("dual -> dual")
    _assert_same(primal, dual, 1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dual_reaches_the_course_accuracy_on_cat(cat_data, dtype):
    """2500 iterations on the dual path end where L_layer_model does (its costs and its
    accuracies, 0.9856 / 0.80, are pinned in test_course_models). In float32 the trajectory
    after ~2000 iterations is chaotic: rounding (which also depends on the BLAS thread count)
    moves the final cost by ~1e-3 and can flip one of the 50 test images."""
    X, Y, Xt, Yt = cat_data
    net, history = _fit(X.astype(dtype), Y, "auto", iterations=2500, batch_size=None,
                        dtype=dtype)
    assert net.config_["solver"].startswith("auto -> dual")
    final = 0.088439943441702
    assert history["loss"][-1] == pytest.approx(final, abs=1e-9 if dtype == "float64" else 5e-3)
    one = 1 if dtype == "float32" else 0  # examples that rounding may flip
    assert abs(net.evaluate(X, Y)["accuracy"] - 206 / 209) <= one / 209 + 1e-12
    assert abs(net.evaluate(Xt, Yt)["accuracy"] - 0.80) <= one / 50 + 1e-12


@pytest.mark.filterwarnings("ignore:training collapsed")  # 8 epochs of unscaled inputs
@pytest.mark.parametrize(("optimizer", "kw"), [
    ("gd", {"l2": 0.1}),
    ("gd", {"l2": 0.05, "clip_norm": 0.02, "dropout": 0.2}),
    ("momentum", {"l2": 0.1}),
    ("momentum", {"l2": 0.0, "clip_norm": 0.05, "dropout": 0.1}),
])
def test_dual_and_primal_agree_on_mini_batches(cat_data, optimizer, kw):
    """Shuffled mini-batches of 32 (the last one partial), L2, clipping, dropout on the hidden
    layers, momentum: 8 epochs, 56 steps."""
    X, Y, _, _ = cat_data
    common = {"epochs": 8, "batch_size": 32, "optimizer": optimizer, **kw}
    primal = _fit(X, Y, "primal", **common)
    dual = _fit(X, Y, "dual", **common)
    _assert_same(primal, dual, 1e-10)


def test_clipping_is_active_in_the_dual_step(rng):
    """With a tight threshold every step is scaled; the scaled step matches the primal one."""
    X = rng.standard_normal((300, 12))
    Y = (rng.random((1, 12)) < 0.5).astype(float)
    params = engine.initialize([300, 4, 1], "he", rng=rng)
    acts = engine.resolve_activations("relu", "sigmoid", 2)
    loss, opt = engine.get_loss("bce"), get_optimizer("gd")
    dual = DualFirstLayer(X, params["W1"])
    twin = {k: v.copy() for k, v in params.items()}
    for t in range(1, 4):
        Jp, _, _ = train_step(X, Y, twin, acts, loss, opt, {}, 0.5, t, l2=0.2, clip_norm=1e-3)
        Jd, _, _ = dual.train_step(None, Y, params, acts, loss, opt, {}, 0.5, t, l2=0.2,
                                   clip_norm=1e-3)
        assert Jd == pytest.approx(Jp, rel=1e-12)
    np.testing.assert_allclose(dual.weights(), twin["W1"], rtol=1e-12, atol=1e-15)
    moved = np.linalg.norm(twin["W1"] - dual.W0)
    assert moved < 3 * 0.5 * 1e-3 * (1 + 1e-9)  # three clipped steps of lr * max_norm


@pytest.mark.parametrize(("output", "loss"), [("sigmoid", None), ("softmax", None),
                                              ("sigmoid", "mse")])
def test_one_layer_networks_and_the_textbook_loss_path(output, loss, rng):
    """L = 1 (a linear model on wide inputs), softmax outputs, and a loss that does not fuse
    with the output (dA[L] through the activation)."""
    k = 1 if output == "sigmoid" else 3
    X = rng.standard_normal((400, 30))
    y = rng.integers(0, 2 if k == 1 else 3, 30)
    for dims in ([400, k], [400, 6, k]):
        nets = []
        for solver in ("primal", "dual"):
            net = Network(dims, output=output, loss=loss, seed=2, dtype="float64", solver=solver)
            h = net.fit(X, y, epochs=15, batch_size=8, optimizer="momentum", learning_rate=0.01,
                        l2=0.1, verbose=False)
            nets.append((net, h))
        _assert_same(nets[0], nets[1], 1e-10)


def test_validation_and_early_stopping_see_the_formed_weights(rng):
    X = rng.standard_normal((500, 60))
    y = (X[:3].sum(axis=0) > 0).astype(int)
    runs = []
    for solver in ("primal", "dual"):
        net = Network([500, 5, 1], seed=4, dtype="float64", solver=solver)
        h = net.fit(X[:, :40], y[:40], epochs=40, batch_size=10, optimizer="gd",
                    learning_rate=0.05, l2=0.0, validation_data=(X[:, 40:], y[40:]),
                    early_stopping=4, verbose=False)
        runs.append((net, h))
    np.testing.assert_allclose(runs[1][1]["val_loss"], runs[0][1]["val_loss"], rtol=1e-10)
    assert runs[1][0].config_.get("best_epoch") == runs[0][0].config_.get("best_epoch")
    _assert_same(runs[0], runs[1], 1e-10)


def test_sync_forms_momentum_velocity_too(rng):
    X = rng.standard_normal((50, 8))
    Y = (rng.random((1, 8)) < 0.5).astype(float)
    params = engine.flat.pack(engine.initialize([50, 3, 1], "he", rng=rng))
    twin = {k: v.copy() for k, v in params.items()}
    acts = engine.resolve_activations("tanh", "sigmoid", 2)
    loss, opt = engine.get_loss("bce"), get_optimizer("momentum", beta=0.8)
    state, twin_state = opt.init(params), opt.init(twin)
    dual = DualFirstLayer(X, params["W1"], beta=0.8)
    for t in range(1, 6):
        dual.train_step(None, Y, params, acts, loss, opt, state, 0.1, t)
        train_step(X, Y, twin, acts, loss, opt, twin_state, 0.1, t)
    dual.sync(params, state)
    np.testing.assert_allclose(params["W1"], twin["W1"], rtol=1e-12)
    np.testing.assert_allclose(state["v"]["W1"], twin_state["v"]["W1"], rtol=1e-11)
    assert set(dual.memory()) == {"K", "P0", "A", "W1_0", "G", "Av"}


def test_auto_picks_dual_on_cat_and_primal_on_mnist():
    gd, adam = get_optimizer("gd"), get_optimizer("adam")
    cat_X = np.zeros((12288, 209))
    cat_p = {"W1": np.zeros((20, 12288))}
    dual, why = plan("auto", gd, cat_X, cat_p, batch_size=None, epochs=2500)
    assert isinstance(dual, DualFirstLayer) and why.startswith("auto -> dual")
    # MNIST's 784-256-128-10 on 8000 images: K (8000^2) would outweigh X, and cost more
    mnist_X = np.zeros((784, 8000), np.float32)
    mnist_p = {"W1": np.zeros((256, 784), np.float32)}
    dual, why = plan("auto", gd, mnist_X, mnist_p, batch_size=128, epochs=10)
    assert dual is None and "more than X" in why
    dual, why = plan("auto", adam, cat_X, cat_p, batch_size=None, epochs=2500)
    assert dual is None and "adam optimiser" in why
    assert plan("primal", gd, cat_X, cat_p, batch_size=None, epochs=1)[0] is None


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_dual_with_an_adaptive_optimiser_is_an_error(name, rng):
    X = rng.standard_normal((40, 10))
    y = rng.integers(0, 2, 10)
    net = Network([40, 3, 1], solver="dual")
    with pytest.raises(ValueError, match=f"solver='dual' is not possible here: the {name}"):
        net.fit(X, y, epochs=1, optimizer=name, verbose=False)
    auto = Network([40, 3, 1], solver="auto")
    auto.fit(X, y, epochs=1, optimizer=name, verbose=False)
    assert auto.config_["solver"].startswith("auto -> primal")


def test_streamed_data_and_unknown_solvers(cat_dir):
    from deepstep.data import stream

    with pytest.raises(ValueError, match="streamed data"):
        Network([12288, 3, 1], solver="dual").fit(stream(cat_dir / "train_catvnoncat.h5"),
                                                  epochs=1, optimizer="gd", verbose=False)
    with pytest.raises(ValueError, match="solver must be one of 'auto', 'primal', 'dual'"):
        Network([20, 3, 1], solver="kernel")
    assert check_solver("auto") == "auto"


def test_the_cost_model_in_numbers():
    """Cat, full batch, 2500 iterations: 4 n1 n_x m per primal step; 2 n1 m^2 per dual step
    plus K, P0 and the formed W1 once each."""
    c = plan_costs(12288, 20, 209, None, 2500)
    assert c.primal_flops == 2500 * 4 * 20 * 12288 * 209
    once = 2 * 209**2 * 12288 + 2 * 2 * 20 * 12288 * 209
    assert c.dual_flops == 2500 * 2 * 20 * 209 * 209 + once
    assert c.k_bytes == 209 * 209 * 8 and c.dual_wins
    assert c.dual_flops / c.primal_flops < 0.02


class _InterruptAt(Callback):
    """Act as if SIGINT arrived during step ``step`` (the loop finishes the batch)."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, batch, logs):
        if logs["step"] == self.step:
            self.trainer.interrupted = signal.SIGINT


def test_continued_fits_and_checkpoint_resumes_on_the_dual_path(rng, tmp_path):
    """A second fit, and a resume from a checkpoint, start the dual form again from the
    weights they continue from: the same run as one uninterrupted fit, to rounding."""
    X = rng.standard_normal((300, 60))
    y = (X[:4].sum(axis=0) > 0).astype(int)
    kw = dict(batch_size=16, optimizer="gd", learning_rate=0.05, l2=0.1, preprocess="none",
              validation_split=0.2, verbose=False)

    def net():
        return Network([300, 6, 1], seed=5, dtype="float64", solver="dual")

    whole = net()
    history = whole.fit(X, y, epochs=6, **kw)
    assert whole.config_["solver"].startswith("dual -> dual")
    twice = net()
    twice.fit(X, y, epochs=2, **kw)
    twice.fit(X, y, epochs=4, **kw)
    path = tmp_path / "checkpoint.safetensors"
    first = net()
    with pytest.raises(TrainingInterrupted, match="after step 11; checkpoint written"):
        first.fit(X, y, epochs=6, callbacks=[ModelCheckpoint(path, every=100),
                                             _InterruptAt(11)], **kw)
    resumed = net()
    again = resumed.fit(X, y, epochs=6, resume_from=path, **kw)
    np.testing.assert_allclose(again["loss"], history["loss"], rtol=1e-10)
    for other in (twice, resumed):
        for k in whole.params:
            np.testing.assert_allclose(other.params[k], whole.params[k], rtol=1e-9,
                                       atol=1e-12, err_msg=k)
    # momentum's velocity for W1 cannot restart in the dual form: auto resumes on the primal
    # path, and an explicit dual says why
    mom = dict(kw, optimizer="momentum")
    with pytest.raises(TrainingInterrupted):
        net().fit(X, y, epochs=3, callbacks=[ModelCheckpoint(path, every=100),
                                             _InterruptAt(5)], **mom)
    with pytest.raises(ValueError, match="velocity for W1 from an earlier run"):
        net().fit(X, y, epochs=3, resume_from=path, **mom)
    auto = Network([300, 6, 1], seed=5, dtype="float64", solver="auto")
    auto.fit(X, y, epochs=3, resume_from=path, **mom)
    assert auto.config_["solver"].startswith("auto -> primal: training continues")
