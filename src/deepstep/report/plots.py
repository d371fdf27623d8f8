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
from typing import Any, Literal

import numpy as np

from deepstep.files import atomic_write
from deepstep.report.formatting import caption, fmt

TRAIN_COLOR = "#1f77b4"  # matplotlib C0, the course's default line colour
VAL_COLOR = "#ff7f0e"  # matplotlib C1


def _figure(width: float, height: float,
            layout: Literal["constrained"] | None = "constrained") -> Any:
    """Return an Agg-backed Figure of ``width`` x ``height`` inches (``layout`` None: the
    caller places the axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
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
    """``history[key]`` as floats (None becomes NaN, a gap), checked to have length n; None
    when absent or when every value is NaN (e.g. the accuracy of a regression)."""
    if history.get(key) is None or len(history[key]) == 0:
        return None
    y = np.array([np.nan if v is None else v for v in history[key]], dtype=float).ravel()
    if y.size != n:
        raise ValueError(f"history[{key!r}] has {y.size} values but 'loss' has {n}")
    return None if np.isnan(y).all() else y


def _differs(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is not None and b is not None and not np.allclose(a, b, rtol=1e-9, atol=0,
                                                               equal_nan=True)


def cost_panels(history: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The panels :func:`plot_costs` draws: (y label, train key, validation key) each.

    "data loss" (``data_loss`` / ``val_data_loss``; ``loss`` / ``val_loss`` labelled "loss"
    for a history without them); "objective: data loss + L2 penalty" (``loss`` /
    ``val_loss``) when it differs from the data loss (else the data loss panel says that it
    is the objective); "accuracy" when recorded (not NaN);
    "learning rate" (``lr``) when it changes.

    Examples
    --------
    >>> h = {"loss": [1.2, 0.9], "data_loss": [0.7, 0.5], "accuracy": [0.5, 0.8],
    ...      "lr": [0.1, 0.1]}
    >>> [p[0] for p in cost_panels(h)]
    ['data loss', 'objective: data loss + L2 penalty', 'accuracy']
    """
    if not history.get("loss"):
        raise ValueError("history needs a non-empty 'loss' list")
    n = len(history["loss"])
    loss, data = _series(history, "loss", n), _series(history, "data_loss", n)
    if data is None:
        panels = [("loss", "loss", "val_loss")]
    else:
        val, val_data = _series(history, "val_loss", n), _series(history, "val_data_loss", n)
        if _differs(loss, data) or _differs(val, val_data):
            panels = [("data loss", "data_loss", "val_data_loss"),
                      ("objective: data loss + L2 penalty", "loss", "val_loss")]
        else:
            panels = [("data loss (the objective: no L2 penalty)", "data_loss", "val_data_loss")]
    if any(_series(history, k, n) is not None for k in ("accuracy", "val_accuracy")):
        panels.append(("accuracy", "accuracy", "val_accuracy"))
    lr = _series(history, "lr", n)
    if lr is not None and np.nanmax(lr) > np.nanmin(lr):
        panels.append(("learning rate", "lr", ""))
    return panels


def plot_costs(
    history: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    best: float | None = None,
) -> bytes:
    """Plot the training curves against training progress, one panel per quantity.

    Parameters
    ----------
    history : mapping of str to sequence of float
        ``"loss"`` (required, length T: the objective minimised, data loss + L2 penalty)
        and optionally ``"data_loss"``, ``"val_loss"``, ``"val_data_loss"``,
        ``"accuracy"``, ``"val_accuracy"``, ``"lr"`` (each length T, None for a gap), plus
        the x values: ``"iteration"`` (full-batch gradient descent, one update per point;
        e.g. the course's 0, 100, 200, ...) or ``"epoch"``; without either, epochs 1..T.
        The panels are those of :func:`cost_panels`.
    path : str or path-like, optional
        Also write the PNG here (atomically).
    title : str, optional
        Figure title; default "Training curves"; "" for none.
    best : float, optional
        An x value to mark with a dotted line labelled "restored": the epoch whose weights
        early stopping kept.

    Returns
    -------
    bytes
        The PNG image: up to three panels in a row, four in a 2 x 2 grid.

    Examples
    --------
    >>> png = plot_costs({"loss": [0.69, 0.5, 0.3], "val_loss": [0.7, 0.6, 0.5]})
    >>> png[1:4]
    b'PNG'
    """
    panels = cost_panels(history)
    n = len(history["loss"])
    if history.get("iteration") is not None:
        x, xlabel = _series(history, "iteration", n), "iteration"
    else:
        x, xlabel = _series(history, "epoch", n), "epoch"
        x = np.arange(1, n + 1, dtype=float) if x is None else x
    cols = len(panels) if len(panels) <= 3 else 2
    rows = math.ceil(len(panels) / cols)
    fig = _figure((6.0 if cols < 3 else 4.4) * cols, 3.9 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    marker = "o" if n <= 30 else None
    for ax, (ylabel, train_key, val_key) in zip(axes, panels, strict=False):
        curves = ((train_key, "train", TRAIN_COLOR), (val_key, "validation", VAL_COLOR))
        for key, label, color in curves:
            y = _series(history, key, n) if key else None
            if y is not None:
                ax.plot(x, y, color=color, marker=marker, markersize=3, linewidth=2,
                        label=label if key != "lr" else None)
        if best is not None:
            ax.axvline(best, color="#555555", linestyle=":", linewidth=1.5, label="restored")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("loss" if "loss" in train_key else ylabel)
        ax.set_title(ylabel, fontsize=11)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    for ax in axes[len(panels):]:
        ax.axis("off")
    if title != "":
        fig.suptitle(title or "Training curves")
    return _png(fig, path)


def confusion_matrix(y_true: Any, y_pred: Any, k: int) -> np.ndarray:
    """Count C[i, j] = number of examples of true class i predicted as class j.

    scikit-learn's :func:`sklearn.metrics.confusion_matrix` with ``labels = 0..k-1``, after
    checking the labels (scikit-learn would silently drop those outside the range).

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
    if t.size == 0:
        return np.zeros((k, k), dtype=np.int64)
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    return sk_confusion_matrix(t, p, labels=np.arange(k)).astype(np.int64)


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
    side = max(4.2, 0.42 * k + 2.4)
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
    accuracy = f" (accuracy {fmt(float(np.trace(cm) / total))})" if total else ""
    ax.set_title("Confusion matrix" + accuracy)
    return _png(fig, path)


def plot_mislabeled(
    images: np.ndarray,
    true: Sequence[Any],
    predicted: Sequence[Any],
    probabilities: Sequence[float] | None = None,
    path: str | os.PathLike[str] | None = None,
    max_images: int = 10,
    attributions: np.ndarray | None = None,
) -> bytes:
    """Grid of mislabeled examples (the course's ``print_mislabeled_images``), each with
    its attribution map laid over it when given.

    Each example is captioned "predicted cat (p = 0.62), true non-cat"
    (:func:`deepstep.report.formatting.caption`).

    Parameters
    ----------
    images : ndarray of uint8, shape (n, H, W, C)
        The examples, C = 1 (grey, e.g. MNIST 28x28x1) or 3 / 4 (64x64x3 for cats).
    true : list of labels, length n
        True class names.
    predicted : list of labels, length n
        Predicted class names.
    probabilities : list of float, length n, optional
        Probability the model gave its prediction.
    path : str or path-like, optional
        Also write the PNG here (atomically).
    max_images : int, default 10
        Show at most the first ``max_images``.
    attributions : ndarray of shape (H * W * C, n), optional
        One column per example (:func:`deepstep.attributions.attribute`'s output): each
        example is then drawn twice, as it is and with its map over it
        (:func:`deepstep.report.overlay.draw_overlay`, red raised the explained score, blue
        lowered it, each map on its own scale).

    Returns
    -------
    bytes
        The PNG image (a short "no mislabeled images" note when n = 0): five examples a
        row, three with attributions.

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
    if attributions is not None:
        sizes.append(np.shape(attributions)[1])
    if any(size != n for size in sizes):
        raise ValueError("images, true, predicted (and probabilities, attributions' columns) "
                         "must have the same length")
    n = min(n, max_images)
    if n == 0:
        fig = _figure(4, 1)
        fig.text(0.5, 0.5, "No mislabeled images", ha="center", va="center", fontsize=12)
        return _png(fig, path)
    from deepstep.report import overlay

    per_row = 5 if attributions is None else 3
    panels = 1 if attributions is None else 2
    side, gap = (2.0 if panels == 1 else 1.6), 0.08  # inches
    head = 0.32 if panels == 2 else 0.5  # one image is too narrow for the caption: 2 lines
    ncols, nrows = min(n, per_row), math.ceil(n / per_row)
    cell_w = panels * side + (panels - 1) * gap + 0.3
    width, height = ncols * cell_w, nrows * (side + head + 0.12)
    # axes placed by hand: a constrained layout of n cells costs more than all the drawing
    fig = _figure(width, height, layout=None)
    for i in range(n):
        row, col = divmod(i, per_row)
        top = height - row * (side + head + 0.12) - head
        left = col * cell_w + 0.15
        axes = [fig.add_axes(((left + j * (side + gap)) / width, (top - side) / height,
                              side / width, side / height)) for j in range(panels)]
        pixels = overlay.display_pixels(images[i])
        overlay.draw_image(axes[0], pixels)
        if attributions is not None:
            amap = overlay.attribution_map(attributions[:, i], images[i].shape)
            overlay.draw_overlay(axes[1], pixels, amap, overlay.color_limit(amap))
        for ax in axes:
            ax.axis("off")
        p = None if probabilities is None else float(probabilities[i])
        text = caption(predicted[i], p, true[i])
        fig.text((col + 0.5) * cell_w / width, (top + 0.08) / height,
                 text if panels == 2 else text.replace(", true", ",\ntrue"), ha="center",
                 va="bottom", fontsize=9)
    return _png(fig, path)
