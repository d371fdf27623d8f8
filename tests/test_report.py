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
)
from deepstep.report import html as report_html


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
    assert labels == ["iterations (per hundreds)", "epoch", "epoch"]


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


def test_plot_mislabeled_titles_follow_the_course(monkeypatch, rng):
    titles = []
    from matplotlib.axes import Axes

    real = Axes.set_title
    monkeypatch.setattr(Axes, "set_title", lambda ax, s, **kw: titles.append(s) or real(ax, s))
    images = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    plot_mislabeled(images, ["non-cat", "cat"], ["cat", "non-cat"], [0.75, 0.5])
    assert titles == [
        "Prediction: cat \n Class: non-cat\n p = 0.75",
        "Prediction: non-cat \n Class: cat\n p = 0.50",
    ]


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
    p = np.where(rng.random(50) < 0.8, y, 1 - y)
    seeds = [{"seed": s, "test": {"accuracy": 0.78 + s / 100}} for s in range(3)]
    return dict(
        title="4-layer model on cat vs non-cat",
        hyperparameters={"layers_dims": dims, "learning_rate": 0.0075, "num_iterations": 2500},
        shapes=shapes,
        history={**_history(25), "iteration": list(range(0, 2500, 100))},
        metrics={
            "train": {"loss": 0.0884, "accuracy": 0.9856},
            "test": {"loss": 0.61, "accuracy": 0.8},
            "seeds": seeds,
        },
        confusion=(confusion_matrix(y, p, 2), ["non-cat", "cat"]),
        mislabeled=(
            rng.integers(0, 256, (12, 16, 16, 3), dtype=np.uint8),
            ["cat", "non-cat"] * 6,
            ["non-cat", "cat"] * 6,
            list(rng.random(12)),
        ),
        notes=["trained with seed 1", "x < y & z"],
    )


def _small_kwargs() -> dict:
    return dict(
        title="small",
        hyperparameters={"learning_rate": 0.1},
        shapes=[],
        history=None,
        metrics={"test": {"accuracy": 0.5}},
        confusion=None,
        mislabeled=None,
    )


def test_build_report_has_every_section_and_embedded_images(tmp_path, rng):
    out = build_report(tmp_path / "report.html", **report_kwargs(rng))
    assert out == tmp_path / "report.html"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    page = _Page()
    page.feed(text)
    page.close()
    assert page.sections == [
        "hyperparameters",
        "shapes",
        "costs",
        "metrics",
        "confusion",
        "mislabeled",
        "notes",
    ]
    assert set(page.imgs) == {"cost-curve", "confusion-matrix", "mislabeled"}
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
    assert "0.9856" in body and "Mean ± std over 3 seeds" in body and "Per seed" in body
    assert "0.79 ± 0.01" in body  # test accuracy 0.78, 0.79, 0.80: sample std 0.01
    assert "12 mislabeled examples, showing the first 10." in body
    assert "x < y & z" in body and "x &lt; y &amp; z" in text


def test_build_report_uses_given_mean_and_std(tmp_path):
    kw = _small_kwargs()
    kw["metrics"] = {
        "seeds": [{"seed": 1, "test": {"accuracy": 0.4}}, {"seed": 2, "test": {"accuracy": 0.6}}],
        "mean": {"test": {"accuracy": 0.5}},
        "std": {"test": {"accuracy": 0.25}},
    }
    text = build_report(tmp_path / "r.html", **kw).read_text()
    assert "<td>test accuracy</td><td>0.5 ± 0.25</td>" in text
    assert "Mean ± std over 2 seeds" in text and "<th>seed</th><th>test accuracy</th>" in text


def test_build_report_escapes_text(tmp_path, rng):
    kw = report_kwargs(rng)
    kw["title"] = "<script>alert('x')</script>"
    kw["hyperparameters"] = {"<b>key</b>": "<img src=x onerror=alert(1)>"}
    kw["notes"] = ['"quoted" <i>note</i>']
    kw["confusion"] = (kw["confusion"][0], ["<non-cat>", "cat"])
    text = build_report(tmp_path / "r.html", **kw).read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(&#x27;x&#x27;)" in text
    assert "<b>key" not in text and "<img src=x" not in text and "<i>note" not in text
    assert len(re.findall(r"<script>", text)) == 1  # only the report's own loader script


def test_build_report_without_optional_parts(tmp_path):
    out = build_report(
        tmp_path / "r.html",
        title="empty",
        hyperparameters={},
        shapes=[],
        history=None,
        metrics={},
        confusion=None,
        mislabeled=None,
        notes=None,
    )
    page = _Page()
    page.feed(out.read_text())
    assert page.sections == [
        "hyperparameters",
        "shapes",
        "costs",
        "metrics",
        "confusion",
        "mislabeled",
    ]
    assert page.imgs == {}
    assert "No training history recorded." in " ".join(page.text)


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
