"""What ``deepstep search`` does: load the data, search the grid (:mod:`deepstep.search`),
score the refitted best model on test data, and write the output folder.

The folder is built in a hidden temporary sibling and renamed into place when complete, so
it holds a whole search or nothing: ``results.csv`` and ``results.json`` (every candidate,
ranked), ``model.safetensors`` (the best candidate refitted on all training data) and
``search.html`` (the report, :mod:`deepstep.report.search`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data.inputs import data_meta
from .data.splits import TEST_FRACTION, load_splits
from .files import atomic_write, jsonable, read_toml, write_json
from .search import GRID_KEYS, SearchResult, check_grid, connect, grid_size, search, show
from .training_run import MODEL_FILE

Log = Callable[[str], None]

#: The files of a search folder.
RESULTS_CSV, RESULTS_JSON, REPORT_FILE = "results.csv", "results.json", "search.html"


@dataclass
class SearchSettings:
    """The settings of one search (the flags of ``deepstep search``, and its TOML keys).

    ``grid`` maps grid keys to candidate lists (:func:`deepstep.search.check_grid`);
    ``test`` None holds out a stratified part of ``data``; ``random`` None searches the
    whole grid; ``scheduler`` None runs the fits in ``n_jobs`` local processes.
    """

    data: str
    out: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    test: str | None = None
    random: int | None = None
    cv: int = 5
    n_jobs: int = -1
    scheduler: str | None = None
    seed: int = 0
    overwrite: bool = False


#: The keys of a ``--config`` TOML file (the flag names; "-" or "_").
CONFIG_KEYS = ("data", "test", "grid", "random", "cv", "n_jobs", "scheduler", "seed", "out",
               "overwrite")


def _int(low: int, what: str) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"expected {what}, got {value!r}")
        return value

    return parse


def _n_jobs(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ValueError(f"expected a number of processes (1, 2, ... or -1 for all cores), "
                         f"got {value!r}")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


_CONFIG_PARSERS: dict[str, Callable[[Any], Any]] = {
    "data": _string, "test": _string, "grid": check_grid,
    "random": _int(1, "a number of candidates >= 1"), "cv": _int(2, "a number of folds >= 2"),
    "n_jobs": _n_jobs, "scheduler": _string, "seed": _int(0, "a seed, a whole number >= 0"),
    "out": _string, "overwrite": _bool,
}

#: Parsers of the flags given as text (the command line); the same checks as the TOML file's.
FLAG_PARSERS: dict[str, Callable[[str], Any]] = {
    "random": lambda t: _CONFIG_PARSERS["random"](_whole(t)),
    "cv": lambda t: _CONFIG_PARSERS["cv"](_whole(t)),
    "n_jobs": lambda t: _n_jobs(_whole(t)),
    "seed": lambda t: _CONFIG_PARSERS["seed"](_whole(t)),
}


def _whole(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    r"""Read search settings from a TOML file: :data:`CONFIG_KEYS`, the grid as a table of
    lists.

    Raises a ValueError naming the file and the key for an unknown key or a bad value.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d, "search.toml")
    ...     _ = p.write_text('data = "iris"\ncv = 3\n[grid]\nlayers = [[8], [16, 8]]\n')
    ...     read_config(p)
    {'data': 'iris', 'cv': 3, 'grid': {'layers': [(8,), (16, 8)]}}
    """
    path = Path(path)
    raw = read_toml(path)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in _CONFIG_PARSERS:
            raise ValueError(f"{path}: unknown key {key!r}; known keys: {', '.join(CONFIG_KEYS)}"
                             f" (the grid goes in a [grid] table)")
        if name == "grid" and not isinstance(value, dict):
            raise ValueError(f"{path}: grid must be a table of lists, e.g. [grid] then "
                             f"lr = [1e-3, 3e-3]; grid keys: {', '.join(GRID_KEYS)}")
        try:
            out[name] = _CONFIG_PARSERS[name](value)
        except ValueError as e:
            raise ValueError(f"{path}: {key}: {e}") from None
    return out


def resolve(flags: Mapping[str, Any], config: Mapping[str, Any] | None = None
            ) -> SearchSettings:
    """Settings from the defaults < the config file < the flags (None: not given).

    The grids merge key by key: a flag's grid key replaces that key of the file's grid.
    """
    merged: dict[str, Any] = {}
    for layer in (config or {}, flags):
        for key, value in layer.items():
            if key == "grid":
                merged["grid"] = {**merged.get("grid", {}), **(value or {})}
            elif value is not None and key in _CONFIG_PARSERS:
                merged[key] = value
    for key in ("data", "out"):
        if key not in merged:
            raise ValueError(f"give --{key} (or {key} = ... in the --config file)")
    if not merged.get("grid"):
        raise ValueError(f"give --grid \"KEY=V1;V2 ...\" (or a [grid] table in the --config "
                         f"file); grid keys: {', '.join(GRID_KEYS)}")
    settings = SearchSettings(**merged)
    settings.grid = check_grid(settings.grid)
    if settings.random is not None and settings.random > grid_size(settings.grid):
        raise ValueError(f"--random {settings.random} is more than the "
                         f"{grid_size(settings.grid)} candidates of the grid")
    return settings


# --- the output folder ---------------------------------------------------------------------------


def check_out(out: str | os.PathLike[str], overwrite: bool) -> Path:
    """``out`` as a Path, after checking that a search may write there (nothing is written).

    A new or empty folder is fine. ``overwrite`` replaces only a previous search's folder
    (one holding ``results.json``), never another folder with files in it, nor the current
    folder or one above it: replacing is a rename and a delete of the old folder.

    Raises
    ------
    ValueError
        ``out`` is not empty and ``overwrite`` is off, or it is not a search folder.
    NotADirectoryError
        ``out`` is a file.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"--out {path} is a file; give a folder")
    if not path.is_dir() or not any(path.iterdir()):
        return path
    if not overwrite:
        raise ValueError(f"--out {path} exists and is not empty: give --overwrite to replace "
                         "it, or another --out")
    here = Path.cwd().resolve()
    if path.resolve() == here or path.resolve() in here.parents:
        raise ValueError(f"--out {path} is the current folder or holds it; give a new folder")
    if not (path / RESULTS_JSON).is_file():
        raise ValueError(f"--out {path} holds files but no {RESULTS_JSON}, so it is not a "
                         "search folder; --overwrite replaces only those: give another --out")
    return path


def _publish(tmp: Path, out: Path) -> None:
    """Rename the complete folder ``tmp`` to ``out``, replacing what is there."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{secrets.token_hex(4)}")
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def results_csv(result: SearchResult) -> str:
    """The ranked table as CSV: rank, the grid keys, the score per fold, mean and std, fit
    time."""
    keys = list(result.grid)
    folds = len(result.table[0]["fold_scores"]) if result.table else 0
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", *keys, f"mean_{result.scoring}", f"std_{result.scoring}",
                *(f"fold{f}_{result.scoring}" for f in range(folds)),
                "mean_fit_time", "std_fit_time"])
    for row in result.table:
        w.writerow([row["rank"], *(show(row[k]) for k in keys), repr(row["mean_score"]),
                    repr(row["std_score"]), *map(repr, row["fold_scores"]),
                    f"{row['mean_fit_time']:.4f}", f"{row['std_fit_time']:.4f}"])
    return buf.getvalue()


@dataclass
class SearchRun:
    """A finished ``deepstep search``: the search, the test score and what was written."""

    result: SearchResult
    test_score: float
    test_metrics: dict[str, float]
    test_source: str
    notes: list[str]
    out: Path
    summary: dict[str, Any]


def run_search(settings: SearchSettings, log: Log) -> SearchRun:
    """The whole ``deepstep search``: returns what was found and where it was written.

    Checks ``out`` and connects to the scheduler first, so a mistake there fails in seconds,
    before any data is read.
    """
    out = check_out(settings.out, settings.overwrite)
    with contextlib.ExitStack() as stack:
        client = None
        if settings.scheduler:
            client = connect(settings.scheduler)
            stack.callback(client.close)
        splits = load_splits({"data": settings.data, "test": settings.test,
                              "seed": settings.seed, "validation": 0.0})
        train, test = splits.train, splits.test
        notes = [n for n in splits.notes if not n.startswith("training on")]
        if settings.test is None and train.task == "regression":  # Dataset.split: no strata
            notes = [n.replace("a stratified", "a random") for n in notes]
        for note in notes:
            log(note)
        log(_plan(settings, train.task))
        result = search(train.X.T, train.y, settings.grid, task=train.task,
                        random=settings.random, cv=settings.cv, n_jobs=settings.n_jobs,
                        scheduler=client, seed=settings.seed)
    if result.workers is not None:
        log(f"ran on {result.workers} worker threads of {settings.scheduler}")
    notes += [f"failed: {f} (the candidate scores NaN)" for f in result.failures]
    best = result.best_estimator
    test_score = float(best.score(test.X.T, test.y))
    net = best.network_
    test_metrics = {k: float(v) for k, v in net.evaluate(test.X, test.y).items()}
    split = "a random" if train.task == "regression" else "a stratified"
    test_source = (f"--test {settings.test}" if settings.test else f"{split} "
                   f"{TEST_FRACTION:.0%} of {settings.data} held out with seed {settings.seed}")
    notes.append(f"the best candidate was refitted on all {train.m} training examples; its "
                 f"test {result.scoring} is {test_score:.4f} on {test.m} examples "
                 f"({test_source})")
    summary = {
        "data": settings.data, "test": settings.test, "task": result.task,
        "search": type(result.search).__name__, "scoring": result.scoring, "cv": settings.cv,
        "random": settings.random, "seed": settings.seed, "scheduler": settings.scheduler,
        "n_jobs": settings.n_jobs, "workers": result.workers, "seconds": result.seconds,
        "grid": result.grid, "train_examples": train.m,
        "best": {"params": result.best_params, "mean_score": result.table[0]["mean_score"],
                 "std_score": result.table[0]["std_score"]},
        "test_score": {"score": test_score, "examples": test.m, "source": test_source,
                       "metrics": test_metrics},
        "failures": result.failures, "candidates": result.table,
    }
    net.config_.update(
        data=data_meta(train), metrics={"test": test_metrics}, notes=notes,
        hyperparameters={**{GRID_KEYS[k].param: jsonable(v)
                            for k, v in result.best_params.items()},
                         "search": {"cv": settings.cv, "scoring": result.scoring,
                                    "mean_score": result.table[0]["mean_score"]}})
    _write(out, result, summary, notes)
    return SearchRun(result, test_score, test_metrics, test_source, notes, out, summary)


def _plan(settings: SearchSettings, task: str) -> str:
    """One line: which search, how many fits, where they run."""
    kind = "RandomizedSearchCV" if settings.random else "GridSearchCV"
    n = settings.random or grid_size(settings.grid)
    where = (f"on the Dask cluster at {settings.scheduler}" if settings.scheduler else
             "in this process" if settings.n_jobs == 1 else
             f"in {'all cores' if settings.n_jobs == -1 else settings.n_jobs} local processes")
    return (f"search: {kind}, {n} candidate{'s' * (n != 1)} x {settings.cv} folds = "
            f"{n * settings.cv} fits (then 1 refit) {where}, {task}, seed {settings.seed}")


def _write(out: Path, result: SearchResult, summary: Mapping[str, Any], notes: list[str]
           ) -> None:
    """Write the folder in a temporary sibling, then rename it to ``out``."""
    from .report.search import write_search_report

    tmp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
    tmp.mkdir(parents=True)
    try:
        result.best_estimator.network_.save(tmp / MODEL_FILE)
        atomic_write(tmp / RESULTS_CSV, results_csv(result).encode("utf-8"))
        write_json(tmp / RESULTS_JSON, summary)
        write_search_report(tmp / REPORT_FILE, result, summary, notes)
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
