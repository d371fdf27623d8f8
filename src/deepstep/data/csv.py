r"""CSV data files, read as people have them (rules in :mod:`deepstep.data.table` and
:mod:`deepstep.data.features`).

:func:`load_csv` reads a labelled file: with no ``features`` it decides the feature columns
(numeric or categorical) from the file itself (training data); with the ``features`` a
model recorded it reads a test file the same way (columns by name when there is a header,
by position otherwise; the training categories). :func:`read_feature_rows` reads the rows
a model predicts on, with or without their label column.

The label column is chosen by ``label_column``: a name, or a 0-based index (negative from
the end; a string holding an integer counts as an index unless a column has that name);
default the last column.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .dataset import Dataset, encode_labels
from .features import Features, describe_columns, encode_columns
from .table import Table, is_missing, read_table, to_number

LabelColumn = str | int | None


def resolve_label(table: Table, label_column: LabelColumn) -> int:
    """The 0-based column index of the label column (see the module docstring)."""
    n = len(table.names)
    if label_column is None:
        return n - 1
    if isinstance(label_column, str):
        if label_column in table.names:
            return table.names.index(label_column)
        try:
            label_column = int(label_column.strip())
        except ValueError:
            raise ValueError(
                f"label column {label_column!r} not in {table.path}; available columns: "
                f"{', '.join(table.names)} (or give a 0-based index, -1 for the last)"
            ) from None
    if isinstance(label_column, bool) or not isinstance(label_column, int | np.integer):
        raise ValueError(f"label_column must be a column name or an int index, got "
                         f"{label_column!r}")
    if not -n <= label_column < n:
        raise ValueError(f"label column index {label_column} is out of range: {table.path} has "
                         f"{n} columns (0 to {n - 1}, or -1 for the last)")
    return int(label_column) % n


def _label_values(table: Table, j: int) -> NDArray:
    """The label cells as float64 when all are numbers, else as strings; missing refused."""
    if table.numbers is not None and np.isfinite(table.numbers[:, j]).all():
        return table.numbers[:, j].copy()
    cells = table.column(j)
    for r, c in enumerate(cells):
        if is_missing(c):
            raise ValueError(f"{table.where(r, j)}: missing label {c!r}; drop the rows that "
                             "have no label")
    values = [to_number(c, table.decimal_comma) for c in cells]
    if any(v is None for v in values):
        return np.array(cells)
    y = np.array(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        r = int(bad[0])
        raise ValueError(f"{table.where(r, j)}: label {cells[r]!r} is not a finite number; "
                         "drop the row or fix the label")
    return y


def _locate(table: Table, features: Features, label_column: LabelColumn, need_label: bool
            ) -> tuple[int | None, list[int]]:
    """Label column (None if absent) and the columns of ``features.names`` in ``table``."""
    n, width = len(features.names), len(table.names)
    label: int | None = None
    if table.has_header:
        absent = [c for c in features.names if c not in table.names]
        if absent:
            shown = ", ".join(map(repr, absent[:10])) + (", ..." if len(absent) > 10 else "")
            raise ValueError(
                f"{table.path} has no column {shown} (of the {n} the model was trained on); "
                f"its header has {', '.join(table.names)}: name the columns as in training, "
                "or remove the header row to match columns by position"
            )
        cols = [table.names.index(c) for c in features.names]
        if label_column is not None:
            label = resolve_label(table, label_column)
        elif features.label in table.names:
            label = table.names.index(features.label)
        elif need_label and features.label is None and width - 1 not in cols:
            label = width - 1  # a description without a label column: the default, last
        elif need_label:
            raise ValueError(f"{table.path} has no label column {features.label!r} (the "
                             "training data's label column): add it, or choose the label "
                             "column")
        return label, cols
    if label_column is not None:
        label = resolve_label(table, label_column)
    elif width == n + 1:  # the label where the training file had it (default last)
        label = n if features.label_index is None else min(features.label_index, n)
    elif width != n or need_label:
        extra = "and the label column" if need_label else "(optionally with the label column)"
        raise ValueError(f"{table.path} has {width} columns; the model takes {n} feature "
                         f"columns {extra}, in the training file's order")
    cols = [j for j in range(width) if j != label]
    if len(cols) != n:
        raise ValueError(f"{table.path} has {len(cols)} feature columns besides the label; the "
                         f"model takes {n}")
    return label, cols


def load_csv(path: str | os.PathLike, *, label_column: LabelColumn = None, task: str = "auto",
             features: Features | Mapping[str, Any] | None = None,
             header: bool | None = None) -> Dataset:
    r"""Load a labelled CSV file: X float64 (n_x, m), y (m,) from the label column.

    Parameters
    ----------
    path : path-like
    label_column : str, int or None
        Name or 0-based index (negative from the end) of the label column; default the
        last column (with ``features``: the training file's label column).
    task : {"auto", "binary", "multiclass", "regression"}
        How to read the labels (see :func:`deepstep.data.encode_labels`).
    features : Features or its ``to_dict()``, optional
        Read the feature columns as recorded (a test file read like the training file):
        same columns, same categories (an unseen one is an error).
    header : bool or None
        Whether row 1 is a header; None detects it (:mod:`deepstep.data.table`).

    Returns
    -------
    Dataset
        ``X`` of shape (n_x, m), numeric columns as they are and categorical ones one-hot;
        ``features`` says which is which.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "t.csv").write_text("a,color,kind\n1,red,x\n3,blue,y\n5,red,x\n")
    ...     ds = load_csv(Path(d, "t.csv"))
    >>> ds.X.tolist(), ds.y.tolist(), ds.classes
    ([[1.0, 3.0, 5.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]], [0, 1, 0], ['x', 'y'])
    >>> ds.features.expanded_names()
    ['a', 'color=blue', 'color=red']
    """
    known = None if features is None else Features.from_dict(features)
    expect = [] if known is None else known.names + ([known.label] if known.label else [])
    table = read_table(path, header=header, expect=expect)
    if known is None:
        label = resolve_label(table, label_column)
        columns = [j for j in range(len(table.names)) if j != label]
        if not columns:
            raise ValueError(f"{table.path} has a single column: a data file needs feature "
                             "columns and a label column")
        found, X = describe_columns(table, columns, label)
    else:
        located, columns = _locate(table, known, label_column, need_label=True)
        assert located is not None  # with need_label, _locate finds the label or raises
        label, found = located, known
        X = encode_columns(table, columns, known)
    y, classes = encode_labels(_label_values(table, label), task=task,
                               source=f"{table.path}, label column {table.names[label]!r}")
    return Dataset(X, y, classes, None, table.path.name, "csv", features=found)


def read_feature_rows(path: str | os.PathLike,
                      features: Features | Mapping[str, Any] | None = None,
                      *, n_x: int | None = None) -> tuple[list[str], NDArray]:
    r"""Read the rows a model predicts on: X (n_x, m) encoded as the model's training data.

    With the model's ``features`` description, columns are found by name when the file has
    a header (the label and any other extra column are ignored) and by position otherwise
    (the feature columns in training order, optionally with the label column where the
    training file had it); categorical columns are one-hot encoded with the recorded
    categories. Without a description (a model trained on non-CSV data), every column must
    be a number: ``n_x`` columns, or ``n_x + 1`` with the label last.

    Parameters
    ----------
    path : path-like
    features : Features or its ``to_dict()``, optional
    n_x : int, optional
        The network's input size, checked against ``features``; needed without it.

    Returns
    -------
    names : list of str
        ``"<path>:<line>"`` for each row.
    X : ndarray of shape (n_x, m), float64

    Raises
    ------
    ValueError
        Unseen category, text in a numeric column, missing or non-finite values (file,
        row, column), columns that do not match the model.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> f = {"names": ["a", "color"], "categorical": {"color": ["blue", "red"]}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "new.csv").write_text("color,a\nred,1.5\nblue,2\n")
    ...     names, X = read_feature_rows(Path(d, "new.csv"), f)
    >>> [n.rsplit(":", 1)[1] for n in names], X.tolist()
    (['2', '3'], [[1.5, 2.0], [0.0, 1.0], [1.0, 0.0]])
    """
    if features is None:
        if n_x is None:
            raise ValueError("read_feature_rows needs the model's features description or n_x")
        table = read_table(path)
        width = len(table.names)
        if width not in (n_x, n_x + 1):
            raise ValueError(f"{table.path} has {width} columns; the model takes {n_x} numeric "
                             "features (optionally followed by a label column)")
        known = Features(table.names[:n_x])
        columns: Sequence[int] = range(n_x)
    else:
        known = Features.from_dict(features, "the model's features description")
        if n_x is not None and known.n_x != n_x:
            raise ValueError(f"the model's features description makes {known.n_x} inputs but "
                             f"the network takes {n_x}: the model file is inconsistent")
        table = read_table(path, expect=known.names)
        _, columns = _locate(table, known, None, need_label=False)
    X = encode_columns(table, columns, known)
    return [f"{path}:{line}" for line in table.lines], X
