"""Why did the model say that? Attributions of single predictions, for ``deepstep explain``.

For images, one PNG per input: the image as the model saw it, its attribution map and the map
over the image (:func:`deepstep.report.overlay.plot_attribution`). For CSV rows, a table of
the features ranked by how much they pushed the explained score up or down. The attributions
are :func:`deepstep.attributions.attribute`'s; this module names, ranks and draws them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .attributions import Explanation, attribute
from .data.input_rows import header_names
from .data.inputs import Inputs, Item
from .predictions import class_names

if TYPE_CHECKING:
    from .model import Network

#: What each method's numbers are, for table headers.
UNITS = {"integrated_gradients": "attribution", "saliency": "gradient", "smoothgrad": "gradient"}


@dataclass(frozen=True)
class Explained:
    """The attributions of every input read, with the names of the labels involved."""

    inputs: Inputs
    explanation: Explanation
    predicted: list[str]
    explained: list[str]
    seconds: float


def parse_target(net: Network, text: str | None) -> Any:
    """``--target`` as ``attribute`` takes it: a class name -> that label of ``classes_``;
    for regression an output index. None stays None (the predicted class).

    Examples
    --------
    >>> from deepstep import Network
    >>> net = Network([2, 1]); net.classes_ = np.array([3, 8])
    >>> parse_target(net, "8")
    8
    """
    if text is None:
        return None
    names = class_names(net)
    if names is None:
        n_y = net.layer_dims[-1]
        if not (text.isdigit() and int(text) < n_y):
            raise ValueError(f"--target for a regression model is an output index 0..{n_y - 1}, "
                             f"got {text!r}")
        return int(text)
    if text not in names:
        raise ValueError(f"--target {text!r} is not one of the model's classes: "
                         f"{', '.join(names)}")
    return np.asarray(net.classes_)[names.index(text)].item()


def explain_inputs(net: Network, inputs: Inputs, method: str, target: Any = None,
                   steps: int = 64, seed: int = 0) -> Explained:
    """Attributions of the inputs' examples (columns of ``inputs.X``), timed.

    Returns
    -------
    Explained
        ``explanation.attributions`` (n_x, m) and the predicted / explained class names.
    """
    start = time.perf_counter()
    ex = attribute(net, inputs.X, method, target=target, steps=steps, seed=seed)
    seconds = time.perf_counter() - start
    return Explained(inputs, ex, [_name(net, v) for v in ex.predicted],
                     [_name(net, v) for v in ex.target], seconds)


def flat(explained: Explained) -> list[int]:
    """The examples whose attributions are all 0 (the output is flat around them, e.g. every
    ReLU of a layer off), which a map cannot show."""
    a = explained.explanation.attributions
    return [int(i) for i in np.flatnonzero(~np.any(a != 0, axis=0))]


def _name(net: Network, label: Any) -> str:
    """A class label (or a regression value / output index) as the user reads it."""
    names = class_names(net)
    if names is None:
        return f"{float(label):.6g}" if isinstance(label, (float, np.floating)) else str(label)
    lookup = {c: n for c, n in zip(np.asarray(net.classes_).tolist(), names, strict=True)}
    return lookup.get(np.asarray(label).item(), str(label))


def score_words(net: Network, explained: str) -> str:
    """What the explained score f is, in words."""
    if net.task == "regression":
        return f"the predicted value of output {explained}"
    if net.layer_dims[-1] == 1:
        return f"the log-odds of {explained}"
    return f"the score (logit) of {explained}"


def baseline_words(net: Network) -> str:
    """Integrated gradients' default baseline in words (see ``attribute``)."""
    if getattr(net.preprocessor, "mean_", None) is not None:
        return "the training mean"
    return "all zeros"


# --- images -------------------------------------------------------------------------------------


def overlay_paths(names: Sequence[str], out: Path, method: str) -> list[Path]:
    """One PNG path in ``out`` per input image: ``<stem>-<method>.png``, made unique with
    the parent folder's name, then a number, when stems repeat.

    Examples
    --------
    >>> [p.name for p in overlay_paths(["a/x.png", "b/x.png", "y.jpg"], Path("o"), "saliency")]
    ['a_x-saliency.png', 'b_x-saliency.png', 'y-saliency.png']
    """
    paths = [Path(_row_name(n)) for n in names]
    stems = [p.stem for p in paths]
    bases = [f"{p.parent.name}_{p.stem}" if p.parent.name and stems.count(p.stem) > 1
             else p.stem for p in paths]
    out_names: list[str] = []
    seen: dict[str, int] = {}
    for b in bases:
        seen[b] = seen.get(b, 0) + 1
        out_names.append(b if bases.count(b) == 1 else f"{b}-{seen[b]}")
    return [out / f"{b}-{method}.png" for b in out_names]


def _row_name(name: str) -> str:
    """"rows.csv:3" (a CSV row) -> "rows-row3"; a file name as it is."""
    head, _, line = name.rpartition(":")
    if line.isdigit() and head.lower().endswith(".csv"):
        return f"{head[:-4]}-row{line}"
    return name


def said(explained: Explained, i: int) -> str:
    """"cat (probability 0.9731)": example i's prediction as printed."""
    p = float(explained.explanation.probability[i])
    return explained.predicted[i] + (f" (probability {p:.4f})" if np.isfinite(p) else "")


def item_image(net: Network, item: Item) -> NDArray | None:
    """The picture of an example for drawing, (H, W, C) uint8: the converted image, or a
    CSV row of pixels reshaped to the training images' shape (None for tabular data)."""
    if item.image is not None:
        return item.image
    meta = net.config_.get("data") or {}
    shape = meta.get("image_shape")
    if not shape:
        return None
    top = float(meta.get("value_max") or 255.0) or 255.0
    return np.clip(item.x.reshape(shape) * (255.0 / top), 0, 255).astype(np.uint8)


def write_overlay(explained: Explained, i: int, image: NDArray, path: Path) -> Path:
    """Draw example i's map over its image into ``path`` (PNG, written atomically)."""
    from .report.overlay import plot_attribution

    ex = explained.explanation
    p = float(ex.probability[i])
    target = explained.explained[i] if explained.explained[i] != explained.predicted[i] else None
    plot_attribution(image, ex.attributions[:, i], predicted=explained.predicted[i],
                     probability=p if np.isfinite(p) else None, target=target,
                     method=ex.method, path=path)
    return path


# --- tabular rows -----------------------------------------------------------------------------


def ranking(net: Network, explained: Explained, i: int, top: int) -> str:
    """The features of example i ranked by |attribution|, as a printable table.

    The header line says what was predicted and explained; the rows give the feature, its
    value, its signed attribution and whether it pushed the score up or down; a last line
    sums the features not shown and, for integrated gradients, checks completeness (the
    attributions add up to f(x) - f(baseline)).
    """
    ex = explained.explanation
    item = explained.inputs.items[i]
    a = ex.attributions[:, i]
    names = item.features or (header_names(item.source, a.size) if item.source else None) \
        or [f"x{j + 1}" for j in range(a.size)]
    lines = [f"{item.name}: predicted {said(explained, i)}; {ex.method.replace('_', ' ')} of "
             f"{score_words(net, explained.explained[i])}"]
    order = np.argsort(-np.abs(a), kind="stable")[:top]
    rows = [("rank", "feature", "value", UNITS[ex.method], "")]
    for r, j in enumerate(order, start=1):
        push = "up" if a[j] > 0 else "down" if a[j] < 0 else "-"
        rows.append((str(r), names[j], f"{item.x[j]:.6g}", f"{a[j]:+.4g}", push))
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    lines += ["  " + "  ".join(c.rjust(w) if k in (2, 3) else c.ljust(w)
                               for k, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
              for row in rows]
    rest = np.delete(a, order)
    tail = []
    if rest.size:
        tail.append(f"the other {rest.size} features: {rest.sum():+.4g} in all")
    if ex.baseline_score is not None:
        gap = float(ex.score[i] - ex.baseline_score[i])
        tail.append(f"sum {a.sum():+.4g} = f(x) - f(baseline) {gap:+.4g} (baseline: "
                    f"{baseline_words(net)})")
    if tail:
        lines.append("  " + "; ".join(tail))
    return "\n".join(lines)
