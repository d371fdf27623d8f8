"""Training plots as PNG bytes: cost curves, confusion matrix, mislabeled images.

matplotlib is imported inside each function and drawn through the Agg canvas on a
bare :class:`matplotlib.figure.Figure`, so importing this module stays cheap, no
global pyplot state or GUI backend is touched, and the functions are thread-safe.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from deepstep.files import atomic_write

TRAIN_COLOR = "#1f77b4"  # matplotlib C0, the course's default line colour
VAL_COLOR = "#ff7f0e"  # matplotlib C1


def _figure(width: float, height: float) -> Any:
    """Return an Agg-backed Figure of ``width`` x ``height`` inches."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any, path: str | os.PathLike[str] | None) -> bytes:
    """Render ``fig`` to PNG bytes, also written atomically to ``path`` when given."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white")
    data = buf.getvalue()
    if path is not None:
        atomic_write(path, data)
    return data


def _series(history: Mapping[str, Any], key: str, n: int) -> np.ndarray | None:
    """``history[key]`` as floats (None becomes NaN, a gap), checked to have length n."""
    if history.get(key) is None or len(history[key]) == 0:
        return None
    y = np.asarray(history[key], dtype=float).ravel()
    if y.size != n:
        raise ValueError(f"history[{key!r}] has {y.size} values but 'loss' has {n}")
    return y


def plot_costs(
    history: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> bytes:
    """Plot the cost J (and accuracy when recorded) against training progress.

    Parameters
    ----------
    history : mapping of str to sequence of float
        ``"loss"`` (required, length T) and optionally ``"val_loss"``,
        ``"accuracy"``, ``"val_accuracy"`` (each length T, None for a gap), plus the
        x values: ``"iteration"`` (the course's records every 100 iterations, drawn
        as iterations per hundreds, like the course's plot) or ``"epoch"``; without
        either, epochs 1..T.
    path : str or path-like, optional
        Also write the PNG here (atomically).
    title : str, optional
        Figure title; default "Cost" or "Cost and accuracy".

    Returns
    -------
    bytes
        The PNG image.

    Examples
    --------
    >>> png = plot_costs({"loss": [0.69, 0.5, 0.3], "val_loss": [0.7, 0.6, 0.5]})
    >>> png[1:4]
    b'PNG'
    """
    if not history.get("loss"):
        raise ValueError("history needs a non-empty 'loss' list")
    n = len(history["loss"])
    loss = _series(history, "loss", n)
    if history.get("iteration") is not None:
        x = _series(history, "iteration", n) / 100.0
        xlabel = "iterations (per hundreds)"
    else:
        x = _series(history, "epoch", n)
        x = np.arange(1, n + 1, dtype=float) if x is None else x
        xlabel = "epoch"
    panels = [("cost", "loss", "val_loss")]
    if any(_series(history, key, n) is not None for key in ("accuracy", "val_accuracy")):
        panels.append(("accuracy", "accuracy", "val_accuracy"))

    fig = _figure(6.4 * len(panels), 4.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    marker = "o" if n <= 30 else None
    for ax, (ylabel, train_key, val_key) in zip(axes, panels, strict=True):
        curves = ((train_key, "train", TRAIN_COLOR), (val_key, "validation", VAL_COLOR))
        for key, label, color in curves:
            y = loss if key == "loss" else _series(history, key, n)
            if y is not None:
                ax.plot(x, y, color=color, marker=marker, markersize=3, linewidth=2, label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title or ("Cost" if len(panels) == 1 else "Cost and accuracy"))
    return _png(fig, path)


def confusion_matrix(y_true: Any, y_pred: Any, k: int) -> np.ndarray:
    """Count C[i, j] = number of examples of true class i predicted as class j.

    Parameters
    ----------
    y_true : array-like of int, shape (m,) or (1, m)
        True labels in ``0..k-1``.
    y_pred : array-like of int, shape (m,) or (1, m)
        Predicted labels in ``0..k-1``.
    k : int
        Number of classes (2 for the cat / non-cat task).

    Returns
    -------
    ndarray of int64, shape (k, k)
        Rows are true classes, columns predicted classes.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], 3)
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    t = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    idx = k * t.astype(np.int64) + p.astype(np.int64)
    return np.bincount(idx, minlength=k * k).reshape(k, k)


def plot_confusion(
    cm: np.ndarray, classes: Sequence[str], path: str | os.PathLike[str] | None = None
) -> bytes:
    """Draw a confusion matrix as a heat map with each count written in its cell.

    Parameters
    ----------
    cm : ndarray of shape (k, k)
        Counts, rows true classes and columns predicted classes (see
        :func:`confusion_matrix`).
    classes : list of str, length k
        Class names, e.g. ``["non-cat", "cat"]``.
    path : str or path-like, optional
        Also write the PNG here (atomically).

    Returns
    -------
    bytes
        The PNG image; the title carries the accuracy trace(cm) / sum(cm).

    Examples
    --------
    >>> png = plot_confusion(np.array([[30, 3], [4, 13]]), ["non-cat", "cat"])
    >>> png[1:4]
    b'PNG'
    """
    cm = np.asarray(cm)
    k = len(classes)
    if cm.shape != (k, k):
        raise ValueError(f"cm has shape {cm.shape}, expected ({k}, {k}) for {k} classes")
    side = max(4.5, 0.55 * k + 2.5)
    fig = _figure(side + 0.8, side)
    ax = fig.subplots()
    im = ax.imshow(cm, cmap="Blues", vmin=0)
    fig.colorbar(im, ax=ax, shrink=0.8)
    peak = cm.max() if cm.size else 0
    fontsize = 12 if k <= 4 else 9 if k <= 10 else 6
    for (i, j), v in np.ndenumerate(cm):
        text = f"{v:g}" if np.issubdtype(cm.dtype, np.floating) else str(v)
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=fontsize,
            color="white" if peak and v > peak / 2 else "black",
        )
    ax.set_xticks(
        range(k),
        labels=[str(c) for c in classes],
        rotation=45 if max(map(len, map(str, classes)), default=0) > 6 else 0,
    )
    ax.set_yticks(range(k), labels=[str(c) for c in classes])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = cm.sum()
    ax.set_title("Confusion matrix" + (f" (accuracy {np.trace(cm) / total:.3f})" if total else ""))
    return _png(fig, path)


def plot_mislabeled(
    images: np.ndarray,
    true: Sequence[str],
    predicted: Sequence[str],
    probabilities: Sequence[float] | None = None,
    path: str | os.PathLike[str] | None = None,
    max_images: int = 10,
) -> bytes:
    r"""Grid of mislabeled examples, the course's ``print_mislabeled_images``.

    Each image is titled ``"Prediction: cat \n Class: non-cat"`` as in the course,
    with the predicted probability below when given.

    Parameters
    ----------
    images : ndarray of uint8, shape (n, H, W, C)
        The examples, C = 1 (grey, e.g. MNIST 28x28x1) or 3 / 4 (64x64x3 for cats).
    true : list of str, length n
        True class names.
    predicted : list of str, length n
        Predicted class names.
    probabilities : list of float, length n, optional
        Probability the model gave its prediction.
    path : str or path-like, optional
        Also write the PNG here (atomically).
    max_images : int, default 10
        Show at most the first ``max_images``.

    Returns
    -------
    bytes
        The PNG image (a short "no mislabeled images" note when n = 0).

    Examples
    --------
    >>> imgs = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> plot_mislabeled(imgs, ["cat", "non-cat"], ["non-cat", "cat"], [0.8, 0.6])[1:4]
    b'PNG'
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, H, W, C), got {images.shape}")
    n = images.shape[0]
    sizes = [len(true), len(predicted)] + ([] if probabilities is None else [len(probabilities)])
    if any(size != n for size in sizes):
        raise ValueError("images, true, predicted (and probabilities) must have the same length")
    n = min(n, max_images)
    if n == 0:
        fig = _figure(4, 1)
        fig.text(0.5, 0.5, "No mislabeled images", ha="center", va="center", fontsize=12)
        return _png(fig, path)
    ncols = min(n, 5)
    nrows = math.ceil(n / ncols)
    fig = _figure(2.4 * ncols, 2.9 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        if img.shape[-1] == 1:
            ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        else:
            ax.imshow(img, interpolation="nearest")
        title = f"Prediction: {predicted[i]} \n Class: {true[i]}"
        if probabilities is not None:
            title += f"\n p = {float(probabilities[i]):.2f}"
        ax.set_title(title, fontsize=9)
    return _png(fig, path)
