"""What ``deepstep train`` does, step by step: settings, data splits, training, outputs.

Settings come from, in increasing priority: :data:`deepstep.model.DEFAULTS`, a preset
(``--preset course``), a TOML file (``--config run.toml``) and the command-line flags. The
command-line layer (:mod:`deepstep.cli`) only parses; everything here is plain functions that
tests and notebooks can call too.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import engine
from .data import MODES, Dataset, load
from .engine.metrics import predict_classes
from .explain import layer_rows
from .model import DEFAULTS, Network
from .optim import OPTIMIZERS

Log = Callable[[str], None]

#: The course's application (course 1, week 4, "Deep Neural Network - Application"):
#: L_layer_model(X / 255, Y, [n_x, 20, 7, 5, 1], learning_rate=0.0075, num_iterations=2500).
PRESETS: dict[str, dict[str, Any]] = {
    "course": {
        "layers": [20, 7, 5], "hidden": "relu", "output": "auto", "init": "course_app",
        "optimizer": "gd", "lr": 0.0075, "epochs": 2500, "batch_size": None, "l2": 0.0,
        "dropout": 0.0, "dtype": "float64", "seed": 1, "preprocess": "scale255",
        "validation": 0.0,
    },
}

#: Every setting of ``deepstep train`` (the flag names with "-" as "_"; also the TOML keys).
KEYS = ("data", "test", "layers", "hidden", "output", "init", "optimizer", "lr", "epochs",
        "iterations", "batch_size", "l2", "dropout", "seed", "seeds", "dtype", "preset",
        "preprocess", "validation", "out", "json")

DEFAULT_DATA = "digits"
MODEL_FILE = "model.safetensors"
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


# --- value parsers (shared by argparse and the TOML reader) ----------------------------------


def parse_layers(text: str) -> list[int]:
    """"20,7,5" -> [20, 7, 5]; "" or "none" -> [] (no hidden layer: logistic regression).

    Examples
    --------
    >>> parse_layers("20, 7,5"), parse_layers("none")
    ([20, 7, 5], [])
    """
    text = str(text).strip()
    if text.lower() in ("", "none"):
        return []
    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"layer sizes must be comma-separated integers like 20,7,5, got "
                         f"{text!r}") from None
    if any(n < 1 for n in sizes):
        raise ValueError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def parse_batch(text: str | int | None) -> int | None:
    """A mini-batch size >= 1, or "full" / "none" for full-batch gradient descent (None)."""
    if text is None or str(text).lower() in ("full", "none"):
        return None
    return positive_int(text)


def _number(cast: Callable[[str], Any], low: float, strict: bool, what: str
            ) -> Callable[[str | float], Any]:
    """A parser for a finite number of type ``cast`` that is >= ``low`` (> when ``strict``);
    its error names ``what`` was expected."""
    def parse(text: str | float) -> Any:
        try:
            x = cast(str(text))
        except ValueError:
            raise ValueError(f"expected {what}, got {text!r}") from None
        if not np.isfinite(x) or x < low or (strict and x == low):
            raise ValueError(f"expected {what}, got {text!r}")
        return x

    return parse


positive_int = _number(int, 1, False, "a whole number >= 1")
seed_int = _number(int, 0, False, "a seed, a whole number >= 0")
nonneg_float = _number(float, 0.0, False, "a finite number >= 0")
positive_float = _number(float, 0.0, True, "a finite number > 0 (e.g. a learning rate)")


def fraction(text: str | float) -> float:
    """A float in [0, 1): a dropout rate or a held-out fraction."""
    x = nonneg_float(text)
    if x >= 1:
        raise ValueError(f"expected a fraction in [0, 1), got {text!r}")
    return x


def activations(text: str) -> str | list[str]:
    """One hidden activation name, or a comma-separated list with one per hidden layer."""
    names = [v.strip() for v in str(text).split(",")]
    for n in names:
        engine.get_activation(n)
    return names[0] if len(names) == 1 else names


def output_activation(text: str) -> str:
    """"auto" or an activation name."""
    text = str(text).strip()
    if text != "auto":
        engine.get_activation(text)
    return text


def _choice(options: Sequence[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if str(text) not in options:
            raise ValueError(f"unknown {what} {text!r}; choose one of {', '.join(options)}")
        return str(text)

    parse.__name__ = what
    return parse


PARSERS: dict[str, Callable[[Any], Any]] = {
    "data": str, "test": str, "layers": parse_layers, "hidden": activations,
    "output": output_activation, "init": _choice(list(engine.INITIALIZERS), "init"),
    "optimizer": _choice(list(OPTIMIZERS), "optimizer"), "lr": positive_float,
    "epochs": positive_int, "iterations": positive_int, "batch_size": parse_batch,
    "l2": nonneg_float, "dropout": fraction, "seed": seed_int, "seeds": positive_int,
    "dtype": _choice(["float32", "float64"], "dtype"), "preset": _choice(list(PRESETS), "preset"),
    "preprocess": _choice(list(MODES), "preprocess"), "validation": fraction,
    "out": str, "json": str,
}


# --- settings ----------------------------------------------------------------------------------


def default_settings() -> dict[str, Any]:
    """The settings of a bare ``deepstep train``: :data:`deepstep.model.DEFAULTS` and the data.

    ``lr`` None means "the default of the optimiser": DEFAULTS' for DEFAULTS' optimiser,
    else :meth:`deepstep.Network.fit`'s own per-optimiser default.
    """
    return {
        "data": DEFAULT_DATA, "test": None, "layers": list(DEFAULTS["hidden_layers"]),
        "hidden": DEFAULTS["hidden"], "output": "auto", "init": DEFAULTS["init"],
        "optimizer": DEFAULTS["optimizer"], "lr": None, "epochs": DEFAULTS["epochs"],
        "batch_size": DEFAULTS["batch_size"], "l2": DEFAULTS["l2"],
        "dropout": DEFAULTS["dropout"], "seed": 0, "seeds": 1, "dtype": "float32",
        "preset": None, "preprocess": DEFAULTS["preprocess"],
        "validation": VALIDATION_FRACTION, "out": None, "json": None,
    }


def read_config(path: str | Path) -> dict[str, Any]:
    r"""Read train settings from a TOML file: the flag names as keys ("-" or "_").

    Raises ValueError for unknown keys or bad values, naming the file and the key.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "run.toml").write_text('layers = [20, 7]\nbatch-size = "full"\n')
    ...     read_config(Path(d, "run.toml"))
    {'layers': [20, 7], 'batch_size': None}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid TOML: {e}") from None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name == "learning_rate":
            name = "lr"
        if name not in PARSERS:
            raise ValueError(f"{path}: unknown key {key!r}; known keys: {', '.join(KEYS)}")
        if isinstance(value, dict):
            raise ValueError(f"{path}: {key} must be a value, not a table")
        if name == "layers" and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if name == "hidden" and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        try:
            out[name] = PARSERS[name](value)
        except ValueError as e:
            raise ValueError(f"{path}: {key}: {e}") from None
    return out


def resolve_settings(flags: Mapping[str, Any], config: Mapping[str, Any] | None = None
                     ) -> dict[str, Any]:
    """Merge DEFAULTS < preset < config < flags (flags whose value is None were not given).

    ``iterations`` is stored as ``epochs`` (the course's word for epochs of full-batch
    training); giving both is an error.
    """
    config = dict(config or {})
    given = {k: v for k, v in flags.items() if v is not None and k in PARSERS}
    for layer in (config, given):
        if "epochs" in layer and "iterations" in layer:
            raise ValueError("give --epochs or --iterations, not both")
    settings = default_settings()
    preset = given.get("preset", config.get("preset"))
    if preset is not None:
        settings.update(PRESETS[preset])
        settings["preset"] = preset
    for layer in (config, given):
        for key, value in layer.items():
            settings["epochs" if key == "iterations" else key] = value
    settings.pop("iterations", None)
    return settings


# --- data ------------------------------------------------------------------------------------


@dataclass
class Splits:
    """The data of one training run; ``notes`` say where each part came from."""

    train: Dataset
    validation: Dataset | None
    test: Dataset
    notes: list[str] = field(default_factory=list)


def align(ds: Dataset, classes: list[str] | None, what: str) -> Dataset:
    """Re-index ``ds.y`` into ``classes`` (the training classes) by class name."""
    if classes is None or ds.classes is None:
        if (classes is None) != (ds.classes is None):
            kind = "regression targets" if ds.classes is None else "class labels"
            raise ValueError(f"{what} has {kind} but the model was trained on the other kind")
        return ds
    if list(ds.classes) == list(classes):
        return ds
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(ds.classes) - set(lookup))
    if unknown:
        raise ValueError(f"{what} has classes {unknown} that training did not have "
                         f"(training classes: {', '.join(classes)})")
    index = np.array([lookup[c] for c in ds.classes], dtype=np.int64)
    return Dataset(ds.X, index[ds.y], list(classes), ds.image_shape, ds.name, ds.kind)


def check_features(ds: Dataset, n_x: int, what: str) -> None:
    """Raise a ValueError when ``ds`` does not have the n_x features the model takes."""
    if ds.n_x != n_x:
        shape = f" (images {ds.image_shape})" if ds.image_shape else ""
        raise ValueError(f"{what} has {ds.n_x} features{shape} but the model takes {n_x}; "
                         "use data of the same kind as the training data")


def load_splits(settings: Mapping[str, Any]) -> Splits:
    """Load the training data and make the train / validation / test parts.

    Without ``test`` a stratified ``TEST_FRACTION`` of the data is held out with the seed;
    then a stratified ``validation`` fraction of the rest (none when it is 0).
    """
    seed = settings["seed"]
    data = load(settings["data"])
    notes = [f"data: {_describe(data)}"]
    if settings["test"] is not None:
        side = data.image_shape[0] if data.kind == "images" and data.image_shape else 64
        test = load(settings["test"], image_size=side)
        check_features(test, data.n_x, "the --test data")
        test = align(test, data.classes, "the --test data")
        train = data
        notes.append(f"test: {_describe(test)}")
    else:
        train, test = data.split(TEST_FRACTION, seed=seed)
        notes.append(f"test: no --test given, so a stratified {TEST_FRACTION:.0%} of "
                     f"{data.name} was held out with seed {seed} ({test.m} examples)")
    validation = None
    if settings["validation"]:
        train, validation = train.split(settings["validation"], seed=seed)
        notes.append(f"validation: a stratified {settings['validation']:.0%} of the training "
                     f"part, seed {seed} ({validation.m} examples)")
    notes.append(f"training on {train.m} examples")
    return Splits(train, validation, test, notes)


def _describe(ds: Dataset) -> str:
    what = "regression" if ds.classes is None else f"{len(ds.classes)} classes"
    shape = f", images {ds.image_shape}" if ds.image_shape else ""
    return f"{ds.name} ({ds.kind}), {ds.m} examples, {ds.n_x} features{shape}, {what}"


# --- training ----------------------------------------------------------------------------------


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


# --- outputs -----------------------------------------------------------------------------------


def new_run_dir(root: str | Path = "runs") -> Path:
    """runs/<YYYYmmdd-HHMMSS> (with -2, -3, ... when taken)."""
    base = Path(root) / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def data_meta(ds: Dataset) -> dict[str, Any]:
    """What ``predict`` needs to read new inputs like the training data."""
    return {"name": ds.name, "kind": ds.kind, "classes": ds.classes,
            "image_shape": list(ds.image_shape) if ds.image_shape else None,
            "value_max": float(np.max(ds.X)) if ds.image_shape and ds.m else None}


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


def costs_history(net: Network, preset: str | None) -> dict[str, list[float]]:
    """The history to plot; the course preset's x axis is iterations, as in the course."""
    h = {k: list(v) for k, v in net.history_.items()
         if k in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")}
    if preset == "course" and "epoch" in h:
        h["iteration"] = h.pop("epoch")
    return h


def confusion_and_mislabeled(net: Network, ds: Dataset):
    """(cm, class names) and the mislabeled images of ``ds`` for the report (None when n/a)."""
    if ds.classes is None or net.classes_ is None:
        return None, None
    from .report.plots import confusion_matrix

    k = len(ds.classes)
    proba = net.predict_proba(ds.X)
    pred = predict_classes(proba).ravel()  # indices, like ds.y (see load_for_model)
    cm = confusion_matrix(ds.y, pred, k)
    if ds.image_shape is None:
        return (cm, list(ds.classes)), None
    wrong = np.flatnonzero(pred != ds.y)
    p_pred = proba[0] if proba.shape[0] == 1 else proba[pred, np.arange(ds.m)]
    if proba.shape[0] == 1:
        p_pred = np.where(pred == 1, p_pred, 1 - p_pred)
    images = ds.X[:, wrong].T.reshape(len(wrong), *ds.image_shape)
    if images.dtype != np.uint8:
        top = float(np.max(ds.X)) or 1.0
        images = np.clip(images / top * 255, 0, 255).astype(np.uint8)
    names = list(ds.classes)
    mis = (images, [names[i] for i in ds.y[wrong]], [names[i] for i in pred[wrong]],
           [float(p) for p in p_pred[wrong]])
    return (cm, names), mis


def write_report(path: Path, net: Network, ds: Dataset, metrics: Mapping[str, Any],
                 title: str, notes: Sequence[str]) -> Path:
    """The HTML report of ``net`` with the confusion matrix and mislabeled images of ``ds``."""
    from .report.html import build_report

    cfg = net.config_
    confusion, mislabeled = confusion_and_mislabeled(net, ds)
    return build_report(
        path, title=title, hyperparameters=cfg.get("hyperparameters", {}),
        shapes=layer_rows(net.layer_dims, int(cfg.get("m") or ds.m)),
        history=costs_history(net, cfg.get("hyperparameters", {}).get("preset")),
        metrics=metrics, confusion=confusion, mislabeled=mislabeled, notes=list(notes))


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (NaN kept as NaN), creating the folder."""
    from .files import atomic_write

    blob = json.dumps(data, indent=2, default=_jsonable).encode("utf-8")
    return atomic_write(path, lambda f: f.write(blob + b"\n"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


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


# --- using a saved model -----------------------------------------------------------------------


def load_for_model(net: Network, source: str) -> Dataset:
    """Load ``source`` the way the model's training data was read, with ``y`` as indices into
    the model's classes (``classes`` their :func:`class_names`); see :func:`model_labels`.
    """
    meta = net.config_.get("data") or {}
    shape = meta.get("image_shape")
    ds = load(source, image_size=int(shape[0]) if shape else 64)
    check_features(ds, net.layer_dims[0], source)
    return align(ds, None if net.classes_ is None else class_names(net), source)


def class_names(net: Network) -> list[str]:
    """The name of each of the model's classes, in ``net.classes_`` order.

    A model from ``deepstep train`` has classes 0..k-1, indices into its training data's
    names (``config_["data"]["classes"]``); any other (``Network.fit`` on labels like {3, 8},
    strings or booleans) is named by its labels, integral floats written as integers the
    way the data loaders name them.

    Examples
    --------
    >>> net = Network([2, 1]); net.classes_ = np.array([3, 8]); class_names(net)
    ['3', '8']
    >>> net.config_ = {"data": {"classes": ["cat", "dog"]}}; net.classes_ = np.arange(2)
    >>> class_names(net)
    ['cat', 'dog']
    """
    labels = [] if net.classes_ is None else np.asarray(net.classes_).ravel().tolist()
    names = (net.config_.get("data") or {}).get("classes")
    if names and labels == list(range(len(names))) and all(type(c) is int for c in labels):
        return [str(n) for n in names]
    return [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in labels]


def model_labels(net: Network, ds: Dataset) -> NDArray:
    """``ds.y`` from :func:`load_for_model` as the labels ``net`` was trained on (what
    ``net.evaluate`` takes): ``net.classes_[y]``, or the targets for regression."""
    return ds.y if net.classes_ is None else np.asarray(net.classes_)[ds.y]


def read_inputs(net: Network, paths: Sequence[str]) -> tuple[list[str], NDArray]:
    """Read images or CSV files into the columns of X (n_x, m), one name per column.

    Images are converted to the training images' channels, resized to their (H, W) and
    rescaled to their value range; a CSV gives one example per row (a header row is skipped,
    and a last label column when there are n_x + 1 columns).
    """
    n_x = net.layer_dims[0]
    names: list[str] = []
    cols: list[NDArray] = []
    for p in map(Path, paths):
        if not p.is_file():
            raise FileNotFoundError(f"input file not found: {p}")
        if p.suffix.lower() == ".csv":
            rows = _read_csv_rows(p, n_x)
            names += [f"{p}:{i}" for i, _ in rows]
            cols += [r for _, r in rows]
        else:
            names.append(str(p))
            cols.append(_read_image(net, p))
    return names, np.stack(cols, axis=1)


def _read_image(net: Network, path: Path) -> NDArray:
    from PIL import Image, UnidentifiedImageError

    meta = net.config_.get("data") or {}
    shape = meta.get("image_shape")
    if not shape:
        raise ValueError(f"{path}: this model was trained on tabular data "
                         f"({net.layer_dims[0]} features), not images; give a CSV file")
    H, W, C = (int(v) for v in shape)
    try:
        with Image.open(path) as im:
            img = im.convert("L" if C == 1 else "RGB").resize((W, H), Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, OSError):
        raise ValueError(f"cannot read {path} as an image (or a .csv file); give a PNG or "
                         "JPEG image or a CSV file") from None
    x = np.asarray(img, dtype=np.uint8).reshape(-1)
    top = meta.get("value_max")
    if top and top != 255:
        return x.astype(np.float64) * (top / 255.0)
    return x


def _read_csv_rows(path: Path, n_x: int) -> list[tuple[int, NDArray]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    out = []
    for i, row in enumerate(rows, start=1):
        if len(row) not in (n_x, n_x + 1):
            raise ValueError(f"{path} row {i} has {len(row)} columns; the model takes {n_x} "
                             f"features (optionally followed by a label column)")
        try:
            values = np.array([float(v) for v in row[:n_x]])
        except ValueError:
            if i == 1:
                continue  # the header row
            raise ValueError(f"{path} row {i}: the features must all be numbers") from None
        out.append((i, values))
    if not out:
        raise ValueError(f"{path} holds no data rows")
    return out


def predictions(net: Network, X: NDArray) -> list[tuple[str, float | None]]:
    """For each column of X: (class name or value, probability of that class or None)."""
    if net.classes_ is None:
        return [(f"{v:.6g}", None) for v in net.predict(X)[0]]
    proba = net.predict_proba(X)
    names = class_names(net)
    idx = np.asarray(predict_classes(proba)).ravel().astype(np.int64)
    if proba.shape[0] == 1:
        p = np.where(idx == 1, proba[0], 1 - proba[0])
    else:
        p = proba[idx, np.arange(proba.shape[1])]
    return [(names[i], float(q)) for i, q in zip(idx, p, strict=True)]
