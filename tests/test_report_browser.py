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

from deepstep.report import build_report, confusion_matrix, plots

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
PLOT_IDS = {"cost-curve", "confusion-matrix", "mislabeled"}
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


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    rng = np.random.default_rng(2024)
    dims = [12288, 20, 7, 5, 1]
    n = 25
    loss = 0.7 * np.exp(-np.arange(n) / 6) + 0.05
    y = rng.integers(0, 2, 50)
    p = np.where(rng.random(50) < 0.8, y, 1 - y)
    images = rng.integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    images[:, 8:56, 8:56] = (0, 200, 0)
    path = tmp_path_factory.mktemp("browser") / "report.html"
    return build_report(
        path,
        title="Browser check <L-layer model>",
        hyperparameters={"layers_dims": dims, "learning_rate": 0.0075},
        shapes=[
            {
                "layer": layer,
                "W": (dims[layer], dims[layer - 1]),
                "b": (dims[layer], 1),
                "Z": (dims[layer], 209),
                "A": (dims[layer], 209),
                "params": dims[layer] * (dims[layer - 1] + 1),
            }
            for layer in range(1, len(dims))
        ],
        history={
            "iteration": list(range(0, 100 * n, 100)),
            "loss": list(loss),
            "val_loss": list(loss + 0.1),
        },
        metrics={
            "train": {"accuracy": 0.98},
            "test": {"accuracy": 0.8},
            "seeds": [{"seed": s, "test": {"accuracy": 0.78 + s / 100}} for s in range(3)],
        },
        confusion=(confusion_matrix(y, p, 2), ["non-cat", "cat"]),
        mislabeled=(images, ["cat", "non-cat"] * 3, ["non-cat", "cat"] * 3, list(rng.random(6))),
        notes=["rendered by headless Chromium"],
    )


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


@pytest.mark.browser
def test_every_plot_decodes_in_chromium(report, tmp_path):
    exe = find_chromium()
    dom = run_chromium(exe, tmp_path, "--dump-dom", report.as_uri()).stdout
    parser = _Imgs()
    parser.feed(dom)
    assert set(parser.imgs) == PLOT_IDS, dom[:500]
    for ident, attrs in parser.imgs.items():
        # set by the report's inline script from naturalWidth x naturalHeight once decoded
        loaded = attrs.get("data-loaded", "")
        match = re.fullmatch(r"(\d+)x(\d+)", loaded)
        assert match, f"{ident}: data-loaded={loaded!r}"
        png = Image.open(io.BytesIO(base64.b64decode(attrs["src"].split(",", 1)[1])))
        assert (int(match[1]), int(match[2])) == png.size, ident
        assert png.width > 100 and png.height > 100


def _near(px: np.ndarray, hex_colour: str, tol: int = 24) -> int:
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(px.astype(int) - target).max(axis=-1) < tol).sum())


@pytest.mark.browser
def test_screenshot_shows_the_plots(report, tmp_path):
    exe = find_chromium()
    shot = tmp_path / "shot.png"
    run_chromium(exe, tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", report.as_uri())
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 3000)
    px = np.asarray(img)
    non_white = (px < 235).any(axis=-1).mean()
    assert non_white > 0.05, f"page looks blank: {non_white:.1%} non-white pixels"
    packed = px[..., 0].astype(np.int32) << 16 | px[..., 1].astype(np.int32) << 8 | px[..., 2]
    assert len(np.unique(packed)) > 500
    # the colours only the plots bring: cost curves, confusion heat map, mislabeled images
    for name, colour in [
        ("train curve", plots.TRAIN_COLOR),
        ("validation curve", plots.VAL_COLOR),
        ("confusion matrix", DARK_BLUE),
        ("mislabeled images", GREEN),
    ]:
        assert _near(px, colour) > 200, f"{name} ({colour}) not visible in the screenshot"
