"""Bad inputs to the data layer (issue 11): each a ValueError / FileNotFoundError naming the
file and what to do, never a traceback from deep inside NumPy, h5py or Pillow."""

from __future__ import annotations

import gzip
import os
import struct
import warnings
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from deepstep.data import (
    DataTooLargeError,
    SkippedFilesWarning,
    load,
    load_csv,
    read_feature_rows,
    read_idx,
    stream,
)
from deepstep.data import checks as data_checks
from deepstep.data.h5 import load_h5
from deepstep.data.images import (
    ImageTooLargeError,
    load_image_folder,
    read_image,
    stream_image_folder,
)


def _png(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height RGB pixels, with no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "imgs"
    for c, value in (("a", 0), ("b", 255)):
        (root / c).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (value, i, 0)).save(root / c / f"{i}.png")
    return root


# --- NaN / inf ---------------------------------------------------------------------------

def test_nan_and_inf_in_h5_features_located(tmp_path):
    X = np.ones((5, 4))
    X[3, 2] = np.nan
    with h5py.File(tmp_path / "n.h5", "w") as f:
        f["x"], f["y"] = X, np.array([0, 1, 0, 1, 0])
    with pytest.raises(ValueError, match=r"n\.h5, dataset 'x', example 3, feature 2: the value "
                                         r"is nan.*drop the examples"):
        load(tmp_path / "n.h5")
    src = stream(tmp_path / "n.h5")
    with pytest.raises(ValueError, match=r"example 3, feature 2: the value is nan"):
        list(src.batches(2))
    with pytest.raises(ValueError, match=r"example 3, feature 2"):
        list(src.batches(2, np.random.default_rng(0)))


def test_nan_labels_in_h5(tmp_path):
    with h5py.File(tmp_path / "l.h5", "w") as f:
        f["x"], f["y"] = np.ones((3, 2)), np.array([1.0, np.inf, 0.5])
    with pytest.raises(ValueError, match=r"l\.h5, dataset 'y', example 1: the label is inf"):
        load(tmp_path / "l.h5")


def test_nan_in_float_idx(tmp_path):
    arr = np.zeros((2, 2, 2), ">f4")
    arr[1, 0, 1] = np.inf
    head = bytes([0, 0, 0x0D, 3]) + np.array(arr.shape, ">u4").tobytes()
    (tmp_path / "x-images-idx3-ubyte").write_bytes(head + arr.tobytes())
    labels = bytes([0, 0, 0x08, 1]) + np.array([2], ">u4").tobytes() + bytes([0, 1])
    (tmp_path / "x-labels-idx1-ubyte").write_bytes(labels)
    with pytest.raises(ValueError, match=r"image 1, pixel 1: the value is inf"):
        load(tmp_path / "x-images-idx3-ubyte")


# --- empty and huge ----------------------------------------------------------------------

def test_h5_with_zero_examples(tmp_path):
    with h5py.File(tmp_path / "z.h5", "w") as f:
        f["train_x"] = np.zeros((0, 4, 4, 3), np.uint8)
        f["train_y"] = np.zeros(0, np.int64)
    for read in (load, stream):
        with pytest.raises(ValueError, match=r"z\.h5 holds no examples: dataset 'train_x' has "
                                             r"shape \(0, 4, 4, 3\)"):
            read(tmp_path / "z.h5")


def test_sparse_12_gib_h5_refused_before_reading(tmp_path):
    p = tmp_path / "huge.h5"
    m = 1_000_000  # 1e6 images of 64 x 64 x 3 bytes: 11.4 GiB declared, nothing written
    with h5py.File(p, "w") as f:
        f.create_dataset("train_set_x", shape=(m, 64, 64, 3), dtype=np.uint8)
        f["train_set_y"] = np.zeros(m, np.uint8)
    os.truncate(p, 12 * 2**30)  # and the file itself is 12 GiB (sparse: no disk used)
    with pytest.raises(DataTooLargeError, match=r"huge\.h5: loading dataset 'train_set_x' "
                                                r"\(1000000, 64, 64, 3\) uint8 needs 11\.4 GiB"
                                                r".*above the 4\.0 GiB.*deepstep\.data\.stream"):
        load(p)
    src = stream(p)  # streaming is the way: one chunk at a time
    assert src.m == m and src.n_x == 64 * 64 * 3


def test_size_cap_is_a_value_error_and_a_memory_error(tmp_path, monkeypatch):
    with h5py.File(tmp_path / "s.h5", "w") as f:
        f["x"], f["y"] = np.zeros((10, 100), np.uint8), np.zeros(10, np.uint8)
    monkeypatch.setattr(data_checks, "MAX_LOAD_BYTES", 999)
    with pytest.raises(ValueError, match=r"needs 1000 bytes of memory, above the 999 bytes"):
        load(tmp_path / "s.h5")
    with pytest.raises(MemoryError):
        load_h5(tmp_path / "s.h5")


def test_gzip_idx_bomb_refused_from_its_header(tmp_path):
    head = bytes([0, 0, 0x08, 3]) + np.array([100_000, 1000, 1000], ">u4").tobytes()
    with gzip.open(tmp_path / "b-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(head + bytes(1000))
    with pytest.raises(DataTooLargeError, match=r"an IDX array of shape \[100000, 1000, 1000\]"
                                                r" needs 93\.1 GiB"):
        read_idx(tmp_path / "b-images-idx3-ubyte.gz")


def test_idx_with_zero_examples(tmp_path):
    head = bytes([0, 0, 0x08, 3]) + np.array([0, 28, 28], ">u4").tobytes()
    (tmp_path / "e-images-idx3-ubyte").write_bytes(head)
    with pytest.raises(ValueError, match=r"holds no examples \(shape \[0, 28, 28\]\)"):
        load(tmp_path / "e-images-idx3-ubyte")


def test_memory_error_becomes_a_message_with_the_size(tmp_path, monkeypatch):
    p = tmp_path / "t.csv"
    p.write_text("a,y\n1,0\n2,1\n")

    def no_memory(self):
        raise MemoryError

    monkeypatch.setattr(Path, "read_bytes", no_memory)
    with pytest.raises(DataTooLargeError, match=r"t\.csv: not enough memory to load the CSV "
                                                r"file \(12 bytes\); free memory, or split"):
        load_csv(p)

    def no_memory_h5(self, key):
        raise MemoryError

    monkeypatch.undo()
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f["x"], f["y"] = np.zeros((3, 5), np.uint8), np.zeros(3, np.uint8)
    monkeypatch.setattr(h5py.Dataset, "__getitem__", no_memory_h5)
    with pytest.raises(ValueError, match=r"m\.h5: not enough memory to load"):
        load(tmp_path / "m.h5")


# --- decompression bombs -----------------------------------------------------------------

def test_40000_by_40000_png_refused_from_its_header(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png(40_000, 40_000))
    assert p.stat().st_size < 100
    with pytest.raises(ImageTooLargeError, match=r"bomb\.png: the image has 1,600,000,000 "
                                                 r"pixels, above the limit.*resize it first"):
        read_image(p)


def test_bomb_in_an_image_folder_is_skipped(tmp_path):
    root = _folder(tmp_path)
    (root / "a" / "bomb.png").write_bytes(_png(40_000, 40_000))
    for read in (load_image_folder, stream_image_folder):
        with pytest.warns(SkippedFilesWarning, match=r"bomb\.png \(too large\)"):
            ds = read(root, image_size=8)
        assert ds.m == 4


def test_image_over_the_lowered_pixel_limit(tmp_path, monkeypatch):
    p = tmp_path / "ten.png"
    Image.new("RGB", (10, 10)).save(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 60)  # 100 pixels: Pillow only warns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageTooLargeError, match="100 pixels, above the limit of 60"):
            read_image(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40)  # above twice the limit: an error
    with pytest.raises(ImageTooLargeError, match="100 pixels, above the limit of 40"):
        read_image(p)


def test_stream_refuses_an_image_size_that_cannot_fit(tmp_path):
    with pytest.raises(DataTooLargeError, match="one 100000 x 100000 image needs 27.9 GiB"):
        stream_image_folder(_folder(tmp_path), image_size=100_000)


def test_not_an_image(tmp_path):
    (tmp_path / "x.png").write_text("hello")
    with pytest.raises(ValueError, match=r"cannot read .*x\.png as an image"):
        read_image(tmp_path / "x.png")


# --- folders and files swapped -----------------------------------------------------------

def test_folder_where_a_file_is_expected(tmp_path):
    for name in ("data.csv", "data.h5"):
        (tmp_path / name).mkdir()
        with pytest.raises(ValueError, match=rf"{name} is a folder"):
            load(tmp_path / name)
    d = tmp_path / "plain"
    d.mkdir()
    for read in (load_csv, load_h5, read_idx, read_image,
                 lambda p: read_feature_rows(p, n_x=3)):
        with pytest.raises(ValueError, match=r"plain is a folder, but .* is expected here"):
            read(d)


def test_file_where_a_folder_is_expected(tmp_path):
    p = tmp_path / "one.png"
    Image.new("RGB", (4, 4)).save(p)
    for read in (load_image_folder, stream_image_folder):
        with pytest.raises(ValueError, match=r"one\.png is a file, but an image folder is "
                                             "expected"):
            read(p)
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        load_image_folder(tmp_path / "nothing")
