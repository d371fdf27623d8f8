"""Every bad input to predict, evaluate, report, explain, gradcheck and runs: exit status 2,
one line on stderr naming the file or flag and what to do, no traceback, nothing written."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_helpers import model_file, ok, run


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A digits model (8x8 grey images) and a tabular one (iris, 4 features)."""
    tmp = tmp_path_factory.mktemp("models")
    ok(["train", "--layers", "8", "--epochs", "2", "--out", tmp / "digits"])
    ok(["train", "--data", "iris", "--layers", "4", "--epochs", "2", "--out", tmp / "iris"])
    return {"digits": model_file(tmp / "digits"), "iris": model_file(tmp / "iris")}


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels (and holds almost none of them)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.fixture
def t(tmp_path, trained, monkeypatch) -> Path:
    """A folder of good and bad inputs, with the models copied in; the current folder."""
    for name, src in trained.items():
        shutil.copy(src, tmp_path / f"{name}{src.suffix}")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "digit.png")
    (tmp_path / "hello.txt").write_text("hi")
    (tmp_path / "empty").mkdir()
    (tmp_path / "wide.csv").write_text("a,b,c\n1,2,3\n")
    (tmp_path / "words.csv").write_text("a,b,c,d\n1,2,oops,4\n")
    (tmp_path / "latin1.csv").write_bytes("caf\xe9,1,2,3\n".encode("latin-1"))
    (tmp_path / "huge.png").write_bytes(_png_header(40_000, 40_000))
    (tmp_path / "big.png").write_bytes(_png_header(9_000, 8_000))
    (tmp_path / "taken.html").write_text("mine")
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "metrics.json").write_text('{"test": {"accuracy": 0.5}}')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _suffix(trained) -> str:
    return trained["digits"].suffix


# (command line, what the one line must say); {m} is the digits model, {i} the iris model
CASES = [
    # predict
    (["predict", "--model", "missing{x}", "digit.png"], "--model missing{x}: no such file"),
    (["predict", "--model", "hello.txt", "digit.png"], "hello.txt is not a valid deepstep"),
    (["predict", "--model", "empty", "digit.png"], "--model empty is a folder without a model"),
    (["predict", "--model", "{m}", "hello.txt"], "hello.txt: not an image file"),
    (["predict", "--model", "{m}", "nothere.png"], "nothere.png: no such file or folder"),
    (["predict", "--model", "{m}", "empty"], "empty: folder holds no image files"),
    (["predict", "--model", "{m}", "wide.csv"],
     "wide.csv has 3 columns; the model takes 64 numeric features"),
    (["predict", "--model", "{i}", "words.csv"],
     "words.csv row 2, column 'c': 'oops' is not a number"),
    (["predict", "--model", "{i}", "latin1.csv"],
     "latin1.csv is not UTF-8 text (byte 0xe9 on line 1)"),
    (["predict", "--model", "{m}", "huge.png"], "huge.png: image is above the limit of 64 megapi"),
    (["predict", "--model", "{m}", "big.png"], "big.png: image is 9000x8000 pixels, above the"),
    (["predict", "--model", "{i}", "digit.png"], "the model was trained on tabular data"),
    (["predict", "--model", "{m}", "digit.png", "--top-k", "0"], "argument --top-k: expected"),
    (["predict", "--model", "{m}", "digit.png", "--top-k", "11"],
     "--top-k 11 but the model has 10 classes"),
    (["predict", "--model", "{m}", "digit.png", "--format", "xml"],
     "argument --format: invalid choice: 'xml'"),
    (["predict", "--model", "{m}"], "the following arguments are required: INPUT"),
    # evaluate
    (["evaluate", "--model", "{m}", "--data", "missing.h5"], "no such file or folder"),
    (["evaluate", "--model", "{m}", "--data", "iris"], "iris has 4 features"),
    (["evaluate", "--model", "{m}", "--data", "digits", "--json", "empty"],
     "--json empty is a folder"),
    # report
    (["report", "--model", "{m}", "--data", "digits", "--out", "taken.html"],
     "--out taken.html exists; pass --overwrite"),
    (["report", "--model", "{m}", "--data", "digits", "--out", "empty"], "--out empty is a folder"),
    (["report", "--model", "{m}", "--data", "digits", "--out", "hello.txt/r.html"],
     "hello.txt is a file, not a folder"),
    (["report", "--model", "{m}", "--data", "wine"], "wine has 13 features"),
    # explain
    (["explain", "--model", "{m}", "digit.png", "--out", "hello.txt"],
     "--out hello.txt is a file"),
    (["explain", "--model", "{m}", "digit.png", "--target", "eleven"],
     "--target 'eleven' is not one of the model's classes"),
    (["explain", "--model", "{m}", "digit.png", "--steps", "0"], "argument --steps: expected"),
    (["explain", "--model", "{m}", "digit.png", "--method", "magic"],
     "argument --method: invalid choice"),
    (["explain", "--model", "{m}", "hello.txt"], "hello.txt: not an image file"),
    (["explain", "digit.png"], "explaining inputs needs --model M"),
    (["explain", "--layers", "20,7"], "give --input and --output N with --layers"),
    (["explain", "--model", "{m}", "--layers", "3"], "give --model or --layers, not both"),
    (["explain"], "give --model M, or the sizes --input N --layers N,N,... --output N"),
    (["explain", "--input", "0", "--output", "1"], "argument --input: expected a number"),
    # gradcheck
    (["gradcheck", "--input", "100000000"], "needs about 9,918 MiB, above 512 MiB"),
    (["gradcheck", "--output", "softmax"], "the output activation is --output-activation"),
    (["gradcheck", "--samples", "0"], "argument --samples: expected a whole number >= 1"),
    (["gradcheck", "--model", "hello.txt"], "hello.txt is not a valid deepstep"),
    # runs
    (["runs", "missing"], "runs folder not found: missing"),
    (["runs", "hello.txt"], "hello.txt is a file"),
    (["runs", "runs", "--sort", "test.f1"], "--sort test.f1: no run has it"),
    (["runs", "--compare", "runs/r1"], "argument --compare: expected 2 arguments"),
    (["runs", "--compare", "runs/r1", "empty"], "--compare: empty: no metrics"),
    (["runs", "--compare", "runs/r1", "runs/r1", "--sort", "x"], "--sort orders the table"),
]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            st = (Path(dirpath) / f).stat()
            out[str(Path(dirpath, f).relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize(("argv", "says"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(argv, says, t, trained):
    names = {"m": f"digits{_suffix(trained)}", "i": f"iris{_suffix(trained)}",
             "x": _suffix(trained)}
    argv = [a.format(**names) for a in argv]
    before = _snapshot(t)
    code, out, err = run(argv)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and says.format(**names) in err, err
    assert _snapshot(t) == before, "something was written"
    assert not (t / "explanations").exists()
