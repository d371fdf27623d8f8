"""The course's grader-side unit tests, reproduced: same inputs, same comparisons.

The 2021 notebooks ("Building your Deep Neural Network: Step by Step" and "Deep Neural Network
for Image Classification: Application") each ship a ``public_tests.py`` whose tests feed a
student's function fixed inputs and hand the result to ``test_utils.multiple_test`` (or, for
``compute_cost``, ``single_test``). Twelve functions are tested: the ten step-by-step ones and
``two_layer_model`` / ``L_layer_model``. Here each test draws the same inputs (the same seeds
and ``randn`` order, from a private ``RandomState``) and :func:`course_check` makes the three
comparisons of ``multiple_test``, recursively through dicts, tuples and lists:

- ``datatype_check``: each returned leaf is an instance of the expected leaf's type (so a cost
  must be an ndarray, as the course's ``np.squeeze``-d cost is, not a float);
- ``shape_check``: each leaf with a shape has the expected shape;
- ``equation_output_check``: each array equals the expected one to 6 decimals
  (``np.testing.assert_array_almost_equal``), anything else exactly.

``test_utils`` counts successes against the number of returned items in one revision and of
expected items in another, so a returned list with one cost too many (or a dict with an extra
key) fails there; :func:`course_check` asks for equal lengths and equal keys outright.
The inputs come from ``test_course_cases`` (which pins the printed values of the same cases).
"""

from __future__ import annotations

import numpy as np
import pytest

from deepstep import course
from test_course_cases import (
    INIT_2LAYER,
    INIT_DEEP,
    L_MODEL_BACKWARD,
    L_MODEL_FORWARD_2HIDDEN_A_PREV,
    L_MODEL_FORWARD_2HIDDEN_WB,
    L_MODEL_FORWARD_2HIDDEN_Z,
    LINEAR_ACTIVATION_BACKWARD,
    L_model_backward_case,
    L_model_forward_case_2hidden,
    _legacy,
    compute_cost_case,
    linear_activation_backward_case,
    linear_activation_forward_case,
    linear_backward_case,
    linear_forward_case,
    update_parameters_case,
)


def course_check(expected, got, where: str = "output") -> None:
    """Compare ``got`` with ``expected`` as test_utils' three checks do (module docstring)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), f"{where}: {type(got).__name__}, expected a dict"
        assert sorted(got) == sorted(expected), f"{where}: keys {sorted(got)}"
        for key in expected:
            course_check(expected[key], got[key], f"{where}[{key!r}]")
    elif isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)), f"{where}: {type(got).__name__}, expected a sequence"
        assert len(got) == len(expected), f"{where}: {len(got)} items, expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            course_check(e, g, f"{where}[{i}]")
    else:
        assert isinstance(got, type(expected)), (
            f"{where}: {type(got).__name__}, expected {type(expected).__name__}")
        if hasattr(expected, "shape"):
            assert got.shape == expected.shape, f"{where}: shape {got.shape} != {expected.shape}"
            np.testing.assert_array_almost_equal(got, expected, err_msg=where)
        else:
            assert got == expected, f"{where}: {got!r} != {expected!r}"


def _a(x) -> np.ndarray:
    return np.array(x, dtype=float)


# --- the checker fails where the course's does -------------------------------------------------


@pytest.mark.parametrize(
    "got",
    [
        ({"W1": _a([[1.0]])}, [0.69315968]),  # a float cost, not a 0-d array
        ({"W1": _a([[1.0]])}, [np.array(0.69315968), np.array(0.6931)]),  # one cost too many
        ({"W1": _a([[1.0]]), "b1": _a([[0.0]])}, [np.array(0.69315968)]),  # an extra key
        ({"W1": _a([[1.0, 0.0]])}, [np.array(0.69315968)]),  # a wrong shape
        ({"W1": _a([[1.000002]])}, [np.array(0.69315968)]),  # off in the 6th decimal
        ({"W1": _a([[1.0]])}, [np.array([0.69315968])]),  # a (1,) cost, not squeezed
    ],
    ids=["float-cost", "extra-cost", "extra-key", "shape", "value", "unsqueezed"],
)
def test_the_checker_rejects_what_the_course_rejects(got):
    expected = ({"W1": _a([[1.0]])}, [np.array(0.69315968)])
    with pytest.raises(AssertionError):
        course_check(expected, got)


def test_the_checker_accepts_the_course_tolerance():
    course_check(({"W1": _a([[1.0]])}, [np.array(0.69315968)]),
                 ({"W1": _a([[1.0000004]])}, [np.array(0.6931599)]))


# --- Step by Step: public_tests.py -------------------------------------------------------------


def _init_expected(dims, W1, W2) -> dict:
    return {"W1": _a(W1), "b1": np.zeros((dims[1], 1)), "W2": _a(W2),
            "b2": np.zeros((dims[2], 1))}


@pytest.mark.parametrize(("dims", "W1", "W2"), INIT_2LAYER)
def test_initialize_parameters(dims, W1, W2):
    # initialize_parameters_test(_1) and, in the later revision, initialize_parameters_test_2
    course_check(_init_expected(dims, W1, W2), course.initialize_parameters(*dims))


@pytest.mark.parametrize(("dims", "W1", "W2"), INIT_DEEP)
def test_initialize_parameters_deep(dims, W1, W2):
    course_check(_init_expected(dims, W1, W2), course.initialize_parameters_deep(dims))


def test_linear_forward():
    A_prev, W, b = linear_forward_case()
    expected = (_a([[3.26295337, -1.23429987]]), (A_prev, W, b))
    course_check(expected, course.linear_forward(A_prev, W, b))


@pytest.mark.parametrize(
    ("activation", "A"), [("sigmoid", [[0.96890023, 0.11013289]]), ("relu", [[3.43896131, 0.0]])]
)
def test_linear_activation_forward(activation, A):
    A_prev, W, b = linear_activation_forward_case()
    expected = (_a(A), ((A_prev, W, b), _a([[3.43896131, -2.08938436]])))
    course_check(expected, course.linear_activation_forward(A_prev, W, b, activation))


def test_L_model_forward():
    X, parameters = L_model_forward_case_2hidden()
    caches = [
        ((_a(A_prev), _a(W), _a(b)), _a(Z))
        for A_prev, (W, b), Z in zip(L_MODEL_FORWARD_2HIDDEN_A_PREV, L_MODEL_FORWARD_2HIDDEN_WB,
                                     L_MODEL_FORWARD_2HIDDEN_Z, strict=True)
    ]
    expected = (_a([[0.03921668, 0.70498921, 0.19734387, 0.04728177]]), caches)
    course_check(expected, course.L_model_forward(X, parameters))


def test_compute_cost():
    Y, AL = compute_cost_case()
    cost = course.compute_cost(AL, Y)
    # compute_cost_test runs single_test with one equation_output_check:
    assert np.allclose(np.array(0.27977656), cost)
    # and the course's own compute_cost (dnn_app_utils_v3, and the notebook's exercise) returns
    # np.squeeze of a (1, 1) np.dot product: a 0-d float64 ndarray, the notebook asserting
    # cost.shape == (). deepstep sums instead of taking dot products: equal to rounding.
    course_value = np.squeeze(
        1.0 / 3 * (-np.dot(Y, np.log(AL).T) - np.dot(1 - Y, np.log(1 - AL).T)))
    course_check(course_value, cost)
    assert cost.dtype == course_value.dtype == np.float64
    assert float(cost) == pytest.approx(float(course_value), rel=1e-15)


def test_linear_backward():
    dZ, linear_cache = linear_backward_case()
    expected = (
        _a([[-1.15171336, 0.06718465, -0.3204696, 2.09812712],
            [0.60345879, -3.72508701, 5.81700741, -3.84326836],
            [-0.4319552, -1.30987417, 1.72354705, 0.05070578],
            [-0.38981415, 0.60811244, -1.25938424, 1.47191593],
            [-2.52214926, 2.67882552, -0.67947465, 1.48119548]]),
        _a([[0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716],
            [0.85508818, 0.37530413, -0.59912655, 0.71278189, -0.58931808],
            [0.97913304, -0.24376494, -0.08839671, 0.55151192, -0.10290907]]),
        _a([[-0.14713786], [-0.11313155], [-0.13209101]]),
    )
    course_check(expected, course.linear_backward(dZ, linear_cache))


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_backward(activation):
    dA, cache = linear_activation_backward_case()
    expected = tuple(_a(x) for x in LINEAR_ACTIVATION_BACKWARD[activation])
    course_check(expected, course.linear_activation_backward(dA, cache, activation))


def test_L_model_backward():
    AL, Y, caches = L_model_backward_case()  # caches as a tuple, as public_tests passes them
    assert isinstance(caches, tuple)
    expected = {key: _a(value) for key, value in L_MODEL_BACKWARD.items()}
    course_check(expected, course.L_model_backward(AL, Y, caches))


def test_update_parameters():
    parameters, grads = update_parameters_case()
    expected = {
        "W1": _a([[-0.59562069, -0.09991781, -2.14584584, 1.82662008],
                  [-1.76569676, -0.80627147, 0.51115557, -1.18258802],
                  [-1.0535704, -0.86128581, 0.68284052, 2.20374577]]),
        "b1": _a([[-0.04659241], [-1.28888275], [0.53405496]]),
        "W2": _a([[-0.55569196, 0.0354055, 1.32964895]]),
        "b2": _a([[-0.84610769]]),
    }
    # multiple_test calls the function once per check with the same dicts (the first revision
    # does not copy them): the third call must still see the original parameters
    for _ in range(3):
        course_check(expected, course.update_parameters(parameters, grads, 0.1))


# --- Application: public_tests.py --------------------------------------------------------------


def two_layer_inputs():
    """two_layer_model_test: seed 1, X = randn(10, 10), then Y = randn(1, 10) (real, not 0/1)."""
    r = _legacy(1)
    X = r.randn(10, 10)
    Y = r.randn(1, 10)
    return X, Y


TWO_LAYER_2_ITERATIONS = {  # (10, 4, 1), learning rate 0.0075, 2 iterations
    "W1": _a([[0.01624965, -0.00610741, -0.00528734, -0.01072836, 0.008664,
               -0.02301103, 0.01745639, -0.00760949, 0.0031934, -0.00248971],
              [0.01462848, -0.02057904, -0.00326745, -0.00383625, 0.01138176,
               -0.01097596, -0.00171974, -0.00877601, 0.00043022, 0.00584423],
              [-0.01098272, 0.01148209, 0.00902102, 0.00500958, 0.00900571,
               -0.00683188, -0.00123491, -0.00937164, -0.00267157, 0.00532808],
              [-0.00693465, -0.00400047, -0.00684685, -0.00844447, -0.00670397,
               -0.00014731, -0.01113977, 0.00238846, 0.0165895, 0.00738212]]),
    "b1": _a([[1.10437111e-05], [1.78437869e-05], [3.74879549e-05], [-4.42988824e-05]]),
    "W2": _a([[-0.00200283, -0.00888593, -0.00751122, 0.01688162]]),
    "b2": _a([[-0.00689018]]),
}
TWO_LAYER_3_ITERATIONS = {  # learning rate 0.1, 3 iterations
    "W1": _a([[0.01640028, -0.00585699, -0.00542633, -0.01069332, 0.0089055,
               -0.02290418, 0.01765388, -0.00754616, 0.00326712, -0.00239159],
              [0.01476737, -0.02014461, -0.0040947, -0.0037457, 0.01221714,
               -0.01054049, -0.00164111, -0.00872507, 0.00058592, 0.00615077],
              [-0.01051621, 0.01216499, 0.009119, 0.0047126, 0.00894761,
               -0.00672568, -0.00134921, -0.0096428, -0.00253223, 0.00580758],
              [-0.00728552, -0.00461461, -0.00638113, -0.00831084, -0.00654136,
               -0.00053186, -0.01052771, 0.00320719, 0.01643914, 0.00667123]]),
    "b1": _a([[0.00027478], [0.00034477], [0.00076016], [-0.00084497]]),
    "W2": _a([[-0.00358725, -0.00911995, -0.00831979, 0.01615845]]),
    "b2": _a([[-0.13451354]]),
}


@pytest.mark.parametrize(
    ("learning_rate", "num_iterations", "parameters"),
    [(0.0075, 2, TWO_LAYER_2_ITERATIONS), (0.1, 3, TWO_LAYER_3_ITERATIONS)],
)
def test_two_layer_model(learning_rate, num_iterations, parameters, recwarn):
    X, Y = two_layer_inputs()
    got = course.two_layer_model(X, Y, (10, 4, 1), learning_rate, num_iterations)
    # one cost: iteration 0 only (the last iteration is printed by the course, not recorded)
    course_check((parameters, [np.array(0.69315968)]), got)
    assert not recwarn.list  # a 2- or 3-iteration run is never called a collapse


def L_layer_inputs():
    """L_layer_model_test: seed 1, X = randn(10, 10), fixed 0/1 labels."""
    X = _legacy(1).randn(10, 10)
    Y = np.array([1, 1, 1, 1, 0, 0, 0, 1, 1, 0]).reshape(1, 10)
    return X, Y


L_LAYER_2_ITERATIONS = {  # (10, 5, 6, 1), learning rate 0.0075, 2 iterations
    "W1": _a([[0.51384638, -0.19333098, -0.16705238, -0.33923196, 0.273477,
               -0.72775498, 0.55170785, -0.24077478, 0.10082452, -0.07882423],
              [0.46227786, -0.65153639, -0.10192959, -0.12150984, 0.35855025,
               -0.34787253, -0.05455001, -0.27767163, 0.01337835, 0.1843845],
              [-0.34790478, 0.36200264, 0.28511245, 0.15868454, 0.284931,
               -0.21645471, -0.03877896, -0.29584578, -0.08480802, 0.16760667],
              [-0.21835973, -0.12531366, -0.21720823, -0.26764975, -0.21214946,
               -0.00438229, -0.35316347, 0.07432144, 0.52474685, 0.23453653],
              [-0.06060968, -0.28061463, -0.23624839, 0.53526844, 0.01597194,
               -0.20136496, 0.06021639, 0.66414167, 0.03804666, 0.19528599]]),
    "b1": _a([[-2.16491028e-04], [1.50999130e-04], [8.71516045e-06], [5.57557615e-05],
              [-2.90746349e-05]]),
    "W2": _a([[0.13428358, -0.15747685, -0.51095667, -0.15624083, -0.09342034],
              [0.26226685, 0.3751336, 0.41644174, 0.12779375, 0.39573817],
              [-0.33726917, 0.56041154, 0.22939257, -0.1333337, 0.21851314],
              [-0.03377599, 0.50617255, 0.67960046, 0.97726521, -0.62458844],
              [-0.64581803, -0.22559264, 0.0715349, 0.39173682, 0.14112904],
              [-0.9043503, -0.13693179, 0.37026002, 0.10284282, 0.34076545]]),
    "b2": _a([[1.80215514e-07], [-1.07935097e-04], [1.63081605e-04], [-3.51202008e-05],
              [-7.40012619e-05], [-4.43814901e-05]]),
    "W3": _a([[-0.09079199, -0.08117381, 0.07667568, 0.16665535, 0.08029575, 0.04805811]]),
    "b3": _a([[0.0013201]]),
}
L_LAYER_3_ITERATIONS = {  # learning rate 0.02, 3 iterations
    "W1": _a([[0.51439065, -0.19296367, -0.16714033, -0.33902173, 0.27291558,
               -0.72759069, 0.55155832, -0.24095201, 0.10063293, -0.07872596],
              [0.46203186, -0.65172685, -0.10184775, -0.12169458, 0.35861847,
               -0.34804029, -0.05461748, -0.27787524, 0.01346693, 0.18463095],
              [-0.34748255, 0.36202977, 0.28512463, 0.1580327, 0.28509518,
               -0.21717447, -0.03853304, -0.29563725, -0.08509025, 0.16728901],
              [-0.21727997, -0.12486465, -0.21692552, -0.26875722, -0.21180188,
               -0.00550575, -0.35268367, 0.07489501, 0.52436384, 0.23418418],
              [-0.06045008, -0.28038304, -0.23617868, 0.53546925, 0.01569291,
               -0.20115358, 0.05975429, 0.66409149, 0.03819309, 0.1956102]]),
    "b1": _a([[-8.61228305e-04], [6.08187689e-04], [3.53075377e-05], [2.21291877e-04],
              [-1.13591429e-04]]),
    "W2": _a([[0.13441428, -0.15731437, -0.51097778, -0.15627102, -0.09342034],
              [0.2620349, 0.37492336, 0.4165605, 0.12801536, 0.39541677],
              [-0.33694339, 0.56075022, 0.22940292, -0.1334017, 0.21863717],
              [-0.03371679, 0.50644769, 0.67935577, 0.97680859, -0.62475679],
              [-0.64579072, -0.22555897, 0.07142896, 0.3914475, 0.14104814],
              [-0.90433399, -0.13691167, 0.37019673, 0.10266999, 0.34071712]]),
    "b2": _a([[1.18811550e-06], [-4.25510194e-04], [6.56178455e-04], [-1.42335482e-04],
              [-2.93618626e-04], [-1.75573157e-04]]),
    "W3": _a([[-0.09087434, -0.07882982, 0.07821609, 0.16442826, 0.0783229, 0.04648216]]),
    "b3": _a([[0.00525865]]),
}


@pytest.mark.parametrize(
    ("learning_rate", "num_iterations", "parameters"),
    [(0.0075, 2, L_LAYER_2_ITERATIONS), (0.02, 3, L_LAYER_3_ITERATIONS)],
)
def test_L_layer_model(learning_rate, num_iterations, parameters, recwarn):
    X, Y = L_layer_inputs()
    got = course.L_layer_model(X, Y, (10, 5, 6, 1), learning_rate, num_iterations)
    course_check((parameters, [np.array(0.70723944)]), got)
    assert not recwarn.list


# --- Application notebook: the first-iteration cells on the cat data ---------------------------


def test_two_layer_model_first_iteration_on_the_cat_data(cat_data):
    # The notebook's cell: two_layer_model(train_x, train_y, (12288, 7, 1), num_iterations=2),
    # then print("Cost after first iteration: " + str(costs[0])).
    X, Y, _, _ = cat_data
    parameters, costs = course.two_layer_model(X, Y, (12288, 7, 1), num_iterations=2)
    assert {k: v.shape for k, v in parameters.items()} == {
        "W1": (7, 12288), "b1": (7, 1), "W2": (1, 7), "b2": (1, 1)}
    course_check([np.array(0.69304974)], costs)
    assert float(costs[0]) == pytest.approx(0.693049735659989, abs=1e-15)


def test_L_layer_model_first_iteration_on_the_cat_data(cat_data):
    # The notebook's cell: L_layer_model(train_x, train_y, [12288, 20, 7, 5, 1],
    # num_iterations=1); the course prints 0.7717493284237686 for iteration 0.
    X, Y, _, _ = cat_data
    parameters, costs = course.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=1)
    assert {k: v.shape for k, v in parameters.items()} == {
        "W1": (20, 12288), "b1": (20, 1), "W2": (7, 20), "b2": (7, 1),
        "W3": (5, 7), "b3": (5, 1), "W4": (1, 5), "b4": (1, 1)}
    course_check([np.array(0.77174933)], costs)
    assert float(costs[0]) == pytest.approx(0.7717493284237686, abs=1e-15)
