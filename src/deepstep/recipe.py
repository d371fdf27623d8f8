"""The default recipe: what deepstep uses for every setting the user does not give.

One source for ``Network.fit``, the scikit-learn estimators and ``deepstep train``.
:data:`DEFAULTS` holds the base values; :data:`RULES` adapt some of them to the shape of the
training data (m examples, n_x features, the task and its number of classes). Each rule is
a row of the README's defaults table (``rules_table()`` writes it; a test keeps the README
in step).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The base recipe: one hidden layer of 256 relu units, Adam, a light L2 penalty, inputs
#: standardised. ``batch_size`` None is full batch. ``epochs`` is the count for data of
#: unknown size; :data:`RULES` size it to the data (about :data:`STEPS` Adam steps).
DEFAULTS: dict[str, Any] = {
    "hidden_layers": [256],
    "hidden": "relu",
    "init": "he",
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "schedule": "constant",
    "batch_size": 32,
    "epochs": 100,
    "l2": 0.1,
    "dropout": 0.0,
    "preprocess": "standardize",
    "dtype": "float32",
    "early_stopping": 0,
    "validation_split": 0.0,
}

#: The training budget in mini-batch steps: the same amount of optimisation whatever m
#: (a fixed number of epochs is 300 steps on 150 examples and 7500 on 8000).
STEPS = 3000
#: From this many training examples the data can feed a bigger, regularised network.
LARGE_M = 5000
#: The budget of the large-data rule, in steps of its batch of 64.
LARGE_STEPS = 7500

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
    """What the rules may look at: m examples, n_x features, the task, k classes, and
    whether the inputs are 8-bit pixels (uint8 images)."""

    m: int
    n_x: int
    task: str = "binary"
    n_classes: int = 2
    pixels: bool = False


@dataclass(frozen=True)
class Rule:
    """One adaptation: when ``applies``, ``update`` changes the settings ``keys``;
    ``condition``, ``setting`` and ``reason`` are its README row."""

    condition: str
    setting: str
    reason: str
    keys: tuple[str, ...]
    applies: Callable[[DataShape], bool]
    update: Callable[[DataShape], dict[str, Any]]


def epochs_for(steps: int, batch_size: int, m: int, low: int = 1, high: int | None = None
               ) -> int:
    """Epochs that make about ``steps`` mini-batch steps of ``batch_size`` on m examples,
    within [low, high]; never more epochs than ``steps`` (when m <= batch_size an epoch is
    one step).

    Examples
    --------
    >>> epochs_for(3000, 32, 1347), epochs_for(3000, 32, 100_000), epochs_for(3000, 32, 2)
    (72, 1, 3000)
    """
    epochs = max(low, min(steps, math.ceil(steps * batch_size / max(m, 1))))
    return epochs if high is None else min(epochs, high)


def always(shape: DataShape) -> bool:
    """The condition of a rule that applies to every data set (the step budget)."""
    return True


def _large(shape: DataShape) -> dict[str, Any]:
    return {"hidden_layers": [512, 256], "batch_size": 64, "dropout": 0.3, "l2": 0.0,
            "schedule": "cosine", "epochs": epochs_for(LARGE_STEPS, 64, shape.m, 3, 60),
            "preprocess": "scale255" if shape.pixels else "standardize"}


#: The adaptations, applied in order (a later rule overrides an earlier one). Measured with
#: ``bench/quality.py`` and the screen in ``bench/recipe_research.md`` (31 data sets, 3-5 seeds).
RULES: list[Rule] = [
    Rule("always (m training examples)",
         f"epochs = ceil({STEPS} x batch / m): about {STEPS} Adam steps",
         "a fixed number of epochs under-trains small data and over-trains large data; "
         "3000 steps of 32 fit every tabular set tried (150 to 4000 rows) without early "
         "stopping, which on 20-example validation parts stopped at random epochs",
         ("epochs",),
         always,
         lambda shape: {"epochs": epochs_for(STEPS, DEFAULTS["batch_size"], shape.m)}),
    Rule("n_x >= m (more features than examples: raw images such as cat)",
         "epochs = 50",
         "3000 steps over-fit such data and cost minutes: on the 209 cat images (12288 "
         "features) test accuracy 0.752 after 460 epochs (2 min), 0.764 after 100 or 50 "
         "(12 s); a second layer, more L2, dropout or a cosine schedule did no better",
         ("epochs",),
         lambda shape: shape.n_x >= shape.m,
         lambda shape: {"epochs": 50}),
    Rule(f"m >= {LARGE_M} (large data)",
         f"hidden layers [512, 256], batch 64, dropout 0.3, no L2, cosine schedule, epochs "
         f"= ceil({LARGE_STEPS} x 64 / m) within [3, 60]; preprocess scale255 for 8-bit "
         f"pixels",
         "enough data for a bigger network, regularised by dropout and annealed; pixels keep "
         "their common scale (standardising lifts near-constant border pixels to noise): "
         "MNIST 8k/2k: 0.9755 (2 seeds; 0.9747 after 40 epochs) against 0.9565 with the "
         "small-data recipe and 0.9655 standardised",
         ("hidden_layers", "batch_size", "dropout", "l2", "schedule", "epochs", "preprocess"),
         lambda shape: shape.m >= LARGE_M,
         _large),
]


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


def adaptations(key: str) -> list[Rule]:
    """The rules that may change setting ``key`` (a :data:`DEFAULTS` key)."""
    return [rule for rule in RULES if key in rule.keys]


def rules_table() -> str:
    """The README's table of the rules, one row each, in the order they apply."""
    rows = ["| when | setting | why |", "|---|---|---|"]
    rows += [f"| {r.condition} | {r.setting} | {r.reason} |" for r in RULES]
    return "\n".join(rows)
