"""Training from a streamed source (h5 read batch by batch) matches training in memory."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep import Network
from deepstep.data import load, stream


@pytest.mark.filterwarnings("ignore:training collapsed")  # 3 epochs of a tiny net
def test_streamed_h5_trains_like_the_arrays_it_holds(cat_dir):
    train = cat_dir / "train_catvnoncat.h5"
    kwargs = dict(epochs=3, batch_size=64, learning_rate=1e-4, l2=0.0, shuffle=False,
                  preprocess="scale255", verbose=False)
    streamed = Network([12288, 8, 1], seed=0, dtype="float64")
    streamed.fit(stream(train), **kwargs)
    ds = load(train)
    in_memory = Network([12288, 8, 1], seed=0, dtype="float64")
    in_memory.fit(ds.X, ds.y, **kwargs)
    assert streamed.history_["loss"] == in_memory.history_["loss"]
    for k in in_memory.params:
        np.testing.assert_allclose(streamed.params[k], in_memory.params[k], rtol=1e-12)
    assert streamed.preprocessor.mode == "scale255"
    test = load(cat_dir / "test_catvnoncat.h5")
    assert streamed.evaluate(test.X, test.y) == in_memory.evaluate(test.X, test.y)


def test_streamed_standardisation_is_fitted_in_one_pass(cat_dir):
    train = cat_dir / "train_catvnoncat.h5"
    net = Network([12288, 4, 1], seed=0)
    net.fit(stream(train), epochs=1, batch_size=64, preprocess="standardize", verbose=False)
    X = load(train).X.astype(np.float64)
    np.testing.assert_allclose(net.preprocessor.mean_.ravel(), X.mean(axis=1), rtol=1e-9)
