"""Hyper-parameter search: scikit-learn's GridSearchCV / RandomizedSearchCV over
:class:`~deepstep.sklearn.DeepstepClassifier` / :class:`~deepstep.sklearn.DeepstepRegressor`,
the fits run by joblib in local processes or on a Dask cluster.

A grid maps short keys (:data:`GRID_KEYS`: ``layers``, ``lr``, ``l2``, ...) to lists of
values; each key is one estimator parameter, and every parameter not in the grid stays None,
"the default recipe's value" (:mod:`deepstep.recipe`). Every candidate is fitted with the same
``random_state`` on folds drawn with the same seed, so a search gives the same scores wherever
its fits run.

Data here is in scikit-learn's layout, X of shape (m, n_x) (rows are examples), because the
search object is scikit-learn's; the estimators transpose it once at their boundary.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> X, y = load_iris(return_X_y=True)
>>> result = search(X, y, "layers=8 lr=1e-2;3e-2 epochs=30", cv=3, n_jobs=1)
>>> result.scoring, len(result.table), result.best_params["layers"]
('accuracy', 2, (8,))
>>> result.table[0]["mean_score"] >= result.table[1]["mean_score"]
True
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import re
import socket
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import engine
from .data import MODES
from .optim import OPTIMIZERS, SCHEDULES

#: Seconds to wait for a Dask scheduler to answer (and, once connected, for a first worker).
CONNECT_TIMEOUT = 5.0

#: What each task is scored by in cross-validation (and on the test data).
SCORING = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}


# --- the grid keys -------------------------------------------------------------------------------


def _number(cast: type, low: float, strict: bool, what: str) -> Callable[[Any], Any]:
    """A parser of finite numbers of type ``cast`` that are >= ``low`` (> when ``strict``),
    from text or numbers (not booleans; ints only from whole numbers)."""

    def parse(value: Any) -> Any:
        x = None
        if isinstance(value, (str, int, float, np.number)) and not isinstance(value, bool):
            with contextlib.suppress(ValueError, OverflowError):
                x = float(value)
        if x is None or not math.isfinite(x) or x < low or (strict and x == low) or (
                cast is int and not x.is_integer()):
            raise ValueError(f"expected {what}, got {value!r}")
        return int(x) if cast is int else x

    return parse


_positive_int = _number(int, 1, False, "a whole number >= 1")
_nonneg = _number(float, 0.0, False, "a finite number >= 0")
_positive = _number(float, 0.0, True, "a finite number > 0")


def _fraction(value: Any) -> float:
    x = _nonneg(value)
    if x >= 1:
        raise ValueError(f"expected a fraction in [0, 1), got {value!r}")
    return x


def _layers(value: Any) -> tuple[int, ...]:
    """"128,64", [128, 64] or 64 -> (128, 64) / (64,); "none" -> () (no hidden layer)."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none"):
            return ()
        parts: Sequence[Any] = text.split(",")
    elif isinstance(value, (list, tuple)):
        parts = value
    else:
        parts = [value]
    try:
        return tuple(_positive_int(p.strip() if isinstance(p, str) else p) for p in parts)
    except ValueError:
        raise ValueError(f"expected hidden layer sizes like 128,64 (whole numbers >= 1), got "
                         f"{value!r}") from None


def _batch(value: Any) -> int | str | None:
    """A mini-batch size, "full" (None: full batch) or "auto" (the recipe's)."""
    if isinstance(value, str) and value.strip().lower() in ("full", "none", "auto"):
        return "auto" if value.strip().lower() == "auto" else None
    try:
        return _positive_int(value)
    except ValueError:
        raise ValueError(f"expected a batch size >= 1, 'full' or 'auto', got {value!r}") from None


def _activations(value: Any) -> str | tuple[str, ...]:
    """One hidden activation, or one per hidden layer ("relu,tanh" or a list)."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names or not all(
            isinstance(n, str) for n in names):
        raise ValueError(f"expected an activation name, got {value!r}")
    for name in names:
        engine.get_activation(name)  # a ValueError listing the names when unknown
    out = [n.strip().lower() for n in names]
    return out[0] if len(out) == 1 else tuple(out)


def _choice(options: Sequence[str], what: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in options:
            raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(options)}")
        return value.strip().lower()

    return parse


@dataclass(frozen=True)
class GridKey:
    """A grid key: the estimator parameter it sets and the parser of one of its values."""

    param: str
    parse: Callable[[Any], Any]
    help: str


#: The keys a grid may use, in the order tables and plots show them.
GRID_KEYS: dict[str, GridKey] = {
    "layers": GridKey("hidden_layer_sizes", _layers, "hidden layer sizes, e.g. 128,64"),
    "lr": GridKey("learning_rate", _positive, "learning rate"),
    "l2": GridKey("l2", _nonneg, "L2 strength lambda"),
    "dropout": GridKey("dropout", _fraction, "probability of dropping a hidden unit"),
    "batch": GridKey("batch_size", _batch, "mini-batch size, full or auto"),
    "epochs": GridKey("epochs", _positive_int, "passes over the training data"),
    "optimizer": GridKey("optimizer", _choice(list(OPTIMIZERS), "optimizer"),
                         ", ".join(OPTIMIZERS)),
    "hidden": GridKey("hidden", _activations, "hidden activation, or one per layer: tanh,relu"),
    "schedule": GridKey("schedule", _choice(list(SCHEDULES), "schedule"),
                        "learning-rate schedule: " + ", ".join(SCHEDULES)),
    "init": GridKey("init", _choice(list(engine.INITIALIZERS), "init"),
                    "weight initialiser: " + ", ".join(engine.INITIALIZERS)),
    "preprocess": GridKey("preprocess", _choice(list(MODES), "preprocess"),
                          "input preprocessing: " + ", ".join(MODES)),
    "clip": GridKey("clip_norm", _positive, "clip the gradients to this global L2 norm"),
}

#: Other spellings of the keys (the estimator's parameter names among them).
ALIASES = {"learning_rate": "lr", "batch_size": "batch", "hidden_layer_sizes": "layers",
           "activation": "hidden", "clip_norm": "clip"}


def grid_key(name: str) -> str:
    """The grid key ``name`` stands for; a ValueError listing the known keys otherwise.

    Examples
    --------
    >>> grid_key("learning-rate")
    'lr'
    """
    key = str(name).strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in GRID_KEYS:
        raise ValueError(f"unknown grid key {name!r}; known keys: {', '.join(GRID_KEYS)}")
    return key


def check_grid(grid: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Validate a grid given as a mapping: keys in :data:`GRID_KEYS` (or :data:`ALIASES`),
    each with a non-empty list of distinct values (a single value counts as a list of one).

    Each list holds the candidates of its key, so ``{"layers": [64, 128]}`` is two networks of
    one hidden layer each, and ``{"layers": [[128, 64]]}`` one network of two. Values may be
    typed (``{"layers": [(64,), (128, 64)], "lr": [1e-3]}``, a TOML table) or text as on the
    command line (``"128,64"``); the result holds the parsed values, keys in
    :data:`GRID_KEYS` order.

    Examples
    --------
    >>> check_grid({"lr": [1e-3, "3e-3"], "layers": [[64], "128,64"], "batch": "full"})
    {'layers': [(64,), (128, 64)], 'lr': [0.001, 0.003], 'batch': [None]}
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"the grid is empty; give KEY=V1;V2 entries with keys from: "
                         f"{', '.join(GRID_KEYS)}")
    out: dict[str, list[Any]] = {}
    for name, values in grid.items():
        key = grid_key(name)
        if key in out:
            raise ValueError(f"grid key {key!r} is given twice")
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values:
            raise ValueError(f"grid key {key!r} has no values")
        parsed = []
        for v in values:
            try:
                parsed.append(GRID_KEYS[key].parse(v))
            except ValueError as e:
                raise ValueError(f"grid key {key!r}: {e}") from None
        if len(set(map(repr, parsed))) != len(parsed):
            raise ValueError(f"grid key {key!r} repeats a value: {values!r}")
        out[key] = parsed
    return {k: out[k] for k in GRID_KEYS if k in out}


def parse_grid(text: str | Sequence[str]) -> dict[str, list[Any]]:
    """Read a grid written as ``KEY=V1;V2;... KEY=...`` (entries separated by spaces, values by
    ";", layer sizes by ","); several strings are joined.

    Raises a ValueError naming the entry for a missing "=", and listing the known keys for an
    unknown key.

    Examples
    --------
    >>> parse_grid("layers=64;128,64 lr=1e-3;3e-3 l2=0;1e-4")
    {'layers': [(64,), (128, 64)], 'lr': [0.001, 0.003], 'l2': [0.0, 0.0001]}
    """
    texts = [text] if isinstance(text, str) else list(text)
    raw: dict[str, list[str]] = {}
    for entry in " ".join(texts).split():
        name, eq, values = entry.partition("=")
        if not eq or not name:
            raise ValueError(f"grid entry {entry!r} is not KEY=V1;V2 (e.g. lr=1e-3;3e-3); "
                             f"known keys: {', '.join(GRID_KEYS)}")
        key = grid_key(name)
        if key in raw:
            raise ValueError(f"grid key {key!r} is given twice")
        raw[key] = values.split(";")
        if raw[key] == [""]:
            raise ValueError(f"grid key {key!r} has no values (write {key}=V1;V2)")
    return check_grid(raw)


def param_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The grid with estimator parameter names, as scikit-learn's searches take it.

    Examples
    --------
    >>> param_grid({"layers": [(64,)], "lr": [0.001]})
    {'hidden_layer_sizes': [(64,)], 'learning_rate': [0.001]}
    """
    return {GRID_KEYS[k].param: list(v) for k, v in grid.items()}


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    """The number of candidates of the full grid (the product of the list lengths)."""
    return math.prod(len(v) for v in grid.values())


def show(value: Any) -> str:
    """A grid value as it is written on the command line.

    Examples
    --------
    >>> show((128, 64)), show(0.0003), show(None), show(("relu", "tanh"))
    ('128,64', '0.0003', 'full', 'relu,tanh')
    """
    if value is None:
        return "full"
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- the cluster ---------------------------------------------------------------------------------


def _refused(address: str, timeout: float) -> str | None:
    """Why a TCP connection to ``address`` fails at once (refused: nothing listens; an
    unknown host), or None (it connects, times out, or is not plain TCP: left to
    distributed, which retries until its timeout)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme != "tcp":
        return None
    host, port = parse_host_port(location)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except ConnectionRefusedError:
        return f"connection refused: nothing listens on port {port} of {host}"
    except socket.gaierror:
        return f"unknown host {host!r}"
    except OSError:
        return None
    return None


async def _identity(address: str, timeout: float) -> dict[str, Any]:
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        await comm.close()


def _run_async(make: Callable[[], Any], timeout: float) -> Any:
    """Run the coroutine ``make()`` to completion within ``timeout`` seconds, in a thread of
    its own when this thread already runs an event loop (a notebook)."""
    def go() -> Any:
        return asyncio.run(asyncio.wait_for(make(), timeout))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return go()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(go).result()


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A ``distributed.Client`` of the Dask scheduler at ``address`` with at least one worker.

    The scheduler is first asked who it is, over one connection that gives up after
    ``timeout`` seconds, so an unreachable address, or a server that is not a Dask scheduler,
    fails fast with one message and leaves no half-made client behind.

    Raises
    ------
    ImportError
        dask.distributed is not installed (``pip install 'deepstep[cluster]'``).
    ConnectionError
        Nothing answers like a scheduler at ``address`` within ``timeout`` seconds, or it has
        no worker after another ``timeout`` seconds.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("a search on a Dask cluster needs dask.distributed: pip install "
                          "'deepstep[cluster]'") from None
    hint = ("start one with `dask scheduler` and give its address, e.g. "
            "--scheduler tcp://host:8786")
    try:
        refused = _refused(address, timeout)
        if refused:
            raise ConnectionRefusedError(refused)
        identity = _run_async(lambda: _identity(address, timeout), timeout)
    except (OSError, TimeoutError) as e:  # refused, unreachable, silent
        reason = " ".join(str(e).split()) or f"no answer after {timeout:g} s"
        raise ConnectionError(f"cannot reach a Dask scheduler at {address} ({reason}); "
                              f"{hint}") from None
    except ValueError as e:  # distributed's parse of the address
        raise ConnectionError(f"bad scheduler address {address!r} ({e}); give it as "
                              "tcp://host:port, e.g. tcp://host:8786") from None
    except Exception:  # garbage from another kind of server (HTTP, ...)
        identity = None
    if not isinstance(identity, dict) or identity.get("type") != "Scheduler":
        raise ConnectionError(f"{address} answers but is not a Dask scheduler; {hint}")
    client = Client(address, timeout=timeout, set_as_default=False)
    try:
        client.wait_for_workers(1, timeout=timeout)
    except Exception:
        client.close()
        raise ConnectionError(f"the Dask scheduler at {address} has no worker after "
                              f"{timeout:g} s; start workers with `dask worker {address}` on "
                              "each machine") from None
    return client


@contextlib.contextmanager
def _backend(scheduler: Any, timeout: float) -> Iterator[Any]:
    """Run the joblib calls inside on the Dask cluster ``scheduler`` (an address or a
    ``distributed.Client``); with None, leave joblib's default (local processes)."""
    if scheduler is None:
        yield None
        return
    import joblib

    own = isinstance(scheduler, str)
    client = connect(scheduler, timeout) if own else scheduler
    try:
        with joblib.parallel_backend("dask", client=client):
            yield client
    finally:
        if own:
            client.close()


# --- the search ----------------------------------------------------------------------------------


@dataclass
class SearchResult:
    """A fitted search and its candidates ranked.

    Attributes
    ----------
    search : GridSearchCV or RandomizedSearchCV
        Fitted; ``best_estimator_`` is refitted on all the data.
    grid : dict of str to list
        The grid searched (grid keys, parsed values).
    table : list of dict
        One row per candidate, best first (:func:`ranked`).
    task : str
        "binary", "multiclass" or "regression".
    scoring : str
        "accuracy" or "r2".
    seconds : float
        Wall time of the whole search (all fits and the refit).
    workers : int or None
        Worker threads of the Dask cluster, None when local.
    failures : list of str
        The fits that failed, by kind ("3 fits: NonFiniteError: ..."); their candidates score
        NaN and rank last (a :class:`SearchWarning` says so too).
    """

    search: Any
    grid: dict[str, list[Any]]
    table: list[dict[str, Any]]
    task: str
    scoring: str
    seconds: float
    workers: int | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def best_params(self) -> dict[str, Any]:
        """The best candidate's values, by grid key."""
        return {k: self.table[0][k] for k in self.grid}

    @property
    def best_estimator(self) -> Any:
        """The best candidate refitted on all the data."""
        return self.search.best_estimator_


def estimator_for(task: str, seed: int) -> Any:
    """A DeepstepClassifier (binary, multiclass) or DeepstepRegressor with every
    hyper-parameter left to the recipe and ``random_state=seed``."""
    from .sklearn import DeepstepClassifier, DeepstepRegressor

    if task not in SCORING:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(SCORING)}")
    est = DeepstepRegressor if task == "regression" else DeepstepClassifier
    return est(random_state=seed)


def folds(task: str, cv: int, seed: int) -> Any:
    """The cross-validation splitter: shuffled K folds (stratified for classes) with ``seed``."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"cv must be a whole number of folds >= 2, got {cv!r}")
    split = KFold if task == "regression" else StratifiedKFold
    return split(n_splits=int(cv), shuffle=True, random_state=seed)


def search(
    X: NDArray,
    y: NDArray,
    grid: Mapping[str, Any],
    *,
    task: str | None = None,
    random: int | None = None,
    cv: int = 5,
    n_jobs: int | None = -1,
    scheduler: Any = None,
    seed: int = 0,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> SearchResult:
    """Search the grid by K-fold cross-validation and refit the best candidate on all data.

    Parameters
    ----------
    X : ndarray of shape (m, n_x)
        Training inputs, one example per row (scikit-learn's layout).
    y : ndarray of shape (m,)
        Labels (classification) or targets (regression).
    grid : mapping of str to list
        Grid keys (:data:`GRID_KEYS`) to candidate values, typed or as text
        (:func:`check_grid`); or a string for :func:`parse_grid`.
    task : {"binary", "multiclass", "regression"}, optional
        Chooses the estimator and the score (accuracy, or R^2 for regression); by default
        :func:`deepstep.targets.detect_task` of ``y``.
    random : int, optional
        Sample this many candidates from the grid (RandomizedSearchCV, without replacement,
        seeded) instead of trying all of them (GridSearchCV).
    cv : int
        Number of folds (stratified for classification), shuffled with ``seed``.
    n_jobs : int or None
        Local processes running the fits (joblib; -1 all cores, 1 this process). Ignored on a
        cluster, where every worker thread takes fits.
    scheduler : str or distributed.Client, optional
        Run the fits on this Dask cluster ("tcp://host:8786", or a connected client).
    seed : int
        ``random_state`` of every estimator (each fit is deterministic), of the folds and of
        the sampling of ``random``.
    connect_timeout : float
        Seconds to wait for the scheduler (and then for a first worker).

    Returns
    -------
    SearchResult
    """
    import time

    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    from .targets import detect_task

    grid = parse_grid(grid) if isinstance(grid, str) else check_grid(grid)
    task = detect_task(y).task if task is None else task
    scoring = SCORING.get(task, "")
    estimator = estimator_for(task, seed)
    splitter = folds(task, cv, seed)
    common = {"scoring": scoring, "cv": splitter, "n_jobs": n_jobs, "refit": True,
              "error_score": np.nan}
    if random is None:
        searcher: Any = GridSearchCV(estimator, param_grid(grid), **common)
    else:
        if isinstance(random, bool) or not isinstance(random, (int, np.integer)) or random < 1:
            raise ValueError(f"random must be a number of candidates >= 1, got {random!r}")
        if random > grid_size(grid):
            raise ValueError(f"random {random} is more than the {grid_size(grid)} candidates "
                             "of the grid; give fewer, or search the whole grid")
        searcher = RandomizedSearchCV(estimator, param_grid(grid), n_iter=int(random),
                                      random_state=seed, **common)
    start = time.perf_counter()
    with _backend(scheduler, connect_timeout) as client:
        workers = None if client is None else sum(client.ncores().values())
        failures = _fit(searcher, X, y)
    seconds = time.perf_counter() - start
    table = ranked(searcher, grid)
    if failures:
        n = sum(len(r["fold_scores"]) for r in table)
        reasons = "; ".join(reason for _, reason in failures)
        warnings.warn(f"{sum(c for c, _ in failures)} of {n} fits failed; their candidates "
                      f"score NaN and rank last: {reasons}", SearchWarning, stacklevel=2)
    return SearchResult(searcher, grid, table, task, scoring, seconds, workers,
                        [f"{c} fit{'s' * (c != 1)}: {reason}" for c, reason in failures])


class SearchWarning(UserWarning):
    """Some fits of a search failed (their candidates score NaN)."""


def _fit(searcher: Any, X: NDArray, y: NDArray) -> list[tuple[int, str]]:
    """Fit the search; returns its failed fits as (count, "Error: message") pairs instead of
    scikit-learn's warnings with tracebacks, and raises one ValueError when every fit
    failed."""
    from sklearn.exceptions import FitFailedWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            searcher.fit(X, y)
        except ValueError as e:
            if not str(e).strip().startswith("All the"):
                raise
            reasons = "; ".join(f"{c} x {r}" for c, r in _fit_errors(str(e)))
            raise ValueError(f"every fit of the search failed: {reasons}") from None
    failures = []
    for w in caught:
        if issubclass(w.category, FitFailedWarning):
            failures += _fit_errors(str(w.message))
        elif "test scores are non-finite" not in str(w.message):  # said by the failures
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return failures


def _fit_errors(text: str) -> list[tuple[int, str]]:
    r"""(count, last line of the traceback without the module path) per kind of failure in
    scikit-learn's report of failed fits.

    Examples
    --------
    >>> _fit_errors("2 fits failed with the following error:\nTraceback (most recent call "
    ...             "last):\n  File x\nmod.sub.NonFiniteError: the loss became nan\n")
    [(2, 'NonFiniteError: the loss became nan')]
    """
    out = []
    pattern = r"(\d+) fits? failed with the following error:\n(.*?)(?=\n-{8,}|\Z)"
    for m in re.finditer(pattern, text, re.S):
        lines = [line for line in m.group(2).strip().splitlines() if line.strip()]
        last = re.sub(r"^[\w.]+\.(\w+):", r"\1:", lines[-1].strip()) if lines else "unknown"
        out.append((int(m.group(1)), last))
    return out


def ranked(searcher: Any, grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The candidates of a fitted search, best first (ties in the order tried).

    Each row: ``rank``, the value of every grid key, ``mean_score`` and ``std_score`` over the
    folds (population std, as scikit-learn), ``fold_scores``, ``mean_fit_time`` and
    ``std_fit_time`` (seconds per fit), ``candidate`` (its index in ``cv_results_``).
    """
    r = searcher.cv_results_
    n_folds = searcher.n_splits_
    rows = []
    for i in range(len(r["params"])):
        params = r["params"][i]
        rows.append({
            "rank": int(r["rank_test_score"][i]),
            **{k: params[GRID_KEYS[k].param] for k in grid},
            "mean_score": float(r["mean_test_score"][i]),
            "std_score": float(r["std_test_score"][i]),
            "fold_scores": [float(r[f"split{f}_test_score"][i]) for f in range(n_folds)],
            "mean_fit_time": float(r["mean_fit_time"][i]),
            "std_fit_time": float(r["std_fit_time"][i]),
            "candidate": i,
        })
    return sorted(rows, key=lambda row: (row["rank"], row["candidate"]))


def format_table(table: Sequence[Mapping[str, Any]], keys: Sequence[str], scoring: str) -> str:
    """The ranked table as text: rank, one column per grid key, score mean ± std, fit time.

    Examples
    --------
    >>> row = {"rank": 1, "lr": 0.001, "mean_score": 0.95, "std_score": 0.01,
    ...        "mean_fit_time": 1.5}
    >>> print(format_table([row], ["lr"], "accuracy"))
    rank  lr     accuracy (mean ± std)  fit time (s)
    1     0.001  0.9500 ± 0.0100        1.50
    """
    header = ["rank", *keys, f"{scoring} (mean ± std)", "fit time (s)"]
    rows = [header]
    for row in table:
        score = "failed" if math.isnan(row["mean_score"]) else \
            f"{row['mean_score']:.4f} ± {row['std_score']:.4f}"
        rows.append([str(row["rank"]), *(show(row[k]) for k in keys), score,
                     f"{row['mean_fit_time']:.2f}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)
