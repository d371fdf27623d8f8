"""One epoch of Adam, deepstep against scikit-learn's MLPClassifier (the independent oracle).

Same initial weights (set through ``coefs_`` / ``intercepts_`` as W.T), same batch order
(``shuffle=False`` on both sides), float64. scikit-learn writes Adam's epsilon outside the bias
correction (lr_t m / (sqrt(v) + eps)) where deepstep, the course and PyTorch write
lr m_hat / (sqrt(v_hat) + eps); with eps = 1e-12 the two forms agree to rounding.

Tolerance: Adam divides each gradient by its own running RMS, so a weight whose gradient is
~1e-15 (pure rounding noise) still moves by up to lr per step, in a direction rounding
decides. Losses agree to 1e-9 relative; weights to 1e-8 absolute, against steps of 1e-3.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.neural_network import MLPClassifier

from deepstep import Network


def sklearn_one_epoch(X, y, net, batch_size, lr, eps):
    L = net.n_layers
    hidden = tuple(net.layer_dims[1:-1])
    clf = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", solver="adam",
                        learning_rate_init=lr, alpha=0.0, batch_size=batch_size,
                        shuffle=False, max_iter=1, warm_start=True, epsilon=eps,
                        n_iter_no_change=1000, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X.T, y)  # builds the estimator's state, then we overwrite the weights
        clf.coefs_ = [net.params[f"W{l}"].T.copy() for l in range(1, L + 1)]
        clf.intercepts_ = [net.params[f"b{l}"].ravel().copy() for l in range(1, L + 1)]
        clf.fit(X.T, y)  # a fresh Adam state: one epoch from our weights
    return clf


@pytest.mark.parametrize(
    ("loader", "dims", "batch_size"),
    [(load_breast_cancer, [30, 16, 8, 1], 64), (load_digits, [64, 32, 10], 50)],
    ids=["binary-sigmoid", "multiclass-softmax"],
)
def test_one_epoch_of_adam_matches_scikit_learn(loader, dims, batch_size):
    X, y = loader(return_X_y=True)
    X = ((X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)).T  # (n_x, m)
    net = Network(dims, seed=0, dtype="float64")
    start = {k: v.copy() for k, v in net.params.items()}
    clf = sklearn_one_epoch(X, y, net, batch_size, lr=1e-3, eps=1e-12)
    h = net.fit(X, y, epochs=1, batch_size=batch_size, optimizer="adam", learning_rate=1e-3,
                eps=1e-12, l2=0.0, shuffle=False, preprocess="none", verbose=False)
    assert h["loss"][0] == pytest.approx(clf.loss_, rel=1e-9)
    for l in range(1, net.n_layers + 1):
        np.testing.assert_allclose(net.params[f"W{l}"], clf.coefs_[l - 1].T, rtol=0,
                                   atol=1e-8)
        np.testing.assert_allclose(net.params[f"b{l}"].ravel(), clf.intercepts_[l - 1],
                                   rtol=0, atol=1e-8)
    moved = max(np.abs(net.params[f"W{l}"] - start[f"W{l}"]).max()
                for l in range(1, net.n_layers + 1))
    assert moved > 1e-3  # the epoch did move the weights, well beyond the tolerance
