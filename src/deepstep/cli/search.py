"""``deepstep search``: cross-validated grid or random search over the hyper-parameters, on
this machine or a Dask cluster; print the ranked candidates and where the results went."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from .common import EXIT_USAGE, add_command, typed


def _grid(text: str) -> dict[str, list[Any]]:
    from ..search import parse_grid

    return parse_grid(text)


def _flag(name: str) -> Any:
    from ..search_run import FLAG_PARSERS

    return typed(FLAG_PARSERS[name], name.replace("_", "-"))


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``search`` and its flags."""
    from ..search import GRID_KEYS

    about = textwrap.fill(
        "Grid keys: " + ", ".join(f"{k} ({g.help})" for k, g in GRID_KEYS.items()) + ". "
        "Values are separated by \";\", layer sizes by \",\". Every setting not in the "
        "grid is the default recipe's. The fits (candidates "
        "x folds) run in local processes, or on the workers of a Dask cluster with "
        "--scheduler (pip install 'deepstep[cluster]'; start `dask scheduler`, then `dask "
        "worker tcp://host:8786` on each machine). --out receives results.csv, results.json, "
        "model.safetensors (the best candidate refitted on all training data) and "
        "search.html.", width=90)
    p = add_command(subs, "search", "Search hyper-parameters by cross-validation (on this "
                    "machine or a Dask cluster).", f"""\
  deepstep search --data digits --grid "layers=64;128,64 lr=1e-3;3e-3 l2=0;1e-4" --out s1
  deepstep search --data digits --grid "lr=1e-4;3e-4;1e-3;3e-3 l2=0;1e-4;1e-2" --random 5 \\
      --cv 3 --out s2
  deepstep search --config search.toml --scheduler tcp://host:8786 --out s3

{about}""")
    a = p.add_argument
    a("--data", metavar="SRC", help="training data: a file, folder or bundled name, as for "
      "train (required, here or in --config)")
    a("--test", metavar="SRC", help="test data for the best model (default: a stratified 20%% "
      "of --data held out with --seed)")
    a("--grid", metavar="GRID", action="append", type=typed(_grid, "grid"),
      help="KEY=V1;V2 entries separated by spaces, e.g. \"layers=64;128,64 lr=1e-3;3e-3\" "
      "(may be repeated; a key here replaces the same key of --config)")
    a("--random", metavar="N", type=_flag("random"),
      help="sample N candidates of the grid (RandomizedSearchCV) (default: all of them)")
    a("--cv", metavar="K", type=_flag("cv"), help="cross-validation folds (default: 5)")
    a("--n-jobs", metavar="K", type=_flag("n_jobs"),
      help="local processes running the fits; -1 all cores, 1 this process (default: -1; "
      "ignored with --scheduler)")
    a("--scheduler", metavar="ADDRESS",
      help="run the fits on the Dask cluster with this scheduler, e.g. tcp://host:8786")
    a("--seed", metavar="S", type=_flag("seed"),
      help="seed of every fit, of the folds and of --random (default: 0)")
    a("--config", metavar="TOML", help="read these settings from a TOML file (same names; "
      "the grid as a [grid] table of lists)")
    a("--out", metavar="DIR", help="output folder; must not exist or be empty (required, here "
      "or in --config)")
    a("--overwrite", action="store_true", default=None,
      help="replace --out when it holds a previous search (default: refuse a folder that "
      "is not empty)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Search with defaults < ``--config`` < flags; print the table and the folder."""
    from ..search import format_table
    from ..search_run import read_config, resolve, run_search

    flags = {k: v for k, v in vars(args).items() if k not in ("grid", "config", "run", "debug")}
    grid: dict[str, list[Any]] = {}
    for part in args.grid or ():
        twice = set(grid) & set(part)
        if twice:
            raise ValueError(f"grid key {sorted(twice)[0]!r} is given twice in --grid")
        grid.update(part)
    flags["grid"] = grid
    config = read_config(args.config) if args.config else {}
    settings = resolve(flags, config)
    try:
        done = run_search(settings, print)
    except (ConnectionError, ImportError) as e:  # no cluster, or no dask: one line, exit 2
        if getattr(args, "debug", False):
            raise
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    result = done.result
    print(format_table(result.table, list(result.grid), result.scoring))
    best = result.table[0]
    print(f"best: {', '.join(f'{k}={v}' for k, v in _shown(result.best_params).items())}: "
          f"cv {result.scoring} {best['mean_score']:.4f} ± {best['std_score']:.4f}; test "
          f"{result.scoring} {done.test_score:.4f} ({done.test_source})")
    print(f"search took {result.seconds:.1f} s; saved to {done.out}: results.csv, "
          "results.json, model.safetensors, search.html")
    return 0


def _shown(params: dict[str, Any]) -> dict[str, str]:
    from ..search import show

    return {k: show(v) for k, v in params.items()}
