"""What ``deepstep train`` does: train one network per seed on the run's data splits,
summarise the seeds, and write the run folder (model, metrics, cost plot, HTML report).

Everything here takes the resolved settings (:mod:`deepstep.cli.settings`) as a plain
mapping, so tests and notebooks can call it too.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import Dataset
from .data.inputs import data_meta
from .data.splits import Splits, load_splits
from .files import write_json
from .model import DEFAULTS, Network
from .report.run import costs_history, write_report

Log = Callable[[str], None]
MODEL_FILE = "model.safetensors"


@dataclass
class Run:
    """One trained seed: the network and its metrics per split."""

    seed: int
    net: Network
    metrics: dict[str, dict[str, float]]


def output_size(settings: Mapping[str, Any], train: Dataset) -> int:
    """n[L]: 1 for regression and for two classes with a sigmoid, else the number of classes."""
    if train.classes is None:
        return 1
    k = len(train.classes)
    return 1 if k <= 2 and settings["output"] in ("auto", "sigmoid") else k


def effective_lr(settings: Mapping[str, Any]) -> float | None:
    """The learning rate to pass to ``fit``: the one set, DEFAULTS' for DEFAULTS' optimiser,
    else None (``fit`` picks the optimiser's own default).
    """
    if settings["lr"] is None and settings["optimizer"] == DEFAULTS["optimizer"]:
        return DEFAULTS["learning_rate"]
    return settings["lr"]


def describe(settings: Mapping[str, Any], train: Dataset) -> str:
    """One line with the network and the hyperparameters of a run."""
    dims = [train.n_x, *settings["layers"], output_size(settings, train)]
    lr = effective_lr(settings)
    word = "iterations" if settings["batch_size"] is None else "epochs"
    preset = f"preset {settings['preset']}: " if settings["preset"] else ""
    return (f"{preset}network {dims}, hidden {settings['hidden']}, output {settings['output']}"
            f", init {settings['init']}, {settings['dtype']}; {settings['optimizer']} lr "
            f"{'default' if lr is None else f'{lr:g}'}, batch {settings['batch_size'] or 'full'}, "
            f"{settings['epochs']} {word}, l2 {settings['l2']:g}, dropout "
            f"{settings['dropout']:g}, preprocess {settings['preprocess']}")


def train_seed(settings: Mapping[str, Any], splits: Splits, seed: int, log: Log) -> Run:
    """Build and fit one network with ``seed``, then score it on every split."""
    train = splits.train
    dims = [train.n_x, *settings["layers"], output_size(settings, train)]
    net = Network(dims, hidden=settings["hidden"], output=settings["output"],
                  init=settings["init"], dtype=settings["dtype"], seed=seed)
    lr = effective_lr(settings)
    val = splits.validation
    net.fit(train.X, train.y, epochs=settings["epochs"], batch_size=settings["batch_size"],
            optimizer=settings["optimizer"], learning_rate=lr, l2=settings["l2"],
            dropout=settings["dropout"], preprocess=settings["preprocess"],
            validation_data=None if val is None else (val.X, val.y), verbose=True)
    if settings["preset"] == "course":
        losses = net.history_["loss"]
        for i, J in enumerate(losses):
            if i % 100 == 0 or i == len(losses) - 1:
                log(f"Cost after iteration {i}: {J}")
    metrics = {name: net.evaluate(ds.X, ds.y) for name, ds in
               (("train", train), ("validation", val), ("test", splits.test)) if ds is not None}
    return Run(seed, net, metrics)


def summarise(runs: Sequence[Run]) -> dict[str, Any]:
    """Metrics of the first run (the saved model); with several seeds also "seeds", "mean" and
    "std" (sample standard deviation, ddof = 1) of every metric.
    """
    out: dict[str, Any] = {k: dict(v) for k, v in runs[0].metrics.items()}
    if len(runs) > 1:
        out["seeds"] = [{"seed": r.seed, **r.metrics} for r in runs]
        out["mean"], out["std"] = {}, {}
        for split, values in runs[0].metrics.items():
            out["mean"][split], out["std"][split] = {}, {}
            for key in values:
                xs = np.array([r.metrics[split][key] for r in runs], dtype=float)
                out["mean"][split][key] = float(xs.mean())
                out["std"][split][key] = float(xs.std(ddof=1))
    return out


def metrics_table(metrics: Mapping[str, Any], sizes: Mapping[str, int] | None = None) -> str:
    """The final table: one row per split (train / validation / test), loss and accuracy (or
    mse and r2 for regression); with several seeds the cells are mean ± std.
    """
    splits = [s for s in ("train", "validation", "test") if s in metrics]
    splits += [s for s in metrics if s not in splits and s not in ("seeds", "mean", "std")
               and isinstance(metrics[s], Mapping)]
    keys = list(dict.fromkeys(k for s in splits for k in metrics[s]))
    many = "mean" in metrics
    header = ["split", *(["examples"] if sizes else []), *keys]
    rows = [header]
    for s in splits:
        cells = [s, *([str(sizes.get(s, ""))] if sizes else [])]
        for k in keys:
            if many and s in metrics["mean"]:
                cells.append(f"{metrics['mean'][s][k]:.4f} ± {metrics['std'][s][k]:.4f}")
            else:
                v = metrics[s].get(k)
                cells.append("" if v is None else f"{v:.4f}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)



def new_run_dir(root: str | Path = "runs") -> Path:
    """runs/<YYYYmmdd-HHMMSS> (with -2, -3, ... when taken)."""
    base = Path(root) / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path



def hyperparameters(settings: Mapping[str, Any], net: Network) -> dict[str, Any]:
    """The run's hyperparameters as recorded in the model and shown in the report."""
    cfg = net.config_
    return {
        "preset": settings.get("preset"), "layer_dims": net.layer_dims,
        "activations": [a.name for a in net.activations], "loss": net.loss.name,
        "init": net.init, "dtype": net.dtype.name, "optimizer": cfg.get("optimizer"),
        "learning_rate": cfg.get("learning_rate"),
        "batch_size": cfg.get("batch_size") or "full batch", "epochs": cfg.get("epochs"),
        "l2": cfg.get("l2"), "dropout": cfg.get("dropout"),
        "preprocess": settings.get("preprocess"), "seed": settings.get("seed"),
        "seeds": settings.get("seeds"),
    }


def train(settings: Mapping[str, Any], log: Log) -> tuple[dict[str, Any], Path]:
    """The whole ``deepstep train``: returns the metrics and the output folder."""
    splits = load_splits(settings)
    for note in splits.notes:
        log(note)
    seeds = [settings["seed"] + k for k in range(settings["seeds"])]
    log(describe(settings, splits.train))
    runs = []
    for seed in seeds:
        if len(seeds) > 1:
            log(f"seed {seed}:")
        run = train_seed(settings, splits, seed, log)
        runs.append(run)
        if len(seeds) > 1:
            log("  " + ", ".join(f"{s} {k} {v:.4f}" for s, d in run.metrics.items()
                                 for k, v in d.items()))
    net = runs[0].net
    metrics = summarise(runs)
    sizes = {"train": splits.train.m, "test": splits.test.m}
    if splits.validation is not None:
        sizes["validation"] = splits.validation.m
    if len(runs) > 1:
        log(f"mean ± std (sample, ddof=1) over {len(runs)} seeds {seeds}; the saved model is "
            f"seed {seeds[0]}")
    log(metrics_table(metrics, sizes))

    out = Path(settings["out"]) if settings["out"] else new_run_dir()
    out.mkdir(parents=True, exist_ok=True)
    hyper = hyperparameters(settings, net)
    net.config_.update(hyperparameters=hyper, data=data_meta(splits.train), metrics=metrics,
                       notes=splits.notes)
    net.save(out / MODEL_FILE)
    write_json(out / "metrics.json", metrics)
    from .report.plots import plot_costs

    plot_costs(costs_history(net, settings["preset"]), out / "costs.png")
    write_report(out / "report.html", net, splits.test, metrics,
                 f"deepstep: {splits.train.name}", splits.notes)
    if settings["json"]:
        write_json(settings["json"], metrics)
    return metrics, out

