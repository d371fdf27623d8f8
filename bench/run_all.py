"""Run every benchmark in one invocation and write bench/results/ (JSON, markdown, PNG).

    python bench/run_all.py            # the full runs (about 15 minutes on 2 cores)
    python bench/run_all.py --quick    # a smoke run, under a minute
    python bench/run_all.py --deepstep-only --quick   # no peers (what the tests run)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cat  # noqa: E402
import bench_mnist  # noqa: E402
import bench_scaling  # noqa: E402
from common import RESULTS, machine  # noqa: E402


def run(quick: bool = False, peers: bool = True) -> str:
    parts = [bench_cat.run(quick, peers)["table"], bench_mnist.run(quick, peers)["table"],
             bench_scaling.run(quick)["table"]]
    m = machine()
    head = (f"Measured {m['date']} on {m['cpus']} cores ({m['processor']}), {m['threads']} "
            f"threads for every contender; Python {m['python']}, NumPy {m['numpy']} "
            f"({', '.join(m['blas'])}), PyTorch {m['torch']} CPU, scikit-learn "
            f"{m['sklearn']}. Reproduce with `make bench` (or `python bench/run_all.py`).\n\n")
    text = head + "\n".join(parts)
    if not quick:
        (RESULTS / "README-table.md").write_text(text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few iterations, one run each")
    ap.add_argument("--deepstep-only", action="store_true", help="skip PyTorch and scikit-learn")
    args = ap.parse_args()
    print(run(args.quick, not args.deepstep_only))


if __name__ == "__main__":
    main()
