"""The page of a hyper-parameter search (``search.html``): the best candidate and its test
score, the cross-validation score against each hyper-parameter, and every candidate ranked.

Self-contained like the training report (:mod:`deepstep.report.html`, whose stylesheet it
shares): the plot is a base64 ``data:`` PNG, the CSS is inline, and a Content-Security-Policy
forbids every other resource (and every script; the page has none).
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from deepstep.files import atomic_write
from deepstep.report.html import _CSS
from deepstep.report.plots import _figure, _png

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
POINT_COLOR, LINE_COLOR, BEST_COLOR = "#8a94a6", "#1f77b4", "#d62728"
_EXTRA_CSS = "tr.best td { font-weight: 600; background: #fff6d6; }\n"


def _show(value: Any) -> str:
    from deepstep.search import show

    return show(value)


def plot_scores(table: Sequence[Mapping[str, Any]], grid: Mapping[str, Sequence[Any]],
                scoring: str, path: str | os.PathLike[str] | None = None) -> bytes:
    """One panel per grid key: the cross-validation score of every candidate against its
    value of that key.

    Each candidate is a dot at its value (candidates sharing a value side by side) with a
    bar of ± the std over the folds; a line joins the best candidate at each value (the
    score that value can reach with the other keys at their best) and a star marks the best
    candidate overall. Values sit at equal spacing in the grid's order (1e-4, 1e-3 and 1e-2
    are three steps, as are layer sizes), labelled as on the command line.

    Parameters
    ----------
    table : list of dict
        Candidates (:func:`deepstep.search.ranked`), best first: each with a value per grid
        key, ``mean_score`` and ``std_score`` (NaN for a failed candidate, not drawn).
    grid : mapping of str to list
        The grid keys and their values, in order.
    scoring : str
        The score's name, for the y axis ("accuracy", "r2").
    path : str or path-like, optional
        Also write the PNG here (atomically).

    Returns
    -------
    bytes
        The PNG image.
    """
    keys = list(grid)
    ncols = min(len(keys), 3)
    nrows = math.ceil(len(keys) / ncols)
    fig = _figure(3.6 * ncols + 0.4, 3.0 * nrows + 0.6)
    label = {"r2": "R\u00b2", "accuracy": "accuracy"}.get(scoring, scoring)
    best = table[0] if table and not math.isnan(table[0]["mean_score"]) else None
    for i, key in enumerate(keys):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ticks = [_show(v) for v in grid[key]]
        groups: dict[int, list[Mapping[str, Any]]] = {j: [] for j in range(len(ticks))}
        for row in table:
            if not math.isnan(row["mean_score"]):
                groups[ticks.index(_show(row[key]))].append(row)
        x: dict[int, float] = {}  # candidate -> position: its value's, side by side
        for j, rows in groups.items():
            n = len(rows)
            for r, row in enumerate(sorted(rows, key=lambda row: row["candidate"])):
                x[row["candidate"]] = j + (0.0 if n == 1 else 0.5 * (r / (n - 1) - 0.5))
        shown = [row for rows in groups.values() for row in rows]
        ax.errorbar([x[r["candidate"]] for r in shown], [r["mean_score"] for r in shown],
                    yerr=[r["std_score"] for r in shown], fmt="o", color=POINT_COLOR, ms=4,
                    capsize=2, lw=1, label="candidate (mean \u00b1 std over folds)")
        tops = [max(rows, key=lambda row: row["mean_score"]) for rows in groups.values() if rows]
        if tops:
            ax.plot([x[r["candidate"]] for r in tops], [r["mean_score"] for r in tops], "-",
                    color=LINE_COLOR, lw=1.5, label="best at this value")
        if best is not None:
            ax.plot([x[best["candidate"]]], [best["mean_score"]], "*", color=BEST_COLOR, ms=13,
                    zorder=5, label="best candidate")
        ax.set_xticks(range(len(ticks)), ticks, rotation=30 if len(ticks) > 4 else 0)
        ax.set_xlim(-0.5, len(ticks) - 0.5)
        ax.set_xlabel(key)
        ax.set_ylabel(f"CV {label}")
        ax.grid(True, axis="y", alpha=0.3)
        if i == 0:
            fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3,
                       fontsize=8, frameon=False)
    return _png(fig, path)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], best: int | None = None
           ) -> str:
    def cell(c: Any) -> str:
        num = isinstance(c, (int, float, np.number)) and not isinstance(c, bool)
        text = f"{c:.4g}" if isinstance(c, float) else str(c)
        return f'<td class="num">{escape(text)}</td>' if num else f"<td>{escape(text)}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    mark = ' class="best"'
    body = "".join(f"<tr{mark if i == best else ''}>{''.join(cell(c) for c in r)}</tr>"
                   for i, r in enumerate(rows))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pm(mean: float, std: float) -> str:
    return "failed" if math.isnan(mean) else f"{mean:.4f} \u00b1 {std:.4f}"


def search_page(result: Any, summary: Mapping[str, Any], notes: Sequence[str] = ()) -> str:
    """The HTML of the page (see :func:`write_search_report`)."""
    keys = list(result.grid)
    best = result.table[0]
    test = summary["test_score"]
    title = f"deepstep search: {summary['data']}"
    params = ", ".join(f"{k} {_show(best[k])}" for k in keys)
    folds = len(best["fold_scores"])
    headline = (f"Best: {params}. Cross-validation {result.scoring} "
                f"{_pm(best['mean_score'], best['std_score'])} over {folds} folds; test "
                f"{result.scoring} {test['score']:.4f} on {test['examples']} examples "
                f"({test['source']}).")
    png = plot_scores(result.table, result.grid, result.scoring)
    img = (f'<figure><img id="score-plot" alt="cross-validation {escape(result.scoring)} '
           f'against each hyper-parameter" src="data:image/png;base64,'
           f'{base64.b64encode(png).decode("ascii")}"></figure>'
           '<p class="muted">Each dot is a candidate: the mean score over the folds, the bar '
           '\u00b1 its std. The line joins the best candidate at each value; the star is the '
           'best candidate overall.</p>')
    header = ["rank", *keys, f"{result.scoring} (mean \u00b1 std)",
              *(f"fold {f + 1}" for f in range(folds)), "fit time (s)"]
    rows = [[r["rank"], *(_show(r[k]) for k in keys), _pm(r["mean_score"], r["std_score"]),
             *r["fold_scores"], r["mean_fit_time"]] for r in result.table]
    where = (f"Dask cluster {summary['scheduler']} ({summary['workers']} worker threads)"
             if summary["scheduler"] else f"local processes (n_jobs {summary['n_jobs']})")
    settings = [
        ("data", f"{summary['data']} ({summary['train_examples']} training examples, "
                 f"{summary['task']})"),
        ("test data", f"{test['source']} ({test['examples']} examples)"),
        ("search", f"{summary['search']}, {len(result.table)} candidates \u00d7 {folds} folds"
                   f" = {len(result.table) * folds} fits, then 1 refit"),
        ("score", f"{result.scoring} (folds shuffled with seed {summary['seed']})"),
        ("ran on", where), ("wall time", f"{summary['seconds']:.1f} s"),
        ("test metrics", ", ".join(f"{k} {v:.4g}" for k, v in test["metrics"].items())),
        ("best model", "model.safetensors (refitted on all training data)"),
    ]
    sections = [
        ("plot", "Score against each hyper-parameter", img),
        ("candidates", "Candidates, best first", _table(header, rows, best=0)),
        ("settings", "Search", _table(["", ""], settings)),
    ]
    if notes:
        items = "".join(f"<li>{escape(str(n))}</li>" for n in notes)
        sections.append(("notes", "Notes", f"<ul>{items}</ul>"))
    nav = "".join(f'<a href="#{i}">{escape(h)}</a>' for i, h, _ in sections)
    body = "".join(f'<section id="{i}"><h2>{escape(h)}</h2>{c}</section>' for i, h, c in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}{_EXTRA_CSS}</style></head>\n"
        f'<body><main><h1>{escape(title)}</h1><p class="headline">{escape(headline)}</p>'
        f"<nav>{nav}</nav>\n{body}\n</main></body></html>\n"
    )


def write_search_report(path: str | os.PathLike[str], result: Any,
                        summary: Mapping[str, Any], notes: Sequence[str] = ()) -> Path:
    """Write the search page atomically.

    Parameters
    ----------
    path : str or path-like
        Destination file (``search.html``).
    result : deepstep.search.SearchResult
        The finished search (its grid, ranked table and scoring).
    summary : mapping
        What ``results.json`` holds (:func:`deepstep.search_run.run_search`): ``data``,
        ``task``, ``search``, ``seed``, ``scheduler``, ``workers``, ``n_jobs``, ``seconds``,
        ``train_examples`` and ``test_score`` (``score``, ``examples``, ``source``,
        ``metrics``).
    notes : list of str
        Where the data came from, shown at the end.

    Returns
    -------
    Path
        ``path``.
    """
    return atomic_write(path, search_page(result, summary, notes).encode("utf-8"))
