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
