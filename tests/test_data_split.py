"""Dataset.split: stratified, shuffled, seeded, every class of two or more examples on both
sides; and why it is not scikit-learn's train_test_split (issue 12 item 6)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.model_selection import train_test_split

from deepstep.data import Dataset


def _dataset(counts):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(2 * len(y), dtype=np.float64).reshape(2, -1)  # column i holds i and i + m
    return Dataset(X, y, [f"c{k}" for k in range(len(counts))])


@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=5),
       fraction=st.floats(0.05, 0.6), seed=st.integers(0, 2**32 - 1))
def test_stratified_split_properties(counts, fraction, seed):
    ds = _dataset(counts)
    if max(counts) < 2:
        return
    train, test = ds.split(fraction, seed=seed)
    ids = np.concatenate([train.X[0], test.X[0]])
    assert sorted(ids.tolist()) == ds.X[0].tolist()  # a partition of the examples
    for k, count in enumerate(counts):
        n_test = int((test.y == k).sum())
        if count >= 2:  # at least one on each side
            assert 1 <= n_test <= count - 1
            assert n_test == min(max(round(fraction * count), 1), count - 1)
        else:
            assert n_test == 0  # a lone example trains
    again = ds.split(fraction, seed=seed)
    np.testing.assert_array_equal(again[1].X, test.X)


def test_split_is_shuffled_and_regression_unstratified(rng):
    ds = _dataset([50, 50])
    train, test = ds.split(0.2, seed=3)
    assert not np.all(np.diff(train.X[0]) > 0)  # not in file order
    reg = Dataset(rng.random((2, 40)), rng.random(40), None)
    tr, te = reg.split(0.25, seed=0)
    assert (tr.m, te.m) == (30, 10) and te.classes is None


def test_split_errors():
    with pytest.raises(ValueError, match="one side would be empty"):
        _dataset([1, 1]).split(0.5)
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
        _dataset([3, 3]).split(0.0)


def test_why_not_sklearn_train_test_split():
    """The documented differences: scikit-learn gives a 2-example class no test example and
    refuses a 1-example class; Dataset.split keeps one of the two for testing and trains on
    the lone one."""
    ds = _dataset([100, 2])
    _, te = train_test_split(np.arange(ds.m), test_size=0.2, stratify=ds.y, random_state=0)
    assert np.bincount(ds.y[te], minlength=2).tolist() == [21, 0]
    _, test = ds.split(0.2, seed=0)
    assert np.bincount(test.y, minlength=2).tolist() == [20, 1]
    lone = _dataset([9, 1])
    with pytest.raises(ValueError, match="least populated class"):
        train_test_split(np.arange(lone.m), test_size=0.2, stratify=lone.y, random_state=0)
    train, test = lone.split(0.2, seed=0)
    assert (train.y == 1).sum() == 1 and (test.y == 1).sum() == 0
