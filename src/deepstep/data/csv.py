"""CSV files: a header row, numeric feature columns and one label column.

The label column is chosen by name (default: the last column). Features must all be
numbers; labels follow ``encode_labels``: strings or integers are classes, floats with a
fractional part mean regression.
"""

from __future__ import annotations

import csv as _csv
import os
from pathlib import Path

import numpy as np

from .dataset import Dataset, encode_labels


def load_csv(path: str | os.PathLike, *, label_column: str | None = None,
             task: str = "auto") -> Dataset:
    r"""Load a CSV file: X float64 (n_features, m), y (m,) from the label column.

    Parameters
    ----------
    path : path-like
    label_column : str, optional
        Header name of the label column; default the last column.
    task : {"auto", "binary", "multiclass", "regression"}
        How to read the labels (see :func:`deepstep.data.encode_labels`).

    Returns
    -------
    Dataset
        ``X`` of shape (n_columns - 1, m), float64.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "t.csv").write_text("a,b,kind\n1,2,x\n3,4,y\n5,6,x\n")
    ...     ds = load_csv(Path(d, "t.csv"))
    >>> ds.X.shape, ds.y.tolist(), ds.classes
    ((2, 3), [0, 1, 0], ['x', 'y'])
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"CSV file not found: {p}")
    with p.open(newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in _csv.reader(fh) if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise ValueError(f"{p} needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise ValueError(f"{p} has {len(header)} column(s): need features and a label column")
    name = header[-1] if label_column is None else label_column
    if name not in header:
        raise ValueError(
            f"label column {name!r} not in {p}; available columns: {', '.join(header)}"
        )
    li = header.index(name)
    features = [j for j in range(len(header)) if j != li]
    X = np.empty((len(features), len(rows) - 1), dtype=np.float64)
    labels = []
    for i, row in enumerate(rows[1:]):
        line = i + 2  # 1-based file row, the header being row 1
        if len(row) != len(header):
            raise ValueError(f"{p} row {line} has {len(row)} cells, the header has {len(header)}")
        for k, j in enumerate(features):
            try:
                X[k, i] = float(row[j])
            except ValueError:
                raise ValueError(
                    f"{p} row {line}, column {header[j]!r}: {row[j]!r} is not a number"
                ) from None
        labels.append(row[li].strip())
    if any(v == "" for v in labels):
        raise ValueError(f"{p}: empty label in column {name!r} (row {labels.index('') + 2})")
    try:
        raw = np.array([float(v) for v in labels])
    except ValueError:
        raw = np.array(labels)
    y, classes = encode_labels(raw, task=task)
    return Dataset(X, y, classes, None, p.name, "csv")
