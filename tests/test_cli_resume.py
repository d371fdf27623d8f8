"""``deepstep train`` in real processes: SIGINT / SIGTERM at chosen steps and from outside,
resumed runs that end with the bits of the uninterrupted run, and concurrent runs.

A signal at an exact step: the child runs the CLI with one extra callback that sends the
signal to its own process after the N-th batch (the handler and everything after it are the
real ones). A signal from outside: the parent reads the progress lines and sends SIGINT.
The interrupted runs are real processes, started together; the uninterrupted references and
the resumes run in this process (``main``), which has its imports loaded already.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepstep import Network
from deepstep import run_folder as rf
from deepstep.cli import main

KILL = """
import os, signal, sys
from deepstep import Network
from deepstep.training import Callback
at, signum = int(os.environ["KILL_AT"]), int(os.environ["KILL_SIGNAL"])
seen = [0]

class SignalAt(Callback):
    def on_batch_end(self, batch, logs):
        seen[0] += 1
        if seen[0] == at:
            signal.raise_signal(signum)

fit = Network.fit
Network.fit = lambda self, *a, callbacks=(), **k: fit(
    self, *a, callbacks=[*callbacks, SignalAt()], **k)
from deepstep.cli import main
sys.exit(main(sys.argv[1:]))
"""

# Adam, shuffled mini-batches, dropout, a schedule and validation: wine has 128 training
# examples after the test and validation hold-outs, so 8 batches of 16 per epoch.
MINI = ["--data", "wine", "--layers", "8", "--epochs", "4", "--batch-size", "16", "--dropout",
        "0.2", "--schedule", "step", "--lr", "0.01"]
STEPS_PER_EPOCH = 8
# full batch: one step per epoch, a checkpoint every 100 iterations
FULL = ["--data", "wine", "--layers", "8", "--batch-size", "full", "--optimizer", "gd", "--lr",
        "0.05", "--epochs", "250"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def start(args: list, cwd: Path, kill_at: int | None = None,
          signum: int = signal.SIGINT) -> subprocess.Popen:
    code = ["-c", KILL] if kill_at else ["-m", "deepstep.cli"]
    env = {**ENV, "KILL_AT": str(kill_at or 0), "KILL_SIGNAL": str(int(signum))}
    return subprocess.Popen([sys.executable, *code, *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p: subprocess.Popen) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=300)
    return p.returncode, out, err


def run_all(jobs: list) -> list[tuple[int, str, str]]:
    """Start every (args, cwd, kill_at, signum) at once; wait for all."""
    return [finish(p) for p in [start(*job) for job in jobs]]


def here(argv: list, cwd: Path) -> tuple[int, str, str]:
    """``deepstep argv`` in this process, in the folder ``cwd``."""
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def weights(path: Path) -> dict[str, bytes]:
    return {k: v.dtype.str.encode() + v.tobytes() for k, v in Network.load(path).params.items()}


def history(path: Path) -> list[dict]:
    """The lines of a history file without the wall-clock seconds."""
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in path.read_text().splitlines()]


def assert_same_run(a: Path, b: Path) -> None:
    assert weights(a / rf.MODEL_FILE) == weights(b / rf.MODEL_FILE), "weights differ"
    names = sorted(p.name for p in a.glob("history*.jsonl"))
    assert names == sorted(p.name for p in b.glob("history*.jsonl"))
    for name in names:
        assert history(a / name) == history(b / name), name
    assert json.loads((a / rf.METRICS_FILE).read_text()) == json.loads(
        (b / rf.METRICS_FILE).read_text())
    assert {p.name for p in a.iterdir()} == {p.name for p in b.iterdir()}


def resume_command(err: str) -> list[str]:
    """The resume command of the interrupt's one line (the last line on stderr)."""
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err, err
    found = re.fullmatch(r"interrupted by SIG(INT|TERM) during epoch \d+ \(step \d+\), "
                         r"checkpoint saved; resume with: (deepstep train --resume .+)", last)
    assert found, last
    return shlex.split(found.group(2))[1:]


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> Path:
    """The uninterrupted runs."""
    root = tmp_path_factory.mktemp("whole")
    for argv in (["train", *MINI, "--out", "mini"], ["train", *FULL, "--out", "full"],
                 ["train", *MINI, "--epochs", "2", "--seeds", "3", "--out", "seeds"]):
        code, _, err = here(argv, root)
        assert code == 0, err
    return root


# (what, flags, process-wide batch count at which the signal is sent, signal)
CASES = [
    ("mini", MINI, 1, signal.SIGINT),  # after the first step
    ("mini", MINI, STEPS_PER_EPOCH, signal.SIGTERM),  # last batch of epoch 1, not yet closed
    ("mini", MINI, STEPS_PER_EPOCH + 5, signal.SIGINT),  # in the middle of epoch 2
    ("mini", MINI, 4 * STEPS_PER_EPOCH, signal.SIGTERM),  # the very last step of the run
    ("full", FULL, 150, signal.SIGINT),  # full batch, between periodic checkpoints
    ("seeds", [*MINI, "--epochs", "2", "--seeds", "3"], 2 * STEPS_PER_EPOCH + 5,
     signal.SIGTERM),  # in seed 2: seed 1 done, seed 3 not begun
]


def test_interrupted_runs_resume_to_the_same_bits(references, tmp_path):
    jobs = [(["train", *flags, "--out", f"run{i}"], tmp_path, at, signum)
            for i, (_, flags, at, signum) in enumerate(CASES)]
    interrupted = run_all(jobs)
    resumes = []
    for i, ((code, _, err), case) in enumerate(zip(interrupted, CASES, strict=True)):
        signum = case[3]
        assert code == 128 + signum, (i, err)
        assert not (tmp_path / f"run{i}").exists()
        partial = tmp_path / f".run{i}.partial"
        assert (partial / rf.CHECKPOINT_FILE).is_file() and (partial / rf.SETTINGS_FILE).is_file()
        command = resume_command(err)
        assert command == ["train", "--resume", f".run{i}.partial"]
        resumes.append(command)
    for i, command in enumerate(resumes):
        code, _, err = here(command, tmp_path)
        assert code == 0, (i, err)
        assert not (tmp_path / f".run{i}.partial").exists()
        assert_same_run(references / CASES[i][0], tmp_path / f"run{i}")
        lines = (tmp_path / f"run{i}" / rf.COMMAND_FILE).read_text().splitlines()
        assert lines[1] == f"deepstep train --resume .run{i}.partial"


def test_interrupted_twice_and_killed(references, tmp_path):
    """Two interrupts in one run; and SIGKILL, which writes nothing: the resume starts from
    the last periodic checkpoint (iteration 100 of the full-batch run)."""
    (code, _, err), (kcode, _, _) = run_all([
        (["train", *MINI, "--out", "twice"], tmp_path, 5, signal.SIGINT),
        (["train", *FULL, "--out", "killed"], tmp_path, 150, signal.SIGKILL)])
    assert code == 130 and kcode == -signal.SIGKILL
    code, _, err = finish(start(resume_command(err), tmp_path, 12, signal.SIGTERM))
    assert code == 143, err
    for command in (resume_command(err), ["train", "--resume", "killed"]):
        code, _, err = here(command, tmp_path)
        assert code == 0, err
    assert_same_run(references / "mini", tmp_path / "twice")
    assert_same_run(references / "full", tmp_path / "killed")


def test_sigint_from_outside(tmp_path):
    flags = ["train", "--data", "digits", "--layers", "16", "--batch-size", "16", "--epochs",
             "40", "--lr", "0.003", "--validation", "0"]
    p = start([*flags, "--out", "cut"], tmp_path)
    assert p.stderr is not None
    for line in p.stderr:  # the progress lines, one per epoch off a terminal
        if line.startswith("epoch 3/40"):
            p.send_signal(signal.SIGINT)
            break
    code, _, rest = finish(p)
    assert code == 130, rest
    assert here(resume_command(rest), tmp_path)[0] == 0
    assert here([*flags, "--out", "whole"], tmp_path)[0] == 0
    assert_same_run(tmp_path / "whole", tmp_path / "cut")


def test_concurrent_runs_get_their_own_folders(tmp_path):
    n = 4
    results = run_all([(["train", "--data", "iris", "--layers", "4", "--epochs", "2",
                         "--seed", str(seed)], tmp_path, None, 0) for seed in range(n)])
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == n
    assert all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", f.name) for f in folders)
    seeds = []
    for folder in folders:
        toml = (folder / rf.SETTINGS_FILE).read_text()
        seed = int(re.search(r"^seed = (\d+)$", toml, re.M).group(1))
        net = Network.load(folder / rf.MODEL_FILE)
        assert net.seed == seed  # the model, the settings and the metrics of one run
        assert net.config_["metrics"] == json.loads((folder / rf.METRICS_FILE).read_text())
        seeds.append(seed)
    assert sorted(seeds) == list(range(n))
    saved = sorted(re.search(r"saved to (\S+):", out).group(1) for _, out, _ in results)
    assert saved == sorted(str(Path("runs") / f.name) for f in folders)


def test_concurrent_runs_into_one_out_folder(tmp_path):
    results = run_all([(["train", "--data", "iris", "--layers", "4", "--epochs", "2", "--seed",
                         str(seed), "--out", "same"], tmp_path, None, 0) for seed in range(3)])
    codes = [code for code, _, _ in results]
    assert sorted(codes) == [0, 2, 2]
    for code, _, err in results:
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and "--out same" in err, err
    winner = codes.index(0)
    net = Network.load(tmp_path / "same" / rf.MODEL_FILE)
    assert net.seed == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same"]
    assert np.isfinite(net.params["W1"]).all()


def test_resume_says_which_settings_came_from_the_recipe(tmp_path):
    code, out, err = finish(start(["train", "--data", "iris", "--out", "r"], tmp_path, 50))
    assert code == 130, err
    assert "(from the recipe: layers, hidden, init, optimizer, lr" in out
    code, out, err = here(resume_command(err), tmp_path)
    assert code == 0, err
    assert "(from the recipe: layers, hidden, init, optimizer, lr" in out
    assert "lr = 0.001  # recipe" in (tmp_path / "r" / rf.SETTINGS_FILE).read_text()
