"""Where the time of one training step goes, itemised in microseconds per step.

For the MNIST network (784-256-128-10, Adam, batch 128, float32) and the cat network
([12288, 20, 7, 5, 1], full-batch gd, float32 and float64). The parts add up to a step of
``Network.fit``:

- products: the step's matrix products, timed as ``train_step`` minus the same step with
  every product skipped (the outputs keep the previous step's values, so the element-wise
  work sees realistic numbers); "products alone (bound)" is bench/baselines.py's
  ``Products``, the bound the benchmarks compare with;
- element-wise: the product-free step minus the optimiser, minus the same for a network of the
  same depth with 2 units and 2 examples (whose time is all calls);
- optimiser: the in-place update (flat when the parameters are packed);
- Python call overhead: the product-free tiny step minus its optimiser update;
- batch gather: copying a shuffled mini-batch into the step's contiguous buffers;
- bookkeeping: the rest of ``Network.fit`` per step (the loop, labels, running accuracy,
  history, the end-of-fit checks), from timing ``fit`` itself (on the primal path, which is
  what the other parts time; the dual path's cat timings are in bench_cat.py).

Each part is CPU time of this process (``time.process_time``, which a machine shared with
other jobs disturbs less than wall-clock time), median over interleaved rounds. With more
than one BLAS thread the products' CPU time is the sum over threads: run it with
``BENCH_THREADS=1``.

    python bench/profile_step.py [--quick] [--only NAME] [--json PATH]
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from baselines import Products  # noqa: E402
from common import load_cat, load_mnist, threads  # noqa: E402
from deepstep import Network, engine  # noqa: E402
from deepstep.engine.step import train_step  # noqa: E402
from deepstep.optim import get_optimizer  # noqa: E402

PARTS = ("products", "element-wise", "optimiser", "Python call overhead", "batch gather",
         "bookkeeping")


class _NoProducts:
    """Stands in for numpy in engine.linear: matmul into ``out`` leaves ``out`` as it is."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def matmul(a, b, out=None):
        return np.matmul(a, b) if out is None else out


def _without_products(fn: Callable[[], object]) -> Callable[[], object]:
    from deepstep.engine import linear

    def run():
        linear.np = _NoProducts()
        try:
            return fn()
        finally:
            linear.np = np

    return run


def _pack(params):
    pack = getattr(getattr(engine, "flat", None), "pack", None)
    return params if pack is None else pack(params)


def _timed(fns: dict[str, Callable[[], object]], calls: dict[str, int], rounds: int
           ) -> dict[str, float]:
    """Median CPU microseconds per call of each fn, rounds interleaved across the fns."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            start = time.process_time()
            for _ in range(calls[k]):
                fn()
            times[k].append((time.process_time() - start) / calls[k] * 1e6)
    return {k: float(np.median(v)) for k, v in times.items()}


class Case:
    """One network, its data and the callables whose times make up the itemised step."""

    def __init__(self, dims, data, batch, dtype, optimizer, output, rng):
        self.dims, self.batch, self.dtype, self.optimizer = dims, batch, dtype, optimizer
        k = dims[-1]
        X, y = data
        m_train = X.shape[1]
        self.X, self.y = X.astype(dtype), np.asarray(y).ravel()
        self.Y = (self.y[None, :].astype(dtype) if k == 1
                  else np.eye(k, dtype=dtype)[:, self.y])
        b = batch or m_train
        rows = np.ascontiguousarray(self.X.T)
        self.Xb = rows[:b].T  # F-ordered, as fit hands batches over
        self.Yb = np.ascontiguousarray(self.Y[:, :b])
        self.lr = 1e-3 if optimizer == "adam" else 1e-4
        self.acts = engine.resolve_activations("relu", output, len(dims) - 1)
        self.loss = engine.loss_for_output(output)
        self.params = _pack(engine.initialize(dims, "he", rng=rng, dtype=dtype))
        self.opt = get_optimizer(optimizer)
        self.state = self.opt.init(self.params)
        self.ws = engine.Workspace()
        self.P = Products(dims, b, dtype, rng)
        self.t = 0
        # the same depth with 2 units and 2 examples: what is left is the calls
        tiny = [2] * len(dims)
        self.tiny = _pack(engine.initialize(tiny, "he", rng=rng, dtype=dtype))
        self.tiny_X = rng.random((2, 2)).astype(dtype)
        self.tiny_Y = (np.array([[0, 1]], dtype) if k == 1 else np.eye(2, dtype=dtype))
        self.tiny_state, self.tiny_ws = self.opt.init(self.tiny), engine.Workspace()
        self.rows, self.idx = rows, rng.permutation(m_train)[:b]
        self.Y_rows = np.ascontiguousarray(self.Y.T)
        self.buf = np.empty((b, dims[0]), dtype)
        self.Ybuf = np.empty((b, self.Y.shape[0]), dtype)
        self.rng = rng
        # gradients of one step, for timing the update alone
        self.train()
        flat = getattr(self.ws, "gradients", lambda g: g)
        self.grads = flat(engine.backward(*self._fwd_for_bwd(), workspace=self.ws))

    def _fwd_for_bwd(self):
        AL, caches = engine.forward(self.Xb, self.params, self.acts, workspace=self.ws)
        return AL, self.Yb, caches, self.acts, self.loss

    def train(self, tiny: bool = False):
        self.t += 1
        if tiny:
            return train_step(self.tiny_X, self.tiny_Y, self.tiny, self.acts, self.loss,
                              self.opt, self.tiny_state, self.lr, self.t, workspace=self.tiny_ws)
        return train_step(self.Xb, self.Yb, self.params, self.acts, self.loss, self.opt,
                          self.state, self.lr, self.t, workspace=self.ws)

    def update(self, tiny: bool = False):
        self.t += 1
        if tiny:
            g = {"d" + k: np.zeros_like(v) for k, v in self.tiny.items()}
            g = engine.flat.pack(g) if hasattr(self.tiny, "buffer") else g
            return self.opt.update(self.tiny, g, self.tiny_state, self.lr, self.t, inplace=True)
        return self.opt.update(self.params, self.grads, self.state, self.lr, self.t,
                               inplace=True)

    def gather(self):
        np.take(self.rows, self.idx, axis=0, out=self.buf)
        np.take(self.Y_rows, self.idx, axis=0, out=self.Ybuf)

    def fit(self, epochs: int) -> float:
        """CPU microseconds per step of Network.fit (from the same initial weights)."""
        primal = {"solver": "primal"} if "solver" in inspect.signature(Network).parameters else {}
        net = Network(self.dims, dtype=np.dtype(self.dtype).name, seed=0, **primal)
        net.params = {k: v.copy() for k, v in self.params.items()}
        start = time.process_time()
        net.fit(self.X, self.y, epochs=epochs, batch_size=self.batch, optimizer=self.optimizer,
                learning_rate=self.lr, l2=0.0, preprocess="none", verbose=False)
        steps = epochs * (1 if self.batch is None else -(-self.X.shape[1] // self.batch))
        return (time.process_time() - start) / steps * 1e6


def itemise(case: Case, rounds: int, calls: int, fit_epochs: int) -> dict[str, float]:
    """The per-step parts (microseconds), and the totals they add up to."""
    fns = {
        "products alone": lambda: case.P.step(case.Xb),
        "train_step": case.train,
        "train_step, no products": _without_products(case.train),
        "optimiser": case.update,
        "tiny train_step, no products": _without_products(lambda: case.train(tiny=True)),
        "tiny optimiser": lambda: case.update(tiny=True),
        "gather": case.gather,
    }
    us = _timed(fns, dict.fromkeys(fns, calls), rounds)
    fit_step = float(np.median([case.fit(fit_epochs) for _ in range(max(1, rounds // 2))]))
    gather = us["gather"] if case.batch else 0.0
    overhead = us["tiny train_step, no products"] - us["tiny optimiser"]
    parts = {
        "products": us["train_step"] - us["train_step, no products"],
        "element-wise": us["train_step, no products"] - us["optimiser"] - overhead,
        "optimiser": us["optimiser"],
        "Python call overhead": overhead,
        "batch gather": gather,
        "bookkeeping": fit_step - us["train_step"] - gather,
    }
    return {**parts, "fit, per step": fit_step, "products alone (bound)": us["products alone"],
            "fit / products alone": fit_step / us["products alone"]}


CASES = {
    "MNIST 784-256-128-10, adam, batch 128, float32":
        ([784, 256, 128, 10], "mnist", 128, np.float32, "adam", "softmax"),
    "cat [12288, 20, 7, 5, 1], gd, full batch, float32":
        ([12288, 20, 7, 5, 1], "cat", None, np.float32, "gd", "sigmoid"),
    "cat [12288, 20, 7, 5, 1], gd, full batch, float64":
        ([12288, 20, 7, 5, 1], "cat", None, np.float64, "gd", "sigmoid"),
}


def run(quick: bool = False, only: str | None = None, threads_: int | None = None
        ) -> dict[str, dict[str, float]]:
    """The itemised step of each case (microseconds); ``threads_`` BLAS threads (default
    :func:`common.threads`)."""
    rounds, calls, epochs = (3, 2, 1) if quick else (7, 20, 3)
    out = {}
    with threadpool_limits(limits=threads_ or threads()):
        for name, (dims, data, batch, dtype, opt, output) in CASES.items():
            if only and only not in name:
                continue
            X, y = (load_mnist(1024 if quick else 8000) if data == "mnist" else load_cat())[:2]
            case = Case(dims, (X, y), batch, dtype, opt, output, np.random.default_rng(0))
            out[name] = itemise(case, rounds, calls, epochs if batch else 20 * epochs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="run the cases whose name contains this")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    res = run(args.quick, args.only)
    for name, parts in res.items():
        print(f"{name}: CPU microseconds per step (median)")
        for part, us in parts.items():
            print(f"  {part:24s} {us:10.2f}" if "/" in part else f"  {part:24s} {us:10.1f}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
