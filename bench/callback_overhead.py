"""What the training callbacks cost per step on the MNIST benchmark (issue 10: < 2% of a step).

``Network.fit`` (784-256-128-10, Adam 1e-3, batch 128, the first 8000 MNIST images) runs
with the hooks of its :class:`~deepstep.training.callbacks.CallbackList` timed from inside:
every
``on_batch_end`` / ``on_epoch_end`` / ``on_epoch_begin`` call is wrapped in a
``perf_counter`` pair, so the figure is the callbacks' own time (the built-in History and
TerminateOnNaN, with ``verbose`` the ProgressBar), per step, beside the whole step.

    python bench/callback_overhead.py            # 3 epochs, verbose off and on
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_mnist, md_table, write  # noqa: E402
from deepstep import Network  # noqa: E402
from deepstep.training import callbacks as cb  # noqa: E402

HOOKS = ("on_epoch_begin", "on_batch_end", "on_epoch_end")


def timed_fit(X: np.ndarray, y: np.ndarray, epochs: int, verbose: bool) -> dict[str, float]:
    """One fit with the callback hooks timed; microseconds per step."""
    spent = [0.0]
    originals = {h: getattr(cb.CallbackList, h) for h in HOOKS}

    def wrap(real):
        def hook(self, *args):
            start = time.perf_counter()
            real(self, *args)
            spent[0] += time.perf_counter() - start
        return hook

    for h in HOOKS:
        setattr(cb.CallbackList, h, wrap(originals[h]))
    try:
        net = Network([784, 256, 128, 10], seed=0)
        start = time.perf_counter()
        with redirect_stderr(io.StringIO()):  # the progress lines, as in a log file
            net.fit(X, y, epochs=epochs, batch_size=128, optimizer="adam",
                    learning_rate=1e-3, l2=0.0, preprocess="none", verbose=verbose)
        total = time.perf_counter() - start
    finally:
        for h, real in originals.items():
            setattr(cb.CallbackList, h, real)
    steps = epochs * -(-X.shape[1] // 128)
    return {"step_us": total / steps * 1e6, "callbacks_us": spent[0] / steps * 1e6}


def run(epochs: int = 3, repeats: int = 3) -> dict:
    X, y, _, _ = load_mnist(8000)
    rows, results = [], {}
    for verbose in (False, True):
        runs = [timed_fit(X, y, epochs, verbose) for _ in range(repeats)]
        step = statistics.median(r["step_us"] for r in runs)
        cost = statistics.median(r["callbacks_us"] for r in runs)
        name = "verbose (History, TerminateOnNaN, ProgressBar)" if verbose else \
            "quiet (History, TerminateOnNaN)"
        results[name] = {"step_us": step, "callbacks_us": cost, "share": cost / step}
        rows.append([name, f"{step:.0f}", f"{cost:.1f}", f"{100 * cost / step:.2f}%"])
    text = (f"Callbacks per MNIST step (784-256-128-10, Adam, batch 128, {epochs} epochs on "
            f"8000 images), medians of {repeats}\n\n"
            + md_table(["callbacks", "step, us", "callbacks, us", "share"], rows))
    payload = {"epochs": epochs, "results": results, "table": text}
    write("callback_overhead", payload, text)
    return payload


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(run(args.epochs, args.repeats)["table"])


if __name__ == "__main__":
    main()
