"""The data of one training run: train / validation / test parts, with the labels of every
part in the training classes and the learning task settled once for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..targets import TaskChoice, detect_task
from . import load, load_like
from .dataset import Dataset

#: Held out for testing when no test data is given (stratified, with the run's seed).
TEST_FRACTION = 0.2


@dataclass
class Splits:
    """The data of one training run; ``notes`` say where each part came from."""

    train: Dataset
    validation: Dataset | None
    test: Dataset
    notes: list[str] = field(default_factory=list)


def check_features(ds: Dataset, n_x: int, what: str) -> None:
    """Raise a ValueError when ``ds`` does not have the n_x features the model takes."""
    if ds.n_x != n_x:
        shape = f" (images {ds.image_shape})" if ds.image_shape else ""
        raise ValueError(f"{what} has {ds.n_x} features{shape} but the model takes {n_x}; "
                         "use data of the same kind as the training data")


def check_finite(ds: Dataset, what: str) -> None:
    """Raise a ValueError naming the first NaN or infinite value of ``ds.X`` (training on it
    would end in a non-finite loss blamed on the learning rate).

    Examples
    --------
    >>> check_finite(Dataset(np.array([[1.0, np.nan]]), np.array([0, 1]), ["a", "b"]), "d.csv")
    Traceback (most recent call last):
    ...
    ValueError: d.csv holds nan in example 2, feature 1: remove or fill the non-finite values
    """
    if ds.X.dtype.kind not in "fc" or np.isfinite(ds.X).all():
        return
    j, i = np.argwhere(~np.isfinite(ds.X))[0]
    raise ValueError(f"{what} holds {ds.X[j, i]} in example {i + 1}, feature {j + 1}: remove or "
                     "fill the non-finite values")


def task_choice(ds: Dataset, requested: str = "auto") -> TaskChoice:
    """The task of the training data and why: as asked, or by the rule of
    :func:`deepstep.targets.detect_task` applied to the labels as the file holds them.
    """
    task = "multiclass" if requested == "multiclass" else ds.task
    if requested != "auto":
        return TaskChoice(task, "as asked")
    if ds.classes is None:
        return detect_task(ds.y)
    try:  # numeric class names (MNIST's 0-9, a CSV's 1/2/3): the rule on the numbers
        names: Any = np.array([float(c) for c in ds.classes])
    except ValueError:
        names = np.array(ds.classes)
    return TaskChoice(task, detect_task(names[ds.y]).reason)


def load_parts(settings: Mapping[str, Any]) -> Splits:
    """Load the training data and the test part (``test``, or a stratified
    :data:`TEST_FRACTION` of the data held out with ``seed``); no validation part yet.

    Settings read: data, test, seed, task, label (CSV label column), image_size (image
    folders; None for the loader's default).
    """
    seed, task = settings["seed"], settings.get("task", "auto")
    options: dict[str, Any] = {"task": task}
    if settings.get("label") is not None:
        options["label_column"] = settings["label"]
    if settings.get("image_size") is not None:
        options["image_size"] = settings["image_size"]
    data = load(settings["data"], **options).for_task(task, str(settings["data"]))
    check_finite(data, str(settings["data"]))
    notes = [f"data: {_describe(data)}"]
    if settings.get("test") is not None:
        # the training file's columns, categories, label column, task and classes
        test = load_like(settings["test"], data, what="the test data")
        check_finite(test, str(settings["test"]))
        train = data
        notes.append(f"test: {_describe(test)}")
    else:
        train, test = data.split(TEST_FRACTION, seed=seed)
        notes.append(f"test: none given, so a stratified {TEST_FRACTION:.0%} of {data.name} "
                     f"was held out with seed {seed} ({test.m} examples)")
    return Splits(train, None, test, notes)


def hold_out(splits: Splits, fraction: float, seed: int) -> Splits:
    """Split a stratified ``fraction`` of the training part off for validation (none for 0)."""
    train, validation, notes = splits.train, None, list(splits.notes)
    if fraction:
        try:
            train, validation = train.split(fraction, seed=seed)
        except ValueError:
            raise ValueError(f"a validation fraction of {fraction:g} of {train.m} training "
                             "examples leaves one side empty: use more data or no validation"
                             ) from None
        notes.append(f"validation: a stratified {fraction:.0%} of the training part, seed "
                     f"{seed} ({validation.m} examples)")
    notes.append(f"training on {train.m} examples")
    return Splits(train, validation, splits.test, notes)


def load_splits(settings: Mapping[str, Any]) -> Splits:
    """:func:`load_parts`, then :func:`hold_out` the ``validation`` fraction."""
    return hold_out(load_parts(settings), settings["validation"], settings["seed"])


def _describe(ds: Dataset) -> str:
    what = "regression" if ds.classes is None else f"{len(ds.classes)} classes"
    shape = f", images {ds.image_shape}" if ds.image_shape else ""
    return f"{ds.name} ({ds.kind}), {ds.m} examples, {ds.n_x} features{shape}, {what}"
