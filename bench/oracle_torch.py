"""PyTorch as an oracle: one epoch of Adam, same initial weights, same batch order.

deepstep's ``Network.fit`` (softmax + categorical cross-entropy, Adam, mini-batches of 128)
and PyTorch (``nn.Linear`` + ReLU, ``CrossEntropyLoss`` on the logits, ``torch.optim.Adam``)
run one epoch on MNIST images from the same weights, in the order fit's Generator shuffles
them. Prints the largest differences of the epoch loss and of every weight; exits non-zero
when they exceed the tolerance of the dtype.

    python bench/oracle_torch.py [--quick] [--dtype float64|float32]
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from common import load_mnist, torch_or_none  # noqa: E402
from deepstep import Network  # noqa: E402

DIMS = [784, 256, 128, 10]
TOLERANCE = {"float64": 1e-10, "float32": 2e-5}


def compare(m: int, dtype: str, lr: float = 1e-3, batch: int = 128) -> dict:
    torch = torch_or_none()
    if torch is None:
        raise SystemExit("PyTorch is not installed: pip install torch==2.13.0")
    from peers import torch_mlp, torch_weights

    X, y, _, _ = load_mnist(m)
    X = X.astype(dtype)
    net = Network(DIMS, init="he", seed=0, dtype=dtype)
    start = {k: v.copy() for k, v in net.params.items()}
    perm = copy.deepcopy(net.rng).permutation(m)  # the order fit will draw
    history = net.fit(X, y, epochs=1, batch_size=batch, optimizer="adam", learning_rate=lr,
                      l2=0.0, preprocess="none", verbose=False)

    tdtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    model = torch_mlp(torch, start, tdtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt = torch.from_numpy(np.ascontiguousarray(X.T))
    yt = torch.from_numpy(y)
    total = 0.0
    for k in range(0, m, batch):
        idx = torch.from_numpy(perm[k:k + batch])
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    ours, theirs = net.params, torch_weights(model)
    diffs = {k: float(np.max(np.abs(ours[k].astype(np.float64) - theirs[k]))) for k in ours}
    return {"dtype": dtype, "m": m, "loss_deepstep": history["loss"][0],
            "loss_torch": total / m, "loss_diff": abs(history["loss"][0] - total / m),
            "weight_diffs": diffs, "max_weight_diff": max(diffs.values())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1000 images instead of 8000")
    ap.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    args = ap.parse_args()
    ok = True
    for dtype in (["float64", "float32"] if args.dtype == "both" else [args.dtype]):
        r = compare(1000 if args.quick else 8000, dtype)
        tol = TOLERANCE[dtype]
        good = r["loss_diff"] <= tol and r["max_weight_diff"] <= tol
        ok &= good
        print(f"{dtype}: epoch loss deepstep {r['loss_deepstep']:.12f} torch "
              f"{r['loss_torch']:.12f} |diff| {r['loss_diff']:.2e}; max |dW| "
              f"{r['max_weight_diff']:.2e} (" + ", ".join(
                  f"{k} {v:.1e}" for k, v in r["weight_diffs"].items())
              + f") -> {'OK' if good else 'FAIL'} (tolerance {tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
