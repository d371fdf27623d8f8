"""Feature columns of a CSV file: numbers, or categories one-hot encoded with the categories
recorded, so that rows read later (a test file, ``predict``) get the same columns of X.

Which columns are categorical:

* every cell a number: numeric, one row of X;
* no cell a number: categorical, one row of X per category (sorted text order);
* numbers and text mixed (car evaluation's "doors": 2, 3, 4, 5more): categorical when
  text is the majority, or when the column has at most :data:`MAX_MIXED_CATEGORIES`
  distinct values and every text value occurs at least twice; otherwise the text cells
  are taken as mistakes in a numeric column and the first one is an error.

A categorical column with more than :data:`MAX_CATEGORIES` values, distinct in more than
half the rows, is refused: it is an identifier or free text, which one-hot encoding cannot
learn from. Missing values and NaN/inf are errors everywhere (file, row, column, and what
to do): deepstep does not guess a fill-in value behind the user's back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .table import Table, column_numbers, is_missing, to_number

#: A column mixing numbers and text is categorical with at most this many distinct values.
MAX_MIXED_CATEGORIES = 20
#: A text column with more categories than this (and than m / 2) is refused as an identifier.
MAX_CATEGORIES = 50
_MAX_NAME = 1024


@dataclass(frozen=True)
class Features:
    """How the feature columns of a CSV file became the rows of X (n_x, m).

    Column ``names[i]`` gives one row of X when numeric, ``len(categorical[name])`` rows
    (one-hot, in the recorded order) when categorical; columns follow the file's order.

    Attributes
    ----------
    names : list of str
        Feature columns in file order (header names, or "column k" without a header).
    categorical : dict of str to list of str
        Categorical column name -> its categories, in one-hot order.
    label : str or None
        The training file's label column (so a test file's label is found by name).
    label_index : int or None
        Its 0-based position in the training file (for files without a header).

    Examples
    --------
    >>> f = Features(["age", "color"], {"color": ["blue", "red"]}, "y", 2)
    >>> f.n_x, f.expanded_names()
    (3, ['age', 'color=blue', 'color=red'])
    >>> Features.from_dict(f.to_dict()) == f
    True
    """

    names: list[str]
    categorical: dict[str, list[str]] = field(default_factory=dict)
    label: str | None = None
    label_index: int | None = None

    @property
    def n_x(self) -> int:
        """Rows of X: one per numeric column plus one per category."""
        return sum(len(self.categorical[n]) if n in self.categorical else 1 for n in self.names)

    def expanded_names(self) -> list[str]:
        """One name per row of X: the column, or "column=category" for one-hot rows."""
        out: list[str] = []
        for n in self.names:
            out += [f"{n}={c}" for c in self.categorical[n]] if n in self.categorical else [n]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able description a model records under ``config_["data"]["features"]``."""
        return {"names": list(self.names),
                "categorical": {k: list(v) for k, v in self.categorical.items()},
                "label": self.label, "label_index": self.label_index}

    @classmethod
    def from_dict(cls, d: Features | Mapping[str, Any],
                  what: str = "the features description") -> Features:
        """Validate a recorded description (e.g. read from a model file) into Features.

        Raises
        ------
        ValueError
            Naming the field that is wrong.
        """
        if isinstance(d, Features):
            return d
        if not isinstance(d, Mapping):
            raise ValueError(f"{what} must be a mapping, got {type(d).__name__}")
        names = d.get("names")
        if not isinstance(names, list) or not names or not all(
                isinstance(n, str) and 0 < len(n) <= _MAX_NAME for n in names):
            raise ValueError(f"{what}: 'names' must be a non-empty list of column names")
        if len(set(names)) != len(names):
            raise ValueError(f"{what}: 'names' lists a column twice")
        cats = d.get("categorical")
        cats = {} if cats is None else cats
        if not isinstance(cats, Mapping):
            raise ValueError(f"{what}: 'categorical' must map column names to categories")
        for k, v in cats.items():
            if k not in names:
                raise ValueError(f"{what}: categorical column {k!r} is not among 'names'")
            if (not isinstance(v, list) or not v or len(set(v)) != len(v)
                    or not all(isinstance(c, str) for c in v)):
                raise ValueError(f"{what}: the categories of {k!r} must be a non-empty list "
                                 "of distinct strings")
        label, index = d.get("label"), d.get("label_index")
        if label is not None and not isinstance(label, str):
            raise ValueError(f"{what}: 'label' must be a column name or null")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or not 0 <= index <= len(names)):
            raise ValueError(f"{what}: 'label_index' must be an int in 0..{len(names)} or null")
        return cls(list(names), {k: list(v) for k, v in cats.items()}, label, index)


def _missing_error(table: Table, r: int, j: int) -> ValueError:
    cell = table.rows[r][j]
    return ValueError(
        f"{table.where(r, j)}: missing value {cell!r}; deepstep does not fill in missing "
        "values: drop the rows (or the column) with missing values, or impute them (e.g. "
        "with the column's mean or most frequent value) before training"
    )


def _check_missing(table: Table, j: int) -> None:
    for r, row in enumerate(table.rows):
        if is_missing(row[j]):
            raise _missing_error(table, r, j)


def _check_finite(table: Table, j: int, values: NDArray) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        r = int(bad[0])
        if is_missing(table.rows[r][j]):
            raise _missing_error(table, r, j)
        raise ValueError(f"{table.where(r, j)}: {table.rows[r][j]!r} is not a finite number; "
                         "drop the row or replace the value before training")


def _not_a_number(table: Table, r: int, j: int, why: str) -> ValueError:
    hint = ""
    if r == 0 and not table.has_header:
        hint = " (if row 1 is a header, give every column a text name)"
    return ValueError(f"{table.where(r, j)}: {table.rows[r][j]!r} is not a number, but {why}; "
                      f"fix or remove the value{hint}")


def _numbers(table: Table, j: int) -> NDArray | None:
    """Column j as finite float64 (m,), None when it holds text; missing/inf raise."""
    values = column_numbers(table, j)
    if values is None:
        _check_missing(table, j)
        return None
    _check_finite(table, j, values)
    return values


def _check_categorical(table: Table, j: int) -> None:
    """The mixed-column rule of the module docstring (for a column known to hold text):
    return when the column is categorical, raise at its first text cell otherwise."""
    cells = table.column(j)
    text = [to_number(c, table.decimal_comma) is None for c in cells]
    n_text = sum(text)
    if 2 * n_text > len(cells):
        return
    counts = Counter(c for c, t in zip(cells, text, strict=True) if t)
    if len(set(cells)) <= MAX_MIXED_CATEGORIES and min(counts.values()) >= 2:
        return
    r = text.index(True)
    raise _not_a_number(table, r, j, f"{len(cells) - n_text} of the column's {len(cells)} "
                                     "values are numbers")


def _one_hot(table: Table, j: int, categories: Sequence[str]) -> NDArray:
    index = {c: k for k, c in enumerate(categories)}
    cells = table.column(j)
    codes = np.empty(len(cells), dtype=np.int64)
    for r, c in enumerate(cells):
        k = index.get(c)
        if k is None:
            if is_missing(c):
                raise _missing_error(table, r, j)
            shown = ", ".join(map(repr, categories[:20])) + (", ..." if len(categories) > 20
                                                             else "")
            raise ValueError(
                f"{table.where(r, j)}: category {c!r} was not seen in training (the model "
                f"knows {len(categories)} for this column: {shown}); use one of those, or "
                "retrain on data that has it"
            )
        codes[r] = k
    block = np.zeros((len(categories), len(cells)), dtype=np.float64)
    block[codes, np.arange(len(cells))] = 1.0
    return block


def describe_columns(table: Table, columns: Sequence[int], label: int | None = None
                     ) -> tuple[Features, NDArray]:
    """Decide numeric / categorical for the feature ``columns`` of ``table`` and encode them.

    Returns
    -------
    features : Features
        Names, categories, and the label column (``label``, 0-based, when given).
    X : ndarray of shape (n_x, m), float64
        Numeric columns as they are, categorical ones one-hot.
    """
    blocks, categorical = [], {}
    for j in columns:
        values = _numbers(table, j)
        if values is not None:
            blocks.append(values[None, :])
            continue
        _check_categorical(table, j)
        cats = sorted(set(table.column(j)))
        if len(cats) > MAX_CATEGORIES and 2 * len(cats) > table.m:
            raise ValueError(
                f"{table.path}, column {table.names[j]!r}: {len(cats)} distinct text values in "
                f"{table.m} rows, so it looks like an identifier or free text, which one-hot "
                "encoding cannot learn from; remove the column"
            )
        categorical[table.names[j]] = cats
        blocks.append(_one_hot(table, j, cats))
    features = Features([table.names[j] for j in columns], categorical,
                        None if label is None else table.names[label], label)
    return features, _stack(blocks, table.m)


def encode_columns(table: Table, columns: Sequence[int], features: Features) -> NDArray:
    """Encode ``columns`` of ``table`` (one per ``features.names``) with the recorded
    categories: X of shape (features.n_x, m), float64. Unseen categories, text in a
    numeric column, missing and non-finite values raise (file, row, column)."""
    blocks = []
    for j, name in zip(columns, features.names, strict=True):
        if name in features.categorical:
            blocks.append(_one_hot(table, j, features.categorical[name]))
            continue
        values = _numbers(table, j)
        if values is None:
            cells = table.column(j)
            r = next(r for r, c in enumerate(cells) if to_number(c, table.decimal_comma) is None)
            raise _not_a_number(table, r, j, "the model was trained on numbers in this column")
        blocks.append(values[None, :])
    return _stack(blocks, table.m)


def _stack(blocks: list[NDArray], m: int) -> NDArray:
    return np.concatenate(blocks, axis=0) if blocks else np.empty((0, m))
