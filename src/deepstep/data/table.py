r"""The one CSV reader: text as people save it, into rows of cells with names.

Rules (each one the answer to a file that was seen in the wild):

* **Encoding**: UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"). Anything
  else (latin-1, cp1252, UTF-16) is a ValueError naming the file, the first bad byte and
  its line, and how to convert: decoding with a guessed code page would make a category
  read at training differ from the same word read at predict time.
* **Delimiter**: comma, semicolon or tab, sniffed from the first rows: the one giving the
  same number (> 1) of cells on the most rows; ties go to the one whose cells are numbers
  more often. When none of them separates anything, runs of blanks do (UCI's
  whitespace-aligned ``.data`` files; no quoting then). With any delimiter but a comma,
  ``1,5`` is the number 1.5 (a decimal comma, as Excel writes in many European locales).
* **Quotes**: fields may be quoted (``"a, b"``), a quote doubled inside one (``"6"" pipe"``),
  line breaks inside quotes are kept; cells are stripped of surrounding blanks.
* **Blank lines** are skipped; a last column empty on every line, header included (a
  trailing delimiter on every line), is dropped.
* **Header**: the first row is a header when, among the columns whose later cells are
  all numbers (missing cells aside), its cells are text and none is a number. In a file
  with no such column (every column text), the first row is a header when none of its
  cells occurs again below it in its column. Otherwise the file has no header (UCI
  style) and the columns are named ``"column 1"``, ``"column 2"``, ... (1-based, counting
  every column of the file). A file of a single row has a header when no cell of it is a
  number. ``header=True/False`` overrides the guess.
* **Missing values**: an empty cell, ``?``, ``NA``, ``N/A``, ``NaN`` or ``null`` (any case)
  counts as missing (see :data:`MISSING`); what to do with them is the caller's choice (the
  loaders refuse them, naming the file, row and column).

Rows are numbered as a text editor numbers lines (1-based, blank lines counted), so an
error's "row 7" is line 7 of the file.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from . import checks
from .checks import CSV_HINT, check_file, check_size, memory_guard

#: Cells that mean "no value" (compared stripped and lower-cased).
MISSING = frozenset({"", "?", "na", "n/a", "nan", "null"})
#: Delimiters tried by the sniffer, in the order ties are broken.
DELIMITERS = (",", ";", "\t")
_SNIFF_ROWS = 50
_SNIFF_CHARS = 1 << 16
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_HEADER_SAMPLE = 200


def is_missing(cell: str) -> bool:
    """Whether a (stripped) cell is one of the :data:`MISSING` markers."""
    return cell.lower() in MISSING


def to_number(cell: str, decimal_comma: bool = False) -> float | None:
    """The cell as a float, or None when it is not a number (missing markers included).

    Examples
    --------
    >>> to_number("2.5"), to_number("1,5", decimal_comma=True), to_number("abc")
    (2.5, 1.5, None)
    """
    if is_missing(cell):
        return None
    try:
        return float(cell)
    except ValueError:
        if decimal_comma and _DECIMAL_COMMA.fullmatch(cell):
            return float(cell.replace(",", "."))
        return None


def cell_kind(cell: str, decimal_comma: bool = False) -> str:
    """"missing", "number" or "text"."""
    if is_missing(cell):
        return "missing"
    return "text" if to_number(cell, decimal_comma) is None else "number"


@dataclass
class Table:
    """A CSV file as text cells: ``rows[r][j]`` is column ``names[j]`` of data row r.

    Attributes
    ----------
    path : Path
    names : list of str
        One per column: the header's cells (an empty header cell becomes "column j"), or
        "column 1", "column 2", ... when the file has no header.
    has_header : bool
    rows : list of list of str
        Data rows (header excluded), each of ``len(names)`` stripped cells.
    lines : list of int
        File line (1-based) of each data row, for error messages.
    delimiter : str
    decimal_comma : bool
        Whether "1,5" reads as 1.5 (delimiter other than a comma).
    """

    path: Path
    names: list[str]
    has_header: bool
    rows: list[list[str]]
    lines: list[int]
    delimiter: str
    decimal_comma: bool

    @property
    def m(self) -> int:
        """Number of data rows."""
        return len(self.rows)

    @cached_property
    def _columns(self) -> list[tuple[str, ...]]:
        return list(zip(*self.rows, strict=True)) or [() for _ in self.names]

    @cached_property
    def numbers(self) -> np.ndarray | None:
        """All cells as float64 (m, len(names)) when every one is a number (NaN for "nan"),
        else None: the common all-numeric file converted in one NumPy call."""
        try:
            return np.array(self.rows, dtype=np.float64).reshape(self.m, len(self.names))
        except ValueError:
            return None

    def column(self, j: int) -> tuple[str, ...]:
        """The cells of column j, one per data row."""
        return self._columns[j]

    def where(self, r: int, j: int) -> str:
        """"<file> row <line>, column <name>" for data row r, column j."""
        return f"{self.path} row {self.lines[r]}, column {self.names[j]!r}"


def read_text(path: str | os.PathLike) -> tuple[Path, str]:
    """The file's text, decoded as UTF-8 (a BOM dropped); a clear error for other encodings."""
    p = check_file(path, "CSV file")
    size = p.stat().st_size
    check_size(size, p, "the CSV file", cap=checks.MAX_CSV_BYTES, hint=CSV_HINT)
    with memory_guard(p, "the CSV file", size, CSV_HINT):
        data = p.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ValueError(f"{p} is UTF-16 text (Excel's 'Unicode text'); save it as "
                         "'CSV UTF-8 (comma delimited)' or convert it to UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(
            f"{p} is not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}); save it as "
            f"UTF-8, e.g. iconv -f latin1 -t utf-8 '{p.name}' > utf8.csv (or Excel's "
            "'CSV UTF-8')"
        ) from None
    if "\0" in text:
        raise ValueError(f"{p} holds NUL bytes, so it is not a text CSV file; give a CSV file")
    return p, text


def _parse(text: str, delimiter: str, path: Path, limit: int | None = None
           ) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows (cells stripped) and their file lines, at most ``limit`` rows."""
    if delimiter == " ":  # runs of blanks, no quoting (UCI's whitespace-aligned .data files)
        rows, lines = [], []
        for i, line in enumerate(io.StringIO(text, newline=""), start=1):
            if cells := line.split():
                rows.append(cells)
                lines.append(i)
                if limit is not None and len(rows) >= limit:
                    break
        return rows, lines
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if any(cells):
                rows.append(cells)
                lines.append(reader.line_num)
                if limit is not None and len(rows) >= limit:
                    break
    except csv.Error as e:
        raise ValueError(f"{path} line {reader.line_num}: not valid CSV ({e})") from None
    return rows, lines


def sniff_delimiter(text: str, path: Path) -> str:
    """Comma, semicolon or tab: the most consistent cell count > 1, then the most numbers;
    " " (runs of blanks) when none of them separates anything."""
    sample = text[:_SNIFF_CHARS]
    if len(sample) < len(text) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # no half row at the end
    best: tuple[float, float, int] | None = None
    choice = None
    for d in (*DELIMITERS, " "):
        if d == " " and choice is not None:
            break
        rows, _ = _parse(sample, d, path, _SNIFF_ROWS)
        if not rows:
            continue
        width, n = Counter(len(r) for r in rows).most_common(1)[0]
        if width < 2:
            continue
        cells = [c for r in rows[1:] for c in r] or rows[0]
        numbers = sum(cell_kind(c, d != ",") == "number" for c in cells) / len(cells)
        score = (n / len(rows), numbers, -(DELIMITERS + (" ",)).index(d))
        if best is None or score > best:
            best, choice = score, d
    if choice is None:
        raise ValueError(
            f"{path} has a single column (no comma, semicolon, tab or space separates its "
            "cells); "
            "a data file needs feature columns and a label column"
        )
    return choice


def detect_header(rows: Sequence[Sequence[str]], decimal_comma: bool = False) -> bool:
    """The header rule of the module docstring, on the first row and a sample below it.

    Examples
    --------
    >>> detect_header([["a", "b", "y"], ["1", "2", "0"]])
    True
    >>> detect_header([["5.1", "3.5", "setosa"], ["4.9", "3.0", "setosa"]])
    False
    >>> detect_header([["color", "size"], ["red", "S"], ["blue", "M"]])
    True
    """
    first, body = rows[0], rows[1 : 1 + _HEADER_SAMPLE]
    if not body:  # a lone row: a header has no numbers
        return all(cell_kind(c, decimal_comma) != "number" for c in first)
    numeric = []
    for j in range(len(first)):
        kinds = {cell_kind(r[j], decimal_comma) for r in body if j < len(r)}
        if "number" in kinds and "text" not in kinds:
            numeric.append(j)
    if numeric:
        kinds = {cell_kind(first[j], decimal_comma) for j in numeric}
        return "text" in kinds and "number" not in kinds
    return all(cell_kind(c, decimal_comma) == "text" for c in first) and all(
        first[j] not in {r[j] for r in body if j < len(r)} for j in range(len(first))
    )


def read_table(path: str | os.PathLike, *, header: bool | None = None,
               expect: Sequence[str] = ()) -> Table:
    r"""Read a CSV file into a :class:`Table` (rules in the module docstring).

    Parameters
    ----------
    path : path-like
    header : bool or None
        None guesses (module docstring); True / False say whether row 1 is a header.
    expect : sequence of str
        Column names the caller looks for (a model's feature columns). Then row 1 is a
        header when it holds all of them, or when it holds some of them and the guess says
        header (the error then names the missing ones); otherwise it is data.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A folder, not UTF-8, not CSV, empty, header only, a single column, rows of
        different lengths, a header naming a column twice.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "t.csv").write_text("5,1;3\n4,9;3\n", encoding="utf-8")
    ...     t = read_table(Path(d, "t.csv"))
    >>> t.names, t.rows, t.delimiter, t.has_header
    (['column 1', 'column 2'], [['5,1', '3'], ['4,9', '3']], ';', False)
    """
    p, text = read_text(path)
    if not text.strip():
        raise ValueError(f"{p} is empty: a data file needs a row per example")
    delimiter = sniff_delimiter(text, p)
    decimal_comma = delimiter != ","
    with memory_guard(p, "the CSV file", p.stat().st_size, CSV_HINT):
        rows, lines = _parse(text, delimiter, p)
    del text
    first = rows[0]
    if header is None and expect:
        header = set(expect) <= set(first) or (
            bool(set(expect) & set(first)) and detect_header(rows, decimal_comma))
    elif header is None:
        header = detect_header(rows, decimal_comma)
    if header and len(rows) == 1:
        raise ValueError(f"{p} has a header row but no data rows: add a row per example")
    width = len(first)
    for r, row in enumerate(rows[1:], start=1):
        if len(row) != width:
            what = "the header" if header else f"row {lines[0]}"
            raise ValueError(f"{p} row {lines[r]} has {len(row)} cells but {what} has {width}: "
                             f"every row needs one cell per column ({_QUOTE[delimiter]})")
    keep = width
    while keep > 1 and not any(row[keep - 1] for row in rows):
        keep -= 1  # trailing delimiters: a last column empty everywhere, header included
    if keep < width:
        rows = [row[:keep] for row in rows]
    if header:
        names = [c or f"column {j + 1}" for j, c in enumerate(rows[0])]
        seen: dict[str, int] = {}
        for j, n in enumerate(names):
            if n in seen:
                raise ValueError(f"{p}: the header names column {n!r} twice (columns "
                                 f"{seen[n] + 1} and {j + 1}); rename one of them")
            seen[n] = j
        rows, lines = rows[1:], lines[1:]
    else:
        names = [f"column {j + 1}" for j in range(keep)]
    return Table(p, names, header, rows, lines, delimiter, decimal_comma)


_QUOTE = {",": "quote cells that hold a comma", ";": "quote cells that hold a semicolon",
          "\t": "quote cells that hold a tab",
          " ": "cells are split at blanks here, so a cell cannot hold one"}


def column_numbers(table: Table, j: int) -> np.ndarray | None:
    """Column j as float64 (m,) when every cell is a number (NaN for "nan"), else None.

    The fast path: one NumPy conversion; cells it cannot read fall back to ``to_number``.
    """
    if table.numbers is not None:
        return table.numbers[:, j].copy()
    cells = table.column(j)
    try:
        return np.array(cells, dtype=np.float64)
    except ValueError:
        pass
    values = [to_number(c, table.decimal_comma) for c in cells]
    if any(v is None for v in values):
        return None
    return np.array(values, dtype=np.float64)
