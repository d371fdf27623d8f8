"""Bounded JSON: parse untrusted JSON text and check every value before anything uses it.

Shared by the safetensors container (its header) and every schema on top of it (the model
file, the lead's checkpoints). Nothing here knows what a model is: the checks are about
types, ranges and sizes, and each failure is an :class:`Invalid` naming the field, which the
caller turns into a :class:`~deepstep.io.ModelFormatError` naming the file.

JSON has no NaN or infinity; deepstep writes them as ``{"$float": "NaN"}``,
``{"$float": "Infinity"}`` and ``{"$float": "-Infinity"}`` (strict JSON, read back exactly:
a checkpoint's history and early-stopping state need them), and never reads the non-standard
``NaN`` / ``Infinity`` tokens that Python's json module accepts. Whether a field may hold
them is the schema's decision (:func:`check_json`'s ``nan`` / ``inf``).

Why these caps: a parsed JSON value costs more memory than its text (a 4-byte ``1.5,``
becomes a 32-byte float object and its list slot, a 3-byte ``[],`` a 64-byte list), so the
number of values and of containers is counted *before* parsing; with at most
``MAX_VALUES`` values the objects of one parse stay below about 60 MB whatever the text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

#: Values (numbers, strings, lists, ...) in one JSON document: 1,000,000 (a model's history of
#: 100,000 epochs x 7 lists fits; an upper bound is counted on the raw text before parsing).
MAX_VALUES = 1_000_000
#: Lists and objects in one document (each costs ~60 bytes even when empty).
MAX_CONTAINERS = 100_000
#: Nesting depth of lists and objects (deepstep's own metadata nests about 6 deep).
MAX_DEPTH = 32
#: Characters in one string value (a class name, a note, a path).
MAX_STRING = 65_536
#: Integers are bounded in size (a PCG64 random-generator state holds 128-bit integers).
MAX_INT_BITS = 128
#: The key of a tagged non-finite float, ``{"$float": "NaN" | "Infinity" | "-Infinity"}``.
FLOAT_TAG = "$float"
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# C0/C1 control characters except tab and newline, and lone UTF-16 surrogates (they cannot be
# printed or encoded as UTF-8): a class name like "\x1b[2J" must not reach the terminal.
_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class Invalid(ValueError):
    """One field of an untrusted document is wrong: ``field`` says which, the message why."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}" if field else why)
        self.field, self.why = field, why


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _pairs(pairs: list[tuple[str, Any]]) -> Any:
    if any(k == FLOAT_TAG for k, _ in pairs):
        value = pairs[0][1]
        if len(pairs) != 1 or not isinstance(value, str) or value not in _NONFINITE:
            raise ValueError(f'a {FLOAT_TAG!r} key must be alone, with "NaN", "Infinity" or '
                             '"-Infinity"')
        return _NONFINITE[value]
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"the key {dup!r} appears twice")
    return out


def parse_json(text: bytes | str, field: str) -> Any:
    """Parse untrusted JSON ``text`` within the caps above; raises :class:`Invalid`.

    Strict JSON: UTF-8 only, no NaN / Infinity tokens (the tagged ``{"$float": "NaN"}`` gives
    NaN back), no duplicate keys. The caps on values
    and containers are checked on the raw text first (commas and brackets inside strings are
    counted too: an over-count, never an under-count), so a hostile document is refused
    before it is turned into Python objects.

    Examples
    --------
    >>> parse_json(b'{"a": [1, 2.5, null]}', "header")
    {'a': [1, 2.5, None]}
    >>> parse_json('{"a": NaN}', "header")
    Traceback (most recent call last):
    ...
    deepstep.io.values.Invalid: header: not valid JSON (NaN is not a JSON number)
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Invalid(field, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    containers = text.count("[") + text.count("{")
    if containers > MAX_CONTAINERS:
        raise Invalid(field, f"{containers:,} lists or objects (at most {MAX_CONTAINERS:,})")
    if containers + text.count(",") + 1 > MAX_VALUES:
        raise Invalid(field, f"more than {MAX_VALUES:,} values")
    try:
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_pairs)
    except RecursionError:
        raise Invalid(field, f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as e:  # JSONDecodeError, duplicate keys, integers of > 4300 digits
        raise Invalid(field, f"not valid JSON ({e})") from None


def tag_nonfinite(value: Any) -> Any:
    """``value`` with every NaN / infinite float replaced by its ``{"$float": ...}`` tag, for
    ``json.dumps(..., allow_nan=False)``.

    Examples
    --------
    >>> tag_nonfinite({"h": [0.5, float("nan")], "best": float("inf")})
    {'h': [0.5, {'$float': 'NaN'}], 'best': {'$float': 'Infinity'}}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return {FLOAT_TAG: "NaN" if math.isnan(value) else "Infinity" if value > 0
                else "-Infinity"}
    if isinstance(value, dict):
        return {k: tag_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tag_nonfinite(v) for v in value]
    return value


def check_json(value: Any, field: str, depth: int = 0, *, nan: bool = False,
               inf: bool = False) -> None:
    """Check a parsed JSON value all the way down: numbers finite (or NaN when ``nan``,
    infinite when ``inf``), integers, strings and nesting bounded; raises :class:`Invalid`
    naming the first bad field (e.g. ``training.l2``).
    """
    if depth > MAX_DEPTH:
        raise Invalid(field, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for k, v in value.items():
            check_string(k, f"{field}{{key}}", 256)
            check_json(v, f"{field}.{k}" if field else k, depth + 1, nan=nan, inf=inf)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_json(v, f"{field}[{i}]", depth + 1, nan=nan, inf=inf)
    elif isinstance(value, str):
        check_string(value, field)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise Invalid(field, f"an integer of {value.bit_length()} bits "
                                 f"(at most {MAX_INT_BITS})")
    elif isinstance(value, float):
        if not (math.isfinite(value) or (nan and math.isnan(value))
                or (inf and math.isinf(value))):
            raise Invalid(field, f"{value} (numbers must be finite)")
    else:
        raise Invalid(field, f"a {type(value).__name__}, not a JSON value")


def check_string(value: Any, field: str, max_chars: int = MAX_STRING) -> str:
    """A str of at most ``max_chars`` characters without control characters or surrogates."""
    if not isinstance(value, str):
        raise Invalid(field, f"expected a string, got {_kind(value)}")
    if len(value) > max_chars:
        raise Invalid(field, f"a string of {len(value):,} characters (at most {max_chars:,})")
    bad = _BAD_CHARS.search(value)
    if bad:
        raise Invalid(field, f"holds the control character {bad.group()!r}")
    return value


def check_int(value: Any, field: str, low: int, high: int) -> int:
    """A JSON integer (not a bool, not 3.0) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(field, f"expected a whole number, got {_kind(value)}")
    if not low <= value <= high:
        raise Invalid(field, f"{value} is outside [{low}, {high}]")
    return value


def check_number(value: Any, field: str, low: float = -math.inf, high: float = math.inf,
                 *, strict_low: bool = False) -> float:
    """A finite JSON number (int or float, not a bool) in [low, high] ((low, high] when
    ``strict_low``); returned as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(field, f"expected a number, got {_kind(value)}")
    x = float(value) if not isinstance(value, int) or abs(value) < 2**1000 else math.inf
    if not math.isfinite(x):
        raise Invalid(field, f"{value!r} (numbers must be finite)")
    if x < low or x > high or (strict_low and x == low):
        raise Invalid(field, f"{value!r} is outside {'(' if strict_low else '['}{low:g}, "
                             f"{high:g}]")
    return x


def check_choice(value: Any, field: str, choices: Mapping[str, Any] | tuple[str, ...]) -> str:
    """One of ``choices`` (exact spelling: files store canonical names)."""
    check_string(value, field, 256)
    if value not in choices:
        raise Invalid(field, f"unknown value {value!r}; expected one of {', '.join(choices)}")
    return value


def check_list(value: Any, field: str, max_len: int, min_len: int = 0) -> list[Any]:
    """A JSON list of ``min_len`` to ``max_len`` items."""
    if not isinstance(value, list):
        raise Invalid(field, f"expected a list, got {_kind(value)}")
    if not min_len <= len(value) <= max_len:
        raise Invalid(field, f"{len(value):,} items (expected {min_len} to {max_len:,})")
    return value


def check_object(value: Any, field: str, fields: Mapping[str, Callable[[Any, str], Any]],
                 *, required: tuple[str, ...] = (), open_: bool = False,
                 nan: bool = False) -> dict[str, Any]:
    """A JSON object whose known ``fields`` each pass their check (``check(value, field)``,
    its return value kept); ``required`` ones must be present. Unknown keys are an error
    unless ``open_``, in which case they get the generic :func:`check_json` (NaN allowed
    when ``nan``)."""
    if not isinstance(value, dict):
        raise Invalid(field, f"expected an object, got {_kind(value)}")
    for key in required:
        if key not in value:
            raise Invalid(f"{field}.{key}" if field else key, "missing")
    out = {}
    for key, v in value.items():
        sub = f"{field}.{key}" if field else key
        if key in fields:
            out[key] = fields[key](v, sub)
        elif open_:
            check_json(v, sub, 1, nan=nan)
            out[key] = v
        else:
            raise Invalid(sub, f"unknown field; expected only {', '.join(fields)}")
    return out


def _kind(value: Any) -> str:
    """How a wrong value is shown in a message: its JSON type and a short preview."""
    if isinstance(value, list):
        return f"a list of {len(value):,} items"
    if isinstance(value, dict):
        return f"an object with {len(value):,} keys"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             type(None): "null"}
    preview = repr(value[:40] if isinstance(value, str) else value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        preview = f"{value.bit_length()} bits"
    return f"{names.get(type(value), type(value).__name__)} ({preview[:60]})"
