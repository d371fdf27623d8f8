"""What ``deepstep train`` does: train one network per seed of a planned run
(:mod:`deepstep.run_plan`: the data loaded, every setting resolved) and write its run folder.

The work takes plain values, so tests and notebooks can call it too::

    plan = prepare(settings)          # settings: the TOML keys of deepstep.cli.settings
    folder = RunFolder.create("runs/x")
    metrics, out = train(plan, folder, print, command="...")

The run folder
--------------
Written in a hidden sibling ``.<name>.partial`` and renamed to ``<name>`` when complete
(:mod:`deepstep.run_folder`); the default name is ``runs/<YYYYmmdd-HHMMSS>-<4 hex>``.

``model.safetensors``
    The model of the first seed (:meth:`deepstep.Network.save`; ``config_`` holds the
    hyperparameters, the data description, the metrics and the notes).
``metrics.json``
    ``{"train": {...}, "validation": {...}, "test": {...}}``: each split's metrics
    (classification: loss, accuracy; regression: loss, r2, mae, rmse), of the first seed.
    With ``seeds`` > 1 also ``"seeds"`` (a list of ``{"seed": s, "train": {...}, ...}``),
    ``"mean"`` and ``"std"`` (sample std, ddof 1) per split and metric.
``history.jsonl``
    One JSON object per epoch of the first seed: epoch (from 0), loss (data loss + L2
    penalty), data_loss, accuracy (null for regression), lr, seconds, and with validation
    val_loss, val_data_loss, val_accuracy. Other seeds: ``history-seed<s>.jsonl``.
``settings.toml``
    Every setting of the run, resolved (TOML keys as for ``--config``, which reads the file
    back); a setting that came from the recipe carries the comment ``# recipe``. Paths of
    data files are absolute. ``batch_size = "full"`` is full batch.
``command.txt``
    The command line that started the run (shell-quoted), and one line per resume.
``versions.json``
    ``{"deepstep", "python", "numpy", "scikit-learn", "platform"}``: version strings.
``report.html``, ``costs.png``
    The HTML report and the cost curves.
``checkpoint.safetensors``
    Only in a partial folder: the state of the seed in training (at the end of the first
    epoch after every :data:`CHECKPOINT_EVERY_STEPS` steps, and when interrupted).
    ``seeds.jsonl`` there lists the seeds finished so far.

Interrupting and resuming
-------------------------
Seeds are trained one after another. When seed s finishes, its metrics are appended to
``seeds.jsonl`` (the first seed's model is saved first) and the checkpoint is removed; a
resumed run skips the finished seeds, continues seed s from the checkpoint (or starts it
again if none was written), and so ends with the same bits as a run never interrupted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import run_folder as rf
from .run_plan import (
    OPTIMIZER_SETTINGS,
    RECIPE,
    RECIPE_KEYS,
    Plan,
    SettingsError,
    check_memory,
    describe,
    prepare,
)

if TYPE_CHECKING:
    from .data.splits import Splits
    from .model import Network
    from .run_folder import RunFolder

__all__ = ["MODEL_FILE", "RECIPE", "RECIPE_KEYS", "Plan", "Run", "SettingsError",
           "check_memory", "describe", "metrics_table", "prepare", "summarise", "train"]

Log = Callable[[str], None]
#: The model file of a run folder (also :data:`deepstep.run_folder.MODEL_FILE`).
MODEL_FILE = rf.MODEL_FILE

#: A run writes a checkpoint at the end of the first epoch after every this many steps
#: (every epoch when an epoch has more). A checkpoint costs more than a small step: on the
#: course's cat network (12288-20-7-5-1, float64, 209 examples) one took 1.3 steps' time with
#: gd and 1.5 with Adam (written atomically, with fsync), so one every 100 steps adds about
#: 1.5%; one every epoch of a 300-example CSV (10 steps) tripled the training time. An
#: interrupt writes one whenever it comes.
CHECKPOINT_EVERY_STEPS = 100


@dataclass
class Run:
    """One trained seed: its metrics per split (and its network, for the first seed)."""

    seed: int
    metrics: dict[str, dict[str, float]]
    net: Network | None = None


# --- training ----------------------------------------------------------------------------------


def build_network(plan: Plan, seed: int) -> Network:
    """The untrained network of ``seed``."""
    from .model import Network

    s = plan.settings
    return Network(plan.dims, hidden=s["hidden"], output=s["output"], init=s["init"],
                   dtype=s["dtype"], seed=seed, task=plan.task.task)


def fit_options(plan: Plan) -> dict[str, Any]:
    """The keyword arguments of :meth:`deepstep.Network.fit` for the plan's settings."""
    s = plan.settings
    options: dict[str, Any] = {
        "epochs": s["epochs"], "batch_size": s["batch_size"], "optimizer": s["optimizer"],
        "learning_rate": s["lr"], "schedule": s["schedule"], "l2": s["l2"],
        "dropout": s["dropout"], "clip_norm": s["clip_norm"],
        "early_stopping": s["early_stopping"], "preprocess": s["preprocess"],
        "class_weight": class_weights(plan),
    }
    for key, owners in OPTIMIZER_SETTINGS.items():
        if s["optimizer"] in owners and s.get(key) is not None:
            options[owners[s["optimizer"]]] = s[key]
    return options


def class_weights(plan: Plan) -> str | dict[int, float] | None:
    """The class weights for ``fit``: "balanced", or the weights by class index (the
    network is trained on the class indices of the data set)."""
    cw = plan.settings.get("class_weight")
    if cw is None or isinstance(cw, str):
        return cw
    classes = plan.splits.train.classes or []
    return {classes.index(name): float(w) for name, w in cw.items()}


def history_file(plan: Plan, seed: int) -> str:
    """The history file of ``seed``: history.jsonl for the first seed (the saved model)."""
    return rf.HISTORY_FILE if seed == plan.seeds[0] else f"history-seed{seed}.jsonl"


def score(net: Network, splits: Splits) -> dict[str, dict[str, float]]:
    """``net.evaluate`` on every split."""
    parts = (("train", splits.train), ("validation", splits.validation), ("test", splits.test))
    return {name: net.evaluate(ds.X, ds.y) for name, ds in parts if ds is not None}


def train_seed(plan: Plan, seed: int, folder: Path, log: Log) -> Run:
    """Build and fit the network of ``seed`` (continuing from ``folder``'s checkpoint when
    there is one), writing its history and checkpoints in ``folder``; score it."""
    from .training import HistoryFile, ModelCheckpoint, PrintCost

    net = build_network(plan, seed)
    checkpoint = folder / rf.CHECKPOINT_FILE
    callbacks = [HistoryFile(folder / history_file(plan, seed)),
                 ModelCheckpoint(checkpoint, every_steps=CHECKPOINT_EVERY_STEPS)]
    if plan.settings.get("preset") == "course":
        callbacks.append(PrintCost(every=100, file=_LogStream(log)))  # type: ignore[arg-type]
    train, val = plan.splits.train, plan.splits.validation
    net.fit(train.X, train.y, validation_data=None if val is None else (val.X, val.y),
            verbose=True, callbacks=callbacks,
            resume_from=checkpoint if checkpoint.exists() else None, **fit_options(plan))
    return Run(seed, score(net, plan.splits), net)


class _LogStream:
    """A file-like object that sends each line written to ``log``."""

    def __init__(self, log: Log) -> None:
        self.log, self.pending = log, ""

    def write(self, text: str) -> int:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self.log(line)
        return len(text)

    def flush(self) -> None:
        """Lines are sent as they end."""


def train(plan: Plan, folder: RunFolder, log: Log, *, command: str, resumed: bool = False,
          metrics_json: str | os.PathLike[str] | None = None) -> tuple[dict[str, Any], Path]:
    """Train every seed of ``plan`` in ``folder`` (a partial run folder), write the results
    and rename the folder into place. Returns the metrics and the final folder.

    A :class:`deepstep.training.TrainingInterrupted` (SIGINT / SIGTERM) leaves the folder,
    with a checkpoint, to be resumed with ``resumed=True``; other errors leave it as it is
    for the caller to discard.
    """
    start_files(plan, folder, command, resumed, log)
    done = read_progress(folder / rf.PROGRESS_FILE)
    runs = []
    many = len(plan.seeds) > 1
    for seed in plan.seeds:
        if many:
            log(f"seed {seed}:")
        if seed in done:
            net = None
            if seed == plan.seeds[0]:
                from .model import Network

                net = Network.load(folder / rf.MODEL_FILE)
            run = Run(seed, done[seed], net)
            log("  trained before the interruption")
        else:
            run = train_seed(plan, seed, folder.partial, log)
            seed_done(plan, run, folder)
        runs.append(run)
        if many:
            log("  " + ", ".join(f"{s} {k} {v:.4f}" for s, d in run.metrics.items()
                                 for k, v in d.items()))
    metrics = summarise(runs)
    splits = plan.splits
    sizes = {"train": splits.train.m, "test": splits.test.m}
    if splits.validation is not None:
        sizes["validation"] = splits.validation.m
    if many:
        log(f"mean ± std (sample, ddof=1) over {len(runs)} seeds {plan.seeds}; the saved model "
            f"is seed {plan.seeds[0]}")
    log(metrics_table(metrics, sizes))
    assert runs[0].net is not None
    write_results(plan, runs[0].net, metrics, folder)
    out = folder.finish()
    if metrics_json is not None:
        from .files import write_json

        write_json(metrics_json, metrics)
    return metrics, out


def start_files(plan: Plan, folder: RunFolder, command: str, resumed: bool, log: Log) -> None:
    """settings.toml, command.txt and versions.json, before the first step (so an
    interrupted folder holds what its resume needs). A resume appends its command line,
    keeps the recipe notes and says when the versions differ from the first start's."""
    from .files import atomic_write

    notes = {k: RECIPE for k in plan.from_recipe}
    command_path = folder / rf.COMMAND_FILE
    if resumed:
        notes = {k: RECIPE for k in recipe_notes(folder / rf.SETTINGS_FILE)}
        before = command_path.read_text(encoding="utf-8") if command_path.exists() else ""
        atomic_write(command_path, (before + command + "\n").encode("utf-8"))
        try:
            old = json.loads((folder / rf.VERSIONS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        changed = {k: (old.get(k), v) for k, v in rf.versions().items() if old.get(k) != v}
        if old and changed:
            log("note: versions changed since the run started (" + ", ".join(
                f"{k} {a} -> {b}" for k, (a, b) in changed.items()) + "); the result may "
                "differ from an uninterrupted run's")
    else:
        atomic_write(command_path, (command + "\n").encode("utf-8"))
        rf.write_versions(folder / rf.VERSIONS_FILE)
    rf.write_settings(folder / rf.SETTINGS_FILE, toml_settings(plan.settings), notes)


def toml_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as settings.toml writes them (full batch as "full")."""
    out = dict(settings)
    if "batch_size" in out and out["batch_size"] is None:
        out["batch_size"] = "full"
    return out


def recipe_notes(path: Path) -> list[str]:
    """The keys that a settings.toml marks ``# recipe``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.split("=", 1)[0].strip() for line in lines
            if "=" in line and line.rstrip().endswith(f"# {RECIPE}")]


def read_progress(path: Path) -> dict[int, dict[str, dict[str, float]]]:
    """The finished seeds recorded in seeds.jsonl (a torn last line is ignored)."""
    done: dict[int, dict[str, dict[str, float]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return done
    for line in lines:
        try:
            record = json.loads(line)
            done[int(record["seed"])] = record["metrics"]
        except (ValueError, KeyError, TypeError):
            break
    return done


def seed_done(plan: Plan, run: Run, folder: RunFolder) -> None:
    """Record a finished seed: the first seed's model, then the checkpoint removed, then
    its line in seeds.jsonl (in this order, so that a stop between any two steps resumes
    correctly: a seed without its line is trained again from its start)."""
    from .files import jsonable

    if run.seed == plan.seeds[0]:
        assert run.net is not None
        run.net.save(folder / rf.MODEL_FILE)
    (folder / rf.CHECKPOINT_FILE).unlink(missing_ok=True)
    line = json.dumps(jsonable({"seed": run.seed, "metrics": run.metrics})) + "\n"
    with open(folder / rf.PROGRESS_FILE, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def write_results(plan: Plan, net: Network, metrics: dict[str, Any], folder: RunFolder) -> None:
    """The model with its full config, metrics.json, costs.png and report.html; the partial
    folder's own files (progress, checkpoint) removed."""
    from .data.inputs import data_meta
    from .files import write_json
    from .report.plots import plot_costs
    from .report.run import costs_history, write_report

    splits = plan.splits
    net.config_.update(hyperparameters=hyperparameters(plan.settings, net),
                       data=data_meta(splits.train), metrics=metrics, notes=splits.notes)
    net.save(folder / rf.MODEL_FILE)
    write_json(folder / rf.METRICS_FILE, metrics)
    plot_costs(costs_history(net, plan.settings.get("preset")), folder / rf.COSTS_FILE)
    write_report(folder / rf.REPORT_FILE, net, splits.test, metrics,
                 f"deepstep: {splits.train.name}", splits.notes)
    for name in (rf.PROGRESS_FILE, rf.CHECKPOINT_FILE):
        (folder / name).unlink(missing_ok=True)


# --- summaries ---------------------------------------------------------------------------------


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
    loss, r2, mae and rmse for regression); with several seeds the cells are mean ± std.
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


def hyperparameters(settings: Mapping[str, Any], net: Network) -> dict[str, Any]:
    """The run's hyperparameters as recorded in the model and shown in the report."""
    cfg = net.config_
    cw = settings.get("class_weight")
    return {
        "preset": settings.get("preset"), "task": net.task, "layer_dims": net.layer_dims,
        "activations": [a.name for a in net.activations], "loss": net.loss.name,
        "init": net.init, "dtype": net.dtype.name, "optimizer": cfg.get("optimizer"),
        **{k: v for k, v in (cfg.get("optimizer_hyper") or {}).items() if k != "eps"},
        "learning_rate": cfg.get("learning_rate"), "schedule": cfg.get("schedule"),
        "batch_size": cfg.get("batch_size") or "full batch", "epochs": cfg.get("epochs"),
        "l2": cfg.get("l2"), "dropout": cfg.get("dropout"), "clip_norm": cfg.get("clip_norm"),
        "early_stopping": cfg.get("early_stopping") or None,
        "class_weight": dict(cw) if isinstance(cw, Mapping) else cw,
        "preprocess": settings.get("preprocess"), "seed": settings.get("seed"),
        "seeds": settings.get("seeds"),
    }

