"""The ``deepstep`` command in a real process: exit statuses and clean one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest


def deepstep(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deepstep.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize("args", [
    ("train", "--data", "missing.h5"),
    ("train", "--layers", "20,x"),
    ("evaluate", "--model", "notamodel.npz", "--data", "digits"),
])
def test_user_error_is_one_line_without_traceback(tmp_path, args):
    (tmp_path / "notamodel.npz").write_text("not a zip")
    p = deepstep(*args, cwd=tmp_path)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert p.stderr.startswith("error: ") and "Traceback" not in p.stderr


def test_debug_shows_the_traceback(tmp_path):
    p = deepstep("train", "--data", "missing.h5", "--debug", cwd=tmp_path)
    assert p.returncode != 0 and "Traceback" in p.stderr and "FileNotFoundError" in p.stderr


def test_explain_succeeds_in_a_process():
    p = deepstep("explain", "--input", "12288", "--layers", "20,7,5", "--output", "1", "--m",
                 "209")
    assert p.returncode == 0 and "parameters: 245,973" in p.stdout and p.stderr == ""
