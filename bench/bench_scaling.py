"""How deepstep's training step scales, and how much memory it takes.

- time per step against the batch size m (network 784-256-128-10) and against the parameter
  count (784-h-h-10 for growing h, m = 256): least-squares lines and their R^2, plotted to
  bench/results/scaling.png;
- peak memory of ``Network.fit`` (tracemalloc, which sees NumPy's allocations) over the
  arrays a step needs: parameters, gradients, optimiser state, the batch and each layer's Z
  and A.

    python bench/bench_scaling.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from common import RESULTS, machine, md_table, threads, write  # noqa: E402
from deepstep import Network, engine  # noqa: E402
from deepstep.engine.step import train_step  # noqa: E402
from deepstep.optim import get_optimizer  # noqa: E402


def step_seconds(dims, m, steps, rng) -> float:
    """Median seconds of one Adam train_step on a (dims[0], m) batch, with a Workspace and
    packed parameters (as fit runs it)."""
    X = rng.random((m, dims[0]), dtype=np.float32).T  # F-ordered, as fit's batches are
    Y = np.eye(dims[-1], dtype=np.float32)[:, rng.integers(0, dims[-1], m)]
    params = engine.flat.pack(engine.initialize(dims, "he", rng=rng, dtype=np.float32))
    acts = engine.resolve_activations("relu", "softmax", len(dims) - 1)
    loss, opt, ws = engine.get_loss("cce"), get_optimizer("adam"), engine.Workspace()
    state = opt.init(params)
    times = []
    for t in range(1, steps + 3):
        start = time.perf_counter()
        train_step(X, Y, params, acts, loss, opt, state, 1e-3, t, workspace=ws)
        if t > 2:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def fit_line(x, y) -> dict:
    A = np.c_[np.ones(len(x)), x]
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    pred = A @ coef
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - np.mean(y)) ** 2)
    return {"intercept": float(coef[0]), "slope": float(coef[1]), "r2": float(r2)}


def peak_memory(dims, m, batch, epochs=2) -> dict:
    """Peak bytes allocated by the training steps (beyond the data) over the bytes a step needs.

    Runs fit's loop (its batcher and train_step with a Workspace) for ``epochs`` epochs; the
    data set is allocated before tracing starts. Also reports the peak of a whole ``fit``,
    which ends with one forward pass over the training set (the collapse check).
    """
    from deepstep.training.batches import ArrayBatches

    rng = np.random.default_rng(0)
    X = rng.random((m, dims[0]), dtype=np.float32).T
    y = rng.integers(0, dims[-1], m)
    Y = np.eye(dims[-1], dtype=np.float32)[:, y]
    params = engine.flat.pack(engine.initialize(dims, "he", rng=rng, dtype=np.float32))
    acts = engine.resolve_activations("relu", "softmax", len(dims) - 1)
    loss, opt = engine.get_loss("cce"), get_optimizer("adam")
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    batches, ws, t = ArrayBatches(X, Y, batch), engine.Workspace(), 0
    state = opt.init(params)
    for _ in range(epochs):
        for Xb, Yb, _ in batches.epoch(rng):
            t += 1
            train_step(Xb, Yb, params, acts, loss, opt, state, 1e-3, t, workspace=ws)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    net = Network(dims, seed=0, dtype="float32")
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    net.fit(X, y, epochs=1, batch_size=batch, optimizer="adam", learning_rate=1e-3,
            l2=0.0, preprocess="none", verbose=False)
    fit_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    p = sum(a.nbytes for a in params.values())
    needed = {
        "parameters": p, "gradients": p, "adam state (v, s)": 2 * p,
        "batch X, Y": batch * (dims[0] + dims[-1]) * 4,
        "Z and A per layer": sum(2 * n * batch * 4 for n in dims[1:]),
    }
    total = sum(needed.values())
    return {"peak_bytes": peak, "needed_bytes": total, "needed": needed, "ratio": peak / total,
            "fit_peak_bytes": fit_peak}


def run(quick: bool = False) -> dict:
    rng = np.random.default_rng(0)
    steps = 5 if quick else 40
    ms = [64, 128, 256] if quick else [64, 128, 256, 512, 1024, 2048, 4096]
    hs = [64, 128] if quick else [64, 128, 256, 512, 768, 1024]
    with threadpool_limits(limits=threads()):
        by_m = [step_seconds([784, 256, 128, 10], m, steps, rng) for m in ms]
        dims_h = [[784, h, h, 10] for h in hs]
        n_params = [sum(d[i] * d[i + 1] + d[i + 1] for i in range(3)) for d in dims_h]
        by_p = [step_seconds(d, 256, steps, rng) for d in dims_h]
        memory = peak_memory([784, 256, 128, 10], 2000 if quick else 8000, 128)
    payload = {
        "machine": machine(),
        "batch_size": {"m": ms, "seconds": by_m, "fit": fit_line(np.array(ms), np.array(by_m))},
        "parameters": {"hidden": hs, "n_params": n_params, "seconds": by_p,
                       "fit": fit_line(np.array(n_params), np.array(by_p))},
        "memory": memory,
    }
    if not quick:
        _plot(ms, by_m, n_params, by_p, payload)
    fm, fp = payload["batch_size"]["fit"], payload["parameters"]["fit"]
    table = ("Scaling of one Adam step (float32), median of "
             f"{steps} steps, {threads()} threads\n\n"
             + md_table(["sweep", "points", "slope", "R^2"], [
                 ["batch size m (784-256-128-10)", len(ms), f"{fm['slope'] * 1e6:.3f} us / example",
                  f"{fm['r2']:.4f}"],
                 ["parameters (784-h-h-10, m=256)", len(hs),
                  f"{fp['slope'] * 1e9:.3f} ns / parameter", f"{fp['r2']:.4f}"]])
             + f"\nPeak memory of fit (784-256-128-10, batch 128, Adam): "
               f"{memory['peak_bytes'] / 2**20:.2f} MiB for {memory['needed_bytes'] / 2**20:.2f}"
               f" MiB of arrays a step needs: ratio {memory['ratio']:.2f} (a whole fit, "
               f"with its final forward pass over the {2000 if quick else 8000} training "
               f"examples: {memory['fit_peak_bytes'] / 2**20:.2f} MiB)\n")
    write("scaling_quick" if quick else "scaling", payload, table)
    payload["table"] = table
    return payload


def _plot(ms, by_m, n_params, by_p, payload) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, x, y, key, label in ((axes[0], ms, by_m, "batch_size", "batch size m"),
                                 (axes[1], n_params, by_p, "parameters", "parameters")):
        f = payload[key]["fit"]
        xs = np.linspace(0, max(x), 50)
        ax.plot(x, np.array(y) * 1e3, "o", label="measured")
        ax.plot(xs, (f["intercept"] + f["slope"] * xs) * 1e3, "-",
                label=f"least squares, R^2 = {f['r2']:.4f}")
        ax.set_xlabel(label)
        ax.set_ylabel("ms per Adam step")
        ax.legend()
    fig.suptitle("deepstep: one training step grows linearly with m and with the parameters")
    fig.tight_layout()
    fig.savefig(RESULTS / "scaling.png", dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="three sizes, five steps each")
    args = ap.parse_args()
    print(run(args.quick)["table"])


if __name__ == "__main__":
    main()
