"""Reading rows for a model as its training file was read: categorical encoding round trips
(load -> recorded categories -> read rows for predict -> the same columns), and test files
encoded with the training file's categories and label classes (UCI style, no header)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepstep.data import Features, load, load_like, read_feature_rows

TRAIN = ("age,color,size,kind\n"
         "30,red,S,cat\n40,blue,M,dog\n50,red,L,cat\n60,green,M,bird\n35,blue,S,dog\n")


def _write(tmp_path, text, name):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _recorded(ds):
    """The description as a model file gives it back: through JSON."""
    return json.loads(json.dumps(ds.features.to_dict()))


def test_round_trip_same_rows_same_columns(tmp_path):
    train = load(_write(tmp_path, TRAIN, "train.csv"))
    names, X = read_feature_rows(tmp_path / "train.csv", _recorded(train), n_x=train.n_x)
    np.testing.assert_array_equal(X, train.X)
    assert names == [f"{tmp_path / 'train.csv'}:{i}" for i in range(2, 7)]


def test_predict_rows_columns_by_name_in_any_order_label_optional(tmp_path):
    train = load(_write(tmp_path, TRAIN, "train.csv"))
    p = _write(tmp_path, "size,extra,color,age\nM,9,green,60\nS,9,red,30\n", "new.csv")
    _, X = read_feature_rows(p, _recorded(train))
    np.testing.assert_array_equal(X, train.X[:, [3, 0]])


def test_predict_rows_without_header_by_position(tmp_path):
    train = load(_write(tmp_path, TRAIN, "train.csv"))
    rec = _recorded(train)
    _, X = read_feature_rows(_write(tmp_path, "40,blue,M\n50,red,L\n", "a.csv"), rec)
    np.testing.assert_array_equal(X, train.X[:, [1, 2]])
    _, X = read_feature_rows(_write(tmp_path, "40,blue,M,dog\n", "b.csv"), rec)  # with label
    np.testing.assert_array_equal(X, train.X[:, [1]])


def test_label_first_without_header_is_dropped_where_training_had_it(tmp_path):
    train = load(_write(tmp_path, "a,1.5,2\nb,2.5,3\na,0.5,1\n", "train.csv"), label_column=0)
    rec = _recorded(train)
    assert rec["label_index"] == 0 and rec["names"] == ["column 2", "column 3"]
    _, X = read_feature_rows(_write(tmp_path, "b,2.5,3\n", "p.csv"), rec)
    np.testing.assert_array_equal(X, [[2.5], [3.0]])


def test_unseen_category_names_column_and_value(tmp_path):
    train = load(_write(tmp_path, TRAIN, "train.csv"))
    p = _write(tmp_path, "age,color,size\n30,purple,S\n", "new.csv")
    with pytest.raises(ValueError, match=r"new\.csv row 2, column 'color': category 'purple' "
                                         r"was not seen in training.*'blue', 'green', 'red'"):
        read_feature_rows(p, _recorded(train))


def test_predict_rows_errors(tmp_path):
    train = load(_write(tmp_path, TRAIN, "train.csv"))
    rec = _recorded(train)
    with pytest.raises(ValueError, match=r"has no column 'size' .*name the columns"):
        read_feature_rows(_write(tmp_path, "age,color\n30,red\n", "a.csv"), rec)
    with pytest.raises(ValueError, match=r"row 2, column 'age': 'old' is not a number, but "
                                         r"the model was trained on numbers"):
        read_feature_rows(_write(tmp_path, "age,color,size\nold,red,S\n", "b.csv"), rec)
    with pytest.raises(ValueError, match=r"row 3, column 'age': missing value '\?'"):
        read_feature_rows(_write(tmp_path, "age,color,size\n1,red,S\n?,red,S\n", "c.csv"), rec)
    with pytest.raises(ValueError, match="has 2 columns; the model takes 3 feature columns"):
        read_feature_rows(_write(tmp_path, "1,2\n", "d.csv"), rec)
    with pytest.raises(ValueError, match="makes 7 inputs but the network takes 5"):
        read_feature_rows(tmp_path / "train.csv", rec, n_x=5)
    with pytest.raises(ValueError, match="categorical column 'x' is not among 'names'"):
        read_feature_rows(tmp_path / "train.csv", {"names": ["a"], "categorical": {"x": ["1"]}})
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        read_feature_rows(tmp_path / "folder", rec)


def test_rows_without_a_description_are_numbers(tmp_path):
    p = _write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n", "p.csv")
    names, X = read_feature_rows(p, n_x=2)  # header skipped, label last dropped
    np.testing.assert_array_equal(X, [[1, 3], [2, 4]])
    assert [n.rsplit(":", 1)[1] for n in names] == ["2", "3"]
    with pytest.raises(ValueError, match="has 3 columns; the model takes 5"):
        read_feature_rows(p, n_x=5)
    with pytest.raises(ValueError, match="features description or n_x"):
        read_feature_rows(p)


# --- the hidden-test-like case: UCI files without header, label last ----------------------

def _uci(rng, m, labels, colors=("red", "green", "blue")):
    rows = []
    for i in range(m):
        x = rng.normal(size=2).round(3)
        rows.append(f"{x[0]},{colors[i % len(colors)]},{x[1]},{labels[i % len(labels)]}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("labels", [(1, 2, 3), ("good", "bad")])
def test_train_and_test_files_read_consistently(tmp_path, rng, labels):
    train = load(_write(tmp_path, _uci(rng, 30, labels), "train.csv"))
    # the test file sees a subset of the colours and of the classes, in another order
    test_text = _uci(rng, 7, labels[::-1][:-1], colors=("blue", "red"))
    test = load_like(_write(tmp_path, test_text, "test.csv"), train)
    assert test.classes == train.classes and test.features == train.features
    assert test.n_x == train.n_x == 5 and test.m == 7
    rows = [r.split(",") for r in test_text.split()]
    colors = train.features.categorical["column 2"]
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(test.X[[0, 4], i], [float(r[0]), float(r[2])])
        assert colors[int(np.argmax(test.X[1:4, i]))] == r[1]
        assert train.classes[test.y[i]] == r[3]
    # the same file loaded on its own would have fewer columns and other class indices
    alone = load(tmp_path / "test.csv")
    assert alone.n_x == 4 and alone.classes != train.classes


def test_test_file_errors(tmp_path, rng):
    train = load(_write(tmp_path, _uci(rng, 12, (0, 1)), "train.csv"))
    with pytest.raises(ValueError, match=r"category 'pink' was not seen in training"):
        load_like(_write(tmp_path, "0.1,pink,0.2,1\n", "a.csv"), train)
    with pytest.raises(ValueError, match=r"classes \['7'\] that training did not have"):
        load_like(_write(tmp_path, "0.1,red,0.2,7\n", "b.csv"), train)
    with pytest.raises(ValueError, match="has 3 columns; the model takes 3 feature columns and"):
        load_like(_write(tmp_path, "0.1,red,0.2\n", "c.csv"), train)


def test_regression_test_set_stays_regression(tmp_path, rng):
    m = 40
    text = "".join(f"{rng.normal():.3f},{rng.normal() * 50 + 100:.2f}\n" for _ in range(m))
    train = load(_write(tmp_path, text, "train.csv"))
    assert train.task == "regression"
    test = load_like(_write(tmp_path, "0.5,100\n0.1,120\n0.3,100\n", "test.csv"), train)
    assert test.task == "regression" and test.y.tolist() == [100.0, 120.0, 100.0]


def test_headered_test_file_by_name(tmp_path):
    train = load(_write(tmp_path, TRAIN, "train.csv"), label_column="kind")
    test = load_like(_write(tmp_path, "kind,size,color,age\ndog,M,blue,40\n", "t.csv"), train)
    np.testing.assert_array_equal(test.X[:, 0], train.X[:, 1])
    assert test.classes == train.classes and train.classes[test.y[0]] == "dog"
    with pytest.raises(ValueError, match="has no label column 'kind'"):
        load_like(_write(tmp_path, "size,color,age\nM,blue,40\n", "u.csv"), train)


def test_features_from_dict_validation():
    good = {"names": ["a", "b"], "categorical": {"b": ["x", "y"]}, "label": "y",
            "label_index": 2}
    assert Features.from_dict(good).n_x == 3
    for bad in ({"names": []}, {"names": ["a", "a"]}, {"names": ["a"], "categorical": []},
                {"names": ["a"], "categorical": {"a": ["x", "x"]}},
                {"names": ["a"], "label_index": -1}, {"names": ["a"], "label": 3}, [1]):
        with pytest.raises(ValueError, match="features description"):
            Features.from_dict(bad)
