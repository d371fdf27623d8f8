"""The settings of ``deepstep train``, layered in one place.

In increasing priority: the defaults (:func:`default_settings`), a preset (``--preset
course``), a TOML file (``--config run.toml``, :func:`read_config`) and the command-line flags
(:func:`resolve_settings`). A training setting that none of them gives is left as
:data:`deepstep.run_plan.RECIPE`: the library fills it from the default recipe
(:func:`deepstep.recipe.recipe`) once the data are loaded, since the recipe adapts to the
data's shape. The value parsers are shared by argparse and the TOML reader, so a value means
the same in both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import engine
from ..data import MODES
from ..files import read_toml
from ..optim import OPTIMIZERS, SCHEDULES
from ..recipe import DEFAULTS as RECIPE_DEFAULTS
from ..recipe import adaptations, always
from ..run_plan import RECIPE, RECIPE_KEYS
from ..targets import TASKS
from .common import shown

#: The course's application (course 1, week 4, "Deep Neural Network - Application"):
#: L_layer_model(X / 255, Y, [n_x, 20, 7, 5, 1], learning_rate=0.0075, num_iterations=2500).
PRESETS: dict[str, dict[str, Any]] = {
    "course": {
        "layers": [20, 7, 5], "hidden": "relu", "output": "auto", "init": "course_app",
        "optimizer": "gd", "lr": 0.0075, "epochs": 2500, "batch_size": None, "l2": 0.0,
        "dropout": 0.0, "dtype": "float64", "seed": 1, "preprocess": "scale255",
        "validation": 0.0, "schedule": "constant", "early_stopping": 0,
    },
}

#: Every setting of ``deepstep train`` (the flag names with "-" as "_"; also the TOML keys).
KEYS = ("data", "test", "label", "image_size", "task", "layers", "hidden", "output", "init",
        "optimizer", "lr", "momentum", "beta1", "beta2", "schedule", "epochs", "iterations",
        "batch_size", "l2", "dropout", "clip_norm", "early_stopping", "class_weight", "seed",
        "seeds", "dtype", "preset", "preprocess", "validation", "out", "json")

#: Where a run's files go, not how it trains: left out of a run's settings.toml.
PLACES = ("out", "json")

DEFAULT_DATA = "digits"


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
    """A mini-batch size >= 1, or "full" / "none" for full-batch gradient descent (None).

    Examples
    --------
    >>> parse_batch("64"), parse_batch("full")
    (64, None)
    """
    if text is None or str(text).strip().lower() in ("full", "none"):
        return None
    return positive_int(text)


def _number(cast: Callable[[str], Any], low: float, strict: bool, what: str,
            high: float = np.inf) -> Callable[[str | float], Any]:
    """A parser for a finite number of type ``cast`` in [low, high) ((low, high) when
    ``strict``); its error names ``what`` was expected."""
    def parse(text: str | float) -> Any:
        if isinstance(text, bool):  # TOML true / false are not numbers here
            raise ValueError(f"expected {what}, got {text!r}")
        try:
            x = cast(str(text).strip())
        except ValueError:
            raise ValueError(f"expected {what}, got {text!r}") from None
        if not np.isfinite(x) or x < low or (strict and x == low) or x >= high:
            raise ValueError(f"expected {what}, got {text!r}")
        return x

    return parse


positive_int = _number(int, 1, False, "a whole number >= 1")
seed_int = _number(int, 0, False, "a seed, a whole number >= 0")
nonneg_int = _number(int, 0, False, "a number of epochs >= 0 (0 = off)")
nonneg_float = _number(float, 0.0, False, "a finite number >= 0")
positive_float = _number(float, 0.0, True, "a finite number > 0")
learning_rate = _number(float, 0.0, True, "a learning rate, a finite number > 0")
fraction = _number(float, 0.0, False, "a fraction in [0, 1)", high=1.0)
decay = _number(float, 0.0, False, "a decay rate in [0, 1), e.g. 0.9", high=1.0)
#: Side of the square an image folder is resized to; a fully connected network on more
#: than 1024 x 1024 x 3 inputs is not something to train on NumPy.
image_side = _number(int, 1, False, "an image side in pixels, 1 to 1024", high=1025)


def activations(text: str | Sequence[str]) -> str | list[str]:
    """One hidden activation name, or a comma-separated list with one per hidden layer."""
    items = text if isinstance(text, (list, tuple)) else str(text).split(",")
    names = [str(v).strip() for v in items]
    for n in names:
        engine.get_activation(n)
    return names[0] if len(names) == 1 else names


def output_activation(text: str) -> str:
    """"auto" or an activation name."""
    text = str(text).strip()
    if text != "auto":
        engine.get_activation(text)
    return text


def label_column(text: str | int) -> str:
    """A CSV label column: its header name (or its position, as the CSV reader allows)."""
    text = str(text).strip()
    if not text:
        raise ValueError("expected a column name, got an empty string")
    return text


def class_weight(text: str | Mapping[str, Any]) -> str | dict[str, float]:
    """"balanced", or per-class weights "cat=2,non-cat=1" (a TOML table works too).

    Examples
    --------
    >>> class_weight("balanced"), class_weight("cat=2, non-cat=1")
    ('balanced', {'cat': 2.0, 'non-cat': 1.0})
    """
    if isinstance(text, Mapping):
        items = [(str(k), v) for k, v in text.items()]
    else:
        text = str(text).strip()
        if text == "balanced":
            return text
        items = []
        for part in text.split(","):
            name, eq, value = part.partition("=")
            if not eq or not name.strip():
                raise ValueError(f"expected 'balanced' or CLASS=WEIGHT pairs like "
                                 f"cat=2,non-cat=1, got {text!r}")
            items.append((name.strip(), value))
    out: dict[str, float] = {}
    for name, value in items:
        try:
            out[name] = nonneg_float(value)
        except ValueError:
            raise ValueError(f"the weight of class {name!r} must be a finite number >= 0, got "
                             f"{value!r}") from None
    if not out:
        raise ValueError("expected 'balanced' or CLASS=WEIGHT pairs like cat=2,non-cat=1")
    return out


def _choice(options: Sequence[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if str(text) not in options:
            raise ValueError(f"unknown {what} {text!r}; choose one of {', '.join(options)}")
        return str(text)

    parse.__name__ = what
    return parse


def _path(text: str) -> str:
    text = str(text)
    if not text.strip():
        raise ValueError("expected a path, got an empty string")
    return text


PARSERS: dict[str, Callable[[Any], Any]] = {
    "data": _path, "test": _path, "label": label_column, "image_size": image_side,
    "task": _choice(["auto", *TASKS], "task"), "layers": parse_layers, "hidden": activations,
    "output": output_activation, "init": _choice(list(engine.INITIALIZERS), "init"),
    "optimizer": _choice(list(OPTIMIZERS), "optimizer"), "lr": learning_rate,
    "momentum": decay, "beta1": decay, "beta2": decay,
    "schedule": _choice(list(SCHEDULES), "schedule"),
    "epochs": positive_int, "iterations": positive_int, "batch_size": parse_batch,
    "l2": nonneg_float, "dropout": fraction, "clip_norm": positive_float,
    "early_stopping": nonneg_int, "class_weight": class_weight, "seed": seed_int,
    "seeds": positive_int, "dtype": _choice(["float32", "float64"], "dtype"),
    "preset": _choice(list(PRESETS), "preset"), "preprocess": _choice(list(MODES), "preprocess"),
    "validation": fraction, "out": _path, "json": _path,
}


# --- settings ----------------------------------------------------------------------------------


def default_settings() -> dict[str, Any]:
    """The settings of a bare ``deepstep train``: the bundled digits, the recipe for every
    training setting (:data:`deepstep.run_plan.RECIPE`, resolved once the data are
    loaded), the optimiser's own momentum / beta1 / beta2 (None), seed 0, one seed.
    """
    settings: dict[str, Any] = {
        "data": DEFAULT_DATA, "test": None, "label": None, "image_size": None,
        "task": "auto", "output": "auto", "momentum": None, "beta1": None, "beta2": None,
        "clip_norm": None, "class_weight": None, "seed": 0, "seeds": 1, "preset": None,
        "out": None, "json": None,
    }
    settings.update({key: RECIPE for key in RECIPE_KEYS})
    return {key: settings[key] for key in KEYS if key != "iterations"}


def shown_default(key: str) -> Any:
    """The default of ``key`` as ``--help`` shows it: for recipe settings the recipe's base
    value, and a word when its rules adapt it to the data; else :func:`default_settings`'s.

    Examples
    --------
    >>> shown_default("optimizer")
    'adam'
    >>> shown_default("dropout")
    "0; adapted to the data, see the README's Defaults"
    """
    if key not in RECIPE_KEYS:
        return default_settings()[key]
    base = RECIPE_DEFAULTS[RECIPE_KEYS[key]]
    rules = adaptations(RECIPE_KEYS[key])
    if not rules:
        return base
    if rules[0].applies is always:
        return f"{rules[0].setting}; adapted further to the data, see the README's Defaults"
    return f"{shown(base)}; adapted to the data, see the README's Defaults"


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
    raw = read_toml(path)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name == "learning_rate":
            name = "lr"
        if name not in PARSERS:
            raise ValueError(f"{path}: unknown key {key!r}; known keys: {', '.join(KEYS)}")
        if isinstance(value, dict) and name != "class_weight":
            raise ValueError(f"{path}: {key} must be a value, not a table")
        if name in ("layers", "hidden") and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        try:
            out[name] = PARSERS[name](value)
        except ValueError as e:
            raise ValueError(f"{path}: {key}: {e}") from None
    if "epochs" in out and "iterations" in out:
        raise ValueError(f"{path}: give epochs or iterations, not both")
    return out


def resolve_settings(flags: Mapping[str, Any], config: Mapping[str, Any] | None = None
                     ) -> dict[str, Any]:
    """Merge defaults < preset < config < flags.

    ``flags`` holds the flags that were given (argparse with ``SUPPRESS`` defaults leaves the
    others out), so an explicit ``--batch-size full`` (None) counts as given. ``iterations``
    is stored as ``epochs`` (the course's word for epochs of full-batch training).

    Examples
    --------
    >>> s = resolve_settings({"batch_size": None, "layers": [8]})
    >>> s["batch_size"], s["layers"], s["epochs"]
    (None, [8], 'recipe')
    """
    config = dict(config or {})
    given = {k: v for k, v in flags.items() if k in PARSERS}
    if "epochs" in given and "iterations" in given:
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


def run_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a run folder's settings.toml records: every setting but :data:`PLACES`."""
    return {k: v for k, v in settings.items() if k not in PLACES}
