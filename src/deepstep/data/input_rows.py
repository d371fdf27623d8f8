"""CSV rows as examples for a saved model (``predict`` / ``explain``), matched to its features.

:func:`read_csv_rows` is the one place that reads the rows of a CSV file of new inputs; the
columns are found by the names the model recorded (``config_["data"]["features"]``) or by
position, and one-hot columns are expanded in the recorded category order.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..model import Network

#: A CSV file of inputs larger than this is refused (it is read whole).
MAX_CSV_BYTES = 256 * 2**20


@dataclass
class Rows:
    """The usable rows of a CSV file and the ones that are not.

    Attributes
    ----------
    values : list of (int, ndarray of shape (n_x,))
        (1-based line number, the row's n_x features) per usable row.
    names : list of str or None
        The name of each feature (header columns, one-hot columns as ``column=category``).
    failures : list of (int, str)
        (line number, why) per row that could not be used.
    """

    values: list[tuple[int, NDArray]]
    names: list[str] | None
    failures: list[tuple[int, str]]


def read_csv_rows(net: Network, path: Path) -> Rows:
    """The rows of a CSV file as examples for ``net``, and the rows that could not be used.

    The columns are matched to the model's features:

    - with feature names recorded in the model (``config_["data"]["features"]["names"]``) and
      a header row holding them all, by name (in any order; other columns such as the label
      are ignored); one-hot columns are expanded in the recorded category order;
    - otherwise by position: n_x columns, or n_x + 1 with the last (the label) ignored; a
      first row that is not all numbers is the header, whose names label the features.

    A file that cannot be read, or whose columns do not fit, raises ValueError; a row with a
    cell that is not a number (or an unseen category) is one failure, the others are kept.
    """
    reader = csv.reader(io.StringIO(_csv_text(path), newline=""))
    rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    if not rows:
        raise ValueError("the CSV file holds no rows")
    columns = _Columns.make(rows[0][1], feature_meta(net), net.layer_dims[0])
    if columns.header:
        rows = rows[1:]
    if not rows:
        raise ValueError("the CSV file holds a header row but no data rows")
    values, failures = [], []
    for line, row in rows:
        try:
            values.append((line, columns.values(row)))
        except ValueError as e:
            failures.append((line, str(e)))
    return Rows(values, columns.names, failures)


def feature_meta(net: Network) -> dict[str, Any]:
    """The model's recorded CSV feature columns, checked: ``{"names": [str] or None,
    "categorical": {column: [categories]}}`` (a model file is a stranger's file)."""
    meta = (net.config_.get("data") or {}).get("features") or {}
    names = meta.get("names") if isinstance(meta, dict) else None
    categorical = meta.get("categorical") if isinstance(meta, dict) else None
    categorical = categorical or {}
    ok = (names is None or (isinstance(names, list) and all(isinstance(c, str) for c in names))
          ) and isinstance(categorical, dict) and all(
        isinstance(v, list) and v and all(isinstance(c, str) for c in v)
        for v in categorical.values())
    if not ok:
        raise ValueError("the model's recorded feature columns (config data.features) are "
                         "malformed; the model file is damaged")
    if names is not None:
        width = sum(len(categorical.get(c, [0])) for c in names)
        if width != net.layer_dims[0]:
            raise ValueError(f"the model's recorded feature columns make {width} features but "
                             f"it takes {net.layer_dims[0]}; the model file is damaged")
    return {"names": names, "categorical": categorical}


def _csv_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise ValueError(f"the CSV file is {size / 2**20:.0f} MB, above the "
                             f"{MAX_CSV_BYTES // 2**20} MB limit for inputs; split it")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text (byte {e.start}); save the CSV file as UTF-8") from None
    except OSError as e:
        raise ValueError(f"cannot read the file: {e.strerror or e}") from None


@dataclass
class _Columns:
    """How the cells of a CSV row become the model's n_x features."""

    header: bool
    picks: list[tuple[int, str, list[str] | None]]  # (cell index, "column 'b'", categories)
    names: list[str] | None  # one per feature (one-hot columns as "column=category")
    n_cells: int

    @classmethod
    def make(cls, first: list[str], meta: dict[str, Any], n_x: int) -> _Columns:
        cells = [c.strip() for c in first]
        recorded = meta.get("names")
        categorical = meta.get("categorical") or {}
        if recorded and set(recorded) <= set(cells):  # a header with the model's columns
            picks = [(cells.index(c), f"column {c!r}", categorical.get(c)) for c in recorded]
            return cls(True, picks, _expanded(recorded, categorical), len(cells))
        columns = list(recorded) if recorded else [None] * n_x
        if len(cells) not in (len(columns), len(columns) + 1):
            raise ValueError(_column_error(len(cells), len(columns), recorded))
        numeric = [i for i, c in enumerate(columns) if c not in categorical]
        header = any(not _is_number(cells[i]) for i in numeric)
        titles = [cells[i] if header else (c or f"{i + 1}") for i, c in enumerate(columns)]
        picks = [(i, f"column {titles[i]!r}" if header or c else f"column {i + 1}",
                  categorical.get(c) if c else None) for i, c in enumerate(columns)]
        names = (_expanded(titles, {titles[i]: categorical[c] for i, c in enumerate(columns)
                                    if c in categorical})
                 if header or recorded else None)
        return cls(header, picks, names, len(cells))

    def values(self, row: list[str]) -> NDArray:
        """The n_x features of one data row (ValueError naming the column that is wrong)."""
        if len(row) != self.n_cells:
            raise ValueError(f"{len(row)} cells, where the file's first row has "
                             f"{self.n_cells}")
        out: list[float] = []
        for i, column, categories in self.picks:
            cell = row[i].strip()
            if categories is not None:
                if cell not in categories:
                    raise ValueError(f"{column}: category {cell!r} was not seen in "
                                     f"training (known: {', '.join(categories)})")
                out += [float(cell == c) for c in categories]
                continue
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"{column}: {cell!r} is not a number") from None
            if not np.isfinite(value):
                raise ValueError(f"{column}: {cell!r} is not a finite number")
            out.append(value)
        return np.array(out, dtype=np.float64)


def _expanded(names: list[str], categorical: dict[str, list[str]]) -> list[str]:
    out = []
    for c in names:
        out += [f"{c}={v}" for v in categorical[c]] if c in categorical else [c]
    return out


def _column_error(found: int, wanted: int, names: list[str] | None) -> str:
    which = f" ({', '.join(names)})" if names else ""
    return (f"the CSV file has {found} columns but the model takes {wanted} feature "
            f"columns{which}, optionally followed by a label column")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
