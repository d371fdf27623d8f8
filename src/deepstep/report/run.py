"""The HTML report of a trained network on a data set: everything
:func:`deepstep.report.html.build_report` shows, computed from the network, the data and the
metrics (what ``deepstep train`` and ``deepstep report`` have at hand).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..explain import layer_rows
from .classification import ClassEvaluation, from_predictions
from .mislabeled import MAX_IMAGES, STEPS, find_mislabeled
from .regression import RegressionEvaluation

if TYPE_CHECKING:
    from ..data import Dataset
    from ..model import Network

#: The curves :func:`costs_history` keeps from ``Network.history_``.
CURVES = ("loss", "data_loss", "accuracy", "val_loss", "val_data_loss", "val_accuracy", "lr",
          "seconds")
#: What the report shows when the run recorded no hyperparameters (a Network used directly).
FIT_SETTINGS = ("epochs", "batch_size", "optimizer", "learning_rate", "schedule", "l2",
                "dropout", "early_stopping", "preprocess", "seed")


def costs_history(net: Network, preset: str | None = None) -> dict[str, list[float]]:
    """The history to plot: the recorded curves and their x values.

    Full-batch gradient descent (``batch_size`` None, e.g. the course preset) makes one
    update per epoch, so x is the iteration as recorded (0, 1, ..., the course's "Cost after
    iteration i"); with mini-batches x is the epoch counted from 1. Points are kept as
    recorded: a history of every 100th iteration is plotted at 0, 100, 200, ...

    Parameters
    ----------
    net : Network
        A fitted network (``history_``, ``config_``).
    preset : str, optional
        Unused (the x axis follows the batch size); kept for callers that pass it.

    Returns
    -------
    dict of lists
        ``"iteration"`` or ``"epoch"``, and the curves of ``CURVES`` that were recorded.
    """
    h = {k: list(v) for k, v in net.history_.items() if k in CURVES}
    epochs = list(net.history_.get("epoch") or range(len(h.get("loss", []))))
    if full_batch(net.config_):
        h["iteration"] = [int(e) for e in epochs]
    else:
        h["epoch"] = [int(e) + 1 for e in epochs]
    return h


def full_batch(config: Mapping[str, Any]) -> bool:
    """Whether the fit made one update per epoch: batch_size None, or at least m."""
    if "batch_size" not in config:
        return False
    batch, m = config["batch_size"], config.get("m")
    return batch is None or (m is not None and batch >= m)


def evaluate(net: Network, ds: Dataset, data: str | None = None
             ) -> ClassEvaluation | RegressionEvaluation | None:
    """The network's predictions on ``ds`` as the report shows them (None when the data's
    labels and the network do not fit together: a regression's data with classes, or a
    different number of classes).

    Parameters
    ----------
    net : Network
    ds : Dataset
        Labelled data: ``ds.y`` indices into ``ds.classes``, which are the network's
        classes in output order (classification), or values (regression).
    data : str, optional
        What the examples are; default "<name> (<m> examples)".
    """
    data = data or f"{ds.name or 'the data'} ({ds.m} examples)"
    if net.task == "regression" or ds.classes is None:
        if net.task != "regression" or ds.classes is not None:
            return None
        pred = np.asarray(net.predict(ds.X), dtype=np.float64)
        return RegressionEvaluation(np.asarray(ds.y, np.float64).ravel(), pred[0], data)
    classes = _class_names(net, ds)
    if classes is None:
        return None
    return from_predictions(classes, ds.y, net.predict_proba(ds.X), data)


def _class_names(net: Network, ds: Dataset) -> list[str] | None:
    """The data's class names, which name the network's outputs in order: ``ds.y`` holds
    indices into the model's classes (the training split, or
    :func:`deepstep.data.inputs.load_for_model`). None when the counts differ, so no plot
    puts a wrong name on a class."""
    names = [str(c) for c in ds.classes or []]
    fitted = None if net.classes_ is None else np.asarray(net.classes_).ravel()
    return names if fitted is not None and fitted.size == len(names) else None


def write_report(path: Path, net: Network, ds: Dataset, metrics: Mapping[str, Any],
                 title: str, notes: Sequence[str], *, data: str | None = None,
                 max_images: int = MAX_IMAGES, steps: int = STEPS) -> Path:
    """The HTML report of ``net`` with its predictions on ``ds``.

    Parameters
    ----------
    path : Path
        The report file (written atomically).
    net : Network
        The trained network (its ``history_`` and ``config_`` give the curves and the
        settings).
    ds : Dataset
        Labelled data to evaluate on (the test split after training).
    metrics : mapping
        As ``deepstep train`` writes metrics.json (splits; for several seeds "seeds",
        "mean", "std").
    title : str
    notes : sequence of str
    data : str, optional
        What ``ds`` is, shown with its plots; default "<ds.name> (<m> examples)".
    max_images : int
        Mislabeled images shown (the most confident first), each explained.
    steps : int
        Integrated gradients' steps per mislabeled image (0: no attribution maps).

    Returns
    -------
    Path
    """
    from .html import build_report

    cfg = net.config_
    evaluation = evaluate(net, ds, data)
    mislabeled = None
    if isinstance(evaluation, ClassEvaluation):
        mislabeled = find_mislabeled(net, ds.X, ds.image_shape, evaluation, max_images, steps)
    hyper = cfg.get("hyperparameters") or {k: cfg[k] for k in FIT_SETTINGS if k in cfg}
    return build_report(
        path, title=title, hyperparameters=hyper,
        shapes=layer_rows(net.layer_dims, int(cfg.get("m") or ds.m)),
        history=costs_history(net), metrics=metrics, evaluation=evaluation,
        mislabeled=mislabeled, training={**cfg, "loss": net.loss.name}, notes=list(notes))
