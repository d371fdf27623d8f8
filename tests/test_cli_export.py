"""``deepstep export`` end to end, in-process through ``main([...])``."""

from __future__ import annotations

import contextlib
import io
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from deepstep import Network  # noqa: E402
from deepstep.cli import main  # noqa: E402


def run(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def user_error(argv: list) -> str:
    """Run a command that must fail as a user error: exit 2, one line, no traceback."""
    code, out, err = run(argv)
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small standardised classifier with string labels, saved, and its data."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(5, 300)) * 20 + 3
    y = np.array(["bird", "cat", "dog"])[np.digitize(X[0] - X[1], [-10, 10])]
    net = Network([5, 8, 3], hidden="tanh", seed=0)
    net.fit(X, y, epochs=10, learning_rate=0.01, preprocess="standardize", verbose=False)
    path = tmp_path_factory.mktemp("model") / "model.safetensors"
    net.save(path)
    return path, Network.load(path), X


def test_export_writes_a_file_onnxruntime_agrees_with(saved, tmp_path):
    model, net, X = saved
    out = tmp_path / "exported" / "model.onnx"
    code, text, err = run(["export", "--model", model, "--out", out])
    assert code == 0, err
    assert text == (f"wrote {out}: opset 13, IR 7; input X (N, 5) float32; outputs label (N,) "
                    "string, probabilities (N, 3) float32\n")
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    label, proba = sess.run(None, {"X": X.T.astype(np.float32)})
    np.testing.assert_array_equal(label, net.predict(X).ravel())
    assert np.max(np.abs(proba - net.predict_proba(X).T)) <= 1e-5


def test_export_never_overwrites_without_the_flag(saved, tmp_path):
    model, _, _ = saved
    out = tmp_path / "model.onnx"
    out.write_bytes(b"keep me")
    err = user_error(["export", "--model", model, "--out", out])
    assert f"{out} exists: give --overwrite" in err
    assert out.read_bytes() == b"keep me"
    code, text, err = run(["export", "--model", model, "--out", out, "--overwrite",
                           "--dtype", "float64"])
    assert code == 0, err
    assert "input X (N, 5) float64" in text
    onnx.checker.check_model(onnx.load(out))


def test_export_user_errors(saved, tmp_path):
    model, _, _ = saved
    assert "nope.safetensors" in user_error(
        ["export", "--model", tmp_path / "nope.safetensors", "--out", tmp_path / "m.onnx"])
    assert "is a folder" in user_error(["export", "--model", model, "--out", tmp_path])
    assert "invalid choice: 'float16'" in user_error(
        ["export", "--model", model, "--out", tmp_path / "m.onnx", "--dtype", "float16"])
    assert "required: --out" in user_error(["export", "--model", model])
    assert not (tmp_path / "m.onnx").exists()


def test_export_without_onnx_installed(saved, tmp_path, monkeypatch):
    model, _, _ = saved
    monkeypatch.setitem(sys.modules, "onnx", None)
    err = user_error(["export", "--model", model, "--out", tmp_path / "m.onnx"])
    assert "pip install 'deepstep[onnx]'" in err
    assert list(tmp_path.iterdir()) == []


def test_export_help_has_examples():
    code, out, _ = run(["export", "--help"])
    assert code == 0 and "examples:\n  deepstep export" in out
