"""Where the time of one training step goes: the step's parts timed one by one.

For the cat network (full batch, gradient descent) and the MNIST network (batch 128, Adam):
the products alone, deepstep's forward, cost, backward and optimiser update (each with the
Workspace a training loop keeps), the whole ``train_step``, and the batch gathering.

    python bench/profile_step.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from baselines import Products  # noqa: E402
from common import threads  # noqa: E402
from deepstep import engine  # noqa: E402
from deepstep.engine.step import train_step  # noqa: E402
from deepstep.optim import get_optimizer  # noqa: E402


def _time(fn, n: int) -> float:
    """Median microseconds of ``fn`` over 5 rounds of ``n`` calls."""
    for _ in range(3):
        fn()
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return float(np.median(rounds))


def profile(dims, m, dtype, optimizer, output, n) -> dict[str, float]:
    rng = np.random.default_rng(0)
    X = rng.random((m, dims[0])).astype(dtype).T  # F-ordered, as fit hands batches over
    k = dims[-1]
    Y = (rng.random((1, m)) < 0.5).astype(dtype) if k == 1 else np.eye(k, dtype=dtype)[
        :, rng.integers(0, k, m)]
    params = engine.initialize(dims, "he", rng=rng, dtype=dtype)
    acts = engine.resolve_activations("relu", output, len(dims) - 1)
    loss, opt, ws = engine.loss_for_output(output), get_optimizer(optimizer), engine.Workspace()
    state = opt.init(params)
    P = Products(dims, m, dtype, rng)
    lr = 1e-3 if optimizer == "adam" else 1e-4
    AL, caches = engine.forward(X, params, acts, workspace=ws)
    grads = {k2: v.copy() for k2, v in
             engine.backward(AL, Y, caches, acts, loss, workspace=ws).items()}
    count = iter(range(1, 10**9))
    return {
        "products alone": _time(lambda: P.step(X), n),
        "forward": _time(lambda: engine.forward(X, params, acts, workspace=ws), n),
        "cost": _time(lambda: engine.compute_cost(AL, Y, loss), n),
        "backward": _time(lambda: engine.backward(AL, Y, caches, acts, loss, workspace=ws), n),
        "optimiser update": _time(
            lambda: opt.update(params, grads, state, lr, next(count), inplace=True), n),
        "train_step (all of it)": _time(lambda: train_step(
            X, Y, params, acts, loss, opt, state, lr, next(count), workspace=ws), n),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 3 if args.quick else 40
    with threadpool_limits(limits=threads()):
        for name, dims, m, dtype, opt, out in (
            ("cat float32, gd", [12288, 20, 7, 5, 1], 209, np.float32, "gd", "sigmoid"),
            ("cat float64, gd", [12288, 20, 7, 5, 1], 209, np.float64, "gd", "sigmoid"),
            ("MNIST float32, adam", [784, 256, 128, 10], 128, np.float32, "adam", "softmax"),
        ):
            print(f"{name}: microseconds per call (median)")
            for part, us in profile(dims, m, dtype, opt, out, n).items():
                print(f"  {part:24s} {us:10.1f}")
        rows = np.random.default_rng(0).random((8000, 784)).astype(np.float32)
        idx = np.random.default_rng(1).permutation(8000)[:128]
        buf = np.empty((128, 784), np.float32)
        print(f"  {'gather a batch (take)':24s} "
              f"{_time(lambda: np.take(rows, idx, axis=0, out=buf), n * 10):10.1f}")


if __name__ == "__main__":
    main()
