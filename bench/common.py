"""Shared helpers for the benchmarks: data, thread pinning, timing, results files.

Every script runs its contenders in one process, alternating (run 1 of each, then run 2 of
each, ...), with the same BLAS thread count for NumPy/scikit-learn (threadpoolctl) and PyTorch
(``torch.set_num_threads``), and reports medians.
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import platform
import statistics
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from deepstep.paths import data_dir

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"


def threads() -> int:
    """The thread count every contender gets (all cores unless BENCH_THREADS says otherwise)."""
    return int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1))


def torch_or_none():
    """PyTorch, pinned to :func:`threads`, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads())
    return torch


def sklearn_mlp_or_none():
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    return MLPClassifier


def load_cat() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The course's cat data: X (12288, 209) / 255 float64, Y (1, 209), and the test set."""
    import h5py

    root = _root() / "catvnoncat"
    with h5py.File(root / "train_catvnoncat.h5", "r") as f:
        X = f["train_set_x"][:].reshape(209, -1).T / 255.0
        Y = f["train_set_y"][:].reshape(1, -1)
    with h5py.File(root / "test_catvnoncat.h5", "r") as f:
        Xt = f["test_set_x"][:].reshape(50, -1).T / 255.0
        Yt = f["test_set_y"][:].reshape(1, -1)
    return X, Y, Xt, Yt


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(m_train: int = 8000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST t10k: the first ``m_train`` images for training, the last 2000 for testing.

    Returns X (784, m) float64 in [0, 1], y (m,) int, and the same for the test set.
    """
    root = _root() / "mnist"
    images = _idx(root / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).T / 255.0
    labels = _idx(root / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return images[:, :m_train], labels[:m_train], images[:, -2000:], labels[-2000:]


def _root() -> Path:
    root = data_dir()
    if root is None:
        raise SystemExit("shared data not found: set DEEPSTEP_DATA")
    return root


def clock() -> Callable[[], float]:
    """Wall-clock time, or this process's CPU time with ``BENCH_CLOCK=cpu`` (steadier on a
    machine shared with other jobs, and meaningful with one thread: CPU time adds up the
    threads)."""
    return time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter


class Timer:
    """``with timer:`` around the part of a contender that is timed (training, not setup)."""

    def __enter__(self) -> Timer:
        self._clock = clock()
        self.start = self._clock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = self._clock() - self.start


def alternate(contenders: dict[str, Callable[[Timer], dict]], runs: int) -> dict[str, dict]:
    """Run each contender ``runs`` times, interleaved; keep every time and the last result.

    A contender gets a :class:`Timer` to wrap its training in (setup such as copying the
    initial weights into a peer's objects stays outside) and returns a dict of results.
    """
    times: dict[str, list[float]] = {k: [] for k in contenders}
    last: dict[str, dict] = {}
    for _ in range(runs):
        for name, fn in contenders.items():
            timer = Timer()
            out = fn(timer)
            times[name].append(timer.seconds)
            last[name] = out
    return {k: {"seconds": times[k], "median": statistics.median(times[k]), **last[k]}
            for k in contenders}


def machine() -> dict:
    """What the numbers were measured on."""
    from threadpoolctl import threadpool_info

    info = {
        "date": datetime.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "threads": threads(),
        "clock": "cpu" if clock() is time.process_time else "wall",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": [
            f"{p.get('internal_api')} {p.get('version')} ({p.get('threading_layer')})"
            for p in threadpool_info() if p.get("user_api") == "blas"
        ],
        "processor": platform.processor() or platform.machine(),
    }
    torch = torch_or_none()
    info["torch"] = None if torch is None else torch.__version__
    try:
        import sklearn

        info["sklearn"] = sklearn.__version__
    except ImportError:
        info["sklearn"] = None
    return info


def write(name: str, payload: dict, table: str) -> None:
    """bench/results/<name>.json and <name>.md."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=float) + "\n")
    (RESULTS / f"{name}.md").write_text(table)


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def splice_readme(text: str, start: str, end: str, readme: Path = README) -> None:
    """Replace the README's block between the ``start`` and ``end`` marker lines with
    ``text``."""
    import re

    old = readme.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(old):
        raise SystemExit(f"{readme}: the results markers are missing ({start!r})")
    readme.write_text(pattern.sub(lambda _: f"{start}\n{text}\n{end}", old))
