"""CSV loading: label column choice, label kinds and the error messages."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep.data import load


def _write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_string_labels_default_last_column(tmp_path):
    ds = load(_write(tmp_path, "h,w,animal\n1,2,dog\n3,4.5,cat\n5,6,dog\n"))
    assert ds.X.shape == (2, 3) and ds.X.dtype == np.float64
    np.testing.assert_array_equal(ds.X, [[1, 3, 5], [2, 4.5, 6]])
    assert ds.classes == ["cat", "dog"] and ds.y.tolist() == [1, 0, 1]
    assert ds.kind == "csv" and ds.task == "binary" and ds.image_shape is None


def test_label_column_by_name_integer_classes(tmp_path):
    ds = load(_write(tmp_path, "kind,a,b\n3,1,2\n1,3,4\n2,5,6\n"), label_column="kind")
    assert ds.classes == ["1", "2", "3"] and ds.y.tolist() == [2, 0, 1]
    np.testing.assert_array_equal(ds.X, [[1, 3, 5], [2, 4, 6]])
    assert ds.task == "multiclass"


def test_float_labels_mean_regression(tmp_path):
    ds = load(_write(tmp_path, "a,price\n1,2.5\n2,3.0\n"))
    assert ds.task == "regression" and ds.classes is None
    np.testing.assert_array_equal(ds.y, [2.5, 3.0])


def test_errors_name_row_and_column(tmp_path):
    with pytest.raises(ValueError, match=r"row 3, column 'b': 'abc' is not a number"):
        load(_write(tmp_path, "a,b,y\n1,2,0\n1,abc,1\n"))
    with pytest.raises(ValueError, match=r"row 2, column 'a': '' is not a number"):
        load(_write(tmp_path, "a,b,y\n,2,0\n"))
    with pytest.raises(ValueError, match="'target' not in .*available columns: a, b, y"):
        load(_write(tmp_path, "a,b,y\n1,2,0\n"), label_column="target")
    with pytest.raises(ValueError, match="row 2 has 2 cells"):
        load(_write(tmp_path, "a,b,y\n1,2\n"))
    with pytest.raises(ValueError, match="at least one data row"):
        load(_write(tmp_path, "a,b,y\n"))
    with pytest.raises(ValueError, match="empty label"):
        load(_write(tmp_path, "a,y\n1,\n"))
    with pytest.raises(FileNotFoundError, match="gone.csv"):
        load(tmp_path / "gone.csv")
