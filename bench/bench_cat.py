"""Cat vs non-cat, [12288, 20, 7, 5, 1], full-batch gradient descent, lr 0.0075.

Contenders (one process, alternating, same initial weights, same thread count):
deepstep's Network float32 on the dual path (``solver="dual"``, what ``"auto"`` picks here)
and on the primal path, course.L_layer_model (float64), PyTorch float32, scikit-learn
MLPClassifier float32 and float64, the course-style NumPy loop (float32 and float64), and the
matrix products of a primal step alone (float32, float64). Reported: seconds, final cost,
train and test accuracy.

    python bench/bench_cat.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from baselines import Products, course_loop  # noqa: E402
from common import (  # noqa: E402
    alternate,
    load_cat,
    machine,
    md_table,
    sklearn_mlp_or_none,
    threads,
    torch_or_none,
    write,
)
from deepstep import Network, course, engine  # noqa: E402

DIMS = [12288, 20, 7, 5, 1]
LR = 0.0075


def _acc(P, Y) -> float:
    """Accuracy of 0/1 predictions P against labels Y, both (1, m)."""
    return float(np.mean(np.asarray(P).ravel() == np.asarray(Y).ravel()))


def contenders(X, Y, Xt, Yt, iterations, peers=True):
    """name -> fn(timer) -> results; deepstep's entries need no peer library."""
    init = engine.initialize(DIMS, "course_app", seed=1, dtype=np.float64)
    acts = engine.resolve_activations("relu", "sigmoid", len(DIMS) - 1)
    X32 = X.astype(np.float32)
    out = {}

    def scored(params, dtype) -> dict:
        return {"train_acc": _acc(engine.predict_forward(X.astype(dtype), params, acts) > 0.5, Y),
                "test_acc": _acc(engine.predict_forward(Xt.astype(dtype), params, acts) > 0.5,
                                 Yt)}

    def network32(solver):
        def contender(timer):
            net = Network(DIMS, init="course_app", seed=1, dtype="float32", solver=solver)
            with timer:
                h = net.fit(X32, Y, iterations=iterations, batch_size=None, optimizer="gd",
                            learning_rate=LR, l2=0.0, preprocess="none", verbose=False)
            return {"final_cost": h["loss"][-1], "solver": net.config_["solver"],
                    **scored(net.params, np.float32)}
        return contender

    def course64(timer):
        printed = io.StringIO()
        with timer, contextlib.redirect_stdout(printed):
            params, costs = course.L_layer_model(X, Y, DIMS, LR, iterations, print_cost=True)
        # as the course: costs at i % 100 == 0 are returned, the last iteration's only printed
        return {"final_cost": float(printed.getvalue().split()[-1]),
                "costs": [float(c) for c in costs], **scored(params, np.float64)}

    out["deepstep Network dual float32"] = network32("dual")
    out["deepstep Network primal float32"] = network32("primal")
    out["deepstep course float64"] = course64

    def products(dtype):
        def contender(timer):
            P = Products(DIMS, X.shape[1], dtype, np.random.default_rng(0))
            Xd = X.astype(dtype)
            with timer:
                for _ in range(iterations):
                    P.step(Xd)
            return {}
        return contender

    out["products float32"] = products(np.float32)
    out["products float64"] = products(np.float64)
    if not peers:
        return out

    def loop(dtype):
        def contender(timer):
            Xd, p = X.astype(dtype), {k: v.astype(dtype) for k, v in init.items()}
            with timer:
                params, costs = course_loop(Xd, Y.astype(dtype), p, LR, iterations)
            return {"final_cost": costs[-1], **scored(params, dtype)}
        return contender

    out["NumPy loop float32"] = loop(np.float32)
    out["NumPy loop float64"] = loop(np.float64)
    torch = torch_or_none()
    if torch is not None:
        from peers import torch_gd_binary, torch_predict

        def torch32(timer):
            r = torch_gd_binary(torch, timer, X, Y, init, LR, iterations)
            return {"final_cost": r["costs"][-1],
                    "train_acc": _acc(torch_predict(torch, r["model"], X) > 0, Y),
                    "test_acc": _acc(torch_predict(torch, r["model"], Xt) > 0, Yt)}

        out["PyTorch float32"] = torch32
    MLP = sklearn_mlp_or_none()
    if MLP is not None:
        from peers import sklearn_mlp

        def sk(dtype):
            def contender(timer):
                r = sklearn_mlp(MLP, timer, X, Y, init, dtype, solver="sgd", learning_rate_init=LR,
                                momentum=0.0, nesterovs_momentum=False, batch_size=X.shape[1],
                                shuffle=False, max_iter=iterations)
                clf = r["model"]
                return {"final_cost": r["loss_curve"][-1],
                        "train_acc": float(clf.score(X.T.astype(dtype), Y.ravel())),
                        "test_acc": float(clf.score(Xt.T.astype(dtype), Yt.ravel()))}
            return contender

        out["scikit-learn float32"] = sk(np.float32)
        out["scikit-learn float64"] = sk(np.float64)
    return out


def ratios(res: dict) -> dict:
    def r(a, b):
        return res[a]["median"] / res[b]["median"] if a in res and b in res else None

    dual, primal = "deepstep Network dual float32", "deepstep Network primal float32"
    out = {
        "Network dual f32 / PyTorch f32 (target <= 0.1)": r(dual, "PyTorch float32"),
        "Network primal f32 / PyTorch f32": r(primal, "PyTorch float32"),
        "Network dual f32 / Network primal f32": r(dual, primal),
        "Network primal f32 / products f32": r(primal, "products float32"),
        "course f64 / products f64 (target <= 1.05)":
            r("deepstep course float64", "products float64"),
        "course f64 / NumPy loop f64": r("deepstep course float64", "NumPy loop float64"),
        "course f64 / scikit-learn f64": r("deepstep course float64", "scikit-learn float64"),
        "products f32 / PyTorch f32": r("products float32", "PyTorch float32"),
    }
    if "PyTorch float32" in res:
        for split in ("train", "test"):
            out[f"{split} accuracy: Network dual f32 - PyTorch f32 (points)"] = 100 * (
                res[dual][f"{split}_acc"] - res["PyTorch float32"][f"{split}_acc"])
    return out


def run(quick: bool = False, peers: bool = True) -> dict:
    iterations, runs = (30, 1) if quick else (2500, 3)
    X, Y, Xt, Yt = load_cat()
    with threadpool_limits(limits=threads()):
        res = alternate(contenders(X, Y, Xt, Yt, iterations, peers), runs)
    payload = {"machine": machine(), "iterations": iterations, "runs": runs,
               "results": {k: {kk: vv for kk, vv in v.items() if kk != "costs"}
                           for k, v in res.items()},
               "ratios": ratios(res)}

    def cell(v: dict, key: str, spec: str) -> str:
        return format(v[key], spec) if key in v else ""

    rows = [[k, f"{v['median']:.2f}", cell(v, "final_cost", ".6f"), cell(v, "train_acc", ".4f"),
             cell(v, "test_acc", ".2f")] for k, v in res.items()]
    table = (f"Cat [12288, 20, 7, 5, 1], gradient descent, {iterations} iterations, "
             f"median of {runs}, {threads()} threads\n\n"
             + md_table(["contender", "seconds", "final cost", "train acc", "test acc"], rows)
             + "\n"
             + md_table(["ratio", "value"], [[k, "n/a" if v is None else f"{v:.3f}"]
                                              for k, v in payload["ratios"].items()]))
    write("cat_quick" if quick else "cat", payload, table)
    payload["table"] = table
    return payload


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 iterations, one run")
    args = ap.parse_args()
    print(run(args.quick)["table"])


if __name__ == "__main__":
    main()
