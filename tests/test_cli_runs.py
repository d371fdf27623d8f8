"""``deepstep runs``: the table of past runs, sorting by a metric, comparing two, and folders
that are broken or only half there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli_helpers import model_file, ok, run
from deepstep.runs import fmt, read_run, scan_runs, sort_runs


def _write_run(folder: Path, *, layers: list[int], lr: float, acc: float, loss: float,
               epochs: int, seconds: float) -> Path:
    """A run folder as deepstep train writes it (settings, metrics, history, versions, command)
    without a model file."""
    folder.mkdir(parents=True)
    (folder / "settings.toml").write_text(
        f'data = "digits"\nlayers = {layers}\noptimizer = "adam"\nlr = {lr}\n'
        f'epochs = {epochs}\nbatch-size = 32\nl2 = 0.0\ndropout = 0.0\nseed = 0\n')
    (folder / "metrics.json").write_text(json.dumps(
        {"train": {"loss": loss / 2, "accuracy": 1.0}, "test": {"loss": loss, "accuracy": acc}}))
    (folder / "history.jsonl").write_text("".join(
        json.dumps({"epoch": e, "loss": 1.0 / (e + 1), "seconds": seconds / epochs}) + "\n"
        for e in range(epochs)) + '{"epoch": 99, "lo')  # the last line cut short
    (folder / "versions.json").write_text(json.dumps({"deepstep": "0.2.0", "numpy": "2.4.6"}))
    (folder / "command.txt").write_text(f"deepstep train --layers {layers[0]} --lr {lr}\n")
    return folder


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    ok(["train", "--data", "iris", "--layers", "6", "--epochs", "3", "--out",
        root / "20250103-090000-real"])
    _write_run(root / "20250101-120000-aaaa", layers=[16], lr=0.003, acc=0.91, loss=0.31,
               epochs=4, seconds=2.0)
    _write_run(root / "20250102-120000-bbbb", layers=[32, 16], lr=0.001, acc=0.95, loss=0.22,
               epochs=5, seconds=90.0)
    (root / "20250104-000000-broken").mkdir()
    (root / "20250104-000000-broken" / "metrics.json").write_text("{not json")
    (root / "20250105-000000-empty").mkdir()
    (root / "20250106-000000-interrupted").mkdir()
    (root / "20250106-000000-interrupted" / "checkpoint.safetensors").write_bytes(b"x")
    (root / ".20250107-000000-cccc.tmp").mkdir()  # a run being written
    (root / "notes.txt").write_text("not a folder")
    return root


def test_table_lists_runs_and_notes_the_skipped(runs_dir):
    code, out, err = run(["runs", runs_dir])
    assert code == 0
    lines = out.splitlines()
    header = re.split(r"\s{2,}", lines[0])
    assert header == ["run", "date", "data", "layers", "optimizer", "lr", "batch", "epochs",
                      "l2", "dropout", "test.accuracy", "test.loss", "time"]
    rows = {r[0]: r for r in (re.split(r"\s{2,}", s) for s in lines[1:])}
    assert list(rows) == ["20250101-120000-aaaa", "20250102-120000-bbbb",
                          "20250103-090000-real"]
    assert rows["20250101-120000-aaaa"] == [
        "20250101-120000-aaaa", "2025-01-01 12:00", "digits", "16", "adam", "0.003", "32", "4",
        "0", "0", "0.91", "0.31", "2 s"]
    assert rows["20250102-120000-bbbb"][3] == "32,16"
    assert rows["20250102-120000-bbbb"][-1] == "1.5 min"
    real = rows["20250103-090000-real"]  # read from the model file and metrics.json
    assert real[2] == "iris" and real[3] == "6" and real[7] == "3"
    assert real[-1].endswith(" s")
    notes = err.splitlines()
    assert notes[0].startswith("note: skipped 20250104-000000-broken: no metrics")
    assert notes[1].startswith("note: skipped 20250105-000000-empty: no metrics")
    assert "checkpoint.safetensors" in notes[2]
    assert len(notes) == 3  # the hidden run in progress and the file are passed over


def test_sort_by_a_metric_best_first(runs_dir):
    out = ok(["runs", runs_dir, "--sort", "test.accuracy"])
    real = read_run(runs_dir / "20250103-090000-real").metrics["test.accuracy"]
    order = [s.split()[0] for s in out.splitlines()[1:]]
    expected = sorted([("20250101-120000-aaaa", 0.91), ("20250102-120000-bbbb", 0.95),
                       ("20250103-090000-real", real)], key=lambda t: -t[1])
    assert order == [n for n, _ in expected]
    out = ok(["runs", runs_dir, "--sort", "test.loss"])
    losses = [float(re.split(r"\s{2,}", s)[11]) for s in out.splitlines()[1:]]
    assert losses == sorted(losses)
    out = ok(["runs", runs_dir, "--sort", "train.loss"])
    assert re.split(r"\s{2,}", out.splitlines()[0])[-2] == "train.loss"
    code, _, err = run(["runs", runs_dir, "--sort", "test.f1"])
    assert code == 2 and "--sort test.f1: no run has it; metrics: test.accuracy, " in err


def test_compare_marks_the_differences(runs_dir):
    out = ok(["runs", runs_dir, "--compare", "20250101-120000-aaaa",
              runs_dir / "20250102-120000-bbbb"])
    rows = {r[0]: r[1:] for r in (re.split(r"\s{2,}", s.strip()) for s in out.splitlines()
                                  if s.strip() and not s.startswith("2025"))}
    assert rows["layers"] == ["16", "32,16", "*"]
    assert rows["lr"] == ["0.003", "0.001", "*"]
    assert rows["optimizer"] == ["adam", "adam"]
    assert rows["test.accuracy"] == ["0.91", "0.95", "*"]
    assert rows["epochs run"] == ["4", "5", "*"]
    assert rows["version deepstep"] == ["0.2.0", "0.2.0"]
    assert "20250101-120000-aaaa: deepstep train --layers 16 --lr 0.003" in out


def test_compare_a_model_only_run(runs_dir, tmp_path):
    out = ok(["runs", "--compare", runs_dir / "20250103-090000-real",
              runs_dir / "20250101-120000-aaaa"])
    assert re.search(r"^data\s+iris\s+digits\s+\*$", out, re.M)
    code, _, err = run(["runs", "--compare", runs_dir / "20250103-090000-real",
                        tmp_path / "nope"])
    assert code == 2 and f"--compare: no run folder {tmp_path / 'nope'}" in err
    code, _, err = run(["runs", "--compare", runs_dir / "20250103-090000-real",
                        runs_dir / "20250105-000000-empty"])
    assert code == 2 and "20250105-000000-empty: no metrics" in err


def test_a_run_folder_itself_and_no_runs(runs_dir, tmp_path):
    out = ok(["runs", runs_dir / "20250101-120000-aaaa"])
    assert len(out.splitlines()) == 2
    assert ok(["runs", tmp_path]).strip() == f"no runs in {tmp_path}"
    code, _, err = run(["runs", tmp_path / "missing"])
    assert code == 2 and "runs folder not found" in err


def test_unreadable_model_file_falls_back_to_the_files(runs_dir, tmp_path):
    folder = _write_run(tmp_path / "r", layers=[8], lr=0.01, acc=0.5, loss=0.7, epochs=2,
                        seconds=1.0)
    (folder / "model.safetensors").write_bytes(b"junk")
    rec = read_run(folder)
    assert rec.metrics["test.accuracy"] == 0.5 and rec.layers == [8]
    assert rec.notes and rec.notes[0].startswith("model.safetensors unreadable")
    runs, skipped = scan_runs(runs_dir)
    lrs = [r.value("lr") for r in sort_runs(runs, "lr")]
    assert lrs == sorted(lrs) and 0.001 in lrs and 0.003 in lrs
    assert len(skipped) == 3


def test_real_run_reads_the_models_record(runs_dir):
    rec = read_run(runs_dir / "20250103-090000-real")
    assert model_file(runs_dir / "20250103-090000-real").is_file()
    assert rec.data == "iris" and rec.layers == [6] and rec.epochs_run == 3
    assert rec.settings["optimizer"] == "adam" and rec.seconds is not None
    assert fmt(0.000123456) == "0.0001235"
