"""Shape errors name the layer and both shapes; labels of shape (m,) are accepted."""

from __future__ import annotations

import numpy as np
import pytest

from deepstep import course, engine
from deepstep.engine.validation import check_labels, check_X


def _params(rng, *shapes):
    params = {}
    for l, (n, n_prev) in enumerate(shapes, start=1):
        params[f"W{l}"] = rng.standard_normal((n, n_prev))
        params[f"b{l}"] = np.zeros((n, 1))
    return params


def test_a_wrong_weight_shape_names_the_layer_and_both_shapes(rng):
    params = _params(rng, (21, 4), (7, 20), (1, 7))
    acts = engine.resolve_activations("relu", "sigmoid", 3)
    with pytest.raises(ValueError, match=r"^layer 2: W2 is \(7, 20\) but A1 has 21 rows"):
        engine.forward(rng.standard_normal((4, 3)), params, acts)
    with pytest.raises(ValueError, match=r"^layer 2: W2 is \(7, 20\) but A1 has 21 rows"):
        engine.predict_forward(rng.standard_normal((4, 3)), params, acts)


def test_a_transposed_X_is_named(rng):
    params = _params(rng, (3, 4), (1, 3))
    with pytest.raises(ValueError, match=r"layer 1: W1 is \(3, 4\) but X has 5 rows.*\(n_x, m\)"):
        course.L_model_forward(rng.standard_normal((5, 4)), params)


def test_a_wrong_bias_shape_is_named(rng):
    params = _params(rng, (3, 4), (1, 3))
    params["b2"] = np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"layer 2: b2 is \(3, 1\) but W2 is \(1, 3\)"):
        course.L_model_forward(rng.standard_normal((4, 2)), params)


def test_missing_parameters_are_named(rng):
    params = _params(rng, (3, 4), (1, 3))
    del params["b2"]
    params["c"] = np.zeros(1)
    with pytest.raises(ValueError, match="missing.*b2"):
        course.L_model_forward(rng.standard_normal((4, 2)), params)


def test_labels_of_shape_m_are_accepted(rng):
    params = _params(rng, (3, 4), (1, 3))
    X = rng.standard_normal((4, 6))
    y = np.array([0, 1, 1, 0, 1, 0])
    AL, caches = course.L_model_forward(X, params)
    assert course.compute_cost(AL, y) == course.compute_cost(AL, y.reshape(1, -1))
    flat = course.L_model_backward(AL, y, caches)
    row = course.L_model_backward(AL, y.reshape(1, -1), caches)
    column = course.L_model_backward(AL, y.reshape(-1, 1), caches)
    for k in row:
        np.testing.assert_array_equal(flat[k], row[k])
        np.testing.assert_array_equal(column[k], row[k])


def test_labels_with_another_m_are_named(rng):
    params = _params(rng, (3, 4), (1, 3))
    AL, caches = course.L_model_forward(rng.standard_normal((4, 6)), params)
    message = r"labels have 5 examples \(shape \(1, 5\)\) but X has m = 6 columns"
    with pytest.raises(ValueError, match=message):
        course.compute_cost(AL, np.zeros(5))
    with pytest.raises(ValueError, match=message):
        course.L_model_backward(AL, np.zeros((1, 5)), caches)
    with pytest.raises(ValueError, match=r"\(m,\) or \(n_y, m\)"):
        check_labels(np.zeros((1, 6, 1)), 6)


def test_check_X():
    assert check_X(np.zeros((3, 2)), 3).shape == (3, 2)
    with pytest.raises(ValueError, match="2-D.*reshape"):
        check_X(np.zeros(3))
    with pytest.raises(ValueError, match="X has 2 rows but the network expects n_x = 3"):
        check_X(np.zeros((2, 3)), 3)
    with pytest.raises(ValueError, match="numeric"):
        check_X(np.array([["a"]]))
