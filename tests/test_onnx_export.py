"""ONNX export: the graph in onnxruntime against Network.predict / predict_proba.

Parity in float32: probabilities within 1e-5 absolute, identical labels; regression values
within 1e-5 of the targets' std. Every engine activation, each task, each preprocessing,
every kind of label, the course cat model and an MNIST model.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import h5py
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from deepstep import Network, __version__  # noqa: E402
from deepstep import onnx_export as ox  # noqa: E402
from deepstep.data import load  # noqa: E402
from deepstep.data.inputs import data_meta  # noqa: E402
from deepstep.engine.activations import ACTIVATIONS  # noqa: E402

TOL = 1e-5
ROOT = Path(__file__).resolve().parents[1]


def session(model: onnx.ModelProto | Path) -> ort.InferenceSession:
    blob = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(blob, providers=["CPUExecutionProvider"])


def run_onnx(net: Network, X: np.ndarray, dtype: str | None = None) -> dict[str, np.ndarray]:
    """The exported graph's outputs for X (n_x, m), given to it as rows (m, n_x)."""
    model = ox.build_onnx(net, dtype)
    rows = X.T.astype(np.dtype(dtype or net.dtype))
    sess = session(model)
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"X": rows}),
                    strict=True))


def check_parity(net: Network, X: np.ndarray, dtype: str | None = None, tol: float = TOL
                 ) -> float:
    """Assert the graph agrees with the network on X; returns the max abs difference of
    the probabilities (classifiers) or of the values in units of the targets' std."""
    out = run_onnx(net, X, dtype)
    if net.task == "regression":
        assert set(out) == {"values"}
        expected = net.predict(X).T  # (m, n_y), original units
        std = net.target_std_.ravel() if net.target_std_ is not None else 1.0
        assert out["values"].shape == expected.shape
        # tol in units of the targets' std, plus the rounding of a value to the graph's
        # float type (values far from 0 relative to their std keep ~7 digits in float32)
        error = np.abs(out["values"] - expected)
        bound = tol * std + 2 * np.finfo(out["values"].dtype).eps * np.abs(expected)
        assert np.all(error <= bound), np.max(error / bound)
        return float(np.max(error / std))
    assert set(out) == {"label", "probabilities"}
    proba = net.targets().probabilities(net.predict_proba(X)).T  # (m, k)
    diff = float(np.max(np.abs(out["probabilities"] - proba)))
    assert out["probabilities"].shape == proba.shape and diff <= tol, diff
    expected = ox.export_labels(net)[net.targets().index(net.predict(X))]
    np.testing.assert_array_equal(out["label"], expected)
    return diff


def make_data(rng: np.random.Generator, task: str, preprocess: str, m: int = 240):
    """Inputs (6, m) on the scale the preprocessing is for, and labels that depend on them."""
    X = rng.normal(size=(6, m))
    if preprocess == "scale255":
        X = np.round(np.clip(X * 60 + 128, 0, 255))
    elif preprocess == "standardize":
        X = X * np.arange(1, 7)[:, None] * 10 + 50  # features far from mean 0, std 1
    Xs = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    score = Xs[0] + Xs[1] - Xs[2]
    if task == "binary":
        return X, np.where(score > 0, "yes", "no")
    if task == "multiclass":
        return X, np.array([3, 7, 42])[np.digitize(score, [-0.5, 0.5])]
    return X, np.vstack([1000 + 50 * score, -2 + 0.1 * Xs[3]])  # two targets


def fitted(X, y, task: str, hidden: str, preprocess: str, dtype: str = "float32",
           epochs: int = 15) -> Network:
    n_out = {"binary": 1, "multiclass": 3, "regression": 2}[task]
    net = Network([X.shape[0], 8, 5, n_out], hidden=hidden, dtype=dtype, seed=0)
    net.fit(X, y, epochs=epochs, learning_rate=0.01, batch_size=32, l2=0.0,
            preprocess=preprocess, verbose=False)
    return net


# --- the registry --------------------------------------------------------------------------


def test_every_engine_activation_has_an_onnx_form():
    assert set(ox.ACTIVATION_OPS) == set(ACTIVATIONS)


def test_an_activation_without_onnx_form_is_named(monkeypatch):
    monkeypatch.delitem(ox.ACTIVATION_OPS, "tanh")
    with pytest.raises(ValueError, match="activation 'tanh' has no ONNX form.*ACTIVATION_OPS"):
        ox.build_onnx(Network([3, 4, 1], hidden="tanh"))


# --- parity --------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("preprocess", ["standardize", "scale255", "none"])
def test_parity_with_onnxruntime(rng, hidden, task, preprocess):
    X, y = make_data(rng, task, preprocess)
    net = fitted(X, y, task, hidden, preprocess)
    assert net.task == task
    if task != "regression":  # the model has learnt something: not all one class
        assert np.unique(net.predict(X)).size > 1
    Xnew, _ = make_data(rng, task, preprocess, m=500)
    check_parity(net, np.hstack([X, Xnew]))


@pytest.mark.parametrize("labels", [
    np.array([-5, 10]),                      # ints, binary, not 0/1
    np.array([False, True]),                 # booleans
    np.array(["cat", "non-cat"]),            # strings, binary
    np.array([2, 4, 8, 16]),                 # ints, not 0..k-1
    np.array(["ä", "bb", "ccc", "dd"]),      # unicode strings
    np.array([1.0, 2.0, 3.0, 5.0]),          # whole-valued floats
], ids=lambda a: f"{a.dtype.kind}{a.size}")
def test_labels_come_out_as_given(rng, labels):
    k = labels.size
    X = rng.normal(size=(4, 300))
    index = np.digitize(X[0] + 0.5 * X[1], np.quantile(X[0] + 0.5 * X[1], np.arange(1, k) / k))
    net = Network([4, 6, 1 if k == 2 else k], seed=0)
    net.fit(X, labels[index], epochs=20, learning_rate=0.01, verbose=False)
    np.testing.assert_array_equal(net.classes_, np.sort(labels))
    out = run_onnx(net, X)
    assert out["label"].dtype.kind == ("i" if labels.dtype.kind == "i" else
                                       "O" if labels.dtype.kind == "U" else labels.dtype.kind)
    assert set(out["label"].tolist()) <= set(labels.tolist())
    check_parity(net, X)


def test_class_names_of_the_data_are_exported(rng):
    X = rng.normal(size=(3, 200))
    net = Network([3, 4, 3], seed=0)
    net.fit(X, np.digitize(X[0], [-0.4, 0.4]), epochs=10, verbose=False)
    net.config_["data"] = {"name": "t", "classes": ["low", "mid", "high"]}
    out = run_onnx(net, X)
    names = np.array(["low", "mid", "high"])
    np.testing.assert_array_equal(out["label"], names[net.predict(X).ravel()])
    meta = {p.key: p.value for p in ox.build_onnx(net).metadata_props}
    assert json.loads(meta["deepstep.classes"]) == ["low", "mid", "high"]


def test_regression_values_far_from_zero(rng):
    X = rng.normal(size=(3, 300))
    y = 2000 + 0.5 * X[0] - X[1]  # years: |mean| / std = 1800
    net = Network([3, 8, 1], seed=0, task="regression")
    net.fit(X, y, epochs=20, learning_rate=0.01, preprocess="standardize", verbose=False)
    assert np.abs(net.predict(X) - y).mean() < 0.5
    check_parity(net, X)


def test_probability_exactly_one_half_gives_the_first_class():
    net = Network([2, 3, 1], seed=0)
    net.classes_ = np.array(["neg", "pos"])
    for k in net.params:
        net.params[k][...] = 0  # A[L] = sigmoid(0) = 0.5 for every input
    X = np.ones((2, 4))
    out = run_onnx(net, X)
    assert out["label"].tolist() == ["neg"] * 4 == net.predict(X).ravel().tolist()
    np.testing.assert_array_equal(out["probabilities"], 0.5)


def test_batch_dimension_is_symbolic(rng):
    X, y = make_data(rng, "multiclass", "none")
    net = fitted(X, y, "multiclass", "relu", "none", epochs=2)
    model = ox.build_onnx(net)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    sess = session(model)
    for n in (1, 7, 240):
        label, proba = sess.run(None, {"X": X[:, :n].T.astype(np.float32)})
        assert label.shape == (n,) and proba.shape == (n, 3)


# --- float64 models ------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_float64_model_exports_as_float64_unless_asked(rng, task):
    X, y = make_data(rng, task, "standardize")
    net = fitted(X, y, task, "leaky_relu", "standardize", dtype="float64")
    model = ox.build_onnx(net)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert check_parity(net, X, tol=1e-12) <= 1e-12  # the same arithmetic in float64
    model32 = ox.build_onnx(net, "float32")
    assert model32.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert {p.key: p.value for p in model32.metadata_props}["deepstep.graph_dtype"] == "float32"
    check_parity(net, X, dtype="float32")


def test_float32_model_can_export_as_float64(rng):
    X, y = make_data(rng, "binary", "scale255")
    net = fitted(X, y, "binary", "tanh", "scale255")
    check_parity(net, X, dtype="float64", tol=1e-6)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        ox.build_onnx(net, "float16")


# --- the course cat model and MNIST --------------------------------------------------------


@pytest.mark.slow
def test_course_cat_model(cat_dir):
    with h5py.File(cat_dir / "train_catvnoncat.h5", "r") as f:
        X = f["train_set_x"][:].reshape(209, -1).T  # uint8 pixels (12288, 209)
        y = f["train_set_y"][:]
    with h5py.File(cat_dir / "test_catvnoncat.h5", "r") as f:
        Xt = f["test_set_x"][:].reshape(50, -1).T
    net = Network([12288, 20, 7, 5, 1], seed=1)
    net.fit(X, y, epochs=15, batch_size=32, learning_rate=1e-3, l2=1.0, preprocess="scale255",
            verbose=False)
    net.config_["data"] = data_meta(load(cat_dir / "train_catvnoncat.h5"))
    assert net.evaluate(X, y)["accuracy"] > 0.7  # it learnt something
    both = np.hstack([X, Xt])
    check_parity(net, both)  # raw pixels go in: the Div(255) is in the graph
    labels = run_onnx(net, both)["label"]
    assert set(labels.tolist()) == {"cat", "non-cat"}


@pytest.mark.slow
def test_mnist_model(mnist_dir):
    ds = load(mnist_dir)  # the 10k test images, uint8 pixels (784, 10000)
    train = ds.subset(np.arange(3000))
    net = Network([784, 64, 10], seed=0)
    net.fit(train.X, train.y, epochs=2, batch_size=64, learning_rate=1e-3,
            preprocess="scale255", verbose=False)
    net.config_["data"] = data_meta(ds)
    assert net.evaluate(ds.X, ds.y)["accuracy"] > 0.8
    check_parity(net, ds.X)


# --- the file ------------------------------------------------------------------------------


def test_file_passes_the_checker_and_carries_versions_and_metadata(rng, tmp_path):
    X, y = make_data(rng, "binary", "standardize")
    net = fitted(X, y, "binary", "relu", "standardize", epochs=2)
    path = net.to_onnx(tmp_path / "sub" / "m.onnx")
    assert path == tmp_path / "sub" / "m.onnx"
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == ox.IR_VERSION == 7
    assert [(o.domain, o.version) for o in model.opset_import] == [("", ox.OPSET)]
    assert (model.producer_name, model.producer_version) == ("deepstep", __version__)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["deepstep.version"] == __version__
    assert meta["deepstep.task"] == "binary"
    assert json.loads(meta["deepstep.layer_dims"]) == [6, 8, 5, 1]
    assert json.loads(meta["deepstep.activations"]) == ["relu", "relu", "sigmoid"]
    assert json.loads(meta["deepstep.classes"]) == ["no", "yes"]
    assert meta["deepstep.preprocess"] == "standardize"
    assert json.loads(meta["deepstep.config"])["epochs"] == 2
    session(path)  # the pinned onnxruntime reads this IR version and opset


def test_the_pinned_onnxruntime_is_the_one_installed():
    pyproject = ROOT / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("not running from a source checkout")
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    pins = dict(re.fullmatch(r"([\w.-]+)==([\w.]+)", p).groups() for p in extras["onnx"])
    assert pins == {"onnx": onnx.__version__, "onnxruntime": ort.__version__}
    assert "deepstep[onnx]" in extras["dev"]


def test_a_preprocessor_without_onnx_form_is_an_error(rng):
    net = Network([3, 2, 1])
    net.preprocessor = object()
    with pytest.raises(ValueError, match="preprocessing .* has no ONNX form"):
        ox.build_onnx(net)


def test_missing_onnx_says_how_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'deepstep\[onnx\]'"):
        ox.build_onnx(Network([3, 2, 1]))


# --- README --------------------------------------------------------------------------------


def test_readme_snippet_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Export to ONNX", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "digits.onnx").is_file()
