"""A ``deepstep train`` run planned: the data loaded and every setting resolved.

:func:`prepare` takes the settings as a plain mapping (the TOML keys of
:mod:`deepstep.cli.settings`), loads the run's data (:mod:`deepstep.data.splits`) and fills
every setting left as :data:`RECIPE` from :func:`deepstep.recipe.recipe` for the data's
shape, as :meth:`deepstep.Network.fit` does; :func:`check_memory` refuses a network that
would not fit in memory before anything is allocated. Errors in the settings are
:class:`SettingsError` naming the setting, so a front end can name its own flag.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .data import Dataset
    from .data.splits import Splits
    from .targets import TaskChoice

#: The value of a setting left to the default recipe (resolved by :func:`prepare`).
RECIPE = "recipe"
#: The settings the recipe provides: setting -> key of :func:`deepstep.recipe.recipe`
#: (in this order: ``lr`` depends on ``optimizer``, ``validation`` on ``early_stopping``).
RECIPE_KEYS: dict[str, str] = {
    "layers": "hidden_layers", "hidden": "hidden", "init": "init", "optimizer": "optimizer",
    "lr": "learning_rate", "schedule": "schedule", "batch_size": "batch_size",
    "epochs": "epochs", "l2": "l2", "dropout": "dropout", "preprocess": "preprocess",
    "dtype": "dtype", "early_stopping": "early_stopping", "validation": "validation_split",
}
#: Validation fraction held out when early stopping is asked for and --validation is not
#: given (without early stopping the model trains on all of --data, as the recipe does).
VALIDATION_FRACTION = 0.1
#: Optimiser settings: setting -> {optimiser: its keyword}.
OPTIMIZER_SETTINGS = {"momentum": {"momentum": "beta"}, "beta1": {"adam": "beta1"},
                      "beta2": {"adam": "beta2", "rmsprop": "beta2"}}


class SettingsError(ValueError):
    """A setting that cannot be used as given; ``key`` names it (a TOML key)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass
class Plan:
    """A run ready to train: every setting resolved, the data split, the task settled."""

    settings: dict[str, Any]
    splits: Splits
    task: TaskChoice
    from_recipe: list[str] = field(default_factory=list)

    @property
    def dims(self) -> list[int]:
        """[n[0], hidden sizes..., n[L]]."""
        return [self.splits.train.n_x, *self.settings["layers"], self.n_out]

    @property
    def n_out(self) -> int:
        """n[L]: 1 for regression and for two classes with a sigmoid, else k classes."""
        train = self.splits.train
        if train.classes is None:
            return 1
        k = len(train.classes)
        one = self.task.task == "binary" and self.settings["output"] in ("auto", "sigmoid")
        return 1 if k <= 2 and one else k

    @property
    def seeds(self) -> list[int]:
        """The seeds to train: seed, seed + 1, ..."""
        return [self.settings["seed"] + k for k in range(self.settings["seeds"])]


def image_size_default() -> int:
    """The side image folders are resized to when none is given (the loader's default)."""
    import inspect

    from .data import load

    return int(inspect.signature(load).parameters["image_size"].default)


# --- settings --------------------------------------------------------------------------------


def prepare(settings: Mapping[str, Any]) -> Plan:
    """Load the data and resolve every setting: the :class:`Plan` of the run.

    Settings left as :data:`RECIPE` take the recipe's value for the training data's shape
    (m examples before the validation hold-out, n_x features, the task, k classes), as
    :meth:`deepstep.Network.fit` does. Raises :class:`SettingsError` for settings that do
    not fit the data or each other.
    """
    from .data import detect_kind
    from .data.splits import hold_out, load_parts, task_choice
    from .recipe import DataShape

    s = dict(settings)
    kind = detect_kind(s["data"])
    if s.get("label") is not None and kind != "csv":
        raise SettingsError("label", f"a label column is for CSV data; {s['data']} is {kind} "
                            "data")
    if s.get("image_size") is not None and kind != "images":
        raise SettingsError("image_size", f"the image size applies to image folders; "
                            f"{s['data']} is {kind} data")
    if kind == "images" and s.get("image_size") is None:
        s["image_size"] = image_size_default()
    for key in ("data", "test"):
        if s.get(key) is not None and os.path.exists(s[key]):
            s[key] = os.path.abspath(s[key])
    parts = load_parts(s)
    train = parts.train
    task = task_choice(train, s.get("task", "auto"))
    k = len(train.classes) if train.classes is not None else 2
    shape = DataShape(m=train.m, n_x=train.n_x, task=task.task, n_classes=k,
                      pixels=train.X.dtype == np.uint8)
    s, from_recipe = resolve_recipe(s, shape)
    check(s, train)
    try:
        splits = hold_out(parts, s["validation"], s["seed"])
    except ValueError as e:
        raise SettingsError("validation", str(e)) from None
    return Plan(s, splits, task, from_recipe)


def resolve_recipe(settings: Mapping[str, Any], shape: Any) -> tuple[dict[str, Any], list[str]]:
    """Fill the settings left as :data:`RECIPE` from ``recipe(shape)``; also the optimiser's
    own momentum / beta1 / beta2 when not given. Returns the settings and the keys filled
    from the recipe.

    Examples
    --------
    >>> from deepstep.recipe import DataShape, recipe
    >>> s, keys = resolve_recipe({"optimizer": "gd", "lr": RECIPE, "momentum": None,
    ...                           "beta1": None, "beta2": None}, DataShape(m=100, n_x=4))
    >>> s["lr"], keys
    (0.0075, ['lr'])
    """
    from .optim import get_optimizer
    from .recipe import learning_rate_for, recipe

    base = recipe(shape)
    s = dict(settings)
    filled = []
    for key, rkey in RECIPE_KEYS.items():
        if not _is_recipe(s.get(key)):
            continue
        value = base[rkey]
        if key == "lr":
            value = learning_rate_for(s["optimizer"], base)
        if key == "validation" and not value and s.get("early_stopping"):
            value = VALIDATION_FRACTION
        s[key] = list(value) if isinstance(value, list) else value
        filled.append(key)
    if "optimizer" in s:
        hyper = get_optimizer(s["optimizer"]).hyper
        for key, owners in OPTIMIZER_SETTINGS.items():
            if s.get(key) is not None and s["optimizer"] not in owners:
                raise SettingsError(key, f"{key} is a setting of the {' and '.join(owners)} "
                                    f"optimizer, and this run uses {s['optimizer']}: choose "
                                    f"{' or '.join(owners)}, or leave {key} out")
            if s["optimizer"] in owners and s.get(key) is None:
                s[key] = hyper[owners[s["optimizer"]]]
    return s, filled


def _is_recipe(value: Any) -> bool:
    return isinstance(value, str) and value == RECIPE


def check(s: Mapping[str, Any], train: Dataset) -> None:
    """Raise :class:`SettingsError` for settings that contradict each other or the data."""
    hidden = s["hidden"]
    if isinstance(hidden, list) and len(hidden) != len(s["layers"]):
        raise SettingsError("hidden", f"{len(hidden)} hidden activations for "
                            f"{len(s['layers'])} hidden layers: give one name, or one per layer")
    if s["early_stopping"] and not s["validation"]:
        raise SettingsError("early_stopping", "early stopping watches the validation loss, "
                            "so it needs a validation fraction > 0")
    cw = s.get("class_weight")
    if cw is not None:
        if train.classes is None:
            raise SettingsError("class_weight", "class weights are for classification, and "
                                "this data is a regression task")
        if isinstance(cw, Mapping):
            unknown = [c for c in cw if c not in train.classes]
            if unknown:
                raise SettingsError("class_weight", f"no class named {unknown[0]!r}; the "
                                    f"classes are {', '.join(train.classes)}")


def estimate_bytes(plan: Plan) -> int:
    """About how much memory training takes: the weights, their gradients, the optimiser's
    state, the copies kept by the non-finite check, early stopping and the checkpoint
    writer, the activations of a batch and the preprocessed training data.
    """
    s, dims = plan.settings, plan.dims
    item = np.dtype(s["dtype"]).itemsize
    params = sum(dims[l] * (dims[l - 1] + 1) for l in range(1, len(dims)))
    slots = {"gd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}.get(s["optimizer"], 2)
    copies = 2 + slots + 1 + (1 if s["early_stopping"] else 0) + (1 + slots)
    m = plan.splits.train.m
    b = m if s["batch_size"] is None else min(int(s["batch_size"]), m)
    activations = 4 * b * sum(dims)
    data = 2 * dims[0] * m
    return int(item * (copies * params + activations + data))


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable, else the physical
    memory), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(plan: Plan, available: int | None = None) -> None:
    """Refuse (SettingsError on "layers") a network whose training would not fit in memory,
    before anything is allocated."""
    need = estimate_bytes(plan)
    available = available_memory() if available is None else available
    if available is not None and need > available:
        dims = plan.dims
        params = sum(dims[l] * (dims[l - 1] + 1) for l in range(1, len(dims)))
        raise SettingsError("layers", f"the network {dims} has {params:,} parameters; training "
                            f"it needs about {size(need)} of memory and {size(available)} is "
                            "available: use smaller hidden layers")


def size(n: float) -> str:
    """Bytes for people.

    Examples
    --------
    >>> size(3 * 2**30), size(512)
    ('3.0 GiB', '512 B')
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def describe(plan: Plan) -> str:
    """One line with the network and every resolved training setting; the settings that
    came from the recipe are listed at the end."""
    s = plan.settings
    word = "iterations" if s["batch_size"] is None else "epochs"
    preset = f"preset {s['preset']}: " if s.get("preset") else ""
    hidden = s["hidden"] if isinstance(s["hidden"], str) else ",".join(s["hidden"])
    opt = ", ".join(f"{k} {s[k]:g}" for k in OPTIMIZER_SETTINGS if s.get(k) is not None)
    cw = s.get("class_weight")
    if isinstance(cw, Mapping):
        cw = ",".join(f"{c}={w:g}" for c, w in cw.items())
    clip = "none" if s["clip_norm"] is None else f"{s['clip_norm']:g}"
    text = (f"{preset}network {plan.dims}, hidden {hidden}, output {s['output']}, init "
            f"{s['init']}, {s['dtype']}; {s['optimizer']} lr {s['lr']:g}"
            f"{f' ({opt})' if opt else ''}, batch {s['batch_size'] or 'full'}, "
            f"{s['epochs']} {word}, schedule {s['schedule']}, l2 {s['l2']:g}, dropout "
            f"{s['dropout']:g}, clip norm {clip}, early stopping {s['early_stopping'] or 'off'}"
            f", class weight {cw or 'none'}, preprocess {s['preprocess']}, validation "
            f"{s['validation']:g}")
    if plan.from_recipe:
        text += f" (from the recipe: {', '.join(plan.from_recipe)})"
    return text
