"""Peak memory of streaming an h5 file several times larger than a memory budget.

Writes (in a temporary folder) an h5 file of cat-like uint8 64x64x3 images, by default
1 GiB against a 256 MiB budget, then in a fresh subprocess per pass streams it once through
``deepstep.data.stream(...).batches`` doing what a training step does with the batch
(``Z = W @ Xb`` with W of shape (20, n_x)), and reads the subprocess's peak resident set size
(``VmHWM`` in /proc/self/status; ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` where there is
no /proc). One pass in file order, one chunk-shuffled.

Why not ru_maxrss on Linux: the kernel carries a process's peak RSS across fork and execve
(``signal->maxrss``), so a "fresh" child reports at least its parent's peak, here the
generator's. VmHWM belongs to the memory map that execve creates and starts from zero.

    .venv/bin/python bench/stream_memory.py            # writes bench/results/stream_memory.json
    .venv/bin/python bench/stream_memory.py --file-gib 0.1 --no-save   # quick look

The subprocess runs with OPENBLAS_NUM_THREADS=1: on a shared, loaded machine OpenBLAS's
spinning threads made each small matmul 50x slower, which changes the time, not the memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

MiB = 2**20
RESULTS = Path(__file__).resolve().parent / "results" / "stream_memory.json"


def cat_like_base(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Real cat images (m, 64, 64, 3) and labels when the shared data exist, else noise."""
    try:
        from deepstep.data import load
        from deepstep.paths import data_dir

        root = data_dir()
        ds = load(root / "catvnoncat" / "train_catvnoncat.h5")
        return ds.X.T.reshape(-1, 64, 64, 3), ds.y
    except (TypeError, FileNotFoundError, ValueError):
        return rng.integers(0, 256, (200, 64, 64, 3), dtype=np.uint8), rng.integers(0, 2, 200)


def write_h5(path: Path, n_bytes: int, rng: np.random.Generator, block: int = 2048) -> int:
    """Write ceil(n_bytes / 12288) images: cat images shifted, flipped and with noise added."""
    base, labels = cat_like_base(rng)
    m = -(-n_bytes // (64 * 64 * 3))
    with h5py.File(path, "w") as f:
        x = f.create_dataset("train_set_x", (m, 64, 64, 3), dtype=np.uint8)
        y = np.empty(m, dtype=np.int64)
        for s in range(0, m, block):
            k = min(block, m - s)
            idx = rng.integers(0, len(base), k)
            imgs = np.roll(base[idx], rng.integers(-8, 9), axis=2)
            if rng.random() < 0.5:
                imgs = imgs[:, :, ::-1]
            noise = rng.integers(-12, 13, imgs.shape, dtype=np.int16)
            x[s : s + k] = np.clip(imgs + noise, 0, 255).astype(np.uint8)
            y[s : s + k] = labels[idx]
        f["train_set_y"] = y
        f["list_classes"] = [b"non-cat", b"cat"]
    return m


def peak_rss_bytes() -> int:
    """Peak resident set size of this process image (VmHWM), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def child(path: str, batch_size: int, chunk_mib: int, shuffle: bool) -> None:
    """One streamed pass; prints JSON with peak RSS before and after (run in a fresh process)."""
    from deepstep.data import Preprocessor, stream

    src = stream(path, chunk_bytes=chunk_mib * MiB, preprocessor=Preprocessor("scale255"))
    rng = np.random.default_rng(0)
    W = rng.standard_normal((20, src.n_x)).astype(np.float32) * 0.01
    before = peak_rss_bytes()
    t0 = time.perf_counter()
    seen, total = 0, np.zeros((20, 1), np.float64)
    for Xb, _ in src.batches(batch_size, rng if shuffle else None, dtype=np.float32):
        total += (W @ Xb).sum(axis=1, keepdims=True)  # the forward matmul of a training step
        seen += Xb.shape[1]
    seconds = time.perf_counter() - t0
    peak = peak_rss_bytes()
    assert seen == src.m, (seen, src.m)
    print(json.dumps({"rss_before_pass": before, "peak_rss": peak, "seconds": seconds}))


def run_pass(path: Path, batch_size: int, chunk_mib: int, shuffle: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(path), "--batch-size", str(batch_size)]
    cmd += ["--chunk-mib", str(chunk_mib)] + (["--shuffle"] if shuffle else [])
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget-mib", type=int, default=256)
    ap.add_argument("--file-gib", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--chunk-mib", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--shuffle", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.batch_size, a.chunk_mib, a.shuffle)
        return
    rng = np.random.default_rng(a.seed)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cats_big.h5"
        t0 = time.perf_counter()
        m = write_h5(path, int(a.file_gib * 2**30), rng)
        size = path.stat().st_size
        print(f"wrote {m} images, {size / MiB:.0f} MiB, in {time.perf_counter() - t0:.1f} s")
        passes = {}
        for shuffle in (False, True):
            r = run_pass(path, a.batch_size, a.chunk_mib, shuffle)
            r.update(
                peak_rss_mib=round(r["peak_rss"] / MiB, 1),
                peak_over_file=round(r["peak_rss"] / size, 4),
                growth_during_pass_mib=round((r["peak_rss"] - r["rss_before_pass"]) / MiB, 1),
                within_budget=r["peak_rss"] <= a.budget_mib * MiB,
                read_mib_per_s=round(size / MiB / r["seconds"], 1),
            )
            name = "chunk_shuffled" if shuffle else "in_order"
            passes[name] = r
            print(
                f"{name:>14}: peak RSS {r['peak_rss_mib']} MiB = {r['peak_over_file']:.1%} of "
                f"the file (budget {a.budget_mib} MiB: "
                f"{'within' if r['within_budget'] else 'OVER'}), "
                f"{r['read_mib_per_s']} MiB/s"
            )
    result = {
        "benchmark": "stream_memory",
        "file_bytes": size,
        "m": m,
        "n_x": 64 * 64 * 3,
        "budget_mib": a.budget_mib,
        "batch_size": a.batch_size,
        "chunk_mib": a.chunk_mib,
        "dtype": "float32",
        "step": "W @ Xb, W (20, n_x)",
        "passes": passes,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "machine": platform.machine(),
        "command": "python bench/stream_memory.py " + " ".join(sys.argv[1:]),
    }
    if not a.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
