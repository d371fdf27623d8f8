"""The data of one training run: train / validation / test parts, with the labels of every
part in the training classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import load
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
