"""Image folders: written from the cat h5 images, with odd modes, sizes and broken files."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from deepstep.data import SkippedFilesWarning, load, stream


@pytest.fixture
def cat_folder(tmp_path, cat_dir):
    """12 cat h5 images as PNGs in cat/ and non-cat/, plus RGBA, grayscale and broken files."""
    src = load(cat_dir / "test_catvnoncat.h5")
    root = tmp_path / "pets"
    for c in src.classes:
        (root / c).mkdir(parents=True)
    for i in range(12):
        img = src.X[:, i].reshape(src.image_shape)
        Image.fromarray(img).save(root / src.classes[src.y[i]] / f"img{i:02d}.png")
    Image.new("RGBA", (64, 64), (10, 20, 30, 0)).save(root / "cat" / "zz_rgba.png")
    Image.new("L", (80, 40), 200).save(root / "non-cat" / "zz_gray.jpg")
    (root / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (root / "non-cat" / "notes.txt").write_text("not an image")
    (root / "non-cat" / ".DS_Store").write_bytes(b"\0\0")
    return root, src


def test_folder_loads_with_one_warning(cat_folder):
    root, src = cat_folder
    with pytest.warns(SkippedFilesWarning) as rec:
        ds = load(root)
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "skipped 2" in msg and "broken.png" in msg and "notes.txt" in msg
    assert ds.classes == ["cat", "non-cat"] and ds.kind == "images"
    assert ds.X.shape == (64 * 64 * 3, 14) and ds.X.dtype == np.uint8
    assert ds.image_shape == (64, 64, 3)
    # PNG is lossless: the first cat image comes back exactly
    first_cat = int(np.flatnonzero(src.y[:12] == 1)[0])
    np.testing.assert_array_equal(ds.X[:, 0], src.X[:, first_cat])
    rgba = ds.X[:, int(np.sum(ds.y == 0)) - 1].reshape(64, 64, 3)
    assert rgba[0, 0].tolist() == [10, 20, 30]
    gray = ds.X[:, -1].reshape(64, 64, 3)
    assert (gray == 200).all()


def test_image_size_and_stream_equal_load(cat_folder, rng):
    root, _ = cat_folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        ds = load(root, image_size=16)
        src = stream(root, image_size=16)
    assert ds.X.shape == (16 * 16 * 3, 14) and src.n_x == 768 and src.m == 14
    np.testing.assert_array_equal(src.labels(), ds.y)
    got = [(Xb, yb) for Xb, yb in src.batches(5)]
    want = list(ds.batches(5))
    assert [b[0].shape for b in got] == [(768, 5), (768, 5), (768, 4)]
    for (a, ya), (b, yb) in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ya, yb)
    shuffled = np.concatenate([yb for _, yb in src.batches(5, rng)])
    assert sorted(shuffled.tolist()) == sorted(ds.y.tolist())


def test_folder_errors(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    with pytest.raises(ValueError, match="no class subfolders"):
        load(root)
    (root / "a").mkdir()
    (root / "b").mkdir()
    with pytest.raises(ValueError, match="no readable images"):
        load(root)
    Image.new("RGB", (8, 8)).save(root / "a" / "x.png")
    with pytest.raises(ValueError, match=r"\['b'\].*no readable images"):
        load(root)
    (root / "b").rmdir()
    with pytest.raises(ValueError, match="single class"):
        load(root)
    with pytest.raises(FileNotFoundError, match="missing_dir"):
        load(tmp_path / "missing_dir" / "x")
