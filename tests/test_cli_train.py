"""``deepstep train`` end to end, in-process: the run folder, settings read back, overwrite,
non-finite runs, the flags of every fit option, the task choice, interrupt and resume.
(Signals in a real process and concurrent runs: test_cli_resume.py.)
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepstep import Network
from deepstep import run_folder as rf
from deepstep.cli import main
from deepstep.training import Callback

FILES = {rf.MODEL_FILE, rf.METRICS_FILE, rf.HISTORY_FILE, rf.SETTINGS_FILE, rf.COMMAND_FILE,
         rf.VERSIONS_FILE, rf.REPORT_FILE, rf.COSTS_FILE}
QUICK = ["--data", "iris", "--layers", "6", "--epochs", "3", "--lr", "0.01"]


def run(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def ok(argv: list) -> str:
    code, out, err = run(argv)
    assert code == 0, err
    return out


def weights(path: Path) -> dict[str, np.ndarray]:
    return dict(Network.load(path).params)


def same_bits(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(
        wa[k].dtype == wb[k].dtype and wa[k].tobytes() == wb[k].tobytes() for k in wa)


def history(path: Path) -> list[dict]:
    """history.jsonl without the wall-clock seconds (the one field that cannot repeat)."""
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in path.read_text().splitlines()]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- the run folder -------------------------------------------------------------------------


def test_run_folder_holds_the_documented_files(tmp_path):
    argv = ["train", *QUICK, "--validation", "0.1", "--out", "runs/iris", "--json", "m.json"]
    out = ok(argv)
    run_dir = tmp_path / "runs" / "iris"
    assert {p.name for p in run_dir.iterdir()} == FILES
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["iris"]  # no partial left
    assert f"saved to runs/iris: {', '.join(sorted(FILES))}" in out
    assert json.loads((tmp_path / "m.json").read_text()) == json.loads(
        (run_dir / rf.METRICS_FILE).read_text())
    assert (run_dir / rf.COMMAND_FILE).read_text() == shlex.join(["deepstep", *argv]) + "\n"
    assert set(json.loads((run_dir / rf.VERSIONS_FILE).read_text())) == {
        "deepstep", "python", "numpy", "scikit-learn", "platform"}
    lines = history(run_dir / rf.HISTORY_FILE)
    assert [h["epoch"] for h in lines] == [0, 1, 2]
    assert {"loss", "data_loss", "accuracy", "lr", "val_loss", "val_accuracy"} <= set(lines[0])
    net = Network.load(run_dir / rf.MODEL_FILE)
    assert [h["loss"] for h in lines] == net.history_["loss"]
    toml = (run_dir / rf.SETTINGS_FILE).read_text()
    assert re.search(r"^optimizer = \"adam\"  # recipe$", toml, re.M)  # left to the recipe
    assert re.search(r"^layers = \[6\]$", toml, re.M)  # given: no note
    assert re.search(r"^lr = 0\.01$", toml, re.M) and re.search(r"^epochs = 3$", toml, re.M)


def test_settings_toml_reads_back_to_the_same_run(tmp_path):
    ok(["train", "--data", "wine", "--layers", "5", "--epochs", "4", "--batch-size", "16",
        "--dropout", "0.1", "--schedule", "step", "--out", "a"])
    out = ok(["train", "--config", "a/settings.toml", "--out", "b"])
    assert "from the recipe" not in out  # every setting came from the file
    assert same_bits(tmp_path / "a" / rf.MODEL_FILE, tmp_path / "b" / rf.MODEL_FILE)
    assert history(tmp_path / "a" / rf.HISTORY_FILE) == history(tmp_path / "b" / rf.HISTORY_FILE)
    toml_a = (tmp_path / "a" / rf.SETTINGS_FILE).read_text()
    assert 'data = "wine"' in toml_a and 'batch_size = 16' in toml_a


def test_overwrite_replaces_the_folder_when_the_run_completes(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("an earlier run")
    code, _, err = run(["train", *QUICK, "--out", "out"])
    assert code == 2 and "already holds files" in err
    ok(["train", *QUICK, "--out", "out", "--overwrite"])
    assert {p.name for p in (tmp_path / "out").iterdir()} == FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing left aside


def test_float32_large_step_exits_2_and_keeps_the_previous_model(tmp_path):
    ok(["train", *QUICK, "--out", "good"])
    before = {p.name: p.read_bytes() for p in (tmp_path / "good").iterdir()}
    code, out, err = run(["train", "--data", "digits", "--layers", "16", "--epochs", "3",
                          "--optimizer", "gd", "--lr", "1e6", "--l2", "0", "--dtype", "float32",
                          "--out", "good", "--overwrite"])
    assert code == 2 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the loss became") and re.search(r"at step \d+", last)
    assert "--lr" in last and "--clip-norm" in last
    assert {p.name: p.read_bytes() for p in (tmp_path / "good").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good"]  # no partial folder left


def test_default_names_differ_for_runs_in_the_same_second(tmp_path, monkeypatch):
    draws = iter(["aaaa", "aaaa", "bbbb", "aaaa", "cccc"])
    monkeypatch.setattr(rf.secrets, "token_hex", lambda n: next(draws))
    monkeypatch.setattr(rf, "_dt", type("dt", (), {"datetime": type("d", (), {
        "now": staticmethod(lambda: __import__("datetime").datetime(2025, 3, 1, 14, 25, 1))})}))
    first, second = rf.RunFolder.create(None), rf.RunFolder.create(None)
    assert first.final.name == "20250301-142501-aaaa"
    assert second.final.name == "20250301-142501-bbbb"  # aaaa was reserved by the first
    assert second.finish() == Path("runs/20250301-142501-bbbb")
    # a default name taken while the run trained: the run gets another suffix, never mixes
    (tmp_path / "runs" / "20250301-142501-aaaa").mkdir()
    (tmp_path / "runs" / "20250301-142501-aaaa" / "x").write_text("another run")
    assert first.finish() == Path("runs/20250301-142501-cccc")


def test_an_out_folder_taken_meanwhile_is_not_mixed(tmp_path):
    folder = rf.RunFolder.create("out")
    (folder / "a.txt").write_text("new")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("someone else's")
    final = folder.finish()
    assert re.fullmatch(r"out-[0-9a-f]{4}", final.name)
    assert (tmp_path / "out" / "a.txt").read_text() == "someone else's"
    assert (final / "a.txt").read_text() == "new"


def test_interrupt_before_training_writes_nothing(tmp_path, monkeypatch):
    import deepstep.training_run as training_run

    def stop(settings):
        raise KeyboardInterrupt

    monkeypatch.setattr(training_run, "prepare", stop)
    code, out, err = run(["train", *QUICK])
    assert code == 130
    assert err.strip() == "interrupted by SIGINT before training began; nothing was written"
    assert list(tmp_path.iterdir()) == []


def test_sigterm_before_training_writes_nothing(tmp_path, monkeypatch):
    import deepstep.training_run as training_run

    monkeypatch.setattr(training_run, "prepare",
                        lambda settings: signal.raise_signal(signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    code, out, err = run(["train", *QUICK])
    assert code == 143
    assert err.strip() == "interrupted by SIGTERM before training began; nothing was written"
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_memory_error_is_one_line_with_the_size(tmp_path, monkeypatch):
    import deepstep.training_run as training_run

    def allocate(plan, seed, folder, log):
        raise MemoryError("Unable to allocate 37.3 GiB for an array with shape (100000, "
                          "100000) and data type float32")

    monkeypatch.setattr(training_run, "train_seed", allocate)
    code, _, err = run(["train", *QUICK, "--out", "r"])
    assert code == 2
    assert err.strip() == ("error: out of memory: Unable to allocate 37.3 GiB for an array with "
                           "shape (100000, 100000) and data type float32; use smaller --layers "
                           "or --batch-size, or less data")
    assert list(tmp_path.iterdir()) == []  # the partial folder is removed


# --- interrupt and resume in-process ---------------------------------------------------------


class SignalAt(Callback):
    """Send ``signum`` to this process after the ``at``-th batch of the process."""

    count = 0

    def __init__(self, at: int, signum: int) -> None:
        self.at, self.signum = at, signum

    def on_batch_end(self, batch, logs):
        SignalAt.count += 1
        if SignalAt.count == self.at:
            signal.raise_signal(self.signum)


def interrupt_at(monkeypatch, at: int, signum: int = signal.SIGINT) -> None:
    real = Network.fit
    SignalAt.count = 0

    def fit(self, *args, callbacks=(), **kwargs):
        return real(self, *args, callbacks=[*callbacks, SignalAt(at, signum)], **kwargs)

    monkeypatch.setattr(Network, "fit", fit)


def test_resume_continues_extends_and_matches(tmp_path, monkeypatch):
    args = ["--data", "wine", "--layers", "6", "--epochs", "3", "--batch-size", "32",
            "--dropout", "0.2", "--schedule", "exponential"]
    ok(["train", *args, "--out", "whole"])
    interrupt_at(monkeypatch, 6, signal.SIGTERM)  # mid epoch 2 (4 batches per epoch)
    code, out, err = run(["train", *args, "--out", "cut"])
    assert code == 143 and not (tmp_path / "cut").exists()
    line = err.strip().splitlines()[-1]
    assert line == ("interrupted by SIGTERM during epoch 2 (step 6), checkpoint saved; resume "
                    "with: deepstep train --resume .cut.partial")
    assert (tmp_path / ".cut.partial" / rf.CHECKPOINT_FILE).is_file()
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    ok(["train", "--resume", ".cut.partial"])
    assert same_bits(tmp_path / "whole" / rf.MODEL_FILE, tmp_path / "cut" / rf.MODEL_FILE)
    assert history(tmp_path / "whole" / rf.HISTORY_FILE) == history(
        tmp_path / "cut" / rf.HISTORY_FILE)
    assert {p.name for p in (tmp_path / "cut").iterdir()} == FILES  # checkpoint removed
    commands = (tmp_path / "cut" / rf.COMMAND_FILE).read_text().splitlines()
    assert commands[1] == "deepstep train --resume .cut.partial"
    # --epochs extends an interrupted run (the final name works too)
    interrupt_at(monkeypatch, 2)
    assert run(["train", *args, "--out", "longer"])[0] == 130
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    out = ok(["train", "--resume", "longer", "--epochs", "5"])
    assert "5 epochs" in out
    assert len(history(tmp_path / "longer" / rf.HISTORY_FILE)) == 5
    assert "epochs = 5" in (tmp_path / "longer" / rf.SETTINGS_FILE).read_text()


# --- every fit option has a flag ----------------------------------------------------------------


def config(path: Path) -> dict:
    return Network.load(path / rf.MODEL_FILE).config_


@pytest.mark.parametrize(("flags", "expected"), [
    (["--optimizer", "momentum", "--momentum", "0.8"], {"optimizer_hyper": {"beta": 0.8}}),
    (["--beta1", "0.85", "--beta2", "0.99"],
     {"optimizer": "adam", "optimizer_hyper": {"beta1": 0.85, "beta2": 0.99, "eps": 1e-8}}),
    (["--optimizer", "rmsprop", "--beta2", "0.95"],
     {"optimizer_hyper": {"beta2": 0.95, "eps": 1e-8}}),
    (["--schedule", "cosine", "--clip-norm", "0.5"], {"schedule": "cosine", "clip_norm": 0.5}),
    (["--early-stopping", "2"], {"early_stopping": 2}),
    (["--batch-size", "full"], {"batch_size": None}),
    (["--class-weight", "balanced"], {"class_weight": "balanced"}),
    (["--class-weight", "setosa=3,virginica=0.5"],
     {"class_weight": {"0": 3.0, "2": 0.5}}),  # by class index, as the network is trained
])
def test_flags_reach_fit(tmp_path, flags, expected):
    ok(["train", *QUICK, *flags, "--out", "r"])
    cfg = config(tmp_path / "r")
    for key, value in expected.items():
        assert cfg[key] == value, key


def test_batch_size_full_is_full_batch(tmp_path):
    out = ok(["train", *QUICK, "--batch-size", "full", "--out", "r"])
    assert "batch full, 3 iterations" in out
    assert 'batch_size = "full"' in (tmp_path / "r" / rf.SETTINGS_FILE).read_text()
    net = Network.load(tmp_path / "r" / rf.MODEL_FILE)
    assert net.config_["batch_size"] is None


def test_early_stopping_stops_and_keeps_the_best_epoch(tmp_path):
    out = ok(["train", "--data", "iris", "--layers", "6", "--epochs", "200", "--lr", "0.05",
              "--early-stopping", "3", "--out", "r"])
    assert "early stopping 3" in out
    cfg = config(tmp_path / "r")
    epochs = len(history(tmp_path / "r" / rf.HISTORY_FILE))
    assert epochs < 200 and cfg["best_epoch"] == epochs - 1 - 3


def test_class_weight_moves_predictions_to_the_weighted_class(tmp_path, rng):
    X = rng.normal(size=(300, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=300) > 1.0, "rare", "common")
    Path("d.csv").write_text("a,b,y\n" + "".join(f"{a:.5f},{b:.5f},{c}\n"
                                                   for (a, b), c in zip(X, y, strict=True)))
    base = ["train", "--data", "d.csv", "--layers", "4", "--epochs", "20", "--lr", "0.01"]
    rare = []
    for flags in ([], ["--class-weight", "balanced"], ["--class-weight", "rare=10"]):
        ok([*base, *flags, "--out", f"r{len(rare)}"])
        net = Network.load(Path(f"r{len(rare)}") / rf.MODEL_FILE)
        rare.append(float(np.mean(net.predict(X.T) == 1)))  # class 1 = "rare"
    assert rare[0] < rare[1] and rare[0] < rare[2]


def test_label_picks_the_csv_column_and_task_overrides_the_rule(tmp_path, rng):
    X = rng.normal(size=(200, 3))
    lines = ["kind,a,b,c"] + [f"{int(x[0] > 0) + 2 * int(x[1] > 0)},{x[0]:.4f},{x[1]:.4f},"
                              f"{x[2]:.4f}" for x in X]
    Path("d.csv").write_text("\n".join(lines) + "\n")
    out = ok(["train", "--data", "d.csv", "--label", "kind", "--layers", "4", "--epochs", "2",
              "--out", "cls"])
    assert "network [3, 4, 4]" in out
    assert ("task: multiclass (integer labels with 4 distinct values); to choose otherwise "
            "give --task binary or --task regression") in out
    out = ok(["train", "--data", "d.csv", "--label", "kind", "--test", "d.csv", "--task",
              "regression", "--layers", "4", "--epochs", "2", "--out", "reg"])
    assert "task: regression (as asked)" in out and "network [3, 4, 1]" in out
    metrics = json.loads((tmp_path / "reg" / rf.METRICS_FILE).read_text())
    assert set(metrics["test"]) == {"loss", "r2", "mae", "rmse"}
    assert Network.load(tmp_path / "reg" / rf.MODEL_FILE).task == "regression"
    assert 'task = "regression"' in (tmp_path / "reg" / rf.SETTINGS_FILE).read_text()


def test_task_multiclass_gives_two_softmax_units(tmp_path):
    out = ok(["train", "--data", "breast_cancer", "--task", "multiclass", "--layers", "4",
              "--epochs", "2", "--out", "r"])
    assert "network [30, 4, 2]" in out
    net = Network.load(tmp_path / "r" / rf.MODEL_FILE)
    assert net.layer_dims[-1] == 2 and net.activations[-1].name == "softmax"


def test_image_size_resizes_image_folders(tmp_path, rng):
    for label in ("cat", "dog"):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 255, size=(20, 30, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / label / f"{i}.png")
    out = ok(["train", "--data", "imgs", "--image-size", "8", "--layers", "4", "--epochs", "2",
              "--out", "small"])
    assert "images (8, 8, 3)" in out and "network [192, 4, 1]" in out
    assert "image_size = 8" in (tmp_path / "small" / rf.SETTINGS_FILE).read_text()
    ok(["train", "--data", "imgs", "--layers", "4", "--epochs", "1", "--out", "default"])
    assert "image_size = 64" in (tmp_path / "default" / rf.SETTINGS_FILE).read_text()
