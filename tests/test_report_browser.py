"""Headless Chromium opens a report: every plot decodes and the page is visibly drawn."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepstep.report import build_report, plots
from deepstep.report.classification import from_predictions
from deepstep.report.mislabeled import Mislabeled
from deepstep.report.regression import RegressionEvaluation

SKIP_REASON = (
    "chromium not installed: apt-get install chromium chromium-driver; .ci/run installs it"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
PLOT_IDS = {"cost-curve", "confusion-matrix", "roc-curve", "mislabeled-images"}
GREEN = "#00c800"  # the mislabeled example images are painted this colour
DARK_BLUE = "#08306b"  # top of matplotlib's "Blues" map: the largest confusion count


def find_chromium() -> str:
    """Path of chromium / chromium-browser on PATH, or skip the test."""
    for name in ("chromium", "chromium-browser"):
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip(SKIP_REASON)


def run_chromium(exe: str, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    profile = workdir / f"profile-{len(list(workdir.glob('profile-*')))}"
    profile.mkdir()
    proc = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}"
    return proc


def _shapes(dims: list[int], m: int) -> list[dict]:
    return [{"layer": layer, "W": (dims[layer], dims[layer - 1]), "b": (dims[layer], 1),
             "Z": (dims[layer], m), "A": (dims[layer], m),
             "params": dims[layer] * (dims[layer - 1] + 1)} for layer in range(1, len(dims))]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A classifier's report with every plot: curves, confusion, ROC, mislabeled + maps."""
    rng = np.random.default_rng(2024)
    dims = [12288, 20, 7, 5, 1]
    n = 25
    loss = 0.7 * np.exp(-np.arange(n) / 6) + 0.05
    y = rng.integers(0, 2, 50)
    p1 = np.clip(np.where(y == 1, 0.7, 0.3) + rng.normal(0, 0.25, 50), 0.01, 0.99)
    images = rng.integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    images[:, 8:56, 8:56] = (0, 200, 0)
    maps = np.zeros((64, 64, 3, 6))
    maps[:16] = 1.0  # top rows red, bottom rows blue
    maps[-16:] = -1.0
    path = tmp_path_factory.mktemp("browser") / "report.html"
    return build_report(
        path,
        title="Browser check <L-layer model>",
        hyperparameters={"layers_dims": dims, "learning_rate": 0.0075},
        shapes=_shapes(dims, 209),
        history={
            "iteration": list(range(n)),
            "loss": list(loss + 0.2),
            "data_loss": list(loss),
            "val_loss": list(loss + 0.3),
            "val_data_loss": list(loss + 0.1),
            "lr": list(0.01 * 0.9 ** np.arange(n)),
            "seconds": [0.01] * n,
        },
        metrics={
            "train": {"accuracy": 0.98},
            "test": {"accuracy": 0.8},
            "seeds": [{"seed": s, "test": {"accuracy": 0.78 + s / 100}} for s in range(3)],
        },
        evaluation=from_predictions(["non-cat", "cat"], y, p1[None, :], "test (50 examples)"),
        mislabeled=Mislabeled(images, ["cat", "non-cat"] * 3, ["non-cat", "cat"] * 3,
                              rng.random(6), maps.reshape(-1, 6), 6, 50, 32, 0.05),
        training={"l2": 0.7, "batch_size": None, "m": 209, "loss": "binary_cross_entropy"},
        notes=["rendered by headless Chromium"],
    )


@pytest.fixture(scope="module")
def regression_report(tmp_path_factory) -> Path:
    rng = np.random.default_rng(7)
    y = rng.normal(150, 50, 90)
    path = tmp_path_factory.mktemp("browser") / "regression.html"
    return build_report(
        path, title="Regression", hyperparameters={"l2": 1.0}, shapes=_shapes([10, 8, 1], 300),
        history={"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "data_loss": [1.0, 0.6, 0.5]},
        metrics={"test": {"loss": 0.3, "r2": 0.5, "mae": 40.0, "rmse": 50.0}},
        evaluation=RegressionEvaluation(y, y + rng.normal(0, 30, 90), "diabetes (90 examples)"),
        training={"l2": 1.0, "batch_size": 32, "m": 300, "loss": "mse"})


class _Imgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            a = dict(attrs)
            self.imgs[a.get("id", "")] = a


def test_skips_cleanly_without_chromium(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="chromium not installed: apt-get install"):
        find_chromium()


def _decoded_images(exe: str, report: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    dom = run_chromium(exe, tmp_path, "--dump-dom", report.as_uri()).stdout
    parser = _Imgs()
    parser.feed(dom)
    for ident, attrs in parser.imgs.items():
        # set by the report's inline script from naturalWidth x naturalHeight once decoded
        loaded = attrs.get("data-loaded", "")
        match = re.fullmatch(r"(\d+)x(\d+)", loaded)
        assert match, f"{ident}: data-loaded={loaded!r}"
        png = Image.open(io.BytesIO(base64.b64decode(attrs["src"].split(",", 1)[1])))
        assert (int(match[1]), int(match[2])) == png.size, ident
        assert png.width > 100 and png.height > 100
    return parser.imgs


@pytest.mark.browser
def test_every_plot_decodes_in_chromium(report, regression_report, tmp_path):
    exe = find_chromium()
    assert set(_decoded_images(exe, report, tmp_path)) == PLOT_IDS
    assert set(_decoded_images(exe, regression_report, tmp_path)) == {"regression-plots",
                                                                       "cost-curve"}


def _near(px: np.ndarray, hex_colour: str, tol: int = 24) -> int:
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(px.astype(int) - target).max(axis=-1) < tol).sum())


def _screenshot(exe: str, report: Path, tmp_path: Path, height: int) -> np.ndarray:
    shot = tmp_path / f"{report.stem}.png"
    run_chromium(exe, tmp_path, f"--screenshot={shot}", f"--window-size=1200,{height}",
                 report.as_uri())
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, height)
    px = np.asarray(img)
    non_white = (px < 235).any(axis=-1).mean()
    assert non_white > 0.05, f"page looks blank: {non_white:.1%} non-white pixels"
    packed = px[..., 0].astype(np.int32) << 16 | px[..., 1].astype(np.int32) << 8 | px[..., 2]
    assert len(np.unique(packed)) > 500
    return px


@pytest.mark.browser
def test_screenshot_shows_the_plots(report, tmp_path):
    exe = find_chromium()
    px = _screenshot(exe, report, tmp_path, 4200)
    # the colours only the plots bring: curves, confusion heat map, images and their maps
    for name, colour in [
        ("train curve", plots.TRAIN_COLOR),
        ("validation curve", plots.VAL_COLOR),
        ("confusion matrix", DARK_BLUE),
        ("mislabeled images", GREEN),
    ]:
        assert _near(px, colour) > 200, f"{name} ({colour}) not visible in the screenshot"
    r, b = px[..., 0].astype(int), px[..., 2].astype(int)
    assert (r > b + 80).sum() > 500 and (b > r + 80).sum() > 500  # the attribution maps


@pytest.mark.browser
def test_regression_screenshot_shows_its_plots(regression_report, tmp_path):
    exe = find_chromium()
    px = _screenshot(exe, regression_report, tmp_path, 2000)
    assert _near(px, plots.TRAIN_COLOR, tol=40) > 300  # the scatter points and the curves


@pytest.fixture(scope="module")
def cat_report(cat_dir, tmp_path_factory) -> Path:
    """A real run's report: a small network on the cat images, its mislabeled test images
    explained by integrated gradients."""
    import h5py

    from deepstep import Network
    from deepstep.data import Dataset
    from deepstep.report.run import write_report

    with h5py.File(cat_dir / "train_catvnoncat.h5", "r") as f:
        X, y = f["train_set_x"][:].reshape(209, -1).T, f["train_set_y"][:].astype(np.int64)
    with h5py.File(cat_dir / "test_catvnoncat.h5", "r") as f:
        Xt, yt = f["test_set_x"][:].reshape(50, -1).T, f["test_set_y"][:].astype(np.int64)
    net = Network([12288, 7, 1], seed=1, dtype="float64")
    net.fit(X, y, epochs=300, batch_size=None, optimizer="gd", learning_rate=0.0075, l2=0.0,
            preprocess="scale255", verbose=False)
    test = Dataset(Xt, yt, ["non-cat", "cat"], (64, 64, 3), name="test_catvnoncat.h5")
    path = tmp_path_factory.mktemp("browser") / "cat.html"
    return write_report(path, net, test, {"test": net.evaluate(Xt, yt)}, "cats", [])


@pytest.mark.browser
def test_cat_report_shows_the_mislabeled_images_and_their_maps(cat_report, tmp_path):
    exe = find_chromium()
    imgs = _decoded_images(exe, cat_report, tmp_path)
    assert set(imgs) == PLOT_IDS
    _screenshot(exe, cat_report, tmp_path, 3600)
    src = imgs["mislabeled-images"]["src"].split(",", 1)[1]
    grid = np.asarray(Image.open(io.BytesIO(base64.b64decode(src))).convert("RGB"))
    # the maps' blue (RdBu's #2166ac, "lowered the score"): hundreds of pixels on the cat
    # model's mislabeled images, about 20 in the photos alone
    assert _near(grid, "#2166ac", tol=30) > 200
