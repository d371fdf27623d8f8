"""CSV files as people have them: header or not, label column by name or index, string
labels, categorical columns, delimiters, quotes, encodings, and the error messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepstep.data import Features, detect_kind, load, load_csv
from deepstep.data.table import detect_header, read_table


def _write(tmp_path, text, name="t.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


# --- header, label column, label kinds -----------------------------------------------------

def test_string_labels_default_last_column(tmp_path):
    ds = load(_write(tmp_path, "h,w,animal\n1,2,dog\n3,4.5,cat\n5,6,dog\n"))
    assert ds.X.shape == (2, 3) and ds.X.dtype == np.float64
    np.testing.assert_array_equal(ds.X, [[1, 3, 5], [2, 4.5, 6]])
    assert ds.classes == ["cat", "dog"] and ds.y.tolist() == [1, 0, 1]
    assert ds.kind == "csv" and ds.task == "binary" and ds.image_shape is None
    assert ds.features == Features(["h", "w"], {}, "animal", 2)


@pytest.mark.parametrize("label", ["kind", 0, -3, "0", "-3"])
def test_label_column_by_name_or_index(tmp_path, label):
    ds = load(_write(tmp_path, "kind,a,b\n3,1,2\n1,3,4\n2,5,6\n"), label_column=label)
    assert ds.classes == ["1", "2", "3"] and ds.y.tolist() == [2, 0, 1]
    np.testing.assert_array_equal(ds.X, [[1, 3, 5], [2, 4, 6]])
    assert ds.task == "multiclass" and ds.features.names == ["a", "b"]
    assert ds.features.label == "kind" and ds.features.label_index == 0


def test_a_column_named_like_an_index_wins(tmp_path):
    p = _write(tmp_path, "a,1,y\n5,0,7\n6,1,8\n")
    with pytest.raises(ValueError, match="if row 1 is a header"):  # a number in row 1
        load(p, label_column="1")
    ds = load_csv(p, label_column="1", header=True)
    assert ds.classes == ["0", "1"] and ds.features.names == ["a", "y"]


def test_float_labels_mean_regression_and_task_override(tmp_path):
    p = _write(tmp_path, "a,price\n1,2.5\n2,3.0\n")
    ds = load(p)
    assert ds.task == "regression" and ds.classes is None
    np.testing.assert_array_equal(ds.y, [2.5, 3.0])
    q = _write(tmp_path, "a,n\n1,3\n2,1\n3,3\n", "ints.csv")
    assert load(q).task == "binary"
    assert load(q, task="regression").y.tolist() == [3.0, 1.0, 3.0]
    with pytest.raises(ValueError, match=r"t\.csv, label column 'price': the labels have "
                                         "fractional parts"):
        load(p, task="multiclass")
    with pytest.raises(ValueError, match=r"s\.csv, label column 'k': regression needs numeric"):
        load(_write(tmp_path, "a,k\n1,x\n2,y\n", "s.csv"), task="regression")


def test_no_header_uci_style(tmp_path):
    ds = load(_write(tmp_path, "5.1,3.5,1.4,0\n4.9,3.0,1.4,0\n6.2,2.9,4.3,1\n5.9,3.0,5.1,2\n"))
    assert ds.X.shape == (3, 4) and ds.classes == ["0", "1", "2"]
    assert ds.features.names == ["column 1", "column 2", "column 3"]
    assert ds.features.label == "column 4" and ds.features.label_index == 3
    strings = load(_write(tmp_path, "5.1,3.5,Iris-setosa\n6.2,2.9,Iris-versicolor\n", "s.csv"))
    assert strings.classes == ["Iris-setosa", "Iris-versicolor"] and strings.X[0, 1] == 6.2
    first = load(_write(tmp_path, "b,1,2\ng,3,4\nb,5,6\n", "f.csv"), label_column=0)
    assert first.classes == ["b", "g"] and first.features.names == ["column 2", "column 3"]


@pytest.mark.parametrize("rows,expected", [
    ([["a", "b", "y"], ["1", "2", "0"], ["3", "4", "1"]], True),
    ([["1", "2", "0"], ["3", "4", "1"]], False),
    ([["", "x", "y"], ["0", "1.5", "2"]], True),  # pandas' unnamed index column
    ([["?", "2", "0"], ["3", "4", "1"]], False),  # a missing value is not a header
    ([["a", "2", "y"], ["3", "4", "1"]], False),  # text and numbers: a data row with a typo
    ([["color", "size", "y"], ["red", "S", "a"], ["blue", "M", "b"]], True),
    ([["red", "S", "a"], ["blue", "M", "b"], ["red", "M", "a"]], False),  # values recur
    ([["a", "b", "y"], ["1", "x", "cat"], ["2", "z", "dog"]], True),
])
def test_header_rule(rows, expected):
    assert detect_header(rows) is expected


def test_header_override(tmp_path):
    p = _write(tmp_path, "1,2,0\n3,4,1\n5,6,0\n")
    assert load_csv(p, header=True).m == 2
    assert load_csv(p).m == 3


# --- categorical features ---------------------------------------------------------------

def test_categorical_columns_one_hot_with_categories_recorded(tmp_path):
    ds = load(_write(tmp_path, "age,color,size,y\n30,red,S,1\n40,blue,M,0\n50,red,L,1\n"
                               "60,green,M,0\n"))
    f = ds.features
    assert f.names == ["age", "color", "size"]
    assert f.categorical == {"color": ["blue", "green", "red"], "size": ["L", "M", "S"]}
    assert f.n_x == ds.n_x == 7
    assert f.expanded_names() == ["age", "color=blue", "color=green", "color=red",
                                  "size=L", "size=M", "size=S"]
    np.testing.assert_array_equal(ds.X[:, 0], [30, 0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(ds.X[1:4].sum(axis=0), 1)  # one hot per example
    assert json.loads(json.dumps(f.to_dict())) == f.to_dict()  # what the model records
    assert Features.from_dict(f.to_dict()) == f


def test_column_mixing_numbers_and_text(tmp_path):
    # car evaluation's doors: 2, 3, 4, 5more (each text value more than once) -> categories
    rows = ["2,a", "3,b", "4,a", "5more,b", "5more,a", "2,b"]
    ds = load(_write(tmp_path, "doors,y\n" + "\n".join(rows) + "\n"))
    assert ds.features.categorical == {"doors": ["2", "3", "4", "5more"]}
    # mostly numbers with one stray word: a mistake in a numeric column
    with pytest.raises(ValueError, match=r"row 3, column 'b': 'abc' is not a number, but 1 of"):
        load(_write(tmp_path, "a,b,y\n1,2,0\n1,abc,1\n", "typo.csv"))
    with pytest.raises(ValueError, match="if row 1 is a header"):
        load(_write(tmp_path, "1,x2,0\n1,2,0\n3,4,1\n5,6,1\n", "h.csv"))


def test_identifier_column_refused(tmp_path):
    body = "".join(f"{i},name{i},{i % 2}\n" for i in range(60))
    with pytest.raises(ValueError, match="'name': 60 distinct text values in 60 rows.*remove"):
        load(_write(tmp_path, "n,name,y\n" + body))


# --- delimiters, quotes, encodings, layout ----------------------------------------------

def test_semicolon_with_decimal_comma(tmp_path):
    ds = load(_write(tmp_path, "len;wid;kind\n5,1;3,5;a\n4,9;3;b\n"))
    np.testing.assert_array_equal(ds.X, [[5.1, 4.9], [3.5, 3.0]])
    assert read_table(tmp_path / "t.csv").delimiter == ";"


def test_tab_separated(tmp_path):
    ds = load(_write(tmp_path, "a\tb\ty\n1\t2,5\tx\n3\t4\ty\n"))
    np.testing.assert_array_equal(ds.X, [[1, 3], [2.5, 4]])


def test_quoted_fields_bom_blank_lines_trailing_delimiter(tmp_path):
    text = '\ufeff"a, first","b",y,\n\n1,"2",x,\n"3",4,"y, z",\n\n'
    ds = load(_write(tmp_path, text))
    assert ds.features.names == ["a, first", "b"]
    assert ds.classes == ["x", "y, z"]
    np.testing.assert_array_equal(ds.X, [[1, 3], [2, 4]])
    multi = load(_write(tmp_path, 'a,note,y\n1,"two\nlines",0\n2,x,1\n3,"two\nlines",0\n',
                        "m.csv"))
    assert multi.features.categorical == {"note": ["two\nlines", "x"]}


def test_row_numbers_are_file_lines(tmp_path):
    with pytest.raises(ValueError, match=r"t\.csv row 5, column 'b': missing value '\?'"):
        load(_write(tmp_path, "a,b,y\n1,2,0\n\n3,4,1\n5,?,0\n"))


@pytest.mark.parametrize("cell", ["", "?", "NA", "nan", "NaN", "n/a", "null"])
def test_missing_values_named_with_what_to_do(tmp_path, cell):
    p = _write(tmp_path, f"a,b,y\n1,2,0\n3,{cell},1\n")
    with pytest.raises(ValueError, match=rf"t\.csv row 3, column 'b': missing value "
                                         rf"'{cell}'.*drop the rows.*impute"):
        load(p)


def test_missing_in_a_categorical_column_and_in_the_label(tmp_path):
    with pytest.raises(ValueError, match=r"row 3, column 'c': missing value 'NA'"):
        load(_write(tmp_path, "a,c,y\n1,red,0\n2,NA,1\n3,blue,0\n"))
    with pytest.raises(ValueError, match=r"row 2, column 'y': missing label '\?'"):
        load(_write(tmp_path, "a,y\n1,?\n2,1\n", "l.csv"))


def test_infinite_values_refused(tmp_path):
    with pytest.raises(ValueError, match=r"row 2, column 'a': 'inf' is not a finite number"):
        load(_write(tmp_path, "a,y\ninf,0\n2,1\n"))
    with pytest.raises(ValueError, match=r"row 3, column 'y': label '-inf' is not a finite"):
        load(_write(tmp_path, "a,y\n1,0.5\n2,-inf\n", "l.csv"))


def test_encodings(tmp_path):
    bom = load(_write(tmp_path, "\ufeffcity,y\nZürich,1\nBern,0\nZürich,0\n"))
    assert bom.features.names == ["city"] and bom.features.categorical["city"][1] == "Zürich"
    with pytest.raises(ValueError, match=r"latin\.csv is not UTF-8 text \(byte 0xfc on line "
                                         r"2\).*iconv"):
        load(_write(tmp_path, "city,y\nZürich,1\n", "latin.csv", encoding="latin-1"))
    with pytest.raises(ValueError, match=r"u16\.csv is UTF-16"):
        load(_write(tmp_path, "a,y\n1,0\n", "u16.csv", encoding="utf-16"))
    with pytest.raises(ValueError, match="NUL bytes"):
        load(_write(tmp_path, b"a,y\n1,\x000\n", "bin.csv"))


def test_shape_errors(tmp_path):
    with pytest.raises(ValueError, match=r"e\.csv is empty"):
        load(_write(tmp_path, "", "e.csv"))
    with pytest.raises(ValueError, match=r"e2\.csv is empty"):
        load(_write(tmp_path, "\n\n  \n", "e2.csv"))
    with pytest.raises(ValueError, match="has a header row but no data rows"):
        load(_write(tmp_path, "a,b,y\n", "h.csv"))
    with pytest.raises(ValueError, match="row 3 has 2 cells but the header has 3"):
        load(_write(tmp_path, "a,b,y\n1,2,0\n1,2\n", "r.csv"))
    with pytest.raises(ValueError, match="single column"):
        load(_write(tmp_path, "a\n1\n2\n", "one.csv"))
    with pytest.raises(ValueError, match="names column 'a' twice"):
        load(_write(tmp_path, "a,a,y\n1,2,0\n", "d.csv"))
    with pytest.raises(ValueError, match="'target' not in .*available columns: a, b, y"):
        load(_write(tmp_path, "a,b,y\n1,2,0\n"), label_column="target")
    with pytest.raises(ValueError, match="index 3 is out of range.*3 columns"):
        load(_write(tmp_path, "a,b,y\n1,2,0\n"), label_column=3)
    with pytest.raises(FileNotFoundError, match="gone.csv"):
        load(tmp_path / "gone.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ValueError, match=r"dir\.csv is a folder"):
        load(tmp_path / "dir.csv")
    with pytest.raises(ValueError, match=r"dir\.csv is a folder"):
        load_csv(tmp_path / "dir.csv")


def test_uci_and_unsuffixed_text_files_are_csv(tmp_path):
    p = _write(tmp_path, "5.1,3.5,Iris-setosa\n6.2,2.9,Iris-versicolor\n", "iris.data")
    assert detect_kind(p) == "csv" and load(p).classes == ["Iris-setosa", "Iris-versicolor"]
    q = _write(tmp_path, "1\t2\t0\n3\t4\t1\n", "table")
    assert detect_kind(q) == "csv" and load(q).m == 2


def test_whitespace_aligned_uci_file(tmp_path):
    p = _write(tmp_path, " 0.00632  18.00   2.310  24.00\n 0.02731   0.00   7.070  21.60\n"
                         "\n 0.02729   0.00   7.070  34.70\n", "housing.data")
    ds = load(p)
    assert ds.X.shape == (3, 3) and ds.task == "regression"
    np.testing.assert_array_equal(ds.y, [24.0, 21.6, 34.7])
    assert read_table(p).delimiter == " " and read_table(p).lines == [1, 2, 4]
    with pytest.raises(ValueError, match="row 2 has 3 cells but row 1 has 2.*split at blanks"):
        load(_write(tmp_path, "1 2\n3 4 5\n", "ragged.data"))
