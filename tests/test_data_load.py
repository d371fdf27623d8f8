"""deepstep.data.load on real data (cat h5, MNIST IDX), bundled sets, h5 detection, errors."""

from __future__ import annotations

import gzip
import shutil

import h5py
import numpy as np
import pytest

from deepstep.data import BUNDLED, Dataset, detect_kind, encode_labels, load, read_idx


def test_cat_train_and_test_h5(cat_dir, cat_data):
    X, Y, Xt, Yt = cat_data
    train = load(cat_dir / "train_catvnoncat.h5")
    test = load(cat_dir / "test_catvnoncat.h5")
    assert train.X.shape == (12288, 209) and test.X.shape == (12288, 50)
    assert train.X.dtype == np.uint8
    assert train.classes == ["non-cat", "cat"] and test.classes == ["non-cat", "cat"]
    assert train.image_shape == (64, 64, 3) and train.kind == "h5" and train.task == "binary"
    np.testing.assert_array_equal(train.X / 255.0, X)
    np.testing.assert_array_equal(train.y, Y.ravel())
    np.testing.assert_array_equal(test.y, Yt.ravel())
    with h5py.File(cat_dir / "train_catvnoncat.h5") as f:
        np.testing.assert_array_equal(train.X[:, 7].reshape(train.image_shape), f["train_set_x"][7])


def test_mnist_idx_gz_file_and_folder(mnist_dir):
    ds = load(mnist_dir / "t10k-images-idx3-ubyte.gz")
    assert ds.X.shape == (784, 10000) and ds.X.dtype == np.uint8
    assert ds.y[0] == 7 and set(ds.y.tolist()) == set(range(10))
    assert ds.classes == [str(d) for d in range(10)] and ds.image_shape == (28, 28, 1)
    np.testing.assert_array_equal(load(mnist_dir).y, ds.y)


def test_raw_idx_matches_gz(mnist_dir, tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(mnist_dir / f"{name}.gz") as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    raw = load(tmp_path / "t10k-images-idx3-ubyte")
    assert detect_kind(tmp_path / "t10k-images-idx3-ubyte") == "idx"
    assert raw.X.shape == (784, 10000) and raw.y[0] == 7


def _idx_bytes(arr: np.ndarray, code: int) -> bytes:
    head = bytes([0, 0, code, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int16, 0x0B), (np.float32, 0x0D)])
def test_read_idx_dtypes_big_endian(tmp_path, rng, dtype, code):
    arr = (rng.random((3, 4, 5)) * 100).astype(dtype)
    (tmp_path / "a").write_bytes(_idx_bytes(arr, code))
    out = read_idx(tmp_path / "a")
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_idx_errors(tmp_path, rng):
    img = rng.integers(0, 255, (4, 3, 3), dtype=np.uint8)
    (tmp_path / "x-images-idx3-ubyte").write_bytes(_idx_bytes(img, 0x08))
    with pytest.raises(ValueError, match="no labels file"):
        load(tmp_path / "x-images-idx3-ubyte")
    (tmp_path / "x-labels-idx1-ubyte").write_bytes(_idx_bytes(np.arange(3, dtype=np.uint8), 8))
    with pytest.raises(ValueError, match="4 images but its labels"):
        load(tmp_path / "x-images-idx3-ubyte")
    (tmp_path / "t-idx3-ubyte").write_bytes(_idx_bytes(img, 0x08)[:-5])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "t-idx3-ubyte")
    with pytest.raises(ValueError, match="pass the images file"):
        load(tmp_path)  # two idx3 files in one folder


@pytest.mark.parametrize("name", list(BUNDLED))
def test_every_bundled_set(name):
    ds = load(name)
    assert isinstance(ds, Dataset) and ds.kind == "bundled" and ds.name == name
    assert ds.X.ndim == 2 and ds.y.shape == (ds.m,) and ds.X.dtype == np.float64
    if name == "diabetes":
        assert ds.task == "regression" and ds.classes is None and ds.y.dtype == np.float64
    else:
        assert ds.y.dtype == np.int64 and 0 <= ds.y.min() and ds.y.max() < len(ds.classes)
    expected = {"digits": "multiclass", "breast_cancer": "binary", "iris": "multiclass"}
    assert ds.task == expected.get(name, ds.task)


def test_h5_keys_detected_not_hardcoded(tmp_path, rng):
    p = tmp_path / "odd.hdf5"
    X = rng.integers(0, 255, (5, 4, 4), dtype=np.uint8)  # grayscale (m, H, W)
    with h5py.File(p, "w") as f:
        f["group/pictures"] = X
        f["group/target"] = np.array([[2, 0, 1, 2, 0]])  # (1, m)
        f["names_of_classes"] = np.array(["a", "b", "c"], dtype=object)
    ds = load(p)
    assert ds.X.shape == (16, 5) and ds.image_shape == (4, 4, 1)
    assert ds.classes == ["a", "b", "c"] and ds.y.tolist() == [2, 0, 1, 2, 0]


def test_h5_course_layout_and_no_class_names(tmp_path, rng):
    p = tmp_path / "cols.h5"
    with h5py.File(p, "w") as f:
        f["X"] = rng.random((3, 6))  # (n_x, m)
        f["Y"] = np.array([1.5, 2.0, 0.1, 3.0, 4.0, 5.0])
    ds = load(p)
    assert ds.X.shape == (3, 6) and ds.task == "regression" and ds.image_shape is None


def test_h5_ambiguous_and_empty(tmp_path):
    p = tmp_path / "both.h5"
    with h5py.File(p, "w") as f:
        f["a"] = np.zeros((3, 2))
        f["b"] = np.zeros(3)
        f["c"] = np.zeros((3, 5))
    with pytest.raises(ValueError, match="ambiguous"):
        load(p)
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    with pytest.raises(ValueError, match="no examples/labels pair"):
        load(tmp_path / "empty.h5")


def test_missing_unknown_and_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load(tmp_path / "nope.h5")
    with pytest.raises(ValueError, match="iris, wine"):
        load("mnist_fashion")
    (tmp_path / "blob.bin").write_bytes(b"\x01\x02 not data")
    with pytest.raises(ValueError, match="cannot tell what kind"):
        load(tmp_path / "blob.bin")
    (tmp_path / "fake.h5").write_text("hello")
    with pytest.raises(ValueError, match="not.*HDF5|HDF5"):
        load(tmp_path / "fake.h5")


def test_dataset_split_subset_batches(rng):
    y = np.repeat([0, 1, 2], [20, 10, 5])
    ds = Dataset(rng.random((3, 35)), y, ["a", "b", "c"])
    train, test = ds.split(0.2, seed=1)
    assert train.m + test.m == 35
    assert np.bincount(test.y).tolist() == [4, 2, 1]
    assert sorted(np.concatenate([train.X[0], test.X[0]]).tolist()) == sorted(ds.X[0].tolist())
    again, _ = ds.split(0.2, seed=1)
    np.testing.assert_array_equal(again.X, train.X)
    assert ds.subset([3, 0]).y.tolist() == [0, 0]
    seen = np.concatenate([yb for _, yb in ds.batches(8, rng)])
    assert np.bincount(seen).tolist() == [20, 10, 5]
    Xb, yb = next(ds.batches(8))
    np.testing.assert_array_equal(Xb, ds.X[:, :8])
    with pytest.raises(ValueError, match="test_fraction"):
        ds.split(1.0)
    with pytest.raises(ValueError, match="shape"):
        Dataset(np.zeros((2, 3)), np.zeros(4), None)


def test_encode_labels_rules():
    assert encode_labels(np.array([3, 1, 3]))[1] == ["1", "3"]
    assert encode_labels(np.array([1.0, 0.0]))[1] == ["0", "1"]
    assert encode_labels(np.array([b"y", b"n"]))[1] == ["n", "y"]
    with pytest.raises(ValueError, match="2 classes"):
        encode_labels(np.array([0, 2]), ["a", "b"])
