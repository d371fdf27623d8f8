"""The model file (deepstep.io): its format, and every field and hostile file it refuses."""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file
from safetensors.numpy import save as reference_save

from deepstep import ModelFormatError, Network
from deepstep.data.inputs import load_for_model, model_labels
from deepstep.io import FORMAT_VERSION, write_tensors
from deepstep.predictions import class_names, predictions
from deepstep.report.run import evaluate as report_evaluate

FAST = dict(epochs=5, batch_size=16, learning_rate=0.01, l2=0.0, verbose=False)


@pytest.fixture
def model(rng, tmp_path):
    """A trained binary model on labels {3, 8} with standardised inputs, and its file."""
    X = rng.normal(size=(4, 80))
    net = Network([4, 6, 1], seed=0)
    net.fit(X, np.where(X[0] + X[1] > 0, 8, 3), preprocess="standardize", **FAST)
    return net, net.save(tmp_path / "model.safetensors"), X


def parts(path):
    """(header, metadata, tensor bytes) of a safetensors file, without deepstep's reader."""
    blob = path.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    return header, json.loads(header["__metadata__"]["deepstep"]), blob[8 + n:]


def write_raw(path, header, data, meta=None, meta_text=None):
    """Write a header (with ``meta`` as JSON, or ``meta_text`` as is) and tensor bytes."""
    if meta is not None or meta_text is not None:
        text = meta_text if meta_text is not None else json.dumps(meta)
        header = {**header, "__metadata__": {"deepstep": text}}
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def rewrite(path, edit_meta=None, edit_tensors=None):
    """Re-save with the reference safetensors writer after editing metadata / tensors."""
    tensors = load_file(path)
    _, meta, _ = parts(path)
    if edit_meta:
        edit_meta(meta)
    if edit_tensors:
        edit_tensors(tensors)
    path.write_bytes(reference_save(tensors, {"deepstep": json.dumps(meta)}))
    return path


# --- the format -------------------------------------------------------------------------------


def test_the_file_is_plain_safetensors_with_the_documented_fields(model):
    net, path, _ = model
    tensors = load_file(path)  # the reference reader
    adam = {f"opt.{slot}.{k}" for slot in ("v", "s") for k in ("W1", "b1", "W2", "b2")}
    assert set(tensors) == {"W1", "b1", "W2", "b2", "pre.mean", "pre.std"} | adam
    assert tensors["W1"].dtype == np.float32 and tensors["W1"].shape == (6, 4)
    assert tensors["pre.std"].dtype == np.float64 and tensors["pre.std"].shape == (4, 1)
    np.testing.assert_array_equal(tensors["W2"], net.params["W2"])
    _, meta, _ = parts(path)
    assert meta["format"] == "deepstep-model" and meta["format_version"] == FORMAT_VERSION == 2
    assert meta["layer_dims"] == [4, 6, 1] and meta["activations"] == ["relu", "sigmoid"]
    assert meta["classes"] == {"kind": "int", "values": [3, 8]}
    assert meta["task"] == "binary" and meta["dtype"] == "float32"
    assert meta["preprocessing"]["mode"] == "standardize"
    assert set(meta) == {"format", "format_version", "deepstep_version", "layer_dims",
                         "activations", "output", "loss", "init", "seed", "dtype", "task",
                         "classes", "preprocessing", "target_scaling", "training", "history",
                         "data", "train_state"}
    assert meta["train_state"]["optimizer"] == "adam" and meta["train_state"]["step"] > 0


def test_a_file_from_the_reference_writer_loads(model):
    net, path, X = model
    rewrite(path)  # same content, laid out by safetensors itself
    assert np.array_equal(Network.load(path).predict_proba(X), net.predict_proba(X))


def test_nan_in_the_history_comes_back_as_nan(model):
    net, path, _ = model
    _, meta, _ = parts(path)
    assert meta["history"]["accuracy"][0] is not None
    net.history_["val_loss"] = [float("nan")] + [0.5] * (len(net.history_["loss"]) - 1)
    back = Network.load(net.save(path))
    assert np.isnan(back.history_["val_loss"][0]) and back.history_["val_loss"][1] == 0.5
    _, meta, _ = parts(path)  # strict JSON: NaN is the tag {"$float": "NaN"}, not a token
    assert meta["history"]["val_loss"][0] == {"$float": "NaN"}
    json.loads(json.dumps(meta), parse_constant=lambda name: pytest.fail(name))


# --- predict for every kind of label (the CLI path too) -----------------------------------------


@pytest.mark.parametrize("labels", [
    [3, 8], [-2, 5, 9], ["no", "yes"], ["bird", "cat", "dog"], [False, True], [1.0, 2.0],
])
def test_cli_predictions_for_models_fit_on_any_labels(rng, tmp_path, labels):
    labels = np.array(labels)
    k = labels.size
    X = rng.normal(size=(3, 90))
    y = rng.integers(0, k, 90)
    X[0] += 4 * y
    net = Network([3, 5, 1 if k == 2 else k], seed=0)
    net.fit(X, labels[y], **FAST)
    back = Network.load(net.save(tmp_path / "m.safetensors"))
    names = class_names(back)
    expected = [str(int(c)) if isinstance(c, float) else str(c) for c in labels.tolist()]
    assert names == expected
    rows = predictions(back, X[:, :10])
    assert [r[0] for r in rows] == [str(v) if not isinstance(v, float) else str(int(v))
                                   for v in back.predict(X[:, :10]).ravel().tolist()]
    assert all(0.0 <= p <= 1.0 for _, p in rows)


@pytest.mark.parametrize("labels", [["3", "8"], ["no", "yes"], ["bird", "cat", "dog"]])
def test_evaluate_and_report_data_for_models_fit_on_any_labels(rng, tmp_path, labels):
    """The CLI's evaluate / report path: a CSV read the model's way, labels mapped back."""
    k = len(labels)
    X = rng.normal(size=(2, 60))
    y = rng.integers(0, k, 60)
    X[0] += 4 * y
    raw = np.array([int(c) for c in labels]) if labels[0].isdigit() else np.array(labels)
    net = Network([2, 5, 1 if k == 2 else k], seed=0)
    net.fit(X, raw[y], preprocess="standardize", **{**FAST, "epochs": 40})
    back = Network.load(net.save(tmp_path / "m.safetensors"))
    rows = [f"{a},{b},{labels[c]}" for a, b, c in zip(X[0], X[1], y, strict=True)]
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    ds = load_for_model(back, str(tmp_path / "d.csv"))
    assert ds.classes == labels
    scores = back.evaluate(ds.X, model_labels(back, ds))
    assert scores == net.evaluate(X, raw[y]) and scores["accuracy"] > 0.7
    ev = report_evaluate(back, ds)
    cm, names = ev.confusion(), ev.classes
    assert names == labels and cm.sum() == 60 and np.trace(cm) == round(60 * scores["accuracy"])


def test_cli_models_keep_their_data_class_names(tmp_path):
    net = Network([2, 3, 3], seed=0)
    net.fit(np.eye(2, 30, dtype=float) + np.arange(30) % 3, np.arange(30) % 3, **FAST)
    net.config_["data"] = {"name": "d", "kind": "csv", "classes": ["a", "b", "c"],
                           "image_shape": None, "value_max": None}
    back = Network.load(net.save(tmp_path / "m.safetensors"))
    assert class_names(back) == ["a", "b", "c"]
    assert {r[0] for r in predictions(back, np.zeros((2, 4)))} <= {"a", "b", "c"}


# --- metadata fields -------------------------------------------------------------------------


def _set(*path):
    """An edit setting meta[path[0]]...[path[-2]] to path[-1]."""
    *keys, value = path

    def edit(meta):
        target = meta
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return edit


def _drop(key):
    return lambda meta: meta.pop(key)


@pytest.mark.parametrize(("edit", "says"), [
    (_set("format_version", 3), "format_version: 3: written by a newer deepstep"),
    (_set("format_version", 1), "format_version: 1; this deepstep reads version 2"),
    (_drop("layer_dims"), "layer_dims: missing"),
    (_set("extra", 1), "extra: unknown field"),
    (_set("layer_dims", [4, -6, 1]), r"layer_dims\[1\]: -6 is outside"),
    (_set("layer_dims", [4, 10**9, 1]), r"layer_dims\[1\]: 1000000000 is outside"),
    (_set("layer_dims", [4, 6.0, 1]), r"layer_dims\[1\]: expected a whole number"),
    (_set("layer_dims", [4, 7, 1]), r"tensor W1: float32 \(6, 4\), expected float32 \(7, 4\)"),
    (_set("activations", ["relu", "os.system"]), r"activations\[1\]: unknown value"),
    (_set("activations", ["relu"]), "activations: 1 names for 2 layers"),
    (_set("activations", ["relu", "softmax"]), "ends with 'softmax' but the output is"),
    (_set("loss", "hinge"), "loss: unknown value 'hinge'"),
    (_set("init", "__import__"), "init: unknown value"),
    (_set("dtype", "complex128"), "dtype: unknown value 'complex128'"),
    (_set("dtype", "float64"), r"tensor W1: float32 \(6, 4\), expected float64"),
    (_set("seed", -1), "seed: -1 is outside"),
    (_set("task", "ranking"), "task: unknown value"),
    (_set("task", "regression"), "task: 'regression' with 2 classes"),
    (_set("classes", {"kind": "int", "values": [3, 8, 9]}), "classes: 3 classes for a sigmoid"),
    (_set("classes", {"kind": "int", "values": [8, 3]}), "must be distinct and sorted"),
    (_set("classes", {"kind": "int", "values": [3, "8"]}), r"values\[1\]: expected a int"),
    (_set("classes", {"kind": "str", "values": ["a", "\x1b[2J"]}), "control character"),
    (_set("classes", {"kind": "pickle", "values": [1, 2]}), "classes.kind: unknown value"),
    (_set("classes", [3, 8]), "classes: expected an object"),
    (_set("preprocessing", "mode", "standardise"), "preprocessing.mode: unknown value"),
    (_set("preprocessing", "min_std", 0), r"preprocessing.min_std: 0 is outside"),
    (_set("preprocessing", "mode", "scale255"), "tensor pre.mean: unexpected"),
    (_set("target_scaling", "standardize"), "target_scaling: set for a binary model"),
    (_set("history", "loss", ["0.5"]), r"history.loss\[0\]: expected a number"),
    (_set("history", "loss", [0.5] * 100_001), "history.loss: 100,001 items"),
    (_set("history", "loss", [0.5]), "history: lists of different lengths"),
    (_set("training", "optimizer", "evil"), "training.optimizer: unknown value"),
    (_set("training", "m", "209"), "training.m: expected a whole number"),
    (_set("training", "metrics", {"train": {"loss": "x"}}), "training.metrics.train.loss"),
    (_set("training", "metrics", {"train": {"loss": 1.0}, "mean": {"train": {}}}),
     "has one of mean and std without the other"),
    (_set("training", "notes", "hello"), "training.notes: expected a list"),
    (_set("training", "deep", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]),
     "nested deeper than 32"),
    (_set("training", "text", "x" * 70_000), "a string of 70,000 characters"),
    (_set("training", "big", 2**200), "an integer of 201 bits"),
    (_set("data", {"image_shape": [40000, 40000, 3]}), r"data.image_shape: \[40000, 40000, 3\] "
                                                        "makes 4800000000 inputs"),
    (_set("data", {"image_shape": [2, 2, 4]}), r"data.image_shape\[2\]: 4 channels"),
    (_set("data", {"value_max": 0}), "data.value_max: 0 is outside"),
    (_set("data", {"classes": ["a", "b", "c"]}), "data.classes: 3 names for 2 classes"),
    (_set("data", {"features": {"names": "x"}}), "data.features: 'names' must be a non-empty"),
    (_set("train_state", "optimizer", "evil"), "train_state.optimizer: unknown value"),
    (_set("train_state", "optimizer", "gd"), "train_state.hyper: .* but gd takes"),
    (_set("train_state", "hyper", {"beta1": 1.0, "beta2": 0.999, "eps": 1e-8}),
     "train_state.hyper.beta1: 1 .a decay rate must be below 1"),
    (_set("train_state", "step", -1), "train_state.step: -1 is outside"),
    (_set("train_state", "shuffle_rng", "bit_generator", "MT19937"),
     "train_state.shuffle_rng.bit_generator: unknown value"),
    (_set("train_state", "dropout_rng", "state", "inc", 2**200), "state.inc: .* is outside"),
    (_set("train_state", "optimizer", "momentum"), r"hyper: \['beta1', 'beta2', 'eps'\]"),
    (_set("data", {"features": {"names": ["a", "b"], "categorical": {"z": ["u"]}}}),
     "categorical column 'z' is not among"),
    (_set("data", {"features": {"names": ["a", "b"], "categorical": {"a": ["u", "v"]}}}),
     "data.features: describes 3 inputs, the network takes"),
])
def test_every_metadata_field_is_checked(model, edit, says):
    _, path, _ = model
    rewrite(path, edit_meta=edit)
    with pytest.raises(ModelFormatError, match=says) as e:
        Network.load(path)
    assert str(e.value).startswith(f"{path} is not a valid deepstep model file: ")


@pytest.mark.parametrize(("token", "says"), [
    ("NaN", "NaN is not a JSON number"), ("Infinity", "Infinity is not a JSON number"),
    ("1e999", r"training.l2: inf \(numbers must be finite\)"), ("-1e999", "-inf"),
])
def test_non_finite_numbers_are_refused_wherever_they_are(model, token, says):
    _, path, _ = model
    header, meta, data = parts(path)
    meta["training"]["l2"] = "@"
    write_raw(path, header, data, meta_text=json.dumps(meta).replace('"@"', token))
    with pytest.raises(ModelFormatError, match=says):
        Network.load(path)


def test_duplicate_keys_are_refused(model):
    _, path, _ = model
    header, meta, data = parts(path)
    text = json.dumps(meta)
    write_raw(path, header, data, meta_text=text[:-1] + ', "seed": 5}')
    with pytest.raises(ModelFormatError, match="the key 'seed' appears twice"):
        Network.load(path)


# --- tensor values ---------------------------------------------------------------------------


def _tensor(name, fn):
    def edit(t):
        t[name] = fn(t[name].copy())
    return edit


def _put(value, at=0):
    def fn(a):
        a.flat[at] = value
        return a
    return fn


@pytest.mark.parametrize(("edit", "says"), [
    (_tensor("pre.std", _put(0.0)), "tensor pre.std: holds 0; a std must be >= 1e-08"),
    (_tensor("pre.std", _put(np.nan)), "tensor pre.std: holds NaN or infinite values"),
    (_tensor("pre.std", _put(-1.0)), "tensor pre.std: holds -1"),
    (_tensor("pre.mean", _put(np.inf)), "tensor pre.mean: holds NaN or infinite values"),
    (_tensor("pre.mean", _put(1e300)), "tensor pre.mean: holds 1e\\+300; beyond 1e\\+30"),
    (_tensor("W1", _put(np.nan, 5)), "tensor W1: holds NaN"),
    (_tensor("W2", _put(3e37)), "tensor W2: holds 3e\\+37; beyond 1e\\+06"),
    (_tensor("b1", lambda a: a.astype(np.float64)), "tensor b1: float64 \\(6, 1\\), expected"),
    (_tensor("W1", lambda a: a.T.copy()), "tensor W1: float32 \\(4, 6\\), expected float32"),
    (lambda t: t.pop("b2"), "tensor b2: missing"),
    (lambda t: t.update(extra=np.zeros(2)), "tensor extra: unexpected"),
    (lambda t: t.update({"__import__": np.zeros(1)}), "tensor __import__: unexpected"),
])
def test_every_tensor_is_checked(model, edit, says):
    _, path, _ = model
    rewrite(path, edit_tensors=edit)
    with pytest.raises(ModelFormatError, match=says):
        Network.load(path)


def test_regression_target_statistics_are_checked(rng, tmp_path):
    X = rng.normal(size=(3, 60))
    net = Network([3, 4, 1], seed=0)
    net.fit(X, X[0] * 2.5 + 5, **FAST)
    assert net.target_mean_ is not None  # fit standardises regression targets
    path = net.save(tmp_path / "r.safetensors")
    for name, value, says in (("target.std", 0.0, "a std must be > 0"),
                              ("target.std", np.nan, "NaN"), ("target.mean", -np.inf, "NaN")):
        rewrite(path, edit_tensors=_tensor(name, _put(value)))
        with pytest.raises(ModelFormatError, match=f"tensor {name}: holds .*{says}"):
            Network.load(path)
        net.save(path)
    rewrite(path, edit_meta=_set("target_scaling", None))
    with pytest.raises(ModelFormatError, match="tensor target.mean: unexpected"):
        Network.load(path)


# --- hostile and wrong files ---------------------------------------------------------------------


def test_a_header_declaring_a_1e5_by_1e5_tensor_is_refused_before_allocating(model):
    _, path, _ = model
    header, _, data = parts(path)
    header["W1"] = {"dtype": "F32", "shape": [100_000, 100_000], "data_offsets": [0, 4 * 10**10]}
    write_raw(path, header, data)
    with pytest.raises(ModelFormatError, match="tensor W1.data_offsets: starts at byte 0"):
        Network.load(path)


@pytest.mark.parametrize(("length", "says"), [
    (2**64 - 1, "header length: declares 18,446,744,073,709,551,615 bytes"),
    (100 * 2**20, "at most 16,777,216"), (10**6, "but only .* follow"),
    (1, "header: not valid JSON"),
])
def test_header_length_bombs_are_refused(model, length, says):
    _, path, _ = model
    blob = path.read_bytes()
    path.write_bytes(struct.pack("<Q", length) + blob[8:])
    with pytest.raises(ModelFormatError, match=says):
        Network.load(path)


def test_every_truncation_is_refused(model):
    _, path, _ = model
    blob = path.read_bytes()
    cut = path.with_name("cut.safetensors")
    for n in sorted({0, 1, 7, 8, 9, 100, len(blob) // 2, len(blob) - 8, len(blob) - 1}):
        cut.write_bytes(blob[:n])
        with pytest.raises(ModelFormatError):
            Network.load(cut)
    cut.write_bytes(blob + b"\0" * 4)
    with pytest.raises(ModelFormatError, match="truncated or padded"):
        Network.load(cut)


def test_wrong_kinds_of_files_get_a_plain_reason(model, tmp_path):
    net, _, _ = model
    cases = {
        "empty.safetensors": (b"", "the file is empty"),
        "short.safetensors": (b"abc", "only 3 bytes"),
        "model.pkl": (pickle.dumps({"format": "deepstep-model"}), "a Python pickle"),
        "array.npy": (None, "a NumPy .npy array"),
        "model.npz": (None, "a zip archive \\(a deepstep 0.1 .npz model"),
        "text.txt": (b"hello, this is text", "header length"),
        "data.h5": (b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "an HDF5 file"),
    }
    np.save(tmp_path / "array.npy", np.zeros(3))
    np.savez(tmp_path / "model.npz", W1=net.params["W1"], **{"header.json": np.zeros(2)})
    for name, (blob, says) in cases.items():
        if blob is not None:
            (tmp_path / name).write_bytes(blob)
        with pytest.raises(ModelFormatError, match=says):
            Network.load(tmp_path / name)


def test_a_folder_a_fifo_and_a_missing_file(model, tmp_path):
    _, path, _ = model
    with pytest.raises(ModelFormatError, match=r"a folder, not a file; give the file inside it "
                                               r"\(model.safetensors\)"):
        Network.load(path.parent)
    with pytest.raises(FileNotFoundError, match="deepstep model file not found"):
        Network.load(tmp_path / "nope.safetensors")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(ModelFormatError, match="not a regular file"):  # and no hang
            Network.load(tmp_path / "fifo")


def test_a_safetensors_file_from_elsewhere_or_a_checkpoint(model, tmp_path):
    _, path, _ = model
    other = tmp_path / "other.safetensors"
    other.write_bytes(reference_save({"w": np.zeros(3, np.float32)}))
    with pytest.raises(ModelFormatError, match="__metadata__: missing: a safetensors file, but "
                                               "not one written by deepstep"):
        Network.load(other)
    write_tensors(other, {"m.W1": np.zeros(3)}, {"epoch": 3}, "deepstep-checkpoint")
    with pytest.raises(ModelFormatError, match="this is a deepstep-checkpoint file, not a "
                                               "deepstep-model file"):
        Network.load(other)


@pytest.mark.parametrize("header", [
    {"W1": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}},
    {"W1": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "eval": "1"}},
    {"W1": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}},
    {"W1": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}},
    {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
     "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
])
def test_malformed_tensor_entries_are_refused(tmp_path, header):
    header["__metadata__"] = {"deepstep": json.dumps({"format": "deepstep-model"})}
    path = write_raw(tmp_path / "m.safetensors", header, b"\0" * 8)
    with pytest.raises(ModelFormatError, match="tensor (W1|a|b)"):
        Network.load(path)
