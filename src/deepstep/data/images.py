"""Image folders: ``root/<class name>/<image files>``, read with Pillow.

Every image is converted to RGB (grayscale, palette, RGBA, CMYK all become 3 channels; alpha
is dropped) and resized to ``image_size`` x ``image_size`` with bilinear filtering, without
cropping: the aspect ratio is not kept, as the course's 64x64 cat images. Classes are the
sorted subfolder names; hidden files and folders (starting with ".") are ignored; files
Pillow cannot read are skipped with one warning that names them all.

Images above Pillow's ``PIL.Image.MAX_IMAGE_PIXELS`` (89.5 million pixels by default) are
refused from their header, before any pixel is decoded: a 40000 x 40000 PNG of a few
kilobytes would otherwise ask for 4.8 GB (a decompression bomb). In a folder such a file is
skipped like any unreadable one.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from .checks import DataTooLargeError, check_file, check_folder, check_size
from .dataset import Dataset
from .streaming import BatchSource


class SkippedFilesWarning(UserWarning):
    """Some files in an image folder could not be read as images and were left out."""


class ImageTooLargeError(DataTooLargeError):
    """An image whose header declares more pixels than ``PIL.Image.MAX_IMAGE_PIXELS``."""


@contextmanager
def open_image(path: str | os.PathLike) -> Iterator[Image.Image]:
    """``PIL.Image.open`` with clear errors: a ValueError naming the file when it is not an
    image, an :class:`ImageTooLargeError` (a ValueError) when its header declares more than
    ``PIL.Image.MAX_IMAGE_PIXELS`` pixels. Nothing is decoded before these checks."""
    p = check_file(path, "image file")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(p)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            pixels = re.search(r"\((\d+) pixels\)", str(e))
            size = f"{int(pixels.group(1)):,} pixels" if pixels else "too many pixels"
            raise ImageTooLargeError(
                f"{p}: the image has {size}, above the limit of {Image.MAX_IMAGE_PIXELS:,} "
                "(PIL.Image.MAX_IMAGE_PIXELS), so it is not decoded (it could be a "
                "decompression bomb); resize it first"
            ) from None
        except (UnidentifiedImageError, OSError) as e:
            raise ValueError(f"cannot read {p} as an image ({e}); give a PNG or JPEG "
                             "image") from None
    with im:
        yield im


def read_image(path: str | os.PathLike, image_size: int = 64) -> NDArray:
    """One image as uint8 of shape (image_size, image_size, 3), any mode converted to RGB."""
    with open_image(path) as im:
        rgb = im.convert("RGB")
    if rgb.size != (image_size, image_size):
        rgb = rgb.resize((image_size, image_size), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def _verify(path: Path) -> None:
    """Check that Pillow recognises the file without decoding all pixels."""
    with open_image(path) as im:
        im.verify()


def scan_folder(
    root: str | os.PathLike, check: Callable[[Path], Any], example_bytes: int = 0
) -> tuple[list[Path], list[Any], list[int], list[str]]:
    """Walk ``root/<class>/<file>``, calling ``check(file)``; skip files where it raises.

    ``example_bytes``: memory each file's result takes; the total is checked against
    ``MAX_LOAD_BYTES`` before the first ``check`` runs.

    Returns
    -------
    files : list of Path
        The readable files, class by class, sorted by name inside a class.
    results : list
        ``check(file)`` for each readable file.
    labels : list of int
        Class index of each file.
    classes : list of str
        Sorted class (subfolder) names.
    """
    root = check_folder(root, "image folder")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise ValueError(
            f"{root} has no class subfolders: put the images of each class in their own "
            "subfolder, e.g. cat/ and non-cat/"
        )
    found = [[p for p in sorted((root / name).iterdir())
              if not p.name.startswith(".") and p.is_file()] for name in classes]
    n = sum(map(len, found))
    check_size(n * example_bytes, root, f"{n} images")
    files, results, labels, skipped, empty = [], [], [], [], []
    for c, name in enumerate(classes):
        count = 0
        for p in found[c]:
            try:
                results.append(check(p))
            except Exception as e:  # any decoder error means "not a usable image"
                why = "too large" if isinstance(e, ImageTooLargeError) else type(e).__name__
                skipped.append(f"{p.relative_to(root)} ({why})")
                continue
            files.append(p)
            labels.append(c)
            count += 1
        if count == 0:
            empty.append(name)
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable or non-image file(s) in {root}: "
            + ", ".join(skipped),
            SkippedFilesWarning,
            stacklevel=3,
        )
    if not files:
        raise ValueError(f"no readable images in {root}: the class subfolders {classes} are empty")
    if empty:
        raise ValueError(
            f"class folder(s) {empty} in {root} contain no readable images: add images or "
            "remove the folder"
        )
    if len(classes) < 2:
        raise ValueError(
            f"{root} has a single class folder {classes}: a classifier needs at least two "
            "class subfolders"
        )
    return files, results, labels, classes


def load_image_folder(root: str | os.PathLike, *, image_size: int = 64) -> Dataset:
    """Load every image: X uint8 (image_size * image_size * 3, m), y class indices (m,)."""
    _, imgs, labels, classes = scan_folder(  # peak: the list of images, then their stack
        root, lambda p: read_image(p, image_size), example_bytes=2 * image_size**2 * 3)
    X = np.stack(imgs).reshape(len(imgs), -1).T
    shape = (image_size, image_size, 3)
    return Dataset(X, np.array(labels, np.int64), classes, shape, Path(root).name, "images")


def stream_image_folder(root: str | os.PathLike, *, image_size: int = 64) -> BatchSource:
    """A ``BatchSource`` that decodes only the images of the current batch (full shuffle).

    The folder is checked once up front (Pillow's ``verify``, no pixel decoding) so that m
    is known; a file that still fails to decode later raises ValueError naming it.
    """
    check_size(image_size**2 * 3, root, f"one {image_size} x {image_size} image",
               hint="choose a smaller image_size")
    files, _, labels, classes = scan_folder(root, _verify)

    def take(sel: Any) -> NDArray:
        chosen = files[sel] if isinstance(sel, slice) else [files[i] for i in sel]
        imgs = []
        for p in chosen:
            try:
                imgs.append(read_image(p, image_size))
            except Exception as e:
                raise ValueError(f"cannot decode image {p}: {e}") from e
        return np.stack(imgs).reshape(len(imgs), -1).T

    n_x = image_size * image_size * 3
    return BatchSource(
        lambda: nullcontext(take),
        np.array(labels, np.int64),
        n_x=n_x,
        classes=classes,
        image_shape=(image_size, image_size, 3),
        name=Path(root).name,
        kind="images",
        shuffle="full",
        example_bytes=n_x,
    )
