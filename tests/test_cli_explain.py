"""``deepstep explain`` end to end: overlay PNGs for images, ranked feature tables for CSV
rows, the shapes table with one meaning of ``--layers``, and the overlays in Chromium."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_breast_cancer

from cli_helpers import model_file, ok, run, write_csv
from deepstep import Network
from deepstep.attributions import attribute
from deepstep.report.overlay import CMAP
from test_report_browser import find_chromium, run_chromium


@pytest.fixture(scope="module")
def cats(cat_dir, tmp_path_factory) -> tuple[Path, Path]:
    """A small model on the course's cat images, and four test images as PNG files."""
    tmp = tmp_path_factory.mktemp("cats")
    ok(["train", "--data", cat_dir / "train_catvnoncat.h5", "--test",
        cat_dir / "test_catvnoncat.h5", "--layers", "8", "--epochs", "8", "--out", tmp / "run"])
    pics = tmp / "pics"
    (pics / "more").mkdir(parents=True)
    with h5py.File(cat_dir / "test_catvnoncat.h5", "r") as f:
        x = f["test_set_x"][:4]
    for i, img in enumerate(x):
        Image.fromarray(img).save((pics if i < 3 else pics / "more") / f"cat{i}.png")
    return model_file(tmp / "run"), pics


@pytest.fixture(scope="module")
def cancer(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """A model trained through the CLI on breast_cancer as a CSV with a header, and 3 rows."""
    tmp = tmp_path_factory.mktemp("cancer")
    d = load_breast_cancer()
    names = [n.replace(" ", "_") for n in d.feature_names]
    rows = [[*x, d.target_names[t]] for x, t in zip(d.data, d.target, strict=True)]
    data = write_csv(tmp / "bc.csv", [*names, "diagnosis"], rows)
    ok(["train", "--data", data, "--layers", "8", "--epochs", "15", "--out", tmp / "run"])
    new = write_csv(tmp / "new.csv", [*names, "diagnosis"], rows[:3])
    return model_file(tmp / "run"), new, names


def test_images_get_one_overlay_png_each(cats, tmp_path):
    model, pics = cats
    out = ok(["explain", "--model", model, pics, "--out", tmp_path / "ex"])
    written = sorted(p.name for p in (tmp_path / "ex").iterdir())
    assert written == [f"cat{i}-integrated_gradients.png" for i in range(4)]
    lines = out.splitlines()
    assert len(lines) == 4
    for line in lines:
        assert re.fullmatch(r".+cat\d\.png: (cat|non-cat) \(probability [01]\.\d{4}\) -> .+\.png",
                            line), line
    with Image.open(tmp_path / "ex" / "cat0-integrated_gradients.png") as im:
        assert im.width > 600 and im.height > 200


def test_overlay_shows_the_attributions_of_the_library(cats, tmp_path):
    """The PNG's middle panel is the library's map: red where the pixel raised the score."""
    model, pics = cats
    ok(["explain", "--model", model, pics / "cat0.png", "--out", tmp_path, "--steps", "16"])
    net = Network.load(model)
    x = np.asarray(Image.open(pics / "cat0.png")).reshape(-1, 1)
    ex = attribute(net, x, "integrated_gradients", steps=16)
    amap = ex.attributions[:, 0].reshape(64, 64, 3).sum(axis=2)
    assert np.abs(ex.completeness_gap[0]) < 0.05 * abs(ex.score[0] - ex.baseline_score[0]) + 1e-3
    png = np.asarray(Image.open(tmp_path / "cat0-integrated_gradients.png").convert("RGB"))
    reds = ((png[..., 0] > 150) & (png[..., 2] < 100)).sum()
    blues = ((png[..., 2] > 150) & (png[..., 0] < 100)).sum()
    assert CMAP == "RdBu_r" and reds > 50 and blues > 50
    assert (amap > 0).any() and (amap < 0).any()


def test_existing_pngs_are_not_replaced_without_overwrite(cats, tmp_path):
    model, pics = cats
    target = tmp_path / "cat1-saliency.png"
    target.write_bytes(b"mine")
    code, out, err = run(["explain", "--model", model, pics / "cat0.png", pics / "cat1.png",
                          "--method", "saliency", "--out", tmp_path])
    assert code == 2 and out == ""
    assert err.strip() == (f"error: {target} exists; pass --overwrite to replace it, or "
                           "choose another --out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat1-saliency.png"]
    assert target.read_bytes() == b"mine"
    ok(["explain", "--model", model, pics / "cat1.png", "--method", "saliency", "--out",
        tmp_path, "--overwrite"])
    assert target.read_bytes()[1:4] == b"PNG"


def test_target_and_method_in_the_title_and_a_bad_input_skipped(cats, tmp_path):
    model, pics = cats
    (tmp_path / "junk.png").write_text("no")
    code, out, err = run(["explain", "--model", model, pics / "cat2.png", tmp_path / "junk.png",
                          "--target", "cat", "--method", "smoothgrad", "--out", tmp_path / "o"])
    assert code == 1
    assert err.splitlines()[0].startswith(f"error: {tmp_path / 'junk.png'}: not an image")
    assert (tmp_path / "o" / "cat2-smoothgrad.png").is_file()
    assert not (tmp_path / "o" / "junk-smoothgrad.png").exists()
    code, _, err = run(["explain", "--model", model, pics / "cat2.png", "--target", "dog"])
    assert code == 2 and "--target 'dog' is not one of the model's classes: non-cat, cat" in err


def test_tabular_rows_rank_features_by_name(cancer):
    model, rows, names = cancer
    out = ok(["explain", "--model", model, rows, "--top", "5"])
    blocks = out.strip().split(f"\n{rows}:")
    assert len(blocks) == 3
    net = Network.load(model)
    X = np.loadtxt(rows, delimiter=",", skiprows=1, usecols=range(30), ndmin=2).T
    ex = attribute(net, X, "integrated_gradients", steps=64)
    first = blocks[0].splitlines()
    assert first[0].startswith(f"{rows}:2: predicted ")
    assert "integrated gradients of the log-odds of" in first[0]
    table = [re.split(r"\s{2,}", s.strip()) for s in first[1:7]]
    assert table[0] == ["rank", "feature", "value", "attribution"]
    top = np.argsort(-np.abs(ex.attributions[:, 0]))[:5]
    assert [r[1] for r in table[1:]] == [names[j] for j in top]
    for r, j in zip(table[1:], top, strict=True):
        assert float(r[3]) == pytest.approx(ex.attributions[j, 0], rel=1e-3)
        assert r[4] == ("up" if ex.attributions[j, 0] > 0 else "down")
    assert re.search(r"the other 25 features: [+-][\d.e+-]+ in all; sum [+-][\d.e+-]+ = "
                     r"f\(x\) - f\(baseline\) [+-][\d.e+-]+ \(baseline: the training mean\)",
                     first[7])


def test_saliency_ranks_gradients(cancer):
    model, rows, _ = cancer
    out = ok(["explain", "--model", model, rows, "--top", "3", "--method", "saliency"])
    assert out.count("rank  feature") == 3 and "gradient" in out
    assert "f(x) - f(baseline)" not in out  # completeness is integrated gradients' own


def test_shapes_table_takes_hidden_layers_and_sizes():
    out = ok(["explain", "--input", "12288", "--layers", "20,7,5", "--output", "1", "--m", "209"])
    assert "layer_dims [12288, 20, 7, 5, 1], m = 209 examples" in out
    assert "parameters: 245,973" in out
    out = ok(["explain", "--input", "4", "--layers", "none", "--output", "3", "--m", "2"])
    assert "layer_dims [4, 3]" in out


def test_all_sizes_in_layers_get_a_hint():
    code, out, err = run(["explain", "--layers", "12288,20,7,5,1"])
    assert code == 2 and out == ""
    assert ("give --input and --output N with --layers (--layers is the HIDDEN sizes only), "
            "or --model M; if 12288,20,7,5,1 are ALL the sizes, give --input 12288 --layers "
            "20,7,5 --output 1") in err


@pytest.mark.browser
def test_overlays_render_in_chromium(cats, tmp_path):
    """The PNGs decode and show in a browser: red and blue map pixels on a white page."""
    exe = find_chromium()
    model, pics = cats
    ok(["explain", "--model", model, pics, "--out", tmp_path / "ex"])
    imgs = "".join(
        f'<img style="width:960px" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}">'
        for p in sorted((tmp_path / "ex").glob("*.png")))
    page = tmp_path / "page.html"
    page.write_text(f"<!doctype html><body style='margin:0;background:#fff'>{imgs}</body>")
    shot = tmp_path / "shot.png"
    run_chromium(exe, tmp_path, f"--screenshot={shot}", "--window-size=1000,1600",
                 page.as_uri())
    px = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    red = (px[..., 0] > 150) & (px[..., 2] < 110) & (px[..., 1] < 110)
    blue = (px[..., 2] > 150) & (px[..., 0] < 110)
    assert red.sum() > 500 and blue.sum() > 500
    assert (px < 235).any(axis=-1).mean() > 0.2  # four overlays fill the page
