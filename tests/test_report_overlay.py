"""The attribution overlay PNG: panels, colours where the map says, titles, errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from deepstep.report.overlay import _title, attribution_map, plot_attribution


def _rgb(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int64)


def _halves(h: int = 16, w: int = 16, c: int = 3) -> np.ndarray:
    """Attributions +1 on the left half of the image, -1 on the right, flattened as X is."""
    a = np.ones((h, w, c))
    a[:, w // 2:] = -1
    return a.reshape(-1)


def test_attribution_map_sums_channels_in_image_order():
    a = np.arange(2 * 3 * 3, dtype=float)
    np.testing.assert_array_equal(attribution_map(a[:, None], (2, 3, 3)),
                                  a.reshape(2, 3, 3).sum(axis=2))
    np.testing.assert_array_equal(attribution_map(a[:6], (2, 3)), a[:6].reshape(2, 3))
    with pytest.raises(ValueError, match="hold 17 numbers but the image"):
        attribution_map(a[:17], (2, 3, 3))


def test_positive_is_red_and_negative_blue(tmp_path):
    img = np.full((16, 16, 3), 128, dtype=np.uint8)
    path = tmp_path / "sub" / "overlay.png"
    data = plot_attribution(img, _halves(), predicted="cat", probability=0.62, path=path)
    assert path.read_bytes() == data
    row = _rgb(data)[_rgb(data).shape[0] // 2]  # the middle row, left to right
    colour = np.where(row[:, 0] - row[:, 2] > 40, "R", np.where(row[:, 2] - row[:, 0] > 40,
                                                                  "B", "-"))
    runs = [c for c, n in _runs(colour) if c != "-" and n >= 5]
    # input (grey: no colour), map (red | blue), colour bar (white at 0), overlay (red | blue)
    assert runs == ["R", "B", "R", "B"]


def _runs(seq) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for c in seq:
        if out and out[-1][0] == c:
            out[-1] = (c, out[-1][1] + 1)
        else:
            out.append((c, 1))
    return out


@pytest.mark.parametrize("shape", [(10, 12), (10, 12, 1), (10, 12, 4)])
def test_grey_and_rgba_images(shape):
    img = np.random.default_rng(0).integers(0, 256, size=shape).astype(np.uint8)
    a = np.random.default_rng(1).normal(size=img.size)
    assert _rgb(plot_attribution(img, a, predicted=3)).shape[2] == 3


def test_a_zero_map_draws():
    img = np.zeros((8, 8, 3), dtype=np.uint8)
    assert _rgb(plot_attribution(img, np.zeros(192), predicted="non-cat")).size


def test_bad_image_shape_is_named():
    with pytest.raises(ValueError, match=r"image must be \(H, W\) or \(H, W, C\)"):
        plot_attribution(np.zeros((4, 4, 2)), np.zeros(32), predicted=0)


def test_title_carries_prediction_probability_truth_and_target():
    assert _title("cat", 0.6213, None, None, None) == "predicted cat (p = 0.62)"
    assert _title("cat", 0.9, "non-cat", "non-cat", "integrated_gradients") == (
        "predicted cat (p = 0.90), true non-cat\n"
        "integrated gradients, explaining non-cat")
    assert _title(3.5, float("nan"), None, 3.5, "saliency") == "predicted 3.500\nsaliency"
