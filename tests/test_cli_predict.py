"""``deepstep predict`` end to end: files and folders, failures that do not stop the others,
notes on conversions, text / JSON / CSV output, top-k, and every kind of label."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from cli_helpers import model_file, ok, run, separable_rows, train_csv, write_csv
from deepstep import Network
from deepstep.predictions import class_names

LINE = re.compile(r"^(?P<name>.+): (?P<label>\S+) \(probability (?P<p>[01]\.\d{4})\)$")


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """A small model on the bundled digits (8x8 grey images, values 0..16)."""
    out = tmp_path_factory.mktemp("digits") / "run"
    ok(["train", "--layers", "16", "--epochs", "10", "--lr", "0.003", "--out", out])
    return model_file(out)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """digits 0..5 as PNGs: four at the top, two in a subfolder, a hidden file, a broken one."""
    root = tmp_path_factory.mktemp("imgs")
    d = load_digits()
    (root / "sub" / "deeper").mkdir(parents=True)
    for i in range(6):
        where = root if i < 4 else root / "sub" / "deeper"
        Image.fromarray(np.round(d.images[i] * 255 / 16).astype(np.uint8)).save(where / f"{i}.png")
    (root / ".hidden.png").write_bytes(b"not looked at")
    (root / "sub" / "notes.txt").write_text("not an image suffix: not searched")
    return root


def test_folders_are_searched_recursively_in_order(digits, images):
    out = ok(["predict", "--model", digits, images])
    names = [LINE.match(s)["name"] for s in out.splitlines()]
    assert names == [str(images / f"{i}.png") for i in range(4)] + [
        str(images / "sub" / "deeper" / f"{i}.png") for i in (4, 5)]
    labels = [int(LINE.match(s)["label"]) for s in out.splitlines()]
    assert sum(a == b for a, b in zip(labels, range(6), strict=True)) >= 5


def test_an_unreadable_input_is_reported_and_the_others_predicted(digits, images, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG but not really")
    code, out, err = run(["predict", "--model", digits, images / "0.png", broken,
                          tmp_path / "missing.jpg", images / "1.png"])
    assert code == 1
    assert [LINE.match(s)["name"] for s in out.splitlines()] == [str(images / "0.png"),
                                                                 str(images / "1.png")]
    errors = err.splitlines()
    assert errors == [f"error: {broken}: not an image file Pillow can read (nor a .csv file); "
                      "give PNG, JPEG, BMP, GIF, TIFF or WebP images or CSV files",
                      f"error: {tmp_path / 'missing.jpg'}: no such file or folder"]


def test_nothing_readable_is_exit_2(digits, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, err = run(["predict", "--model", digits, tmp_path / "empty"])
    assert code == 2 and out == ""
    assert err.startswith(f"error: {tmp_path / 'empty'}: folder holds no image files")


def test_conversions_get_one_note_line_each(digits, tmp_path):
    d = load_digits()
    grey = np.round(d.images[3] * 255 / 16).astype(np.uint8)
    Image.fromarray(grey).convert("RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(grey).resize((40, 30)).save(tmp_path / "big.png")
    Image.fromarray(grey).resize((16, 16)).save(tmp_path / "big2.png")
    Image.fromarray(grey).save(tmp_path / "same.png")
    code, out, err = run(["predict", "--model", digits, tmp_path])
    assert code == 0 and len(out.splitlines()) == 4
    notes = err.splitlines()
    assert notes == [
        f"note: 2 inputs resized to 8x8 (the model's image size): {tmp_path / 'big.png'}, "
        f"{tmp_path / 'big2.png'}",
        f"note: 1 input converted from RGBA to grey (transparency dropped): "
        f"{tmp_path / 'rgba.png'}"]


def test_json_and_csv_agree_with_text_and_top_k_with_the_model(digits, images):
    paths = [images / f"{i}.png" for i in range(4)]
    text = ok(["predict", "--model", digits, *paths, "--top-k", "3"])
    doc = json.loads(ok(["predict", "--model", digits, *paths, "--top-k", "3", "--format",
                         "json"]))
    table = list(csv.DictReader(io.StringIO(ok(["predict", "--model", digits, *paths,
                                                "--top-k", "3", "--format", "csv"]))))
    assert doc["failed"] == [] and len(doc["predictions"]) == len(table) == 4
    net = Network.load(digits)
    X = np.stack([np.asarray(Image.open(p)).reshape(-1) * (16 / 255) for p in paths], axis=1)
    proba = net.predict_proba(X)
    for i, (line, rec, row) in enumerate(zip(text.splitlines(), doc["predictions"], table,
                                             strict=True)):
        order = np.argsort(-proba[:, i])[:3]
        assert [t["label"] for t in rec["top_k"]] == [str(k) for k in order]
        assert [t["probability"] for t in rec["top_k"]] == pytest.approx(proba[order, i],
                                                                         rel=1e-6)
        assert rec["label"] == row["label"] == row["top1"] == str(order[0])
        assert float(row["probability"]) == pytest.approx(rec["probability"], rel=1e-5)
        assert line.startswith(f"{rec['input']}: {rec['label']} (probability ")
        assert f"; top 3: {order[0]} " in line


def test_top_k_bounds(digits, images):
    code, _, err = run(["predict", "--model", digits, images / "0.png", "--top-k", "11"])
    assert code == 2 and "--top-k 11 but the model has 10 classes" in err
    out = ok(["predict", "--model", digits, images / "0.png", "--top-k", "10", "--format",
              "json"])
    probs = [t["probability"] for t in json.loads(out)["predictions"][0]["top_k"]]
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize(("labels", "name"), [([3, 8], "ints"), (["no", "yes"], "strings"),
                                              ([False, True], "bools")])
def test_any_labels_through_the_cli(labels, name, tmp_path):
    run_dir = train_csv(tmp_path, name, labels)
    X, y = separable_rows(labels, m=12, seed=1)
    new = write_csv(tmp_path / "new.csv", ["a", "b", "c"], X)
    out = ok(["predict", "--model", model_file(run_dir), new])
    got = [LINE.match(s)["label"] for s in out.splitlines()]
    assert set(got) <= {str(v) for v in labels}
    assert sum(g == str(t) for g, t in zip(got, y, strict=True)) >= 10
    rows = [LINE.match(s)["name"] for s in out.splitlines()]
    assert rows == [f"{new}:{i}" for i in range(2, 14)]  # the header is row 1


@pytest.mark.parametrize("labels", [[3, 8], ["no", "yes"], [False, True]])
def test_models_fit_in_python_on_any_labels(labels, tmp_path):
    X, y = separable_rows(labels, m=120)
    net = Network([3, 4, 1], seed=0)
    net.fit(X.T, np.array(y), epochs=40, learning_rate=0.05, verbose=False)
    path = net.save(tmp_path / "m.safetensors")
    new = write_csv(tmp_path / "new.csv", None, X[:10])
    out = ok(["predict", "--model", path, new])
    expected = [class_names(net)[list(net.classes_).index(v)] for v in net.predict(X[:10].T)[0]]
    assert [LINE.match(s)["label"] for s in out.splitlines()] == expected
    assert set(expected) <= {str(v) for v in labels}


def test_regression_prints_values_in_the_original_units(tmp_path):
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(150, 2)), 4)
    y = np.round(1000 + 300 * X[:, 0] - 100 * X[:, 1] + rng.normal(size=150), 3)
    data = write_csv(tmp_path / "r.csv", ["a", "b", "price"], np.column_stack([X, y]))
    ok(["train", "--data", data, "--layers", "8", "--epochs", "40", "--out", tmp_path / "run"])
    model = model_file(tmp_path / "run")
    new = write_csv(tmp_path / "new.csv", ["a", "b"], X[:5])
    out = ok(["predict", "--model", model, new])
    values = [float(s.split(": ")[1]) for s in out.splitlines()]
    assert values == pytest.approx(Network.load(model).predict(X[:5].T)[0], rel=1e-5)
    assert all(500 < v < 1500 for v in values)  # dollars, not standardised units
    table = list(csv.DictReader(io.StringIO(ok(["predict", "--model", model, new, "--format",
                                                "csv"]))))
    assert [float(r["value"]) for r in table] == pytest.approx(values, rel=1e-5)
    code, _, err = run(["predict", "--model", model, new, "--top-k", "2"])
    assert code == 2 and "--top-k is for classifiers" in err


def test_csv_columns_found_by_name_and_one_hot_expanded(tmp_path):
    """A model that records its CSV columns (config data.features) reads rows by header name,
    in any order, expanding categorical columns in the recorded one-hot order."""
    rng = np.random.default_rng(0)
    m = 200
    size = rng.normal(size=m)
    colour = rng.choice(["red", "green", "blue"], size=m)
    y = np.where((colour == "red") | (size > 1), "yes", "no")
    X = np.vstack([size, colour == "blue", colour == "green", colour == "red"]).astype(float)
    net = Network([4, 6, 1], seed=0)
    net.fit(X, y, epochs=60, learning_rate=0.05, verbose=False)
    net.config_["data"] = {"name": "shop.csv", "kind": "csv", "classes": None,
                           "image_shape": None, "value_max": None,
                           "features": {"names": ["size", "colour"],
                                        "categorical": {"colour": ["blue", "green", "red"]},
                                        "label": "label", "label_index": 2}}
    path = net.save(tmp_path / "m.safetensors")
    new = write_csv(tmp_path / "new.csv", ["colour", "label", "size"],
                    [["red", "?", -2.0], ["green", "?", -2.0], ["blue", "?", 3.0]])
    odd = write_csv(tmp_path / "odd.csv", ["size", "colour"], [[0.0, "purple"]])
    code, out, err = run(["predict", "--model", path, new, odd])
    assert code == 1
    expected = net.predict(np.array([[-2.0, 0, 0, 1], [-2.0, 0, 1, 0], [3.0, 1, 0, 0]]).T)[0]
    assert [LINE.match(s)["label"] for s in out.splitlines()] == list(expected)
    assert [LINE.match(s)["name"] for s in out.splitlines()] == [f"{new}:{i}" for i in (2, 3, 4)]
    assert err.startswith(f"error: {odd} row 2, column 'colour': category 'purple' was not seen "
                          "in training")
    assert len(err.splitlines()) == 1
