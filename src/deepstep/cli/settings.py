"""The settings of ``deepstep train``, layered in one place.

In increasing priority: :data:`deepstep.model.DEFAULTS` (:func:`default_settings`), a preset
(``--preset course``), a TOML file (``--config run.toml``, :func:`read_config`) and the
command-line flags (:func:`resolve_settings`). The value parsers are shared by argparse and
the TOML reader, so a value means the same in both.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import engine
from ..data import MODES
from ..model import DEFAULTS
from ..optim import OPTIMIZERS

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
VALIDATION_FRACTION = 0.1


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

