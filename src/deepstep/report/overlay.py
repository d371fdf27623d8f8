"""One image's attribution map as a PNG: the original, the map, and the map over the image.

Shared by ``deepstep explain`` (one PNG per input image) and the report (the mislabeled
images next to their maps). The attributions come from :mod:`deepstep.attributions`; this
module only draws them. matplotlib is imported when drawing (see :mod:`.plots`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from deepstep.report.formatting import caption
from deepstep.report.plots import _figure, _png

#: Red: the pixel pushed the explained score up; blue: down (white: no effect).
CMAP = "RdBu_r"
#: The colour scale ends at this percentile of |map|, so a few extreme pixels do not wash
#: out the rest (Captum's default clips the top 2 %, the same idea).
CLIP_PERCENTILE = 99.0


def attribution_map(attribution: ArrayLike, image_shape: tuple[int, ...]) -> np.ndarray:
    """A per-pixel map (H, W) from one example's attributions: the sum over channels.

    Parameters
    ----------
    attribution : array-like with H * W * C numbers
        One column of the attributions, (n_x,) or (n_x, 1), in the order of
        ``image.reshape(-1)`` (as the data loaders flatten images), or already (H, W, C).
    image_shape : tuple (H, W, C) or (H, W)

    Returns
    -------
    ndarray of shape (H, W), float64
        Signed: a pixel's red, green and blue attributions add up (completeness holds for
        the sum), so the map still sums to the total attribution.

    Examples
    --------
    >>> attribution_map(np.arange(12.0), (2, 2, 3))
    array([[ 3., 12.],
           [21., 30.]])
    """
    a = np.asarray(attribution, dtype=np.float64)
    size = int(np.prod(image_shape))
    if a.size != size:
        raise ValueError(f"the attributions hold {a.size} numbers but the image "
                         f"{tuple(image_shape)} has {size}; pass one column of the "
                         "attributions of this image")
    a = a.reshape(image_shape)
    return a.sum(axis=2) if a.ndim == 3 else a


def plot_attribution(
    image: ArrayLike,
    attribution: ArrayLike,
    *,
    predicted: Any,
    probability: float | None = None,
    true: Any = None,
    target: Any = None,
    method: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> bytes:
    """Draw the original image, its attribution map and the map laid over the image.

    Parameters
    ----------
    image : ndarray of shape (H, W, C) or (H, W)
        The raw image: uint8, or floats in [0, 255] (C = 1 grey, 3 RGB, 4 RGBA).
    attribution : array-like with H * W * C numbers
        Its attributions, one column of :func:`deepstep.attributions.attribute`'s output.
    predicted : label
        The predicted class, shown in the title.
    probability : float, optional
        The probability of ``predicted``, shown as "p = 0.62" (see
        :func:`deepstep.report.formatting.caption`).
    true : label, optional
        The true class, when known (e.g. a mislabeled test image).
    target : label, optional
        The class the map explains, when it is not the prediction.
    method : str, optional
        The attribution method's name, shown under the title.
    path : str or path-like, optional
        Also write the PNG here (atomically).

    Returns
    -------
    bytes
        The PNG image: three panels; the map and the overlay share one colour scale,
        symmetric about 0 (red raised the score, blue lowered it) and clipped at the
        ``CLIP_PERCENTILE``-th percentile of |map|.

    Examples
    --------
    >>> img = np.zeros((8, 8, 3), dtype=np.uint8)
    >>> plot_attribution(img, np.ones(192), predicted="cat", probability=0.62)[1:4]
    b'PNG'
    """
    img = np.asarray(image)
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise ValueError(f"image must be (H, W) or (H, W, C) with C in 1, 3, 4; got {img.shape}")
    amap = attribution_map(attribution, img.shape)
    pixels = display_pixels(img)
    v = color_limit(amap)

    fig = _figure(9.6, 3.7)
    axes = fig.subplots(1, 3)
    draw_image(axes[0], pixels)
    axes[0].set_title("input", fontsize=10)
    im = axes[1].imshow(amap, cmap=CMAP, vmin=-v, vmax=v, interpolation="nearest")
    axes[1].set_title("attribution (sum over channels)", fontsize=10)
    fig.colorbar(im, ax=axes[1], shrink=0.8)
    draw_overlay(axes[2], pixels, amap, v)
    axes[2].set_title("overlay", fontsize=10)
    for ax in axes:
        ax.axis("off")
    fig.suptitle(_title(predicted, probability, true, target, method), fontsize=11)
    return _png(fig, path)


def display_pixels(image: np.ndarray) -> np.ndarray:
    """An image (H, W, C) or (H, W), uint8 or floats in [0, 255], as floats in [0, 1] that
    imshow shows as they are: (H, W) for grey, (H, W, 3 or 4) for colour."""
    pixels = np.clip(np.asarray(image, dtype=np.float64) / 255.0, 0.0, 1.0)
    return pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels


def color_limit(amap: np.ndarray) -> float:
    """The end v of the symmetric colour scale [-v, v]: the ``CLIP_PERCENTILE``-th
    percentile of |map| (1 for a map of zeros)."""
    finite = np.abs(amap[np.isfinite(amap)])
    v = float(np.percentile(finite, CLIP_PERCENTILE)) if finite.size else 0.0
    return v if v > 0 else 1.0


def draw_image(ax: Any, pixels: np.ndarray) -> None:
    """Show :func:`display_pixels`' output on ``ax`` (grey images in grey)."""
    if pixels.ndim == 2:
        ax.imshow(pixels, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(pixels, interpolation="nearest")


def draw_overlay(ax: Any, pixels: np.ndarray, amap: np.ndarray, v: float) -> None:
    """The map (H, W) over the faded grey image on ``ax``: opacity grows with |map| / v."""
    gray = pixels if pixels.ndim == 2 else pixels[..., :3] @ np.array([0.299, 0.587, 0.114])
    ax.imshow(0.35 + 0.5 * gray, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.imshow(amap, cmap=CMAP, vmin=-v, vmax=v, interpolation="nearest",
              alpha=0.9 * np.nan_to_num(np.clip(np.abs(amap) / v, 0, 1)))


def _title(predicted: Any, probability: float | None, true: Any, target: Any,
           method: str | None) -> str:
    head = caption(predicted, probability, true)
    detail = [method.replace("_", " ")] if method else []
    if target is not None and str(target) != str(predicted):
        detail.append(f"explaining {target}")
    return head + ("\n" + ", ".join(detail) if detail else "")
