"""The course's published test cases for "Building your Deep Neural Network: Step by Step".

Two generations of the notebook publish the same numbers:

- ``testCases_v4a.py`` with the expected outputs printed in the notebook (and, for
  ``L_model_forward_test_case``, in the earlier v5 notebook over ``testCases_v3.py``);
- the 2021 notebook's ``public_tests.py`` (run through ``test_utils.py``), which draws the same
  inputs from the same seeds and adds the expected caches and ``dA0`` / ``dW2`` / ``db2``; a
  later revision adds ``initialize_parameters_test_2`` and ``initialize_parameters_deep_test_2``.

Every input below is drawn exactly as those files draw it (``np.random.seed(s)`` followed by
``np.random.randn`` calls in the same order), but from a private ``RandomState(s)``, which
yields the same stream without touching NumPy's global RNG. Printed values carry 8 decimals,
so they are compared within half a unit in the 8th decimal.
"""

from __future__ import annotations

import numpy as np
import pytest

from deepstep import course, engine

# Half a unit in the 8th decimal (numpy prints 8), plus a hair for the decimal -> binary step.
PRINTED = {"rtol": 0.0, "atol": 5.0000001e-9}


def _legacy(seed: int) -> np.random.RandomState:
    """The stream ``np.random.seed(seed); np.random.randn(...)`` gives, kept private."""
    return np.random.RandomState(seed)


def assert_printed(actual, expected) -> None:
    """``actual`` is a float ndarray of ``expected``'s shape and matches it as printed."""
    expected = np.asarray(expected, dtype=float)
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == np.float64
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, **PRINTED)


def assert_linear_cache(cache, A_prev, W, b) -> None:
    """The course's linear cache: the tuple (A_prev, W, b) of the arrays passed in."""
    assert isinstance(cache, tuple)
    assert len(cache) == 3
    for got, want in zip(cache, (A_prev, W, b), strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.shape == want.shape


# --- inputs, drawn as testCases_v4a.py / public_tests.py draw them ------------------------------


def linear_forward_case():
    """testCases_v4a.linear_forward_test_case (= public_tests.linear_forward_test)."""
    r = _legacy(1)
    A = r.randn(3, 2)
    W = r.randn(1, 3)
    b = r.randn(1, 1)
    return A, W, b


def linear_activation_forward_case():
    """testCases_v4a.linear_activation_forward_test_case (= public_tests, seed 2)."""
    r = _legacy(2)
    A_prev = r.randn(3, 2)
    W = r.randn(1, 3)
    b = r.randn(1, 1)
    return A_prev, W, b


def L_model_forward_case():
    """testCases_v4a.L_model_forward_test_case: a 2-layer net, seed 1."""
    r = _legacy(1)
    X = r.randn(4, 2)
    W1 = r.randn(3, 4)
    b1 = r.randn(3, 1)
    W2 = r.randn(1, 3)
    b2 = r.randn(1, 1)
    return X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def L_model_forward_case_2hidden():
    """testCases_v4a.L_model_forward_test_case_2hidden (= public_tests.L_model_forward_test)."""
    r = _legacy(6)
    X = r.randn(5, 4)
    W1 = r.randn(4, 5)
    b1 = r.randn(4, 1)
    W2 = r.randn(3, 4)
    b2 = r.randn(3, 1)
    W3 = r.randn(1, 3)
    b3 = r.randn(1, 1)
    return X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}


def compute_cost_case():
    """testCases_v4a.compute_cost_test_case: returns (Y, AL) in that order, as the course does."""
    Y = np.asarray([[1, 1, 0]])
    AL = np.array([[0.8, 0.9, 0.4]])
    return Y, AL


def linear_backward_case():
    """testCases_v4a.linear_backward_test_case (= public_tests.linear_backward_test)."""
    r = _legacy(1)
    dZ = r.randn(3, 4)
    A = r.randn(5, 4)
    W = r.randn(3, 5)
    b = r.randn(3, 1)
    return dZ, (A, W, b)


def linear_activation_backward_case():
    """testCases_v4a.linear_activation_backward_test_case (= public_tests, seed 2)."""
    r = _legacy(2)
    dA = r.randn(1, 2)
    A = r.randn(3, 2)
    W = r.randn(1, 3)
    b = r.randn(1, 1)
    Z = r.randn(1, 2)
    return dA, ((A, W, b), Z)


def L_model_backward_case():
    """testCases_v4a.L_model_backward_test_case (= public_tests.L_model_backward_test).

    AL is a plain randn draw (1.7886 > 1 in the first column), unrelated to the cached Z[2]:
    the case exercises the textbook formulas, not a real forward pass.
    """
    r = _legacy(3)
    AL = r.randn(1, 2)
    Y = np.array([[1, 0]])
    A1 = r.randn(4, 2)
    W1 = r.randn(3, 4)
    b1 = r.randn(3, 1)
    Z1 = r.randn(3, 2)
    A2 = r.randn(3, 2)
    W2 = r.randn(1, 3)
    b2 = r.randn(1, 1)
    Z2 = r.randn(1, 2)
    caches = (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))
    return AL, Y, caches


def update_parameters_case():
    """testCases_v4a.update_parameters_test_case: parameters from seed 2, grads from seed 3."""
    r = _legacy(2)
    W1 = r.randn(3, 4)
    b1 = r.randn(3, 1)
    W2 = r.randn(1, 3)
    b2 = r.randn(1, 1)
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    r = _legacy(3)
    dW1 = r.randn(3, 4)
    db1 = r.randn(3, 1)
    dW2 = r.randn(1, 3)
    db2 = r.randn(1, 1)
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return parameters, grads


# --- initialisation ---------------------------------------------------------------------------

# (arguments, expected W1, expected W2); biases are zeros of shape (n[l], 1).
INIT_2LAYER = [
    pytest.param(
        # public_tests.initialize_parameters_test(_1); notebook expected output (both versions)
        (3, 2, 1),
        [[0.01624345, -0.00611756, -0.00528172], [-0.01072969, 0.00865408, -0.02301539]],
        [[0.01744812, -0.00761207]],
        id="3-2-1",
    ),
    pytest.param(
        # public_tests.initialize_parameters_test_2 (later revision of the 2021 tests)
        (4, 3, 2),
        [
            [0.01624345, -0.00611756, -0.00528172, -0.01072969],
            [0.00865408, -0.02301539, 0.01744812, -0.00761207],
            [0.00319039, -0.0024937, 0.01462108, -0.02060141],
        ],
        [[-0.00322417, -0.00384054, 0.01133769], [-0.01099891, -0.00172428, -0.00877858]],
        id="4-3-2",
    ),
]

INIT_DEEP = [
    pytest.param(
        # public_tests.initialize_parameters_deep_test(_1); notebook expected output
        [5, 4, 3],
        [
            [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
            [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
            [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
            [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068],
        ],
        [
            [-0.01185047, -0.0020565, 0.01486148, 0.00236716],
            [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
            [-0.00768836, -0.00230031, 0.00745056, 0.01976111],
        ],
        id="5-4-3",
    ),
    pytest.param(
        # public_tests.initialize_parameters_deep_test_2 (later revision of the 2021 tests)
        [4, 3, 2],
        [
            [0.01788628, 0.0043651, 0.00096497, -0.01863493],
            [-0.00277388, -0.00354759, -0.00082741, -0.00627001],
            [-0.00043818, -0.00477218, -0.01313865, 0.00884622],
        ],
        [[0.00881318, 0.01709573, 0.00050034], [-0.00404677, -0.0054536, -0.01546477]],
        id="4-3-2",
    ),
]


def _check_init(params, dims, W1, W2) -> None:
    assert isinstance(params, dict)
    assert sorted(params) == ["W1", "W2", "b1", "b2"]
    assert_printed(params["W1"], W1)
    assert_printed(params["W2"], W2)
    for layer in (1, 2):
        b = params[f"b{layer}"]
        assert isinstance(b, np.ndarray)
        assert b.shape == (dims[layer], 1)
        assert not b.any()


@pytest.mark.parametrize(("dims", "W1", "W2"), INIT_2LAYER)
def test_initialize_parameters_published(dims, W1, W2):
    _check_init(course.initialize_parameters(*dims), dims, W1, W2)


@pytest.mark.parametrize(("dims", "W1", "W2"), INIT_DEEP)
def test_initialize_parameters_deep_published(dims, W1, W2):
    _check_init(course.initialize_parameters_deep(dims), dims, W1, W2)


@pytest.mark.parametrize(
    ("init", "seed", "dims"),
    [
        (lambda d: course.initialize_parameters(*d), 1, [3, 2, 1]),
        (lambda d: course.initialize_parameters(*d), 1, [4, 3, 2]),
        (course.initialize_parameters_deep, 3, [5, 4, 3]),
        (course.initialize_parameters_deep, 3, [12288, 20, 7, 5, 1]),
    ],
    ids=["2layer-3-2-1", "2layer-4-3-2", "deep-5-4-3", "deep-app-dims"],
)
def test_initialize_bit_for_bit_and_global_rng_untouched(init, seed, dims):
    # The notebook's own code: np.random.seed(seed), then randn(n[l], n[l-1]) * 0.01 per layer.
    before = np.random.get_state()  # noqa: NPY002 - only read, to show it is left alone
    params = init(dims)
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]
    r = _legacy(seed)
    for layer in range(1, len(dims)):
        np.testing.assert_array_equal(
            params[f"W{layer}"], r.randn(dims[layer], dims[layer - 1]) * 0.01
        )
        np.testing.assert_array_equal(params[f"b{layer}"], np.zeros((dims[layer], 1)))


# --- forward ----------------------------------------------------------------------------------


def test_linear_forward_published():
    # testCases_v4a.linear_forward_test_case; notebook expected output and
    # public_tests.linear_forward_test: Z = [[ 3.26295337 -1.23429987]]
    A, W, b = linear_forward_case()
    out = course.linear_forward(A, W, b)
    assert isinstance(out, tuple)
    assert len(out) == 2
    Z, cache = out
    assert_printed(Z, [[3.26295337, -1.23429987]])
    assert_linear_cache(cache, A, W, b)


@pytest.mark.parametrize(
    ("activation", "expected_A"),
    [
        # testCases_v4a.linear_activation_forward_test_case; notebook expected output and
        # public_tests.linear_activation_forward_test
        ("sigmoid", [[0.96890023, 0.11013289]]),
        ("relu", [[3.43896131, 0.0]]),
    ],
)
def test_linear_activation_forward_published(activation, expected_A):
    A_prev, W, b = linear_activation_forward_case()
    out = course.linear_activation_forward(A_prev, W, b, activation)
    assert isinstance(out, tuple)
    assert len(out) == 2
    A, cache = out
    assert_printed(A, expected_A)
    # cache = (linear_cache, activation_cache = Z); public_tests: expected_Z
    assert isinstance(cache, tuple)
    assert len(cache) == 2
    linear_cache, Z = cache
    assert_linear_cache(linear_cache, A_prev, W, b)
    assert_printed(Z, [[3.43896131, -2.08938436]])


def test_sigmoid_and_relu_return_A_and_Z_as_cache():
    # The course's dnn_utils: sigmoid(Z) and relu(Z) return (A, cache = Z).
    _, ((_, _, _), Z) = linear_activation_backward_case()
    A, cache = course.sigmoid(Z)
    np.testing.assert_array_equal(A, 1 / (1 + np.exp(-Z)))
    assert cache is Z
    A, cache = course.relu(Z)
    np.testing.assert_array_equal(A, np.maximum(0, Z))
    assert cache is Z


def _check_forward_structure(X, params, AL, caches) -> None:
    L = len(params) // 2
    assert isinstance(caches, list)
    assert len(caches) == L
    A_prev = X
    for layer, cache in enumerate(caches, start=1):
        assert isinstance(cache, tuple)
        assert len(cache) == 2
        linear_cache, Z = cache
        assert_linear_cache(linear_cache, A_prev, params[f"W{layer}"], params[f"b{layer}"])
        assert Z.shape == (params[f"W{layer}"].shape[0], X.shape[1])
        A_prev = np.maximum(Z, 0)  # the next layer's input: every hidden layer is ReLU
    assert AL.shape == (1, X.shape[1])


def test_L_model_forward_2layer_published():
    # testCases_v3/v4a.L_model_forward_test_case; expected output of the v5 notebook
    # (AL = [[ 0.17007265  0.2524272 ]], "Length of caches list" = 2)
    X, params = L_model_forward_case()
    AL, caches = course.L_model_forward(X, params)
    assert_printed(AL, [[0.17007265, 0.2524272]])
    _check_forward_structure(X, params, AL, caches)


# public_tests.L_model_forward_test: expected_cache, as ((A_prev, W, b), Z) per layer.
# A_prev and W, b restate the seed-6 draws (and A[1], A[2] = relu(Z)); Z is the computed part.
L_MODEL_FORWARD_2HIDDEN_Z = [
    [
        [-5.23825714, 3.18040136, 0.4074501, -1.88612721],
        [-2.77358234, -0.56177316, 3.18141623, -0.99209432],
        [4.18500916, -1.78006909, -0.14502619, 2.72141638],
        [5.05850802, -1.25674082, -3.54566654, 3.82321852],
    ],
    [
        [2.2644603, 1.09971298, -2.90298027, 1.54036335],
        [6.33722569, -2.38116246, -4.11228806, 4.48582383],
        [10.37508342, -0.66591468, 1.63635185, 8.17870169],
    ],
    [[-3.19864676, 0.87117055, -1.40297864, -3.00319435]],
]
L_MODEL_FORWARD_2HIDDEN_A_PREV = [
    [
        [-0.31178367, 0.72900392, 0.21782079, -0.8990918],
        [-2.48678065, 0.91325152, 1.12706373, -1.51409323],
        [1.63929108, -0.4298936, 2.63128056, 0.60182225],
        [-0.33588161, 1.23773784, 0.11112817, 0.12915125],
        [0.07612761, -0.15512816, 0.63422534, 0.810655],
    ],
    [
        [0.0, 3.18040136, 0.4074501, 0.0],
        [0.0, 0.0, 3.18141623, 0.0],
        [4.18500916, 0.0, 0.0, 2.72141638],
        [5.05850802, 0.0, 0.0, 3.82321852],
    ],
    [
        [2.2644603, 1.09971298, 0.0, 1.54036335],
        [6.33722569, 0.0, 0.0, 4.48582383],
        [10.37508342, 0.0, 1.63635185, 8.17870169],
    ],
]
L_MODEL_FORWARD_2HIDDEN_WB = [
    (
        [
            [0.35480861, 1.81259031, -1.3564758, -0.46363197, 0.82465384],
            [-1.17643148, 1.56448966, 0.71270509, -0.1810066, 0.53419953],
            [-0.58661296, -1.48185327, 0.85724762, 0.94309899, 0.11444143],
            [-0.02195668, -2.12714455, -0.83440747, -0.46550831, 0.23371059],
        ],
        [[1.38503523], [-0.51962709], [-0.78015214], [0.95560959]],
    ),
    (
        [
            [-0.12673638, -1.36861282, 1.21848065, -0.85750144],
            [-0.56147088, -1.0335199, 0.35877096, 1.07368134],
            [-0.37550472, 0.39636757, -0.47144628, 2.33660781],
        ],
        [[1.50278553], [-0.59545972], [0.52834106]],
    ),
    ([[0.9398248, 0.42628539, -0.75815703]], [[-0.16236698]]),
]


def test_L_model_forward_2hidden_published():
    # testCases_v4a.L_model_forward_test_case_2hidden; notebook expected output (both versions)
    # AL = [[0.03921668 0.70498921 0.19734387 0.04728177]], "Length of caches list" = 3;
    # the caches are public_tests.L_model_forward_test's expected_cache.
    X, params = L_model_forward_case_2hidden()
    AL, caches = course.L_model_forward(X, params)
    assert_printed(AL, [[0.03921668, 0.70498921, 0.19734387, 0.04728177]])
    _check_forward_structure(X, params, AL, caches)
    for cache, A_prev, (W, b), Z in zip(
        caches,
        L_MODEL_FORWARD_2HIDDEN_A_PREV,
        L_MODEL_FORWARD_2HIDDEN_WB,
        L_MODEL_FORWARD_2HIDDEN_Z,
        strict=True,
    ):
        (got_A_prev, got_W, got_b), got_Z = cache
        assert_printed(got_A_prev, A_prev)
        assert_printed(got_W, W)
        assert_printed(got_b, b)
        assert_printed(got_Z, Z)


# --- cost -------------------------------------------------------------------------------------


def test_compute_cost_published():
    Y, AL = compute_cost_case()
    cost = course.compute_cost(AL, Y)
    # The course squeezes the cost to a 0-d ndarray (assert cost.shape == ()).
    assert isinstance(cost, np.ndarray)
    assert cost.shape == ()
    assert cost.dtype == np.float64
    # testCases_v4a.compute_cost_test_case; notebook expected output, printed in full
    assert float(cost) == 0.2797765635793422
    # public_tests.compute_cost_test: np.allclose(np.array(0.27977656), cost)
    assert np.allclose(np.array(0.27977656), cost)


# --- backward ---------------------------------------------------------------------------------


def test_linear_backward_published():
    # testCases_v4a.linear_backward_test_case; notebook expected output and
    # public_tests.linear_backward_test
    dZ, linear_cache = linear_backward_case()
    out = course.linear_backward(dZ, linear_cache)
    assert isinstance(out, tuple)
    assert len(out) == 3
    dA_prev, dW, db = out
    assert_printed(
        dA_prev,
        [
            [-1.15171336, 0.06718465, -0.3204696, 2.09812712],
            [0.60345879, -3.72508701, 5.81700741, -3.84326836],
            [-0.4319552, -1.30987417, 1.72354705, 0.05070578],
            [-0.38981415, 0.60811244, -1.25938424, 1.47191593],
            [-2.52214926, 2.67882552, -0.67947465, 1.48119548],
        ],
    )
    assert_printed(
        dW,
        [
            [0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716],
            [0.85508818, 0.37530413, -0.59912655, 0.71278189, -0.58931808],
            [0.97913304, -0.24376494, -0.08839671, 0.55151192, -0.10290907],
        ],
    )
    assert_printed(db, [[-0.14713786], [-0.11313155], [-0.13209101]])


LINEAR_ACTIVATION_BACKWARD = {
    # testCases_v4a.linear_activation_backward_test_case; notebook expected output and
    # public_tests.linear_activation_backward_test
    "sigmoid": (
        [[0.11017994, 0.01105339], [0.09466817, 0.00949723], [-0.05743092, -0.00576154]],
        [[0.10266786, 0.09778551, -0.01968084]],
        [[-0.05729622]],
    ),
    "relu": (
        [[0.44090989, 0.0], [0.37883606, 0.0], [-0.2298228, 0.0]],
        [[0.44513824, 0.37371418, -0.10478989]],
        [[-0.20837892]],
    ),
}


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_backward_published(activation):
    dA, cache = linear_activation_backward_case()
    out = course.linear_activation_backward(dA, cache, activation)
    assert isinstance(out, tuple)
    assert len(out) == 3
    for got, want in zip(out, LINEAR_ACTIVATION_BACKWARD[activation], strict=True):
        assert_printed(got, want)


@pytest.mark.parametrize(
    ("activation", "backward"),
    [("sigmoid", course.sigmoid_backward), ("relu", course.relu_backward)],
)
def test_activation_backward_takes_Z_as_cache(activation, backward):
    # The course's sigmoid_backward(dA, cache) and relu_backward(dA, cache) read Z from the
    # cache; fed the case's Z they give the dZ behind the published linear_activation_backward.
    dA, (linear_cache, Z) = linear_activation_backward_case()
    dZ = backward(dA, Z)
    assert dZ.shape == Z.shape
    if activation == "sigmoid":
        s = 1 / (1 + np.exp(-Z))
        np.testing.assert_allclose(dZ, dA * s * (1 - s), rtol=1e-15, atol=0)
    else:
        np.testing.assert_array_equal(dZ, np.where(Z > 0, dA, 0.0))
    for got, want in zip(
        course.linear_backward(dZ, linear_cache),
        LINEAR_ACTIVATION_BACKWARD[activation],
        strict=True,
    ):
        assert_printed(got, want)


# testCases_v4a.L_model_backward_test_case: the notebook's expected output (dW1, db1, dA1 in the
# v4a notebook; all six in the 2021 notebook) and public_tests.L_model_backward_test.
L_MODEL_BACKWARD = {
    "dA0": [
        [0.0, 0.52257901],
        [0.0, -0.3269206],
        [0.0, -0.32070404],
        [0.0, -0.74079187],
    ],
    "dA1": [[0.12913162, -0.44014127], [-0.14175655, 0.48317296], [0.01663708, -0.05670698]],
    "dW1": [
        [0.41010002, 0.07807203, 0.13798444, 0.10502167],
        [0.0, 0.0, 0.0, 0.0],
        [0.05283652, 0.01005865, 0.01777766, 0.0135308],
    ],
    "dW2": [[-0.39202432, -0.13325855, -0.04601089]],
    "db1": [[-0.22007063], [0.0], [-0.02835349]],
    "db2": [[0.15187861]],
}


def test_L_model_backward_case_reproduces_through_the_course_layers():
    # The notebook's L_model_backward written out over the course's own layer functions:
    # dAL = -(Y / AL - (1 - Y) / (1 - AL)), then LINEAR->SIGMOID and LINEAR->RELU backward.
    # This pins the inputs (seed 3, draw order) and the per-layer functions against the
    # published grads, independently of course.L_model_backward.
    AL, Y, caches = L_model_backward_case()
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    grads = {}
    grads["dA1"], grads["dW2"], grads["db2"] = course.linear_activation_backward(
        dAL, caches[1], "sigmoid"
    )
    grads["dA0"], grads["dW1"], grads["db1"] = course.linear_activation_backward(
        grads["dA1"], caches[0], "relu"
    )
    for key, want in L_MODEL_BACKWARD.items():
        assert_printed(grads[key], want)


def test_L_model_backward_structure():
    AL, Y, caches = L_model_backward_case()
    grads = course.L_model_backward(AL, Y, caches)
    assert isinstance(grads, dict)
    assert sorted(grads) == ["dA0", "dA1", "dW1", "dW2", "db1", "db2"]
    for layer, ((A_prev, W, b), _) in enumerate(caches, start=1):
        assert grads[f"dA{layer - 1}"].shape == A_prev.shape
        assert grads[f"dW{layer}"].shape == W.shape
        assert grads[f"db{layer}"].shape == b.shape


def test_L_model_backward_published():
    AL, Y, caches = L_model_backward_case()
    grads = course.L_model_backward(AL, Y, caches)
    for key, want in L_MODEL_BACKWARD.items():
        assert_printed(grads[key], want)


# --- update -----------------------------------------------------------------------------------


def test_update_parameters_published():
    # testCases_v4a.update_parameters_test_case with learning_rate 0.1; notebook expected
    # output and public_tests.update_parameters_test
    parameters, grads = update_parameters_case()
    new = course.update_parameters(parameters, grads, 0.1)
    assert isinstance(new, dict)
    assert sorted(new) == ["W1", "W2", "b1", "b2"]
    assert_printed(
        new["W1"],
        [
            [-0.59562069, -0.09991781, -2.14584584, 1.82662008],
            [-1.76569676, -0.80627147, 0.51115557, -1.18258802],
            [-1.0535704, -0.86128581, 0.68284052, 2.20374577],
        ],
    )
    assert_printed(new["b1"], [[-0.04659241], [-1.28888275], [0.53405496]])
    assert_printed(new["W2"], [[-0.55569196, 0.0354055, 1.32964895]])
    assert_printed(new["b2"], [[-0.84610769]])
    for key in parameters:
        np.testing.assert_array_equal(new[key], parameters[key] - 0.1 * grads["d" + key])


def test_update_parameters_leaves_its_inputs_alone():
    parameters, grads = update_parameters_case()
    params_before = {k: v.copy() for k, v in parameters.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    keys_before = list(parameters)
    new = course.update_parameters(parameters, grads, 0.1)
    assert new is not parameters
    assert list(parameters) == keys_before
    for key, value in parameters.items():
        np.testing.assert_array_equal(value, params_before[key])
        assert new[key] is not value
        assert not np.shares_memory(new[key], value)
    for key, value in grads.items():
        np.testing.assert_array_equal(value, grads_before[key])


# --- the course API is the engine -------------------------------------------------------------


def _random_net(rng: np.random.Generator, dims: list[int], m: int):
    X = rng.standard_normal((dims[0], m))
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1])) / np.sqrt(
            dims[layer - 1]
        )
        params[f"b{layer}"] = 0.1 * rng.standard_normal((dims[layer], 1))
    Y = (rng.random((1, m)) < 0.5).astype(int)
    return X, Y, params


def _nets(rng: np.random.Generator):
    X, params = L_model_forward_case_2hidden()
    yield X, np.array([[1, 0, 1, 0]]), params
    yield _random_net(rng, [6, 5, 4, 3, 1], 9)
    yield _random_net(rng, [3, 1], 5)


def _acts(params):
    return engine.resolve_activations("relu", "sigmoid", engine.n_layers(params))


def _assert_caches_identical(got, want) -> None:
    assert len(got) == len(want)
    for (lin_g, Z_g), (lin_w, Z_w) in zip(got, want, strict=True):
        for a, b in zip(lin_g, lin_w, strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(Z_g, Z_w)


def test_course_forward_is_engine_forward_bit_for_bit(rng):
    for X, _, params in _nets(rng):
        AL, caches = course.L_model_forward(X, params)
        AL_e, caches_e = engine.forward(X, params, _acts(params))
        np.testing.assert_array_equal(AL, AL_e)
        _assert_caches_identical(caches, caches_e)
        # and layer by layer through the course's own linear_activation_forward
        A = X
        L = len(params) // 2
        for layer in range(1, L + 1):
            act = "relu" if layer < L else "sigmoid"
            A, cache = course.linear_activation_forward(
                A, params[f"W{layer}"], params[f"b{layer}"], act
            )
            _assert_caches_identical([cache], [caches[layer - 1]])
        np.testing.assert_array_equal(A, AL)


def test_course_backward_matches_engine_backward(rng):
    loss = engine.get_loss("binary_cross_entropy")
    for X, Y, params in _nets(rng):
        AL, caches = course.L_model_forward(X, params)
        grads = course.L_model_backward(AL, Y, caches)
        textbook = engine.backward(AL, Y, caches, _acts(params), loss, fused=False, keep_dA=True)
        fused = engine.backward(AL, Y, caches, _acts(params), loss, fused=True, keep_dA=True)
        assert sorted(grads) == sorted(textbook) == sorted(fused)
        for key in grads:
            # the course keeps the textbook dAL path: exactly the engine's unfused backward
            np.testing.assert_array_equal(grads[key], textbook[key])
            # the fused dZ[L] = A[L] - Y agrees where both are defined
            np.testing.assert_allclose(grads[key], fused[key], rtol=1e-10, atol=1e-12)


def test_course_backward_matches_the_textbook_layers_on_a_real_forward_pass(rng):
    # Where AL really is sigmoid(Z[L]) in (0, 1), course.L_model_backward and the notebook's
    # loop over the course's linear_activation_backward agree.
    for X, Y, params in _nets(rng):
        AL, caches = course.L_model_forward(X, params)
        grads = course.L_model_backward(AL, Y, caches)
        L = len(caches)
        dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
        for layer in range(L, 0, -1):
            act = "sigmoid" if layer == L else "relu"
            dA, dW, db = course.linear_activation_backward(dA, caches[layer - 1], act)
            np.testing.assert_allclose(grads[f"dW{layer}"], dW, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(grads[f"db{layer}"], db, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(grads[f"dA{layer - 1}"], dA, rtol=1e-12, atol=1e-15)
