"""Every bad ``deepstep train`` command line: exit 2, one line on stderr that names the
problem, no traceback, and nothing written (neither in the working folder nor in --out).

Each row runs in-process in a folder of prepared files (a file where a folder is expected,
a folder full of another run's files, an interrupted run, a run in use by another process,
broken TOML and CSV files...); the whole folder tree is compared before and after.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
from pathlib import Path

import pytest

from deepstep.cli import main
from deepstep.run_folder import _lock

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
as_user = pytest.mark.skipif(ROOT, reason="root may write anywhere")

# (the arguments after `deepstep train`, words the error line must contain)
ROWS = [
    # where the run goes: checked before anything is loaded
    ("--out afile", ["--out afile is a file"]),
    ("--out full", ["--out full already holds files", "--overwrite"]),
    ("--out .", ["--out . is the current folder"]),
    ("--out .. --overwrite", ["--out .. is the current folder or holds it"]),
    ("--out afile/sub", ["--out afile/sub", "afile is a file"]),
    ("--out waiting", ["interrupted run waits", "--resume .waiting.partial"]),
    ("--out busy", ["--out busy", "another deepstep run is writing it"]),
    ("--out ''", ["--out", "empty"]),
    ("--overwrite", ["--overwrite needs --out"]),
    ("--json full", ["--json full is a folder"]),
    ("--json afile/m.json", ["--json afile/m.json", "afile is a file"]),
    ("--out r --json r", ["--json r is the --out folder"]),
    pytest.param("--out locked/run", ["--out locked/run", "no permission"], marks=as_user),
    # settings files
    ("--config bad.toml", ["bad.toml", "unknown key 'width'"]),
    ("--config broken.toml", ["broken.toml is not valid TOML"]),
    ("--config missing.toml", ["missing.toml", "not found"]),
    ("--config full", ["full is a folder", "--config"]),
    ("--config neg.toml", ["neg.toml: lr", "> 0"]),
    # flags and their values
    ("--epochs 3 --iterations 3", ["--iterations", "not allowed with argument --epochs"]),
    ("--epoch 3", ["unrecognized arguments: --epoch"]),
    ("--layers 20,x", ["--layers", "comma-separated integers"]),
    ("--lr nan", ["--lr", "learning rate"]),
    ("--lr -0.1", ["--lr", "> 0"]),
    ("--batch-size 0", ["--batch-size", ">= 1"]),
    ("--batch-size abc", ["--batch-size", "'abc'"]),
    ("--dropout 1", ["--dropout", "[0, 1)"]),
    ("--clip-norm 0", ["--clip-norm", "> 0"]),
    ("--momentum 1.5 --optimizer momentum", ["--momentum", "[0, 1)"]),
    ("--early-stopping -1", ["--early-stopping", ">= 0"]),
    ("--class-weight cat=abc", ["--class-weight", "class 'cat'"]),
    ("--class-weight =2", ["--class-weight", "CLASS=WEIGHT"]),
    ("--image-size 5000", ["--image-size", "1 to 1024"]),
    ("--task multi", ["--task", "unknown task 'multi'"]),
    ("--schedule linear", ["--schedule", "unknown schedule 'linear'"]),
    ("--hidden swish", ["--hidden", "swish"]),
    ("--dtype float16", ["--dtype", "float16"]),
    ("--preset nope", ["--preset", "nope"]),
    ("--seed -1", ["--seed", ">= 0"]),
    ("--seeds 0", ["--seeds", ">= 1"]),
    ("--label ''", ["--label", "empty"]),
    # flags that contradict each other or the data (found once the data are loaded)
    ("--layers 100000000", ["--layers", "100000000", "parameters", "GiB of memory"]),
    ("--momentum 0.9 --optimizer adam", ["--momentum", "this run uses adam"]),
    ("--beta1 0.8 --optimizer gd", ["--beta1", "this run uses gd"]),
    ("--beta2 0.99 --optimizer momentum", ["--beta2", "adam or rmsprop"]),
    ("--early-stopping 5 --validation 0", ["--early-stopping", "validation fraction > 0"]),
    ("--hidden relu,tanh --layers 8", ["--hidden", "2 hidden activations for 1 hidden layers"]),
    ("--class-weight balanced --data diabetes", ["--class-weight", "regression"]),
    ("--class-weight dog=2 --data iris", ["--class-weight", "'dog'", "setosa"]),
    ("--label price --data iris", ["--label", "CSV data"]),
    ("--label price --data d.csv", ["'price'", "d.csv", "available columns"]),
    ("--image-size 32 --data iris", ["--image-size", "image folders"]),
    ("--task binary --data iris", ["3 classes", "binary"]),
    ("--task regression --data iris", ["not numbers", "regression"]),
    ("--data tiny.csv --validation 0.1", ["--validation", "leaves one side empty"]),
    # data
    ("--data missing.h5", ["missing.h5"]),
    ("--data emptydir", ["emptydir", "subfolder"]),
    ("--data nosuchset", ["'nosuchset'", "bundled names"]),
    ("--data iris --test wine", ["test data (wine) has 13 features", "training data has 4"]),
    ("--data nan.csv", ["nan.csv row 2, column 'b': missing value"]),
    # resuming
    ("--resume .waiting.partial --lr 0.1", ["--resume", "--lr would change them"]),
    ("--resume .waiting.partial --out x", ["--resume", "--out would change them"]),
    ("--resume .waiting.partial --overwrite", ["--overwrite would change them"]),
    ("--resume .waiting.partial --config bad.toml", ["--config would change them"]),
    ("--resume .waiting.partial --epochs 2", ["--epochs 2 would shorten the run", "5 epochs"]),
    ("--resume nowhere", ["--resume nowhere: no such folder"]),
    ("--resume donerun", ["completed", "nothing to resume"]),
    ("--resume full", ["not the folder of an interrupted run"]),
    ("--resume .nosettings.partial", ["no settings.toml"]),
    ("--resume .busy.partial", ["in use by another deepstep process"]),
]


@pytest.fixture
def junk(tmp_path, monkeypatch):
    """A working folder full of traps; the lock of .busy.partial held as another process
    would."""
    (tmp_path / "afile").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("an earlier run")
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "bad.toml").write_text("lr = 0.1\nwidth = 3\n")
    (tmp_path / "broken.toml").write_text("lr = = 0.1\n")
    (tmp_path / "neg.toml").write_text("lr = -1\n")
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n"
                                                        for i in range(40)))
    (tmp_path / "nan.csv").write_text("a,b,y\n1,nan,0\n" + "".join(f"{i},{i},{i % 2}\n"
                                                                  for i in range(2, 30)))
    (tmp_path / "tiny.csv").write_text("a,y\n1,0\n2,0\n3,1\n4,1\n")
    for name in ("waiting", "busy"):
        partial = tmp_path / f".{name}.partial"
        partial.mkdir()
        (partial / "settings.toml").write_text('data = "iris"\nepochs = 5\n')
        (partial / "command.txt").write_text("deepstep train --data iris --epochs 5\n")
    (tmp_path / ".nosettings.partial").mkdir()
    done = tmp_path / "donerun"
    done.mkdir()
    (done / "metrics.json").write_text("{}")
    (done / "settings.toml").write_text('data = "iris"\n')
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    fd = _lock(tmp_path / ".busy.partial")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    if fd is not None:
        os.close(fd)
    locked.chmod(0o700)


def tree(root: Path) -> list[tuple[str, int, int]]:
    """Every file and folder under ``root`` with its size and modification time."""
    out = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder, name)
            st = p.lstat()
            out.append((str(p.relative_to(root)), st.st_size, st.st_mtime_ns))
    return sorted(out)


def test_the_table_has_enough_rows():
    assert len(ROWS) >= 30


@pytest.mark.parametrize(("args", "says"), ROWS)
def test_bad_train_command_line(junk, args, says):
    before = tree(junk)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", *shlex.split(args)])
    lines = err.getvalue().strip().splitlines()
    assert code == 2, err.getvalue()
    assert len(lines) == 1, err.getvalue()
    assert lines[0].startswith("error: ") and "Traceback" not in err.getvalue()
    for word in says:
        assert word in lines[0], (word, lines[0])
    assert tree(junk) == before, "something was written"
