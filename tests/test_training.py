"""The training loop: callbacks, continuing fits, exact resume, non-finite values, weights."""

from __future__ import annotations

import io
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from deepstep import Network
from deepstep.training import (
    Callback,
    EarlyStopping,
    HistoryFile,
    ModelCheckpoint,
    NonFiniteError,
    PrintCost,
    ProgressBar,
    TrainingInterrupted,
)


def moons(rng, m=150, n_x=6):
    X = rng.normal(size=(n_x, m))
    return X, (X[0] * X[1] + X[2] > 0).astype(int)


#: Adam, shuffled mini-batches with a partial last batch, dropout, L2, a schedule, a
#: hold-out with early stopping: everything a resume must carry over.
EVERYTHING = dict(epochs=6, batch_size=16, optimizer="adam", learning_rate=0.01, dropout=0.3,
                  schedule="cosine", l2=0.01, validation_split=0.2, early_stopping=20,
                  verbose=False)


def network():
    return Network([6, 16, 8, 1], seed=3, dtype="float64")


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, batch, logs):
        self.calls.append(f"batch_end {batch}")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(f"epoch_end {epoch}")

    def on_train_end(self):
        self.calls.append("train_end")


class InterruptAt(Callback):
    """Act as if SIGINT arrived during step ``step`` (the loop finishes the batch)."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, batch, logs):
        if logs["step"] == self.step:
            self.trainer.interrupted = signal.SIGINT


def same_weights(a, b):
    return all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


# --- the loop and its callbacks ------------------------------------------------------------------


def test_callbacks_are_called_in_order(rng):
    X, y = moons(rng, m=40)
    rec = Recorder()
    Network([6, 4, 1], seed=0).fit(X, y, epochs=2, batch_size=16, callbacks=[rec],
                                   verbose=False)
    epoch = ["batch_end 0", "batch_end 1", "batch_end 2"]
    assert rec.calls == ["train_begin", "epoch_begin 0", *epoch, "epoch_end 0",
                         "epoch_begin 1", *epoch, "epoch_end 1", "train_end"]


def test_a_callback_stops_training_with_the_flag(rng):
    X, y = moons(rng)

    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 1:
                self.trainer.stop_training = True

    h = Network([6, 4, 1], seed=0).fit(X, y, epochs=50, callbacks=[StopAfterTwo()],
                                       verbose=False)
    assert h["epoch"] == [0, 1]


def test_progress_off_a_terminal_is_a_line_per_100_steps_and_a_total(rng):
    X, y = moons(rng)  # 120 examples after the hold-out: 4 mini-batches of 32 per epoch
    out = io.StringIO()
    Network([6, 4, 1], seed=0).fit(X, y, epochs=60, validation_split=0.2,
                                   callbacks=[ProgressBar(file=out)], verbose=False)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == [
        "epoch 1/60", "epoch 26/60", "epoch 51/60", "epoch 60/60"]  # every 25 epochs
    assert "val_accuracy" in lines[0] and "loss" in lines[0]
    assert lines[4].startswith("trained 60 epochs in ") and len(lines) == 5


def test_progress_every_epoch_when_an_epoch_has_enough_steps(rng):
    X, y = moons(rng)
    out = io.StringIO()
    Network([6, 4, 1], seed=0).fit(X, y, epochs=3, batch_size=16, verbose=False,
                                   callbacks=[ProgressBar(file=out, every_iterations=10)])
    starts = [line.split(":")[0] for line in out.getvalue().splitlines()]
    assert starts[:3] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]  # 10 batches of 16 each


def test_full_batch_progress_and_course_lines_every_100_iterations(rng):
    X, y = moons(rng)
    out, cost = io.StringIO(), io.StringIO()
    Network([6, 4, 1], seed=0).fit(X, y, iterations=250, batch_size=None, optimizer="gd",
                                   callbacks=[ProgressBar(file=out), PrintCost(file=cost)],
                                   verbose=False)
    starts = [line.split(":")[0] for line in out.getvalue().splitlines()]
    assert starts[:4] == ["iteration 1/250", "iteration 101/250", "iteration 201/250",
                          "iteration 250/250"]
    assert starts[4].startswith("trained 250 iterations")
    lines = cost.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Cost after iteration 0", "Cost after iteration 100", "Cost after iteration 200",
        "Cost after iteration 249"]


def test_history_file_has_one_json_line_per_epoch(rng, tmp_path):
    X, y = moons(rng)
    path = tmp_path / "history.jsonl"
    h = Network([6, 4, 1], seed=0).fit(X, y, epochs=4, callbacks=[HistoryFile(path)],
                                       verbose=False)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["loss"] for r in rows] == h["loss"]
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3]


def test_early_stopping_monitor_must_exist(rng):
    X, y = moons(rng)
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        Network([6, 4, 1], seed=0).fit(X, y, epochs=3, callbacks=[EarlyStopping(2)],
                                       verbose=False)


# --- continuing, resuming ------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "gd", "momentum", "rmsprop"])
def test_a_second_fit_continues_exactly(rng, optimizer):
    X, y = moons(rng)
    kwargs = dict(batch_size=16, optimizer=optimizer, learning_rate=0.01, dropout=0.2,
                  verbose=False)
    once, twice = network(), network()
    once.fit(X, y, epochs=6, **kwargs)
    twice.fit(X, y, epochs=2, **kwargs)
    h = twice.fit(X, y, epochs=4, **kwargs)
    assert same_weights(once, twice)
    assert h["loss"] == once.history_["loss"] and h["epoch"] == list(range(6))
    assert twice.train_state_.step == once.train_state_.step


@pytest.mark.parametrize("step", [1, 7, 8, 9, 20, 41])
def test_resume_is_bit_identical(rng, tmp_path, step):
    X, y = moons(rng)
    whole = network()
    history = whole.fit(X, y, **EVERYTHING)
    path = tmp_path / "checkpoint.safetensors"
    first = network()
    with pytest.raises(TrainingInterrupted, match=f"after step {step}; checkpoint written"):
        first.fit(X, y, callbacks=[ModelCheckpoint(path, every=100), InterruptAt(step)],
                  **EVERYTHING)
    resumed = network()
    again = resumed.fit(X, y, resume_from=path, **EVERYTHING)
    assert same_weights(whole, resumed)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch"):
        assert again[key] == history[key], key


def test_resume_from_a_periodic_checkpoint_and_to_more_epochs(rng, tmp_path):
    X, y = moons(rng)
    kwargs = dict(EVERYTHING, epochs=3)
    path = tmp_path / "every2.safetensors"
    network().fit(X, y, callbacks=[ModelCheckpoint(path, every=2)], **kwargs)
    whole = network()
    whole.fit(X, y, **kwargs)
    resumed = network()
    resumed.fit(X, y, resume_from=path, **kwargs)  # written after epoch 2: one more to do
    assert same_weights(whole, resumed)


def test_resume_refuses_other_settings_or_data(rng, tmp_path):
    X, y = moons(rng)
    path = tmp_path / "c.safetensors"
    network().fit(X, y, callbacks=[ModelCheckpoint(path)], **dict(EVERYTHING, epochs=1))
    with pytest.raises(ValueError, match="learning_rate 0.01.*same data and settings"):
        network().fit(X, y, resume_from=path, **dict(EVERYTHING, learning_rate=0.02))
    with pytest.raises(ValueError, match="written with data; this run has other data"):
        network().fit(X + 1, y, resume_from=path, **EVERYTHING)
    with pytest.raises(ValueError, match="layer_dims"):
        Network([6, 5, 1], seed=3, dtype="float64").fit(X, y, resume_from=path, **EVERYTHING)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_finishes_the_batch_writes_a_checkpoint_and_resume_matches(tmp_path, signum):
    """A real signal, in a child process: the run stops after the current batch, the child
    exits 130 / 143 having written its checkpoint, and resuming it gives the weights of an
    uninterrupted run."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import sys
        import numpy as np
        from deepstep import Network
        from deepstep.training import Callback, ModelCheckpoint, TrainingInterrupted

        class Ready(Callback):
            def on_batch_end(self, batch, logs):
                if logs["step"] == 3:
                    print("ready", flush=True)

        rng = np.random.default_rng(0)
        X = rng.normal(size=(6, 3000)); y = (X[0] * X[1] + X[2] > 0).astype(int)
        net = Network([6, 256, 256, 1], seed=3, dtype="float64")
        kwargs = dict(epochs=4, batch_size=8, learning_rate=0.003, dropout=0.2,
                      verbose=False)
        mode, path, out = sys.argv[1:]
        if mode == "train":
            try:
                net.fit(X, y, callbacks=[ModelCheckpoint(path, every=1000), Ready()],
                        **kwargs)
            except TrainingInterrupted as e:
                print(e.step, e.checkpoint, flush=True)
                sys.exit(128 + e.signum)
            sys.exit("finished before the signal arrived")
        net.fit(X, y, resume_from=path if mode == "resume" else None, **kwargs)
        np.save(out, net.params["W1"])
    """))
    path = tmp_path / "ck.safetensors"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, str(script), "train", str(path), "-"],
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout.readline().strip() == "ready"
    child.send_signal(signum)
    out, _ = child.communicate(timeout=300)
    assert child.returncode == 128 + signum, out
    step, written = out.split()
    assert written == str(path) and path.is_file() and int(step) >= 3
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left nothing behind
    for mode in ("resume", "whole"):
        subprocess.run([sys.executable, str(script), mode, str(path), str(tmp_path / mode)],
                       check=True, env=env, timeout=300)
    assert np.array_equal(np.load(tmp_path / "resume.npy"), np.load(tmp_path / "whole.npy"))


# --- non-finite values ----------------------------------------------------------------------------


def test_a_diverging_float32_run_stops_restores_finite_weights_and_names_the_step(rng):
    X, y = moons(rng)
    net = Network([6, 32, 1], output="linear", seed=0, dtype="float32", task="regression")
    with pytest.raises(NonFiniteError, match=r"at step \d+ .*learning rate.*clip"):
        net.fit(X * 1e4, y * 1e30, epochs=20, batch_size=None, optimizer="gd",
                learning_rate=10.0, l2=0.0, preprocess="none", verbose=False)
    assert all(np.isfinite(v).all() for v in net.params.values())
    assert net.train_state_ is None  # a later fit starts a fresh optimiser


# --- weights ---------------------------------------------------------------------------------


def test_unit_sample_weights_change_nothing(rng):
    X, y = moons(rng)
    a, b = network(), network()
    a.fit(X, y, epochs=3, batch_size=16, verbose=False)
    b.fit(X, y, epochs=3, batch_size=16, sample_weight=np.ones(150), verbose=False)
    assert same_weights(a, b)


def test_integer_weights_equal_repeated_examples_in_full_batch(rng):
    X, y = moons(rng, m=40)
    w = rng.integers(0, 4, size=40)
    kwargs = dict(epochs=30, batch_size=None, learning_rate=0.01, l2=0.5, verbose=False)
    weighted, repeated = network(), network()
    weighted.fit(X, y, sample_weight=w, **kwargs)
    repeated.fit(np.repeat(X, w, axis=1), np.repeat(y, w), **kwargs)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)


def test_balanced_class_weight_recovers_the_minority_class(rng):
    X = rng.normal(size=(2, 600))
    y = (X[0] + 0.5 * rng.normal(size=600) > 1.6).astype(int)  # about 7% positives
    kwargs = dict(epochs=30, learning_rate=0.01, l2=0.0, verbose=False)
    plain, balanced = Network([2, 8, 1], seed=0), Network([2, 8, 1], seed=0)
    plain.fit(X, y, **kwargs)
    balanced.fit(X, y, class_weight="balanced", **kwargs)
    recall = {name: float(np.mean(net.predict(X)[0][y == 1] == 1))
              for name, net in (("plain", plain), ("balanced", balanced))}
    assert recall["balanced"] > recall["plain"] + 0.1
    assert balanced.config_["class_weight"] == "balanced"


def test_weights_are_checked(rng):
    X, y = moons(rng, m=20)
    net = Network([6, 4, 1], seed=0)
    with pytest.raises(ValueError, match="sample_weight has 3 values for m = 20"):
        net.fit(X, y, sample_weight=[1, 2, 3], verbose=False)
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        net.fit(X, y, sample_weight=-np.ones(20), verbose=False)
    with pytest.raises(ValueError, match="names class 7"):
        net.fit(X, y, class_weight={7: 2.0}, verbose=False)
    with pytest.raises(ValueError, match="single class with positive weight"):
        net.fit(X, y, sample_weight=y, verbose=False)


def test_loss_is_finite_per_epoch(rng):
    X, y = moons(rng)
    h = network().fit(X, y, **EVERYTHING)
    assert all(math.isfinite(v) for v in h["loss"])


def test_resume_command_line_files_are_small(rng, tmp_path):
    X, y = moons(rng)
    path = tmp_path / "c.safetensors"
    network().fit(X, y, callbacks=[ModelCheckpoint(path)], **dict(EVERYTHING, epochs=1))
    params = sum(v.nbytes for v in network().params.values())
    # parameters, Adam's two moments, early stopping's best weights, and the JSON
    assert Path(path).stat().st_size < 5 * params + 64_000


def test_save_load_fit_continues_exactly(rng, tmp_path):
    """The model file keeps the optimiser state and the generators: a loaded model's next fit
    is the second fit the saved network would have done."""
    X, y = moons(rng)
    kwargs = dict(batch_size=16, learning_rate=0.01, dropout=0.2, verbose=False)
    once, first = network(), network()
    once.fit(X, y, epochs=6, **kwargs)
    first.fit(X, y, epochs=2, **kwargs)
    loaded = Network.load(first.save(tmp_path / "m.safetensors"))
    h = loaded.fit(X, y, epochs=4, **kwargs)
    assert same_weights(once, loaded)
    assert h["loss"] == once.history_["loss"]
    fresh = Network.load(network().save(tmp_path / "untrained.safetensors"))
    assert fresh.train_state_ is None


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_best_only_checkpoint_keeps_the_best_epoch_either_way(rng, tmp_path, monitor):
    X, y = moons(rng)
    path = tmp_path / "best.safetensors"
    written = []

    class Watch(Callback):
        def on_epoch_end(self, epoch, logs):
            if path.exists():
                written.append((path.stat().st_mtime_ns, epoch, logs[monitor]))

    kwargs = dict(EVERYTHING, epochs=8, early_stopping=0)
    hist = network().fit(X, y, callbacks=[ModelCheckpoint(path, best_only=True,
                                                          monitor=monitor), Watch()], **kwargs)
    values = hist[monitor]
    best = int(np.argmin(values) if monitor == "val_loss" else np.argmax(values))
    last_write = {}
    for stamp, epoch, value in written:
        last_write.setdefault(stamp, (epoch, value))
    epoch, value = last_write[max(last_write)]
    assert value == values[best]


def test_best_only_checkpoint_names_a_missing_monitor(rng, tmp_path):
    X, y = moons(rng)
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        network().fit(X, y, epochs=2, verbose=False,
                      callbacks=[ModelCheckpoint(tmp_path / "c.safetensors", best_only=True)])


def test_progress_of_a_resumed_fit_counts_its_own_epochs(rng, tmp_path):
    X, y = moons(rng)
    kwargs = dict(EVERYTHING, epochs=5)
    path = tmp_path / "every2.safetensors"
    network().fit(X, y, callbacks=[ModelCheckpoint(path, every=2)], **dict(kwargs, epochs=3))
    out = io.StringIO()
    network().fit(X, y, resume_from=path, callbacks=[ProgressBar(file=out)], **kwargs)
    assert out.getvalue().splitlines()[-1].startswith("trained 3 epochs in ")  # 3, 4 and 5


def test_checkpoint_every_steps_writes_at_the_epoch_ends_after_that_many_steps(rng, tmp_path):
    X, y = moons(rng)  # 150 examples: 10 batches of 16 per epoch
    path = tmp_path / "c.safetensors"
    writes, stamps = [], set()

    class Seen(Callback):  # runs after the checkpoint's hook: a new file stamp is a write
        def on_epoch_end(self, epoch, logs):
            stamp = path.stat().st_mtime_ns if path.exists() else None
            if stamp is not None and stamp not in stamps:
                writes.append(epoch)
                stamps.add(stamp)

    network().fit(X, y, epochs=7, batch_size=16, verbose=False,
                  callbacks=[ModelCheckpoint(path, every_steps=25), Seen()])
    assert writes == [2, 5]  # after 30 and 60 steps (epochs 3 and 6)
