"""deepstep.files: atomic writes, and the temporaries of interrupted saves cleaned up safely."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepstep.files import STALE_SECONDS, atomic_write, remove_stale_temps, temp_name

posix = pytest.mark.skipif(os.name == "nt", reason="pid probing is POSIX-only")


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()  # reaped: the pid is free (and will not be reused within this test)
    return p.pid


def _temp(folder: Path, target: str, pid: int, host: str | None = None) -> Path:
    """A temporary named as ``atomic_write`` names them, for ``pid`` (and ``host``)."""
    stem, middle, _ = temp_name(folder / target).name.rsplit(".", 2)
    own_host, _, rand = middle.split("-")
    path = folder / f"{stem}.{host or own_host}-{pid}-{rand}.tmp"
    path.write_bytes(b"half a model")
    return path


def test_temp_names_say_what_they_are(tmp_path):
    name = temp_name(tmp_path / "model.safetensors").name
    assert name.startswith(".model.safetensors.") and name.endswith(".tmp")
    assert f"-{os.getpid()}-" in name


@posix
def test_the_next_save_removes_the_temporaries_of_dead_writers_only(tmp_path):
    dead = _temp(tmp_path, "model.safetensors", _dead_pid())
    other_target = _temp(tmp_path, "metrics.json", _dead_pid())
    live = _temp(tmp_path, "model.safetensors", os.getpid())  # e.g. another thread's
    parent = _temp(tmp_path, "model.safetensors", os.getppid())
    keep = [tmp_path / ".gitignore", tmp_path / ".notes.tmp", tmp_path / "model.tmp"]
    for p in keep:
        p.write_text("mine")
    atomic_write(tmp_path / "model.safetensors", b"new")
    assert not dead.exists() and not other_target.exists()
    assert live.exists() and parent.exists() and all(p.exists() for p in keep)
    assert (tmp_path / "model.safetensors").read_bytes() == b"new"


def test_temporaries_of_other_machines_and_of_0_1_go_only_when_stale(tmp_path):
    foreign = _temp(tmp_path, "model.safetensors", 4242, host="0badc0de")
    legacy = tmp_path / ".model.npz.0123456789ab.tmp"
    legacy.write_bytes(b"old")
    fresh_legacy = tmp_path / ".metrics.json.ba9876543210.tmp"
    fresh_legacy.write_bytes(b"old")
    assert remove_stale_temps(tmp_path) == []
    old = time.time() - STALE_SECONDS - 60
    for p in (foreign, legacy):
        os.utime(p, (old, old))
    assert sorted(remove_stale_temps(tmp_path)) == sorted([foreign, legacy])
    assert fresh_legacy.exists()


def test_a_folder_named_like_a_temporary_is_left_alone(tmp_path):
    folder = tmp_path / f".model.safetensors.0badc0de-{_dead_pid()}-00112233.tmp"
    folder.mkdir()
    old = time.time() - 2 * STALE_SECONDS
    os.utime(folder, (old, old))
    assert remove_stale_temps(tmp_path) == [] and folder.is_dir()


WRITER = """
import sys, time
from deepstep.files import atomic_write
def slow(f):
    f.write(b"partial")
    f.flush()
    print("writing", flush=True)
    time.sleep(float(sys.argv[2]))
    f.write(b" and the rest")
atomic_write(sys.argv[1], slow)
"""


def _writer(target: Path, seconds: float) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(seconds)],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline() == "writing\n"
    return p


@posix
def test_a_killed_save_leaves_the_old_file_and_its_temporary_is_removed_next_time(tmp_path):
    target = tmp_path / "model.safetensors"
    atomic_write(target, b"old model")
    p = _writer(target, 60)
    p.kill()
    p.wait()
    left = [q for q in tmp_path.iterdir() if q.name.endswith(".tmp")]
    assert len(left) == 1 and target.read_bytes() == b"old model"
    atomic_write(tmp_path / "report.html", b"<html>")  # any save to the folder
    assert not left[0].exists() and target.read_bytes() == b"old model"


@posix
def test_a_concurrent_writers_temporary_survives_another_save(tmp_path):
    target = tmp_path / "model.safetensors"
    p = _writer(target, 1.5)
    atomic_write(tmp_path / "metrics.json", b"{}")
    atomic_write(target, b"mine")
    assert p.wait(timeout=60) == 0  # its rename still found its temporary
    assert target.read_bytes() == b"partial and the rest"
    assert not [q for q in tmp_path.iterdir() if q.name.endswith(".tmp")]
