"""The HTML report of a trained network: its cost history, confusion matrix and mislabeled
images on a data set, assembled for :func:`deepstep.report.html.build_report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.metrics import predict_classes
from ..explain import layer_rows

if TYPE_CHECKING:
    from ..data import Dataset
    from ..model import Network


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
    from .plots import confusion_matrix

    k = len(ds.classes)
    proba = net.predict_proba(ds.X)
    pred = predict_classes(proba).ravel()  # indices, like ds.y (see data.inputs.load_for_model)
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
    from .html import build_report

    cfg = net.config_
    confusion, mislabeled = confusion_and_mislabeled(net, ds)
    return build_report(
        path, title=title, hyperparameters=cfg.get("hyperparameters", {}),
        shapes=layer_rows(net.layer_dims, int(cfg.get("m") or ds.m)),
        history=costs_history(net, cfg.get("hyperparameters", {}).get("preset")),
        metrics=metrics, confusion=confusion, mislabeled=mislabeled, notes=list(notes))
