"""The report's one number format: significant digits, trailing zeros kept.

Every number the page prints (tables, captions, plot titles) goes through :func:`fmt`, so a
column of accuracies reads 0.8000, 0.9856, 1.000 (four significant digits each) instead of
0.8, 0.9856 and 1.0. Integers (counts, sizes, epochs) are exact. A spread is given to two
significant digits (:func:`fmt_pm`), the usual precision of an uncertainty, and the
probability under an image to two (``p = 0.62``) where four would be noise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Significant digits of every measured number on the page.
DIGITS = 4
#: Significant digits of a spread (the "0.012" in "0.7778 ± 0.012") and of a caption's p.
SPREAD_DIGITS = 2
DASH = "\u2014"


def fmt(value: Any, digits: int = DIGITS) -> str:
    """One number as the report prints it.

    Parameters
    ----------
    value : int, float, numpy scalar, bool or None
    digits : int
        Significant digits of a float.

    Returns
    -------
    str
        Floats with ``digits`` significant digits and their trailing zeros; from 10^4 on,
        rounded to ``digits`` digits and grouped by thousands; below 10^-4 in scientific
        notation. Integers exact (grouped from 10^4 on), 0.0 as "0", NaN and None as a
        dash, infinities as ±∞; anything else ``str(value)``.

    Examples
    --------
    >>> [fmt(x) for x in (0.8, 0.98564, 1.0, 0.0075, 57.1056, 52341.7, 3.2e-7, 0.0, 2500)]
    ['0.8000', '0.9856', '1.000', '0.007500', '57.11', '52,340', '3.200e-07', '0', '2500']
    >>> fmt(0.0123, 2), fmt(245780), fmt(None), fmt(float("nan"))
    ('0.012', '245,780', '—', '—')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if not isinstance(value, float):
        return str(value)
    if math.isnan(value):
        return DASH
    if math.isinf(value):
        return "\u221e" if value > 0 else "-\u221e"
    if value == 0:
        return "0"
    size = abs(value)
    if size < 1e-4 or size >= 1e15:
        return f"{value:.{digits - 1}e}"
    if size >= 10 ** max(digits, 4):
        return f"{round(value, digits - 1 - math.floor(math.log10(size))):,.0f}"
    text = f"{value:#.{digits}g}"
    if "e" in text:  # 1e4 <= |x| < 10**digits with digits > 4: no exponent wanted
        text = f"{value:,.0f}"
    return text.rstrip(".")


def fmt_pm(mean: Any, spread: Any) -> str:
    """"mean ± spread": the mean to :data:`DIGITS`, the spread to :data:`SPREAD_DIGITS`.

    Examples
    --------
    >>> fmt_pm(0.77778, 0.08389)
    '0.7778 ± 0.084'
    """
    return f"{fmt(mean)} \u00b1 {fmt(spread, SPREAD_DIGITS)}"


def fmt_seconds(seconds: float) -> str:
    """A duration: "125.4 ms" below a second, "12.35 s" below a minute, else "3 min 12 s"
    (or "2 h 05 min").

    Examples
    --------
    >>> fmt_seconds(0.12541), fmt_seconds(3.2104), fmt_seconds(192.4), fmt_seconds(7530.0)
    ('125.4 ms', '3.210 s', '3 min 12 s', '2 h 05 min')
    """
    if seconds < 1:
        return f"{fmt(float(seconds) * 1000)} ms"
    if seconds < 60:
        return f"{fmt(float(seconds))} s"
    minutes, s = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def fmt_probability(p: float) -> str:
    """A probability to :data:`SPREAD_DIGITS` significant digits, with more (up to
    :data:`DIGITS`) when that would round it to 1: 0.996 is not certainty.

    Examples
    --------
    >>> fmt_probability(0.6213), fmt_probability(0.9961), fmt_probability(0.99999)
    ('0.62', '0.996', '1.000')
    """
    for digits in range(SPREAD_DIGITS, DIGITS):
        text = fmt(p, digits)
        if float(text) < 1:
            return text
    return fmt(p, DIGITS)


def label(value: Any) -> str:
    """A class label or a predicted value: numbers through :func:`fmt`, the rest as text."""
    if isinstance(value, np.generic):
        value = value.item()
    return fmt(value) if isinstance(value, float) else str(value)


def caption(predicted: Any, probability: float | None = None, true: Any = None) -> str:
    """The line under an example: what the network said, how sure, and the truth.

    Examples
    --------
    >>> caption("cat", 0.6213, "non-cat")
    'predicted cat (p = 0.62), true non-cat'
    >>> caption(3.5, float("nan"))
    'predicted 3.500'
    """
    text = f"predicted {label(predicted)}"
    if probability is not None and np.isfinite(probability):
        text += f" (p = {fmt_probability(float(probability))})"
    if true is not None:
        text += f", true {label(true)}"
    return text
