"""The smallest models the course API builds: logistic and linear regression.

A single sigmoid unit (layers [n_x, 1]) is logistic regression, and a single linear unit with
squared error is least squares; both have an answer known independently of deepstep.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from deepstep import course


def _blobs(rng, m=200):
    """Two overlapping Gaussian classes in 2-D (not separable, so the optimum is finite)."""
    y = (rng.random(m) < 0.5).astype(np.int64)
    X = rng.standard_normal((2, m)) + np.where(y == 1, 1.0, -1.0) * np.array([[1.0], [0.5]])
    return X, y.reshape(1, -1)


def test_a_single_sigmoid_unit_is_logistic_regression(rng):
    X, Y = _blobs(rng)
    params, costs = course.L_layer_model(X, Y, [2, 1], learning_rate=1.0, num_iterations=1000)
    assert costs[-1] < costs[0]

    # scikit-learn's unpenalised logistic regression (rows as examples at its boundary)
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X.T, Y.ravel())
    np.testing.assert_allclose(params["W1"], sk.coef_, atol=1e-6)
    np.testing.assert_allclose(params["b1"].ravel(), sk.intercept_, atol=1e-6)
    AL, _ = course.L_model_forward(X, params)
    np.testing.assert_allclose(AL.ravel(), sk.predict_proba(X.T)[:, 1], atol=1e-7)

    # and the optimum's own condition: the gradient X (sigmoid(W X + b) - Y).T / m is zero
    m = X.shape[1]
    np.testing.assert_allclose((AL - Y) @ X.T / m, 0.0, atol=1e-7)
    np.testing.assert_allclose(np.mean(AL - Y), 0.0, atol=1e-7)

    # it learns: 87.5% of this draw is classified correctly (the Bayes rate of these
    # classes, means 2.24 standard deviations apart, is about 87%)
    accuracy = np.mean((AL > 0.5) == Y)
    assert accuracy == np.mean(sk.predict(X.T) == Y.ravel())
    assert accuracy >= 0.85


def test_a_linear_output_with_mse_is_least_squares(rng):
    m = 100
    X = rng.standard_normal((2, m))
    Y = np.array([[2.0, -3.0]]) @ X + 0.5 + 0.1 * rng.standard_normal((1, m))
    params = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}
    costs = []
    for _ in range(300):
        AL, caches = course.L_model_forward(X, params, output="none")
        costs.append(course.compute_cost(AL, Y, cost="mse"))
        grads = course.L_model_backward(AL, Y, caches, output="none", cost="mse")
        params = course.update_parameters(params, grads, 0.5)

    A = np.vstack([X, np.ones((1, m))]).T
    coef, *_ = np.linalg.lstsq(A, Y.ravel(), rcond=None)
    np.testing.assert_allclose(params["W1"].ravel(), coef[:2], atol=1e-8)
    np.testing.assert_allclose(params["b1"].ravel(), coef[2:], atol=1e-8)
    assert costs[-1] < 0.01 < costs[0]
    np.testing.assert_allclose(costs[-1], np.mean((A @ coef - Y.ravel()) ** 2) / 2, rtol=1e-8)


def test_a_hidden_layer_regression_fits(rng):
    # [1, 16, 1] relu -> linear on y = |x|: a kink one relu pair represents exactly
    X = np.linspace(-2, 2, 41).reshape(1, -1)
    Y = np.abs(X)
    params = {
        "W1": rng.standard_normal((16, 1)),
        "b1": 0.1 * rng.standard_normal((16, 1)),
        "W2": 0.1 * rng.standard_normal((1, 16)),
        "b2": np.zeros((1, 1)),
    }
    for _ in range(300):
        AL, caches = course.L_model_forward(X, params, output="none")
        grads = course.L_model_backward(AL, Y, caches, output="none", cost="mse")
        params = course.update_parameters(params, grads, 0.1)
    AL, _ = course.L_model_forward(X, params, output="none")
    assert course.compute_cost(AL, Y, cost="mse") < 1e-3
