"""The default recipe: what deepstep uses for every setting the user does not give.

One source for ``Network.fit``, the scikit-learn estimators and ``deepstep train``.
:data:`DEFAULTS` holds the base values; :data:`RULES` adapt some of them to the shape of the
training data (m examples, n_x features, the task and its number of classes). Each rule is
a row of the README's defaults table (``rules_table()`` writes it; a test keeps the README
in step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The base recipe. ``batch_size`` None is full batch.
DEFAULTS: dict[str, Any] = {
    "hidden_layers": [128],
    "hidden": "relu",
    "init": "he",
    "optimizer": "adam",
    "learning_rate": 2e-4,
    "schedule": "constant",
    "batch_size": 32,
    "epochs": 50,
    "l2": 1.0,
    "dropout": 0.0,
    "preprocess": "standardize",
    "dtype": "float32",
    "early_stopping": 0,
    "validation_split": 0.0,
}


#: Optimisers that scale each step by a running RMS of the gradient: they share learning rates.
ADAPTIVE = ("adam", "rmsprop")
#: The learning rate of plain and momentum gradient descent when the recipe's optimiser is an
#: adaptive one: the course's.
PLAIN_GD_LR = 0.0075
#: The learning rate of an adaptive optimiser when the recipe's is plain (Kingma & Ba's).
ADAPTIVE_LR = 1e-3


def learning_rate_for(optimizer: str, settings: dict[str, Any]) -> float:
    """The default learning rate for ``optimizer`` given the recipe's ``settings``: the
    recipe's own when its optimiser is of the same family (adaptive or plain), else
    :data:`PLAIN_GD_LR` or :data:`ADAPTIVE_LR`.

    Examples
    --------
    >>> learning_rate_for("gd", {"optimizer": "adam", "learning_rate": 1e-3})
    0.0075
    """
    if (optimizer in ADAPTIVE) == (settings["optimizer"] in ADAPTIVE):
        return float(settings["learning_rate"])
    return ADAPTIVE_LR if optimizer in ADAPTIVE else PLAIN_GD_LR


@dataclass(frozen=True)
class DataShape:
    """What the rules may look at: m examples, n_x features, the task, k classes."""

    m: int
    n_x: int
    task: str = "binary"
    n_classes: int = 2


@dataclass(frozen=True)
class Rule:
    """One adaptation: when ``applies``, ``update`` changes the settings; ``condition``,
    ``setting`` and ``reason`` are its README row."""

    condition: str
    setting: str
    reason: str
    applies: Callable[[DataShape], bool]
    update: Callable[[DataShape], dict[str, Any]]


RULES: list[Rule] = []


def recipe(shape: DataShape | None = None) -> dict[str, Any]:
    """The default settings for data of this shape: :data:`DEFAULTS` with the rules applied
    in order (a later rule overrides an earlier one).

    Examples
    --------
    >>> recipe(DataShape(m=1000, n_x=20))["optimizer"]
    'adam'
    """
    settings = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULTS.items()}
    if shape is not None:
        for rule in RULES:
            if rule.applies(shape):
                settings.update(rule.update(shape))
    return settings


def rules_table() -> str:
    """The README's table: the base values, then one row per rule."""
    rows = ["| when | setting | why |", "|---|---|---|"]
    rows += [f"| {r.condition} | {r.setting} | {r.reason} |" for r in RULES]
    return "\n".join(rows)
