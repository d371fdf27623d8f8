"""Plots return real, non-blank PNGs; the HTML report is complete, escaped and atomic."""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from deepstep.report import (
    build_report,
    confusion_matrix,
    plot_confusion,
    plot_costs,
    plot_mislabeled,
    plots,
    sections,
)
from deepstep.report import html as report_html
from deepstep.report.classification import from_predictions
from deepstep.report.formatting import fmt
from deepstep.report.mislabeled import Mislabeled
from deepstep.report.regression import RegressionEvaluation


def _open_png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.format == "PNG"
    return img.convert("RGB")


def _assert_not_blank(img: Image.Image, min_size: tuple[int, int] = (200, 150)) -> None:
    assert img.width >= min_size[0] and img.height >= min_size[1]
    px = np.asarray(img)
    non_white = (px < 240).any(axis=-1).mean()
    assert non_white > 0.01, f"only {non_white:.2%} non-white pixels"
    packed = px[..., 0].astype(np.int32) << 16 | px[..., 1].astype(np.int32) << 8 | px[..., 2]
    assert len(np.unique(packed)) > 20


def _has_colour(img: Image.Image, hex_colour: str, tol: int = 30) -> bool:
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(np.asarray(img).astype(int) - target).max(axis=-1) < tol).any())


def _history(n: int = 12) -> dict:
    loss = list(0.7 * np.exp(-np.arange(n) / 4) + 0.05)
    return {
        "loss": loss,
        "val_loss": [v + 0.1 for v in loss],
        "accuracy": [1 - v for v in loss],
        "val_accuracy": [0.9 - v for v in loss],
    }


# ---------------------------------------------------------------- plots


def test_plot_costs_png_with_train_and_validation_curves(tmp_path):
    out = tmp_path / "sub" / "cost.png"
    data = plot_costs(_history(), path=out)
    img = _open_png(data)
    _assert_not_blank(img, (600, 300))  # two panels side by side
    assert img.width > img.height
    assert out.read_bytes() == data
    assert _has_colour(img, plots.TRAIN_COLOR) and _has_colour(img, plots.VAL_COLOR)


def test_plot_costs_loss_only_and_course_iterations():
    hist = {"loss": [0.69, 0.6, 0.5, 0.45], "iteration": [0, 100, 200, 300]}
    img = _open_png(plot_costs(hist, title="Learning rate =0.0075"))
    _assert_not_blank(img)
    assert _has_colour(img, plots.TRAIN_COLOR) and not _has_colour(img, plots.VAL_COLOR, tol=10)
    single, double = img.width, _open_png(plot_costs(_history())).width
    assert single < double


def test_plot_costs_axis_labels(monkeypatch):
    labels = []
    from matplotlib.axes import Axes

    real = Axes.set_xlabel
    monkeypatch.setattr(Axes, "set_xlabel", lambda ax, s, **kw: labels.append(s) or real(ax, s))
    plot_costs({"loss": [1.0, 0.5], "iteration": [0, 100]})
    plot_costs({"loss": [1.0, 0.5], "epoch": [1, 2]})
    plot_costs({"loss": [1.0, 0.5]})
    assert labels == ["iteration", "epoch", "epoch"]


def test_plot_costs_x_values_are_plotted_as_recorded(monkeypatch):
    from matplotlib.axes import Axes

    seen = []
    real = Axes.plot
    monkeypatch.setattr(Axes, "plot", lambda ax, x, y, **kw: seen.append(list(x)) or real(
        ax, x, y, **kw))
    plot_costs({"loss": [0.7, 0.6, 0.5], "iteration": [0, 100, 200]})
    assert seen == [[0, 100, 200]]  # iterations, not "hundreds of iterations"


def test_cost_panels_separate_the_data_loss_from_the_objective():
    h = {"loss": [1.5, 1.2], "data_loss": [0.7, 0.5], "val_loss": [1.6, 1.3],
         "val_data_loss": [0.8, 0.6], "accuracy": [0.5, 0.8], "val_accuracy": [0.5, 0.7],
         "lr": [0.1, 0.05]}
    assert plots.cost_panels(h) == [
        ("data loss", "data_loss", "val_data_loss"),
        ("objective: data loss + L2 penalty", "loss", "val_loss"),
        ("accuracy", "accuracy", "val_accuracy"),
        ("learning rate", "lr", ""),
    ]
    _assert_not_blank(_open_png(plot_costs(h)), (800, 600))  # 2 x 2 panels
    # no penalty: one loss panel that says so; a constant lr and NaN accuracy (regression)
    # draw nothing
    flat = {"loss": [0.7, 0.5], "data_loss": [0.7, 0.5], "accuracy": [float("nan")] * 2,
            "lr": [0.1, 0.1]}
    assert plots.cost_panels(flat) == [
        ("data loss (the objective: no L2 penalty)", "data_loss", "val_data_loss")]


def test_plot_costs_marks_the_restored_epoch(monkeypatch):
    from matplotlib.axes import Axes

    seen = []
    real = Axes.axvline
    monkeypatch.setattr(Axes, "axvline", lambda ax, x, **kw: seen.append(x) or real(ax, x, **kw))
    plot_costs({"loss": [0.7, 0.5, 0.6], "epoch": [1, 2, 3]}, best=2)
    assert seen == [2]


def test_plot_costs_rejects_bad_history():
    with pytest.raises(ValueError, match="loss"):
        plot_costs({"val_loss": [1.0]})
    with pytest.raises(ValueError, match="val_loss"):
        plot_costs({"loss": [1.0, 0.5], "val_loss": [1.0]})


def test_confusion_matrix_counts(rng):
    k, m = 4, 500
    y, p = rng.integers(0, k, m), rng.integers(0, k, m)
    cm = confusion_matrix(y, p, k)
    assert cm.shape == (k, k) and cm.sum() == m
    expected = np.array([[np.sum((y == i) & (p == j)) for j in range(k)] for i in range(k)])
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_array_equal(confusion_matrix(y[None, :], p[None, :], k), cm)  # (1, m)
    with pytest.raises(ValueError):
        confusion_matrix([0, 4], [0, 1], 4)
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0], 4)


def test_plot_confusion_png(tmp_path):
    cm = np.array([[30, 3], [4, 13]])
    data = plot_confusion(cm, ["non-cat", "cat"], path=tmp_path / "cm.png")
    img = _open_png(data)
    _assert_not_blank(img, (300, 300))
    assert (tmp_path / "cm.png").read_bytes() == data
    ten = _open_png(plot_confusion(np.eye(10, dtype=int) * 9, [str(d) for d in range(10)]))
    assert ten.width > img.width
    with pytest.raises(ValueError, match="shape"):
        plot_confusion(cm, ["a", "b", "c"])


@pytest.mark.parametrize("channels", [3, 1])
def test_plot_mislabeled_grid(rng, channels):
    n = 7
    images = rng.integers(0, 256, (n, 16, 16, channels), dtype=np.uint8)
    true, pred = ["cat"] * n, ["non-cat"] * n
    img = _open_png(plot_mislabeled(images, true, pred, list(rng.random(n))))
    _assert_not_blank(img, (600, 300))
    two = _open_png(plot_mislabeled(images[:2], true[:2], pred[:2], None))
    assert two.width < img.width  # the grid follows n (5 columns at most)
    capped = _open_png(plot_mislabeled(images, true, pred, None, max_images=3))
    assert capped.width < img.width


def test_plot_mislabeled_captions_name_both_classes(monkeypatch, rng):
    texts = []
    from matplotlib.figure import Figure

    real = Figure.text
    monkeypatch.setattr(Figure, "text", lambda fig, x, y, s, **kw: texts.append(s) or real(
        fig, x, y, s, **kw))
    images = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    args = (images, ["non-cat", "cat", "cat"], ["cat", "non-cat", "non-cat"],
            [0.6213, 0.5, 0.9961])
    plot_mislabeled(*args, attributions=np.zeros((8 * 8 * 3, 3)))
    assert texts == [
        "predicted cat (p = 0.62), true non-cat",
        "predicted non-cat (p = 0.50), true cat",
        "predicted non-cat (p = 0.996), true cat",  # not "1.0": it was not certain
    ]
    texts.clear()
    plot_mislabeled(*args)  # one narrow panel each: the caption takes two lines
    assert texts[0] == "predicted cat (p = 0.62),\ntrue non-cat"


def test_plot_mislabeled_with_attributions_draws_each_map_beside_its_image(rng):
    n, side = 4, 16
    images = np.full((n, side, side, 3), 128, dtype=np.uint8)
    attributions = np.zeros((side * side * 3, n))
    attributions[: side * 3 * 4] = 1.0  # the top rows raised the score: red
    attributions[-side * 3 * 4:] = -1.0  # the bottom rows lowered it: blue
    plain = _open_png(plot_mislabeled(images, ["a"] * n, ["b"] * n, [0.9] * n))
    both = _open_png(plot_mislabeled(images, ["a"] * n, ["b"] * n, [0.9] * n,
                                     attributions=attributions))
    def reddish_bluish(img):
        px = np.asarray(img).astype(int)
        r, b = px[..., 0], px[..., 2]
        return int((r > b + 60).sum()), int((b > r + 60).sum())

    red, blue = reddish_bluish(both)
    assert red > 100 and blue > 100
    assert reddish_bluish(plain) == (0, 0)
    assert both.height > plain.height  # 3 examples a row instead of 5
    with pytest.raises(ValueError, match="same length"):
        plot_mislabeled(images, ["a"] * n, ["b"] * n, None, attributions=attributions[:, :2])


def test_plot_mislabeled_empty_and_mismatched(rng):
    _open_png(plot_mislabeled(np.zeros((0, 64, 64, 3), np.uint8), [], [], None))
    with pytest.raises(ValueError, match="same length"):
        plot_mislabeled(np.zeros((2, 8, 8, 3), np.uint8), ["cat"], ["cat", "cat"], None)


def test_import_does_not_import_matplotlib():
    code = "import deepstep.report, sys; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------- HTML report


class _Page(HTMLParser):
    """Collect section ids, <img> attributes, text and every resource URL."""

    def __init__(self):
        super().__init__()
        self.sections, self.imgs, self.urls, self.text = [], {}, [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a["id"])
        if tag == "img":
            self.imgs[a["id"]] = a
        self.urls += [a[k] for k in ("src", "href") if k in a]

    def handle_data(self, data):
        self.text.append(data)


def report_kwargs(rng) -> dict:
    """A full report's arguments: the course's 4-layer cat model with every section."""
    dims = [12288, 20, 7, 5, 1]
    shapes = [
        {
            "layer": layer,
            "W": (dims[layer], dims[layer - 1]),
            "b": (dims[layer], 1),
            "Z": (dims[layer], 209),
            "A": (dims[layer], 209),
            "params": dims[layer] * (dims[layer - 1] + 1),
        }
        for layer in range(1, len(dims))
    ]
    y = rng.integers(0, 2, 50)
    p1 = np.clip(np.where(y == 1, 0.7, 0.3) + rng.normal(0, 0.25, 50), 0.01, 0.99)
    ev = from_predictions(["non-cat", "cat"], y, p1[None, :], "test.h5 (50 examples)")
    seeds = [{"seed": s, "test": {"accuracy": 0.78 + s / 100}} for s in range(3)]
    mis = Mislabeled(
        rng.integers(0, 256, (10, 16, 16, 3), dtype=np.uint8), ["cat", "non-cat"] * 5,
        ["non-cat", "cat"] * 5, rng.random(10), rng.normal(size=(16 * 16 * 3, 10)),
        total=12, m=50, steps=32, seconds=0.05)
    return dict(
        title="4-layer model on cat vs non-cat",
        hyperparameters={"layers_dims": dims, "learning_rate": 0.0075, "num_iterations": 2500},
        shapes=shapes,
        history={**_history(25), "iteration": list(range(0, 2500, 100)),
                 "seconds": [0.01] * 25},
        metrics={
            "train": {"loss": 0.0884, "accuracy": 0.9856},
            "test": {"loss": 0.61, "accuracy": 0.8},
            "seeds": seeds,
        },
        evaluation=ev,
        mislabeled=mis,
        training={"l2": 0.0, "batch_size": None, "m": 209, "loss": "binary_cross_entropy"},
        notes=["trained with seed 1", "x < y & z"],
    )


def _small_kwargs() -> dict:
    return dict(
        title="small",
        hyperparameters={"learning_rate": 0.1},
        shapes=[],
        history=None,
        metrics={"test": {"accuracy": 0.5}},
    )


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def test_build_report_has_every_section_and_embedded_images(tmp_path, rng):
    kw = report_kwargs(rng)
    out = build_report(tmp_path / "report.html", **kw)
    assert out == tmp_path / "report.html"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    page = _page(text)
    assert page.sections == ["metrics", "per-class", "confusion", "roc", "mislabeled", "costs",
                             "hyperparameters", "shapes", "notes"]
    assert set(page.imgs) == {"cost-curve", "confusion-matrix", "roc-curve", "mislabeled-images"}
    for ident, attrs in page.imgs.items():
        assert attrs["alt"]
        src = attrs["src"]
        assert src.startswith("data:image/png;base64,"), ident
        _assert_not_blank(_open_png(base64.b64decode(src.split(",", 1)[1])))
    # self-contained: only data: URIs and in-page anchors, no external scripts or styles
    assert all(u.startswith(("data:", "#")) for u in page.urls)
    assert not re.search(r"<(link|script)\b[^>]*\b(src|href)=", text)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    body = " ".join(page.text)
    for expected in ("[12288, 20, 7, 5, 1]", "0.0075", "(20, 12288)", "245,780", "245,973"):
        assert expected in body  # hyperparameters; shapes with the parameter total
    assert "0.9856" in body and "over 3 seeds" in body and "Per seed" in body
    assert "loss: the data loss (binary cross-entropy); training used no L2 penalty." in body
    assert "0.7900 ± 0.010" in body  # test accuracy 0.78, 0.79, 0.80: sample std 0.01
    assert "12 mislabeled examples; the 10 most confident mistakes are shown." in body
    assert "integrated gradients map for the predicted class (32 steps" in body
    assert f"ROC AUC {fmt(kw['evaluation'].roc().auc)}" in body
    assert "x < y & z" in body and "x &lt; y &amp; z" in text


def test_numbers_have_one_format(tmp_path, rng):
    """Every decimal number in the tables has 4 significant digits (spreads 2)."""
    text = build_report(tmp_path / "r.html", **report_kwargs(rng)).read_text()
    cells = re.findall(r'<td class="num">([^<]*)</td>', text)
    decimals = [c for c in cells if "." in c]
    assert decimals
    for c in decimals:
        for number in re.findall(r"[\d.]+(?:e[-+]\d+)?", c.replace(",", "")):
            if "." not in number:
                continue
            digits = number.split("e")[0].replace(".", "").lstrip("0")
            assert len(digits) in (2, 4), c  # 0.7900 ± 0.010


def test_build_report_uses_given_mean_and_std(tmp_path):
    kw = _small_kwargs()
    kw["metrics"] = {
        "test": {"accuracy": 0.4},
        "seeds": [{"seed": 1, "test": {"accuracy": 0.4}}, {"seed": 2, "test": {"accuracy": 0.6}}],
        "mean": {"test": {"accuracy": 0.5}},
        "std": {"test": {"accuracy": 0.25}},
    }
    text = build_report(tmp_path / "r.html", **kw).read_text()
    assert '<td>test</td><td class="num">0.5000 ± 0.25</td>' in text
    assert "over 2 seeds (1, 2); the saved model, whose plots follow, is seed 1" in text
    assert "<th>seed</th><th>test accuracy</th>" in text
    assert '<tr class="total"><td>std</td><td class="num">0.25</td></tr>' in text
    assert "test accuracy 0.5000 ± 0.25 (2 seeds)" in text  # the headline


def test_training_notes_say_what_the_curves_show():
    hist = {"loss": [1.5, 1.2, 1.3], "data_loss": [0.7, 0.5, 0.6], "epoch": [1, 2, 3],
            "lr": [0.1, 0.05, 0.025], "seconds": [0.5, 0.25, 0.25], "val_loss": [1, 1, 1]}
    notes = sections.training_notes(hist, {"l2": 1.0, "batch_size": 32, "m": 100,
                                           "loss": "categorical_cross_entropy",
                                           "schedule": "step", "best_epoch": 1})
    assert notes == [
        "3 points, one per epoch: the mean loss over the epoch's mini-batches of 32; "
        "validation after the epoch.",
        "Objective minimised = data loss (categorical cross-entropy) + L2 penalty "
        "λ/(2b) · Σₗ ‖W[l]‖², with λ = 1 and b = 32, the mini-batch size. The metrics "
        "table reports the data loss.",
        "Learning rate (schedule step): from 0.1000 to 0.02500, plotted.",
        "Early stopping restored the weights of epoch 2 (the dotted line), the best on the "
        "validation data.",
        "Training time: 1.000 s for 3 epochs (333.3 ms per epoch).",
    ]
    course = sections.training_notes({"loss": [0.7] * 4, "iteration": [0, 1, 2, 3],
                                      "lr": [0.0075] * 4},
                                     {"l2": 0.0, "batch_size": None, "m": 209,
                                      "loss": "binary_cross_entropy"})
    assert course == [
        "4 points: full-batch gradient descent, one per iteration (update), each the loss "
        "before that update, as the course prints it.",
        "No L2 penalty (λ = 0): the objective is the data loss (binary cross-entropy).",
        "Learning rate: constant, 0.0075.",
    ]


def test_build_report_escapes_text(tmp_path, rng):
    kw = report_kwargs(rng)
    kw["title"] = "<script>alert('x')</script>"
    kw["hyperparameters"] = {"<b>key</b>": "<img src=x onerror=alert(1)>"}
    kw["notes"] = ['"quoted" <i>note</i>']
    ev = kw["evaluation"]
    kw["evaluation"] = from_predictions(["<non-cat>", "cat"], ev.y_true, ev.positive_score[None])
    text = build_report(tmp_path / "r.html", **kw).read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(&#x27;x&#x27;)" in text
    assert "<b>key" not in text and "<img src=x" not in text and "<i>note" not in text
    assert "<non-cat>" not in text and "&lt;non-cat&gt;" in text
    assert len(re.findall(r"<script>", text)) == 1  # only the report's own loader script


def test_build_report_leaves_out_what_it_cannot_show(tmp_path):
    out = build_report(tmp_path / "r.html", title="empty", hyperparameters={}, shapes=[],
                       history=None, metrics={}, notes=None)
    page = _page(out.read_text())
    assert page.sections == [] and page.imgs == {}
    assert "<nav></nav>" in out.read_text()


def test_roc_section_says_why_it_is_missing(tmp_path):
    one_class = from_predictions(["non-cat", "cat"], [1, 1, 1], np.array([[0.9, 0.4, 0.8]]),
                                 "three cats")
    assert one_class.roc() is None
    text = build_report(tmp_path / "r.html", **_small_kwargs(), evaluation=one_class).read_text()
    assert "No ROC curve: the three cats holds only cat examples." in text
    assert 'id="roc-curve"' not in text
    three = from_predictions(["a", "b", "c"], [0, 1, 2], np.eye(3))
    text = build_report(tmp_path / "r.html", **_small_kwargs(), evaluation=three).read_text()
    assert 'id="roc"' not in text  # multi-class: no ROC section at all


def test_regression_report_has_its_plots_and_no_classifier_sections(tmp_path, rng):
    y = rng.normal(150, 50, 80)
    ev = RegressionEvaluation(y, y + rng.normal(0, 20, 80), "diabetes (80 examples)")
    hist = {"loss": [1.0, 0.6], "data_loss": [0.9, 0.5], "accuracy": [float("nan")] * 2,
            "epoch": [1, 2]}
    text = build_report(tmp_path / "r.html", **{**_small_kwargs(), "history": hist,
                        "metrics": {"test": {"loss": 0.3, "r2": 0.8, "mae": 16.0, "rmse": 20.0}}},
                        evaluation=ev).read_text()
    page = _page(text)
    assert page.sections == ["metrics", "regression", "costs", "hyperparameters"]
    assert set(page.imgs) == {"regression-plots", "cost-curve"}
    met = ev.metrics()
    assert f"R² {fmt(met['r2'])}, MAE {fmt(met['mae'])}, RMSE {fmt(met['rmse'])}" in text
    assert "<th>R²</th><th>MAE</th><th>RMSE</th>" in text
    assert "regression · test R² 0.8000 · test RMSE 20.00" in text


def test_mislabeled_section_with_no_mistakes_says_so(tmp_path):
    mis = Mislabeled(np.zeros((0, 4, 4, 1), np.uint8), [], [], np.zeros(0), None, 0, 30)
    text = build_report(tmp_path / "r.html", **_small_kwargs(), mislabeled=mis).read_text()
    assert "On 30 examples: no mislabeled examples." in text and "<img" not in text


def test_build_report_failure_leaves_old_file(tmp_path, rng, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("old report")

    def boom(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(plots, "plot_mislabeled", boom)  # fails after other plots were made
    with pytest.raises(RuntimeError, match="plotting failed"):
        build_report(out, **report_kwargs(rng))
    assert out.read_text() == "old report"
    assert os.listdir(tmp_path) == ["report.html"]


def test_build_report_replaces_only_a_complete_synced_file(tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("old report")
    seen, synced = {}, []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))

    def spy_replace(src, dst):
        seen.update(src=src, dst=dst, text=open(src, encoding="utf-8").read(), synced=len(synced))
        assert out.read_text() == "old report"  # still the old file until the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy_replace)
    build_report(out, **_small_kwargs())
    assert os.path.dirname(seen["src"]) == str(tmp_path) and seen["dst"] == out
    assert seen["synced"] >= 1 and seen["text"].rstrip().endswith("</html>")
    assert out.read_text(encoding="utf-8") == seen["text"]
    assert os.listdir(tmp_path) == ["report.html"]


def test_write_failure_removes_temp_file(tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("old report")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        build_report(out, **_small_kwargs())
    assert out.read_text() == "old report"
    assert os.listdir(tmp_path) == ["report.html"]


def test_report_file_mode_follows_umask(tmp_path):
    out = build_report(tmp_path / "r.html", **_small_kwargs())
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_report_module_names():
    assert report_html.build_report is build_report


def test_training_notes_mention_validation_only_when_there_was_one():
    hist = {"loss": [1.0, 0.5], "epoch": [1, 2]}
    notes = sections.training_notes(hist, {"l2": 0.1, "batch_size": 32, "m": 209})
    assert notes[0].endswith("mini-batches of 32.") and "validation" not in notes[0]
    assert "λ = 0.1 and b = 32" in notes[1]
