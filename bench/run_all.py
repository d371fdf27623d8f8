"""Run every benchmark in one invocation and write bench/results/ (JSON, markdown, PNG).

    python bench/run_all.py            # the full runs (about 20 minutes on 2 cores); also
                                       # rewrites the results block of README.md
    python bench/run_all.py --quick    # a smoke run, a couple of minutes
    python bench/run_all.py --deepstep-only --quick   # no peers (what the tests run)

Run it on a quiet machine: every contender gets the same threads (``BENCH_THREADS``, default
all cores) and the contenders alternate, but another job on the cores still moves the numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from threadpoolctl import threadpool_limits  # noqa: E402

import bench_cat  # noqa: E402
import bench_mnist  # noqa: E402
import bench_scaling  # noqa: E402
import callback_overhead  # noqa: E402
import profile_step  # noqa: E402
from common import RESULTS, machine, md_table, splice_readme  # noqa: E402

START = "<!-- bench results: written by `make bench` (bench/run_all.py) -->"
END = "<!-- end of bench results -->"


def profile_table(quick: bool) -> str:
    """The itemised step (bench/profile_step.py), one BLAS thread so CPU time is the step's."""
    with threadpool_limits(limits=1):
        parts = profile_step.run(quick, threads_=1)
    names = list(parts)
    rows = [[p] + [f"{parts[n][p]:.0f}" for n in names] for p in profile_step.PARTS]
    rows.append(["fit, per step"] + [f"{parts[n]['fit, per step']:.0f}" for n in names])
    rows.append(["fit / products alone"]
                + [f"{parts[n]['fit / products alone']:.2f}" for n in names])
    return ("Where a step of `Network.fit` goes, CPU microseconds per step, 1 thread "
            "(`python bench/profile_step.py`)\n\n"
            + md_table(["part"] + names, rows))


def run(quick: bool = False, peers: bool = True) -> str:
    parts = [bench_cat.run(quick, peers)["table"], bench_mnist.run(quick, peers)["table"],
             profile_table(quick), callback_overhead.run(1 if quick else 3)["table"],
             bench_scaling.run(quick)["table"]]
    m = machine()
    head = (f"Measured {m['date']} on {m['cpus']} cores ({m['processor']}), {m['threads']} "
            f"threads for every contender; Python {m['python']}, NumPy {m['numpy']} "
            f"({', '.join(m['blas'])}), PyTorch {m['torch']} CPU, scikit-learn "
            f"{m['sklearn']}. Reproduce with `make bench` (or `python bench/run_all.py`).\n\n")
    text = head + "\n".join(parts)
    if not quick:
        (RESULTS / "README-table.md").write_text(text)
        splice_readme(text, START, END)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few iterations, one run each")
    ap.add_argument("--deepstep-only", action="store_true", help="skip PyTorch and scikit-learn")
    args = ap.parse_args()
    print(run(args.quick, not args.deepstep_only))


if __name__ == "__main__":
    main()
