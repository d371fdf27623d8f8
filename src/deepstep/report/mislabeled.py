"""The misclassified images of a data set, each with the attribution map of its prediction.

"Why did it think this was a cat?": integrated gradients (:mod:`deepstep.attributions`)
explain the predicted class's score of each shown image. The cost is bounded: at most
``MAX_IMAGES`` images (the most confident mistakes), ``STEPS`` path points each, plus the
sub-points :func:`deepstep.attributions.attribute` adds where a ReLU switches along the path
(at most ``REFINE + 1`` per point, about one more per point on the cat network): 0.12 s of
CPU for 10 cat images on the course's 12288-20-7-5-1 network (0.22 s at 64 steps, 0.68 s at
256).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from deepstep.report.classification import ClassEvaluation

#: At most this many mislabeled images are shown and explained.
MAX_IMAGES = 10
#: Integrated gradients' path points per image. Measured on the course's cat network and its
#: 10 mislabeled test images: the completeness gap is at most 0.4 % of f(x) - f(x') (also at
#: 64 steps; 0.02 % at 256) and every map correlates above 0.999 with its 256-step version,
#: so more steps would cost time without changing the picture.
STEPS = 32
METHOD = "integrated_gradients"


@dataclass(frozen=True)
class Mislabeled:
    """The shown mislabeled images and what the network made of them.

    Attributes
    ----------
    images : ndarray of uint8, shape (n, H, W, C)
        The first n <= ``MAX_IMAGES`` mistakes, the most confident first.
    true, predicted : list of str, length n
        Class names.
    probability : ndarray of shape (n,)
        The probability the network gave its (wrong) prediction.
    attributions : ndarray of shape (H * W * C, n), or None
        Integrated gradients of the predicted class's score, one column per image (None
        when not computed: ``steps=0``).
    total : int
        How many of the ``m`` examples are misclassified.
    m : int
        Examples evaluated.
    steps : int
        Integrated gradients' path points (0: no attributions).
    seconds : float
        Time spent on the attributions.
    """

    images: NDArray[np.uint8]
    true: list[str]
    predicted: list[str]
    probability: NDArray[np.float64]
    attributions: NDArray[np.floating] | None
    total: int
    m: int
    steps: int = 0
    seconds: float = 0.0


def as_images(X: NDArray, image_shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """Columns of raw pixels (n_x, n) -> uint8 images (n, H, W, C); other dtypes are scaled
    so their maximum is 255.

    Examples
    --------
    >>> as_images(np.arange(8, dtype=np.uint8).reshape(4, 2), (2, 2, 1)).shape
    (2, 2, 2, 1)
    """
    images = np.asarray(X).T.reshape(-1, *image_shape)
    if images.dtype != np.uint8:
        top = float(np.max(images)) if images.size else 1.0
        images = np.clip(images / (top or 1.0) * 255, 0, 255).astype(np.uint8)
    return images


def find_mislabeled(net: Any, X: NDArray, image_shape: tuple[int, ...] | None,
                    ev: ClassEvaluation, max_images: int = MAX_IMAGES, steps: int = STEPS
                    ) -> Mislabeled | None:
    """The mislabeled images of ``ev`` with integrated-gradients maps of their predictions.

    Parameters
    ----------
    net : Network
        The classifier that made ``ev``'s predictions.
    X : ndarray of shape (n_x, m)
        The raw inputs ``ev`` was computed on (uint8 pixels as loaded).
    image_shape : tuple (H, W, C) or None
        None (tabular data): nothing to show, returns None.
    ev : ClassEvaluation
    max_images : int
        Show and explain at most this many (the most confident mistakes).
    steps : int
        Integrated gradients' path points; 0 draws the images without maps.

    Returns
    -------
    Mislabeled or None
    """
    if image_shape is None:
        return None
    wrong = np.flatnonzero(ev.y_pred != ev.y_true)
    shown = wrong[np.argsort(-ev.probability[wrong], kind="stable")][:max(max_images, 0)]
    attributions, seconds = None, 0.0
    if steps and shown.size:
        from deepstep.attributions import attribute

        start = time.perf_counter()
        attributions = attribute(net, X[:, shown], METHOD, steps=steps).attributions
        seconds = time.perf_counter() - start
    return Mislabeled(
        as_images(X[:, shown], image_shape), [ev.classes[i] for i in ev.y_true[shown]],
        [ev.classes[i] for i in ev.y_pred[shown]], ev.probability[shown], attributions,
        int(wrong.size), ev.m, steps if attributions is not None else 0, seconds)
