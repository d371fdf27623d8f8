"""Streaming: batches from disk equal in-memory batches; shuffles cover every example once;
peak memory of a streamed pass stays far below the file size."""

from __future__ import annotations

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from deepstep.data import BatchSource, Preprocessor, load, stream


def _write_h5(path, X, y):
    with h5py.File(path, "w") as f:
        f["train_set_x"] = X
        f["train_set_y"] = y
        f["list_classes"] = [b"no", b"yes"]
    return path


def test_cat_h5_stream_equals_load_unshuffled(cat_dir):
    path = cat_dir / "train_catvnoncat.h5"
    ds, src = load(path), stream(path)
    assert isinstance(src, BatchSource)
    assert (src.n_x, src.m, src.classes, src.image_shape) == (12288, 209, ds.classes, (64, 64, 3))
    np.testing.assert_array_equal(src.labels(), ds.y)
    p = Preprocessor("scale255")
    src.preprocessor = ds.preprocessor = p
    pairs = list(zip(src.batches(64), ds.batches(64), strict=True))
    assert len(pairs) == 4 and pairs[-1][0][0].shape == (12288, 17)
    for (a, ya), (b, yb) in pairs:
        assert a.dtype == np.float64 and a.max() <= 1.0
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ya, yb)


def test_chunk_shuffle_covers_all_within_chunks(tmp_path, rng):
    m = 103
    X = np.arange(m * 2 * 2 * 3, dtype=np.int64).reshape(m, 2, 2, 3) % 251
    X = X.astype(np.uint8)
    X[:, 0, 0, 0] = np.arange(m)  # column id in the first feature
    src = stream(_write_h5(tmp_path / "s.h5", X, np.arange(m) % 2), chunk_bytes=12 * 20)
    assert src.chunk_examples(10) == 20
    batches = list(src.batches(10, rng))
    ids = np.concatenate([Xb[0] for Xb, _ in batches]).astype(int)
    assert sorted(ids.tolist()) == list(range(m)) and ids.tolist() != list(range(m))
    for Xb, yb in batches:
        assert len(set(Xb[0].astype(int) // 20)) == 1  # one chunk per batch
        np.testing.assert_array_equal(yb, Xb[0].astype(int) % 2)
        np.testing.assert_array_equal(Xb, X[Xb[0].astype(int)].reshape(len(yb), -1).T)
    assert sum(len(yb) < 10 for _, yb in batches) == 1  # only the tail chunk is short


def test_course_layout_h5_and_float32(tmp_path, rng):
    X = rng.random((4, 9))
    src = stream(_write_h5(tmp_path / "c.h5", X, np.arange(9) % 2))
    got = np.hstack([Xb for Xb, _ in src.batches(4, dtype=np.float32)])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, X, rtol=1e-7)


def test_small_sources_stream_from_memory(rng):
    src = stream("wine")
    ds = load("wine")
    assert src.m == ds.m and src.task == "multiclass"
    ys = np.concatenate([yb for _, yb in src.batches(32, rng)])
    np.testing.assert_array_equal(np.sort(ys), np.sort(ds.y))
    with pytest.raises(ValueError, match="batch_size"):
        src.batches(0)


_CHILD = """
import resource, sys
from pathlib import Path
import numpy as np
from deepstep.data import Preprocessor, stream

def peak():  # VmHWM: ru_maxrss would carry the parent's (pytest's) peak across fork + exec
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        return next(int(x.split()[1]) for x in status if x.startswith("VmHWM:")) * 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

src = stream(sys.argv[1], chunk_bytes=2**21, preprocessor=Preprocessor("scale255"))
W = np.random.default_rng(0).standard_normal((20, src.n_x)).astype(np.float32)
Z = W @ next(src.batches(64, dtype=np.float32))[0]  # warm-up: h5py and BLAS buffers
before = peak()
for rng in (None, np.random.default_rng(1)):
    n = 0
    for Xb, yb in src.batches(64, rng, dtype=np.float32):
        n += (W @ Xb).shape[1]
    assert n == src.m
print(before, peak())
"""


def test_streamed_pass_peak_memory_far_below_file_size(tmp_path, rng):
    m = 4096  # 4096 * 12288 bytes = 48 MiB of uint8 images
    X = rng.integers(0, 256, (m, 64, 64, 3), dtype=np.uint8)
    path = _write_h5(tmp_path / "big.h5", X, rng.integers(0, 2, m))
    size = path.stat().st_size
    del X
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}  # threads spinning on a busy machine
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    before, after = map(int, out.stdout.split())
    growth = after - before
    msg = f"peak RSS grew {growth / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB file"
    assert growth < size / 4, msg
