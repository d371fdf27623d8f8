"""MNIST 784-256-128-10, Adam lr 1e-3, batch 128, on the first 8000 t10k images.

Contenders (one process, alternating, same initial weights, same thread count): deepstep's
Network (float32), PyTorch float32, scikit-learn MLPClassifier float32, a plain NumPy loop
(float32) and the matrix products alone; with more than one thread, deepstep also with its
optimiser's element-wise passes kept on one thread (``DEEPSTEP_ELEMENTWISE_THREADS=1``).
Reported: seconds per epoch and test accuracy on the last 2000 images.

    python bench/bench_mnist.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from baselines import Products, numpy_adam_loop  # noqa: E402
from common import (  # noqa: E402
    alternate,
    load_mnist,
    machine,
    md_table,
    sklearn_mlp_or_none,
    threads,
    torch_or_none,
    write,
)
from deepstep import Network, engine  # noqa: E402

DIMS = [784, 256, 128, 10]
LR, BATCH = 1e-3, 128
SWITCH = "DEEPSTEP_ELEMENTWISE_THREADS"  # deepstep.engine.parallel


def _acc(AL, y) -> float:
    return float(np.mean(np.argmax(AL, axis=0) == y))


def contenders(X, y, Xt, yt, epochs, peers=True):
    init = engine.initialize(DIMS, "he", seed=0, dtype=np.float64)
    X32 = X.astype(np.float32)
    out = {}

    def network(elementwise_threads):
        def contender(timer):
            net = Network(DIMS, init="he", seed=0, dtype="float32")
            net.params = {k: v.astype(np.float32) for k, v in init.items()}
            before = os.environ.get(SWITCH)
            if elementwise_threads:
                os.environ[SWITCH] = str(elementwise_threads)
            try:
                with timer:
                    net.fit(X32, y, epochs=epochs, batch_size=BATCH, optimizer="adam",
                            learning_rate=LR, l2=0.0, preprocess="none", verbose=False)
            finally:
                if before is None:
                    os.environ.pop(SWITCH, None)
                else:
                    os.environ[SWITCH] = before
            return {"accuracy": net.evaluate(Xt, yt)["accuracy"]}
        return contender

    def products(timer):
        P = Products(DIMS, BATCH, np.float32, np.random.default_rng(0))
        Xb = np.ascontiguousarray(X32[:, :BATCH].T).T
        n_batches = -(-X.shape[1] // BATCH)
        with timer:
            for _ in range(epochs * n_batches):
                P.step(Xb)
        return {}

    out["deepstep Network float32"] = network(None)
    if threads() > 1:  # the optimiser's passes on one thread, to see what the split gives
        out["deepstep Network float32, 1-thread optimiser"] = network(1)
    out["products float32"] = products
    if not peers:
        return out

    def loop(timer):
        Y = np.eye(10, dtype=np.float32)[:, y]
        p32 = {k: v.astype(np.float32) for k, v in init.items()}
        with timer:
            p = numpy_adam_loop(X32, Y, p32, LR, epochs, BATCH, np.random.default_rng(0))
        return {"accuracy": _acc(engine.predict_forward(
            Xt.astype(np.float32), p, engine.resolve_activations("relu", "softmax", 3)), yt)}

    out["NumPy loop float32"] = loop
    torch = torch_or_none()
    if torch is not None:
        from peers import torch_adam_softmax, torch_predict

        def torch32(timer):
            r = torch_adam_softmax(torch, timer, X, y, init, LR, epochs, BATCH)
            return {"accuracy": _acc(torch_predict(torch, r["model"], Xt), yt)}

        out["PyTorch float32"] = torch32
    MLP = sklearn_mlp_or_none()
    if MLP is not None:
        from peers import sklearn_mlp

        def sk(timer):
            r = sklearn_mlp(MLP, timer, X, y, init, np.float32, solver="adam",
                            learning_rate_init=LR, batch_size=BATCH, shuffle=True,
                            random_state=0, max_iter=epochs)
            return {"accuracy": float(r["model"].score(Xt.T.astype(np.float32), yt))}

        out["scikit-learn float32"] = sk
    return out


def run(quick: bool = False, peers: bool = True) -> dict:
    epochs, runs, m = (1, 1, 2000) if quick else (10, 3, 8000)
    X, y, Xt, yt = load_mnist(m)
    with threadpool_limits(limits=threads()):
        res = alternate(contenders(X, y, Xt, yt, epochs, peers), runs)
    for v in res.values():
        v["per_epoch"] = v["median"] / epochs

    def r(a, b):
        return res[a]["per_epoch"] / res[b]["per_epoch"] if a in res and b in res else None

    ratios = {
        "Network / products (target <= 1.5)": r("deepstep Network float32", "products float32"),
        "Network / PyTorch (about 0.5 at the target)":
            r("deepstep Network float32", "PyTorch float32"),
        "Network / scikit-learn": r("deepstep Network float32", "scikit-learn float32"),
        "Network / NumPy loop": r("deepstep Network float32", "NumPy loop float32"),
    }
    if "PyTorch float32" in res:
        ratios["test accuracy: Network - PyTorch (points, target within 0.5)"] = 100 * (
            res["deepstep Network float32"]["accuracy"] - res["PyTorch float32"]["accuracy"])
    payload = {"machine": machine(), "epochs": epochs, "m": m, "runs": runs, "results": res,
               "ratios": ratios}
    rows = [[k, f"{v['per_epoch']:.3f}", f"{v['accuracy']:.4f}" if "accuracy" in v else ""]
            for k, v in res.items()]
    table = (f"MNIST 784-256-128-10, Adam 1e-3, batch 128, {epochs} epochs on {m} images, "
             f"median of {runs}, {threads()} threads\n\n"
             + md_table(["contender", "s / epoch", "test accuracy"], rows) + "\n"
             + md_table(["ratio", "value"], [[k, "n/a" if v is None else f"{v:.3f}"]
                                              for k, v in ratios.items()]))
    write("mnist_quick" if quick else "mnist", payload, table)
    payload["table"] = table
    return payload


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 epoch on 2000 images, one run")
    args = ap.parse_args()
    print(run(args.quick)["table"])


if __name__ == "__main__":
    main()
