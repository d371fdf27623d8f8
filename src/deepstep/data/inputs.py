"""Data for a saved model, read the way its training data was read.

:func:`data_meta` is what a model records about its training data (``config_["data"]``);
:func:`load_for_model` loads labelled data (``evaluate``, ``report``) with the labels in the
model's classes; :func:`read_inputs` reads unlabelled inputs (``predict``, ``explain``): image
files, folders of images (recursively) and CSV rows, each example one column of X (n_x, m).

Reading new inputs never stops at the first bad one: every input that cannot be used (a
missing file, a file that is not an image, a CSV row with a word where a number belongs) is
recorded in :attr:`Inputs.failures` with the reason, and the others are still read. Every
conversion that changes an input (another size, RGBA or grey where the model takes RGB) is
recorded in :attr:`Item.notes`, so the command can say so.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import load
from .dataset import Dataset
from .input_rows import read_csv_rows
from .splits import check_features

if TYPE_CHECKING:
    from ..model import Network

#: What a folder given to ``predict`` / ``explain`` is searched for (recursively).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm")
#: Larger images are refused before their pixels are decoded (a 40000 x 40000 PNG would
#: need 4.8 GB); 64 megapixels is above any phone camera's.
MAX_PIXELS = 64_000_000


def data_meta(ds: Dataset) -> dict[str, Any]:
    """What ``predict`` needs to read new inputs like the training data (``config_["data"]``).

    ``features`` is the CSV loader's description of the feature columns (names, one-hot
    categories, label column: :meth:`deepstep.data.features.Features.to_dict`), None for
    other kinds of data.
    """
    features = getattr(ds, "features", None)
    return {"name": ds.name, "kind": ds.kind, "classes": ds.classes,
            "image_shape": list(ds.image_shape) if ds.image_shape else None,
            "value_max": float(np.max(ds.X)) if ds.image_shape and ds.m else None,
            "features": None if features is None else features.to_dict()}


def load_for_model(net: Network, source: str) -> Dataset:
    """Load labelled ``source`` the way the model's training data was read, with ``y`` as
    indices into the model's classes (``classes`` their
    :func:`~deepstep.predictions.class_names`); see :func:`model_labels`.
    """
    from ..predictions import class_names

    meta = net.config_.get("data") or {}
    shape = meta.get("image_shape")
    ds = load(source, image_size=int(shape[0]) if shape else 64)
    check_features(ds, net.layer_dims[0], source)
    return ds.with_classes(class_names(net), source)


def model_labels(net: Network, ds: Dataset) -> NDArray:
    """``ds.y`` from :func:`load_for_model` as the labels ``net`` was trained on (what
    ``net.evaluate`` takes): ``net.classes_[y]``, or the targets for regression."""
    return ds.y if net.classes_ is None else np.asarray(net.classes_)[ds.y]


# --- new inputs: predict and explain -----------------------------------------------------------


@dataclass
class Item:
    """One example read from an input.

    Attributes
    ----------
    name : str
        The file, or ``file:row`` for a CSV row (1-based line number).
    x : ndarray of shape (n_x,)
        The raw features as the model takes them (pixels in the training range).
    image : ndarray of shape (H, W, C), uint8, or None
        The picture after conversion and resizing (what the model sees), for images.
    features : list of str or None
        The name of each entry of ``x`` for a CSV row (the model's recorded columns, one-hot
        columns as ``column=category``), when known.
    source : Path or None
        The file the example came from.
    notes : list of str
        What was changed to fit the model ("resized from 150x100 to 64x64").
    """

    name: str
    x: NDArray
    image: NDArray | None = None
    features: list[str] | None = None
    source: Path | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Inputs:
    """The examples read, and the inputs that could not be read with the reason for each."""

    items: list[Item]
    failures: list[tuple[str, str]]

    def failure_lines(self) -> list[str]:
        """One "<input>: why" line per failure (the reason alone when it names the input).

        Examples
        --------
        >>> Inputs([], [("a.png", "no such file"), ("b.csv", "b.csv row 2: bad")]).failure_lines()
        ['a.png: no such file', 'b.csv row 2: bad']
        """
        return [why if why.startswith(name) else f"{name}: {why}"
                for name, why in self.failures]

    @property
    def X(self) -> NDArray:
        """The examples as columns, shape (n_x, m)."""
        return np.stack([it.x for it in self.items], axis=1)

    def notices(self, limit: int = 3) -> list[str]:
        """One line per kind of change, naming up to ``limit`` inputs it applied to.

        Examples
        --------
        >>> items = [Item(f"{i}.png", np.zeros(1), notes=["resized to 8x8"]) for i in range(5)]
        >>> Inputs(items, []).notices()
        ['5 inputs resized to 8x8: 0.png, 1.png, 2.png and 2 more']
        """
        groups: dict[str, list[str]] = {}
        for it in self.items:
            for note in it.notes:
                groups.setdefault(note, []).append(it.name)
        lines = []
        for note, names in groups.items():
            shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more"
                                                if len(names) > limit else "")
            count = "1 input" if len(names) == 1 else f"{len(names)} inputs"
            lines.append(f"{count} {note}: {shown}")
        return lines


@dataclass(frozen=True)
class Source:
    """One input file to read: its path, how it is named in the output, and its kind."""

    path: Path
    name: str
    kind: str  # "image" or "csv"


def expand_inputs(paths: Sequence[str | Path]) -> tuple[list[Source], list[tuple[str, str]]]:
    """Files and folders -> the files to read (folders searched recursively for images).

    Returns
    -------
    sources : list of Source
        In the order given, a folder's images sorted by path; ``.csv`` files are CSV, any
        other file is tried as an image.
    failures : list of (input, reason)
        Paths that do not exist, and folders holding no image.
    """
    sources: list[Source] = []
    failures: list[tuple[str, str]] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES
                           and f.is_file() and not _hidden(f.relative_to(p)))
            if not found:
                failures.append((str(p), "folder holds no image files (" + ", ".join(
                    IMAGE_SUFFIXES[:3]) + ", ...; searched recursively); give image files, "
                                 "folders of images or CSV files"))
            sources += [Source(f, str(f), "image") for f in found]
        elif p.is_file():
            sources.append(Source(p, str(p), "csv" if p.suffix.lower() == ".csv" else "image"))
        elif p.exists():
            failures.append((str(p), "not a regular file or folder"))
        else:
            failures.append((str(p), "no such file or folder"))
    return sources, failures


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def read_inputs(net: Network, paths: Sequence[str | Path] | Iterable[Source]) -> Inputs:
    """Read image files, folders of images and CSV files as examples for ``net``.

    Images are converted to the training images' channels (alpha dropped), resized to their
    (H, W) (bilinear, the aspect ratio not kept, as the image-folder loader does) and
    rescaled to their value range; a CSV file gives one example per row (see
    :func:`read_csv_rows`). Inputs that cannot be read are listed in ``failures`` and
    skipped.

    Parameters
    ----------
    net : Network
        The model the inputs are for (its ``layer_dims[0]`` = n_x and ``config_["data"]``).
    paths : sequence of str or Path, or of Source
        Files and folders as given on the command line (or :func:`expand_inputs`' sources).

    Returns
    -------
    Inputs
        ``items`` in input order (``Inputs.X`` stacks them into (n_x, m)) and ``failures``.
    """
    items: list[Item] = []
    failures: list[tuple[str, str]] = []
    for given in paths:  # one at a time, so the failures come in the order of the inputs
        sources, missing = ([given], []) if isinstance(given, Source) else expand_inputs(
            [given])
        failures += missing
        for src in sources:
            try:
                if src.kind == "csv":
                    rows = read_csv_rows(net, src.path)
                    items += [Item(name, rows.X[:, i], features=rows.features,
                                   source=src.path) for i, name in enumerate(rows.names)]
                else:
                    items.append(read_image(net, src.path, src.name))
            except ValueError as e:
                failures.append((src.name, str(e)))
    return Inputs(items, failures)


def image_meta(net: Network) -> tuple[tuple[int, int, int], float | None]:
    """(H, W, C) of the model's training images and their largest value; ValueError when the
    model was trained on tabular data."""
    meta = net.config_.get("data") or {}
    shape = meta.get("image_shape")
    if not shape:
        raise ValueError(f"the model was trained on tabular data ({net.layer_dims[0]} "
                         "features), not images; give its inputs as CSV rows")
    H, W, C = (int(v) for v in shape)
    top = meta.get("value_max")
    return (H, W, C), None if top is None else float(top)


def read_image(net: Network, path: Path, name: str | None = None) -> Item:
    """One image file as the model's input: converted, resized, rescaled (see
    :func:`read_inputs`); ValueError with the reason when it cannot be."""
    from PIL import Image, UnidentifiedImageError

    (H, W, C), top = image_meta(net)
    notes = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise ValueError(f"image is {w}x{h} pixels, above the limit of "
                                     f"{MAX_PIXELS // 1_000_000} megapixels; shrink it first")
                mode = im.mode
                img = im.convert("L" if C == 1 else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"image is above the limit of {MAX_PIXELS // 1_000_000} megapixels "
                         "(Pillow refuses it as a possible decompression bomb); shrink it "
                         "first") from None
    except UnidentifiedImageError:
        raise ValueError("not an image file Pillow can read (nor a .csv file); give PNG, "
                         "JPEG, BMP, GIF, TIFF or WebP images or CSV files") from None
    except OSError as e:
        raise ValueError(f"cannot read the image: {e}") from None
    target = "grey" if C == 1 else "RGB"
    source = _MODE_NAMES.get(mode, mode)
    if source != target:
        notes.append(f"converted from {source} to {target}"
                     + (" (transparency dropped)" if "A" in mode or mode == "P" and C != 1
                        and "transparency" in img.info else ""))
    if (w, h) != (W, H):
        notes.append(f"resized to {W}x{H} (the model's image size)")
        img = img.resize((W, H), Image.Resampling.BILINEAR)
    pixels = np.asarray(img, dtype=np.uint8).reshape(H, W, C)
    x: NDArray = pixels.reshape(-1)
    if top and top != 255:  # the training images' range, e.g. 0..16 for the bundled digits
        x = x.astype(np.float64) * (top / 255.0)
    return Item(name or str(path), x, image=pixels, source=path, notes=notes)


_MODE_NAMES = {"L": "grey", "LA": "grey with transparency", "1": "black-and-white",
               "RGB": "RGB", "RGBA": "RGBA", "P": "palette colours", "PA": "palette colours",
               "CMYK": "CMYK", "I": "32-bit grey", "I;16": "16-bit grey", "F": "float grey",
               "YCbCr": "YCbCr", "LAB": "Lab", "HSV": "HSV"}
