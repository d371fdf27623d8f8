"""The Network API: targets, batching, regularisation, early stopping, determinism, save/load."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import deepstep.training.loop as loop_module
from deepstep import Network
from deepstep.io import ModelFormatError


def blobs(rng, m=120, k=2, n_x=4):
    """k Gaussian classes in n_x dimensions, X of shape (n_x, m), y of shape (m,)."""
    y = rng.integers(0, k, size=m)
    centres = rng.normal(scale=3.0, size=(n_x, k))
    return centres[:, y] + rng.normal(size=(n_x, m)), y


FAST = dict(epochs=40, batch_size=16, learning_rate=0.01, l2=0.0, verbose=False)


# --- targets ---------------------------------------------------------------------------------


def test_binary_labels_give_sigmoid_and_cross_entropy(rng):
    X, y = blobs(rng)
    net = Network([4, 8, 1], seed=0)
    net.fit(X, y, **FAST)
    assert [a.name for a in net.activations] == ["relu", "sigmoid"]
    assert net.loss.name == "binary_cross_entropy"
    assert net.classes_.tolist() == [0, 1]
    assert net.predict(X).shape == (1, 120)
    assert net.predict_proba(X).shape == (1, 120)
    assert net.evaluate(X, y)["accuracy"] > 0.9


def test_integer_classes_give_softmax_one_hot_inside(rng):
    X, y = blobs(rng, k=3)
    net = Network([4, 8, 3], seed=0)
    net.fit(X, y, **FAST)
    assert net.activations[-1].name == "softmax"
    assert net.loss.name == "categorical_cross_entropy"
    P = net.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=0), 1, rtol=1e-5)
    assert net.evaluate(X, y)["accuracy"] > 0.9


def test_string_labels_round_trip_through_classes(rng):
    X, y = blobs(rng, k=3)
    names = np.array(["bird", "cat", "dog"])[y]
    net = Network([4, 8, 3], seed=0)
    net.fit(X, names, **FAST)
    assert net.classes_.tolist() == ["bird", "cat", "dog"]
    assert set(net.predict(X).ravel()) <= {"bird", "cat", "dog"}
    assert net.evaluate(X, names)["accuracy"] > 0.9


def test_real_targets_give_linear_and_mse(rng):
    X = rng.normal(size=(3, 200))
    y = X[0] * 2.0 - X[1] + 0.5 + 0.1 * rng.normal(size=200)
    net = Network([3, 16, 1], seed=0, dtype="float64")
    net.fit(X, y, epochs=200, batch_size=32, learning_rate=0.01, l2=0.0, verbose=False)
    assert net.task == "regression" and net.classes_ is None
    assert net.activations[-1].name == "linear" and net.loss.name == "mse"
    scores = net.evaluate(X, y)
    assert scores["r2"] > 0.98
    assert net.predict(X).dtype == np.float64


def test_one_hot_targets_are_taken_as_they_are(rng):
    X, y = blobs(rng, k=3)
    Y = np.eye(3)[:, y]
    net = Network([4, 8, 3], seed=0)
    net.fit(X, Y, **FAST)
    assert net.activations[-1].name == "softmax"
    assert net.evaluate(X, Y)["accuracy"] > 0.9


def test_wrong_output_size_is_named(rng):
    X, y = blobs(rng, k=3)
    with pytest.raises(ValueError, match="3 classes but the output layer has 2 units"):
        Network([4, 8, 2], seed=0).fit(X, y, **FAST)
    with pytest.raises(ValueError, match="output layer has 1 unit"):
        Network([4, 8, 1], output="sigmoid", seed=0).fit(X, y, **FAST)


def test_single_class_is_refused(rng):
    X, _ = blobs(rng)
    with pytest.raises(ValueError, match="single class"):
        Network([4, 8, 1], seed=0).fit(X, np.ones(120, dtype=int), **FAST)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        Network([4, 8, 1], hidden="relux")
    with pytest.raises(ValueError, match="unknown init"):
        Network([4, 8, 1], init="glorot_magic")
    with pytest.raises(ValueError, match="unknown optimizer"):
        Network([4, 8, 1]).fit(np.zeros((4, 4)), [0, 1, 0, 1], optimizer="adamw")
    with pytest.raises(ValueError, match="float32 or float64"):
        Network([4, 8, 1], dtype="int8")


def test_labels_not_seen_in_training_are_named(rng):
    X, y = blobs(rng)
    net = Network([4, 8, 1], seed=0)
    net.fit(X, y, **FAST)
    with pytest.raises(ValueError, match=r"labels \[7\] were not seen"):
        net.evaluate(X[:, :3], np.array([0, 1, 7]))


# --- dtype, determinism, batching ------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_preserved(rng, dtype):
    X, y = blobs(rng)
    net = Network([4, 8, 1], dtype=dtype, seed=0)
    net.fit(X, y, **FAST)
    assert all(p.dtype == np.dtype(dtype) for p in net.params.values())
    assert net.predict_proba(X).dtype == np.dtype(dtype)


def test_same_seed_same_bits_other_seed_other_weights(rng):
    X, y = blobs(rng)
    kwargs = dict(FAST, dropout=0.2)
    a, b, c = Network([4, 8, 8, 1], seed=3), Network([4, 8, 8, 1], seed=3), Network(
        [4, 8, 8, 1], seed=4)
    ha, hb = a.fit(X, y, **kwargs), b.fit(X, y, **kwargs)
    c.fit(X, y, **kwargs)
    assert ha["loss"] == hb["loss"]
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])
        assert not np.array_equal(a.params[k], c.params[k])


@pytest.mark.filterwarnings("ignore:training collapsed")
def test_mini_batches_cover_the_epoch_and_keep_the_last_partial_batch(rng, monkeypatch):
    X, y = blobs(rng, m=50)
    seen = []
    real_step = loop_module.train_step

    def spy(Xb, Yb, *args, **kwargs):
        seen.append(Xb.copy())
        return real_step(Xb, Yb, *args, **kwargs)

    monkeypatch.setattr(loop_module, "train_step", spy)
    Network([4, 3, 1], seed=0).fit(X, y, epochs=2, batch_size=16, preprocess="none",
                                   verbose=False)
    assert [b.shape[1] for b in seen] == [16, 16, 16, 2] * 2
    first = np.hstack(seen[:4])
    # every example exactly once per epoch, in a shuffled order that changes between epochs
    assert sorted(map(tuple, first.T.round(6))) == sorted(map(tuple, X.T.astype(np.float32)
                                                              .round(6)))
    assert not np.array_equal(first, np.hstack(seen[4:]))


def test_full_batch_when_batch_size_is_none(rng, monkeypatch):
    X, y = blobs(rng, m=50)
    sizes = []
    real_step = loop_module.train_step

    def spy(Xb, Yb, *args, **kwargs):
        sizes.append(Xb.shape[1])
        return real_step(Xb, Yb, *args, **kwargs)

    monkeypatch.setattr(loop_module, "train_step", spy)
    Network([4, 3, 1], seed=0).fit(X, y, iterations=3, batch_size=None, verbose=False)
    assert sizes == [50, 50, 50]


# --- history, schedules, regularisation, early stopping ---------------------------------------


def test_history_has_every_field_per_epoch(rng):
    X, y = blobs(rng)
    net = Network([4, 8, 1], seed=0)
    h = net.fit(X, y, validation_split=0.25, schedule="step", **FAST)
    for key in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"):
        assert len(h[key]) == 40, key
    assert h["lr"][0] == 0.01 and h["lr"][10] == 0.005
    assert h["loss"][-1] < h["loss"][0]
    assert net.history_ is h
    assert net.config_["m"] == 90  # a quarter held out


def test_l2_shrinks_the_weights(rng):
    X, y = blobs(rng)
    plain, decayed = Network([4, 16, 1], seed=0), Network([4, 16, 1], seed=0)
    plain.fit(X, y, **FAST)
    decayed.fit(X, y, **dict(FAST, l2=5.0))
    assert np.linalg.norm(decayed.params["W1"]) < 0.8 * np.linalg.norm(plain.params["W1"])


def test_dropout_trains_and_prediction_is_deterministic(rng):
    X, y = blobs(rng)
    net = Network([4, 32, 32, 1], seed=0)
    net.fit(X, y, **dict(FAST, dropout=[0.5, 0.2]))
    assert net.evaluate(X, y)["accuracy"] > 0.85
    assert np.array_equal(net.predict_proba(X), net.predict_proba(X))
    with pytest.raises(ValueError, match="dropout rate must be in"):
        net.fit(X, y, **dict(FAST, dropout=1.0))


@pytest.mark.filterwarnings("ignore:training collapsed")
def test_clip_norm_bounds_each_step(rng):
    X, y = blobs(rng)
    net = Network([4, 8, 1], seed=0, dtype="float64")
    before = {k: v.copy() for k, v in net.params.items()}
    net.fit(X, y, iterations=1, batch_size=None, optimizer="gd", learning_rate=1.0,
            clip_norm=1e-3, l2=0.0, verbose=False)
    step = math.sqrt(sum(np.sum((net.params[k] - before[k]) ** 2) for k in before))
    assert step == pytest.approx(1e-3, rel=1e-6)


def test_early_stopping_restores_the_best_weights(rng):
    X, y = blobs(rng, m=60, n_x=30)
    noisy = np.where(rng.random(60) < 0.3, 1 - y, y)  # label noise: it will overfit
    Xv, yv = blobs(np.random.default_rng(99), m=60, n_x=30)
    net = Network([30, 64, 1], seed=0, dtype="float64")
    h = net.fit(X, noisy, epochs=300, batch_size=16, learning_rate=0.01, l2=0.0,
                validation_data=(Xv, yv), early_stopping=5, verbose=False)
    best = net.config_["best_epoch"]
    assert len(h["loss"]) == best + 6  # stopped 5 epochs after the best one
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(min(h["val_loss"]), rel=1e-12)


def test_early_stopping_needs_validation_data(rng):
    X, y = blobs(rng)
    with pytest.raises(ValueError, match="early_stopping needs validation"):
        Network([4, 8, 1]).fit(X, y, early_stopping=3, **FAST)


def test_a_collapsed_run_warns(rng):
    X, y = blobs(rng)
    y = (rng.random(120) < 0.2).astype(int)  # labels unrelated to X: nothing to learn
    with pytest.warns(RuntimeWarning, match="one class"):
        Network([4, 8, 1], seed=0).fit(X, y, **dict(FAST, epochs=100, l2=50.0))


def test_a_diverging_run_stops_with_advice(rng):
    X, y = blobs(rng)
    X = X * 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FloatingPointError, match="the loss became inf at step .* lower the "
                           "learning rate .* clip the gradients"):
            Network([4, 64, 1], output="linear", seed=0, dtype="float32").fit(
                X, y * 1e30, epochs=20, batch_size=None, optimizer="gd", learning_rate=10.0,
                l2=0.0, verbose=False)


def test_preprocessing_is_fitted_on_training_data_and_reapplied(rng):
    X, y = blobs(rng)
    raw = X * 50 + 400
    net = Network([4, 8, 1], seed=0)
    net.fit(raw, y, preprocess="standardize", **FAST)
    np.testing.assert_allclose(net.preprocessor.mean_.ravel(), raw.mean(axis=1), rtol=1e-6)
    assert net.evaluate(raw, y)["accuracy"] > 0.9


# --- save / load (the file format itself: tests/test_model_file.py) ---------------------------


def test_save_load_round_trip(rng, tmp_path):
    X, y = blobs(rng, k=3)
    names = np.array(["a", "b", "c"])[y]
    net = Network([4, 8, 3], hidden="tanh", seed=0, dtype="float64")
    net.fit(X * 10, names, preprocess="standardize", **FAST)
    path = net.save(tmp_path / "m.safetensors")
    back = Network.load(path)
    assert back.layer_dims == net.layer_dims and back.dtype == net.dtype
    assert [a.name for a in back.activations] == ["tanh", "softmax"]
    assert back.classes_.tolist() == ["a", "b", "c"]
    assert np.array_equal(back.predict_proba(X * 10), net.predict_proba(X * 10))
    assert back.config_["optimizer"] == "adam"
    assert back.history_["loss"] == net.history_["loss"]
    back.fit(X * 10, names, preprocess="standardize", **FAST)  # a loaded model trains on


@pytest.mark.parametrize(("labels", "units"), [
    (np.array([3, 8]), 1), (np.array([-1, 7, 100]), 3), (np.array(["no", "yes"]), 1),
    (np.array(["bird", "cat", "dog"]), 3), (np.array([False, True]), 1),
    (np.array([0.0, 1.0]), 1), (np.array([2.0, 4.0, 8.0]), 3), (np.array([False, True]), 2),
])
def test_every_kind_of_label_round_trips(rng, tmp_path, labels, units):
    """fit -> save -> load -> predict gives the same labels (same type) and probabilities."""
    X, y = blobs(rng, k=labels.size)
    net = Network([4, 8, units], seed=0, output="auto" if units == 1 else "softmax")
    net.fit(X, labels[y], preprocess="standardize", **FAST)
    back = Network.load(net.save(tmp_path / "m.safetensors"))
    assert back.classes_.dtype.kind == net.classes_.dtype.kind
    assert back.classes_.tolist() == net.classes_.tolist() == labels.tolist()
    pred = back.predict(X)
    assert pred.dtype.kind == labels.dtype.kind and np.array_equal(pred, net.predict(X))
    assert np.array_equal(back.predict_proba(X), net.predict_proba(X))
    assert back.evaluate(X, labels[y])["accuracy"] > 0.9


def test_regression_round_trip_keeps_target_scaling(rng, tmp_path):
    X = rng.normal(size=(3, 80))
    y = 1000.0 + 50.0 * X[0] - 20.0 * X[1]
    net = Network([3, 8, 1], seed=0, dtype="float64")
    net.fit(X, y, preprocess="standardize", **FAST)
    back = Network.load(net.save(tmp_path / "m.safetensors"))
    assert back.task == "regression" and back.classes_ is None
    assert net.target_mean_[0, 0] == pytest.approx(y.mean())
    assert np.array_equal(back.target_mean_, net.target_mean_)
    assert np.array_equal(back.target_std_, net.target_std_)
    assert np.array_equal(back.predict(X), net.predict(X))
    assert back.evaluate(X, y) == net.evaluate(X, y)


def test_an_untrained_network_round_trips(tmp_path):
    net = Network([3, 5, 2], hidden="leaky_relu", init="xavier", seed=7)
    back = Network.load(net.save(tmp_path / "m.safetensors"))
    assert back.output == "auto" and back.loss_name is None and back.classes_ is None
    assert all(np.array_equal(back.params[k], v) for k, v in net.params.items())


def test_save_is_atomic_and_keeps_the_old_file_on_failure(rng, tmp_path, monkeypatch):
    X, y = blobs(rng)
    net = Network([4, 8, 1], seed=0)
    net.fit(X, y, **FAST)
    path = net.save(tmp_path / "m.safetensors")
    before = path.read_bytes()

    def broken(fd):
        raise OSError("disk full")

    monkeypatch.setattr("deepstep.files.os.fsync", broken)
    net.params["W1"] += 1
    with pytest.raises(OSError, match="disk full"):
        net.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary left behind


def test_save_refuses_what_load_would_refuse(rng, tmp_path):
    net = Network([4, 8, 1], seed=0)
    net.params["W2"][0, 0] = np.nan
    with pytest.raises(ValueError, match="tensor W2: holds NaN"):
        net.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_load_errors_are_model_format_errors_naming_the_file(tmp_path):
    import deepstep

    assert deepstep.ModelFormatError is ModelFormatError
    assert issubclass(ModelFormatError, ValueError)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFormatError, match=f"{text} is not a valid deepstep model file"):
        Network.load(text)
    with pytest.raises(FileNotFoundError, match="deepstep model file not found"):
        Network.load(tmp_path / "missing.safetensors")


@pytest.mark.parametrize(("optimizer", "lr"), [("gd", 0.0075), ("momentum", 0.0075)])
def test_plain_optimisers_default_to_the_course_learning_rate(rng, optimizer, lr):
    X, y = blobs(rng)
    net = Network([4, 3, 1], seed=0)
    net.fit(X, y, epochs=1, optimizer=optimizer, verbose=False)
    assert net.config_["learning_rate"] == lr
