"""Data for a saved model, read the way its training data was read.

:func:`data_meta` is what a model records about its training data (saved in its config);
:func:`load_for_model` loads labelled data (``evaluate``, ``report``) with the labels in the
model's classes; :func:`read_inputs` reads unlabelled images and CSV rows (``predict``) into
the columns of X (n_x, m), converted like the training images.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import load
from .dataset import Dataset
from .splits import align, check_features

if TYPE_CHECKING:
    from ..model import Network

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


def data_meta(ds: Dataset) -> dict[str, Any]:
    """What ``predict`` needs to read new inputs like the training data."""
    return {"name": ds.name, "kind": ds.kind, "classes": ds.classes,
            "image_shape": list(ds.image_shape) if ds.image_shape else None,
            "value_max": float(np.max(ds.X)) if ds.image_shape and ds.m else None}


def load_for_model(net: Network, source: str) -> Dataset:
    """Load ``source`` the way the model's training data was read, with ``y`` as indices into
    the model's classes (``classes`` their :func:`~deepstep.predictions.class_names`); see
    :func:`model_labels`.
    """
    from ..predictions import class_names

    meta = net.config_.get("data") or {}
    shape = meta.get("image_shape")
    ds = load(source, image_size=int(shape[0]) if shape else 64)
    check_features(ds, net.layer_dims[0], source)
    return align(ds, None if net.classes_ is None else class_names(net), source)


def model_labels(net: Network, ds: Dataset) -> NDArray:
    """``ds.y`` from :func:`load_for_model` as the labels ``net`` was trained on (what
    ``net.evaluate`` takes): ``net.classes_[y]``, or the targets for regression."""
    return ds.y if net.classes_ is None else np.asarray(net.classes_)[ds.y]


def read_inputs(net: Network, paths: Sequence[str]) -> tuple[list[str], NDArray]:
    """Read images or CSV files into the columns of X (n_x, m), one name per column.

    Images are converted to the training images' channels, resized to their (H, W) and
    rescaled to their value range; a CSV gives one example per row (a header row is skipped,
    and a last label column when there are n_x + 1 columns).
    """
    n_x = net.layer_dims[0]
    names: list[str] = []
    cols: list[NDArray] = []
    for p in map(Path, paths):
        if not p.is_file():
            raise FileNotFoundError(f"input file not found: {p}")
        if p.suffix.lower() == ".csv":
            rows = _read_csv_rows(p, n_x)
            names += [f"{p}:{i}" for i, _ in rows]
            cols += [r for _, r in rows]
        else:
            names.append(str(p))
            cols.append(_read_image(net, p))
    return names, np.stack(cols, axis=1)


def _read_image(net: Network, path: Path) -> NDArray:
    from PIL import Image, UnidentifiedImageError

    meta = net.config_.get("data") or {}
    shape = meta.get("image_shape")
    if not shape:
        raise ValueError(f"{path}: this model was trained on tabular data "
                         f"({net.layer_dims[0]} features), not images; give a CSV file")
    H, W, C = (int(v) for v in shape)
    try:
        with Image.open(path) as im:
            img = im.convert("L" if C == 1 else "RGB").resize((W, H), Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, OSError):
        raise ValueError(f"cannot read {path} as an image (or a .csv file); give a PNG or "
                         "JPEG image or a CSV file") from None
    x = np.asarray(img, dtype=np.uint8).reshape(-1)
    top = meta.get("value_max")
    if top and top != 255:
        return x.astype(np.float64) * (top / 255.0)
    return x


def _read_csv_rows(path: Path, n_x: int) -> list[tuple[int, NDArray]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    out = []
    for i, row in enumerate(rows, start=1):
        if len(row) not in (n_x, n_x + 1):
            raise ValueError(f"{path} row {i} has {len(row)} columns; the model takes {n_x} "
                             f"features (optionally followed by a label column)")
        try:
            values = np.array([float(v) for v in row[:n_x]])
        except ValueError:
            if i == 1:
                continue  # the header row
            raise ValueError(f"{path} row {i}: the features must all be numbers") from None
        out.append((i, values))
    if not out:
        raise ValueError(f"{path} holds no data rows")
    return out
