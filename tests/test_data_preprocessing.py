"""Preprocessor: modes, state round trip (JSON-able header), streamed statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepstep.data import Dataset, Preprocessor, default_mode, load, stream


def test_modes(rng):
    X = rng.integers(0, 256, (6, 40), dtype=np.uint8)
    np.testing.assert_allclose(Preprocessor("scale255").transform(X), X / 255.0)
    out = Preprocessor("none").transform(X, dtype=np.float32)
    assert out.dtype == np.float32 and np.array_equal(out, X)
    Z = Preprocessor("standardize").fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=1), 1, rtol=1e-12)
    assert default_mode(X) == "scale255" and default_mode(X.astype(float)) == "standardize"


def test_constant_feature_is_not_divided_by_zero(rng):
    X = np.vstack([rng.random(10), np.full(10, 3.0)])
    p = Preprocessor("standardize").fit(X)
    assert p.std_[1, 0] == 1.0
    new = p.transform(np.array([[0.5], [4.0]]))
    assert np.isfinite(new).all() and new[1, 0] == 1.0


def test_state_round_trip_is_json_able(rng):
    X = rng.random((5, 30)) * 10
    p = Preprocessor("standardize").fit(X)
    header, arrays = p.to_state()
    header = json.loads(json.dumps(header))
    q = Preprocessor.from_state(header, {k: v.copy() for k, v in arrays.items()})
    np.testing.assert_array_equal(q.transform(X), p.transform(X))
    r = Preprocessor.from_dict(json.loads(json.dumps(p.to_dict())))
    np.testing.assert_array_equal(r.transform(X), p.transform(X))
    s = Preprocessor.from_state(*Preprocessor("scale255").to_state())
    assert s.mode == "scale255" and s.mean_ is None


def test_errors():
    with pytest.raises(ValueError, match="unknown preprocessing mode"):
        Preprocessor("minmax")
    with pytest.raises(ValueError, match="not fitted"):
        Preprocessor("standardize").transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(3, m\)"):
        Preprocessor().fit(np.zeros((3, 4))).transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="no examples"):
        Preprocessor().fit_stream(iter([]))
    with pytest.raises(ValueError, match="not a saved Preprocessor"):
        Preprocessor.from_state({"format": "x"}, {})


def test_fit_stream_equals_fit(rng):
    X = rng.normal(1e3, 5.0, (7, 101))  # large mean: naive sum-of-squares would lose digits
    ds = Dataset(X, np.zeros(101, np.int64), ["a"])
    full = Preprocessor().fit(X)
    streamed = Preprocessor().fit_stream(ds.batches(16, rng))
    np.testing.assert_allclose(streamed.mean_, full.mean_, rtol=1e-13)
    np.testing.assert_allclose(streamed.std_, full.std_, rtol=1e-10)
    assert streamed.n_seen_ == 101


def test_streamed_standardisation_of_cat_h5(cat_dir):
    path = cat_dir / "train_catvnoncat.h5"
    full = Preprocessor().fit(load(path).X)
    streamed = Preprocessor().fit_stream(stream(path).batches(50))
    np.testing.assert_allclose(streamed.mean_, full.mean_, rtol=1e-12)
    np.testing.assert_allclose(streamed.std_, full.std_, rtol=1e-10)
