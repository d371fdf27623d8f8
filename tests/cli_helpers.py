"""What the end-to-end CLI tests of predict, explain, report, gradcheck and runs share: running
``deepstep`` in-process and making small data sets and models quickly."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deepstep.cli import main


def run(argv: Sequence[object]) -> tuple[int, str, str]:
    """``deepstep argv`` in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def ok(argv: Sequence[object]) -> str:
    """stdout of a command that must succeed without a traceback."""
    code, out, err = run(argv)
    assert code == 0, err
    assert "Traceback" not in err
    return out


def model_file(run_dir: Path) -> Path:
    """The model file of a run folder."""
    found = sorted(run_dir.glob("model.*"))
    assert found, f"no model file in {run_dir}"
    return found[0]


def write_csv(path: Path, header: Sequence[str] | None, rows: Sequence[Sequence[object]]
              ) -> Path:
    """A CSV file with an optional header row."""
    lines = [",".join(header)] if header else []
    lines += [",".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def separable_rows(labels: Sequence[object], m: int = 80, seed: int = 0):
    """m rows of 3 features whose label is labels[1] when x0 + x1 > 0, else labels[0]."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(m, 3)), 4)
    y = [labels[1] if a + b > 0 else labels[0] for a, b, _ in X]
    return X, y


def train_csv(tmp: Path, name: str, labels: Sequence[object], epochs: int = 30) -> Path:
    """Train a [3, 4, 1] model through the CLI on a CSV labelled with ``labels``; the run."""
    X, y = separable_rows(labels)
    data = write_csv(tmp / f"{name}.csv", ["a", "b", "c", "label"],
                     [[*x, t] for x, t in zip(X, y, strict=True)])
    out = tmp / f"run-{name}"
    ok(["train", "--data", data, "--layers", "4", "--epochs", epochs, "--lr", "0.05", "--l2",
        "0", "--out", out])
    return out
