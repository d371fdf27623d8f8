"""``deepstep runs``: a table of past training runs, or two runs side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, add_command, with_default

DEFAULT_DIR = "runs"


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``runs`` and its flags."""
    p = add_command(subs, "runs", "List past training runs, or compare two side by side.",
                    """\
  deepstep runs
  deepstep runs experiments/ --sort test.accuracy
  deepstep runs --compare runs/20250101-120000-ab12 runs/20250102-090000-cd34

Each run folder's metrics.json, settings.toml, history.jsonl, versions.json, command.txt and
model file are read when present. Folders without metrics (still training, interrupted, not
a run) are skipped with a note on stderr.""")
    p.add_argument("dir", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                   help=with_default("the folder holding the run folders", DEFAULT_DIR))
    p.add_argument("--sort", metavar="KEY",
                   help=with_default("sort by a metric, best first (test.accuracy, test.loss, "
                                     "validation.r2, ...), or by time, date, data or a setting "
                                     "such as lr", "the folder name, i.e. the date"))
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="two run folders (paths, or names inside DIR): settings and metrics "
                   "side by side, differences marked *")
    p.set_defaults(run=run)
    return p


def _locate(name: str, root: Path) -> Path:
    p = Path(name)
    if p.is_dir() or not (root / name).is_dir():
        return p
    return root / name


def run(args: argparse.Namespace) -> int:
    """Print the table (or the comparison); skipped folders as notes on stderr."""
    from ..runs import compare_runs, read_run, runs_table, scan_runs, sort_runs

    root = Path(args.dir)
    if args.compare:
        if args.sort:
            raise ValueError("--sort orders the table; it has no use with --compare")
        a, b = (_locate(n, root) for n in args.compare)
        for p in (a, b):
            if not p.is_dir():
                raise FileNotFoundError(f"--compare: no run folder {p}")
        recs = []
        for p in (a, b):
            try:
                recs.append(read_run(p))
            except ValueError as e:
                raise ValueError(f"--compare: {p}: {e}") from None
        for r in recs:
            for note in r.notes:
                print(f"note: {r.name}: {note}", file=sys.stderr)
        print(compare_runs(*recs))
        return EXIT_OK
    runs, skipped = scan_runs(root)
    for line in skipped:
        print(f"note: skipped {line}", file=sys.stderr)
    if not runs:
        print(f"no runs in {root}" + (" (see the notes above)" if skipped else ""))
        return EXIT_OK
    if args.sort:
        runs = sort_runs(runs, args.sort)
    print(runs_table(runs, args.sort))
    return EXIT_OK
