"""Attributions: input gradients against central differences, completeness of integrated
gradients, the linear model's exact answer, SmoothGrad's limit, targets and errors.

Networks are made by ``Network.fit`` (a few epochs on random data), so the task, classes,
preprocessing and target scaling are whatever the real training path records.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

import deepstep.attributions as attributions
from deepstep import Network, engine
from deepstep.attributions import METHODS, attribute
from deepstep.engine import ACTIVATIONS
from deepstep.gradcheck import relative_error

OUTPUTS = {"sigmoid": 1, "softmax": 3, "linear": 2}
PREPROCESS = ("none", "standardize", "scale255")
BINARY = np.array(["no", "yes"])
MULTI = np.array([2, 5, 7])


def _data(output: str, preprocess: str, rng, m: int = 60, n_x: int = 4):
    """Raw inputs (pixel-like 0..255 for scale255, shifted and scaled otherwise) and labels."""
    if preprocess == "scale255":
        X = rng.uniform(0, 255, size=(n_x, m))
    else:
        X = rng.normal(3.0, 2.0, size=(n_x, m)) * np.arange(1, n_x + 1).reshape(-1, 1)
    s = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    if output == "sigmoid":
        y = BINARY[(s[0] - s[1] > 0).astype(int)]
    elif output == "softmax":
        y = MULTI[np.argmax(s[:3], axis=0)]
    else:
        y = np.vstack([10 * s[0] + s[1] ** 2 + 50, -3 * s[2]])
    return X, y


def _net(hidden: str, output: str, preprocess: str, rng, dims=(5, 3), **fit):
    X, y = _data(output, preprocess, rng)
    net = Network([X.shape[0], *dims, OUTPUTS[output]], hidden=hidden, output=output,
                  dtype="float64", seed=int(rng.integers(1000)))
    options = {"epochs": 3, "learning_rate": 0.01, "batch_size": 16, "l2": 0.0, **fit}
    with warnings.catch_warnings():  # any trained weights will do, even a collapsed network's
        warnings.filterwarnings("ignore", "training collapsed", RuntimeWarning)
        net.fit(X, y, preprocess=preprocess, verbose=False, **options)
    return net, X


@pytest.mark.parametrize("keep_dA", [False, True])
def test_backward_is_backward_from_the_losss_dZL(keep_dA, rng):
    params = engine.initialize([4, 5, 3, 3], "he", rng=rng)
    acts = engine.resolve_activations("tanh", "softmax", 3)
    X, Y = rng.standard_normal((4, 6)), np.eye(3)[:, rng.integers(0, 3, 6)]
    AL, caches = engine.forward(X, params, acts)
    grads = engine.backward(AL, Y, caches, acts, engine.get_loss("cce"), l2=0.3, need_dA0=True,
                            keep_dA=keep_dA)
    again = engine.backward_from(AL - Y, caches, acts, l2=0.3, need_dA0=True, keep_dA=keep_dA)
    assert grads.keys() == again.keys()
    for k in grads:
        np.testing.assert_array_equal(grads[k], again[k], err_msg=k)


def _scale(net, X) -> np.ndarray:
    """A per-feature step that is small next to each raw feature's spread."""
    return 1e-6 * np.maximum(X.std(axis=1, keepdims=True), 1.0)


def _central_differences(net, X, target, h):
    g = np.zeros_like(X)
    for i in range(X.shape[0]):
        E = np.zeros_like(X)
        E[i] = h[i]
        up = attribute(net, X + E, "saliency", target=target).score
        down = attribute(net, X - E, "saliency", target=target).score
        g[i] = (up - down) / (2 * h[i])
    return g


@pytest.mark.parametrize("preprocess", PREPROCESS)
@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("hidden", list(ACTIVATIONS))
def test_input_gradient_matches_central_differences(hidden, output, preprocess, rng):
    net, X = _net(hidden, output, preprocess, rng)
    X = X[:, :5]
    if output == "linear":
        target = np.arange(5) % 2  # both outputs of the regression network
    else:  # fixed, so a flip of the prediction cannot move the score
        target = attribute(net, X, "saliency").target
    g = attribute(net, X, "saliency", target=target).attributions
    g_num = _central_differences(net, X, target, _scale(net, X))
    assert g.shape == X.shape
    assert np.linalg.norm(g) > 0
    assert relative_error(g, g_num) < 1e-7


def test_sigmoid_scores_are_the_log_odds_of_each_class(rng):
    net, X = _net("tanh", "sigmoid", "standardize", rng)
    p1 = net.predict_proba(X[:, :8])[0]
    yes = attribute(net, X[:, :8], "saliency", target="yes")
    no = attribute(net, X[:, :8], "saliency", target="no")
    np.testing.assert_allclose(yes.score, np.log(p1 / (1 - p1)), rtol=1e-10)
    np.testing.assert_allclose(no.score, -yes.score, rtol=0)
    np.testing.assert_allclose(no.attributions, -yes.attributions, rtol=0)


def test_softmax_scores_differ_by_the_log_probability_ratios(rng):
    net, X = _net("relu", "softmax", "standardize", rng)
    P = net.predict_proba(X[:, :8])
    s = {c: attribute(net, X[:, :8], "saliency", target=c).score for c in MULTI}
    np.testing.assert_allclose(s[5] - s[2], np.log(P[1] / P[0]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s[7] - s[5], np.log(P[2] / P[1]), rtol=1e-9, atol=1e-12)


def test_regression_score_is_the_prediction(rng):
    net, X = _net("tanh", "linear", "standardize", rng)
    pred = net.predict(X[:, :8])
    for j in (0, 1):
        ex = attribute(net, X[:, :8], "saliency", target=j)
        np.testing.assert_allclose(ex.score, pred[j], rtol=1e-12)
        np.testing.assert_allclose(ex.predicted, pred[j], rtol=1e-12)
        assert np.all(ex.target == j) and np.all(np.isnan(ex.probability))


def test_default_target_is_the_predicted_class(rng):
    net, X = _net("relu", "softmax", "none", rng)
    ex = attribute(net, X[:, :10], "saliency")
    np.testing.assert_array_equal(ex.target, net.predict(X[:, :10]).ravel())
    np.testing.assert_array_equal(ex.predicted, ex.target)
    P = net.predict_proba(X[:, :10])
    np.testing.assert_allclose(ex.probability, P.max(axis=0))


@pytest.mark.parametrize(("hidden", "output", "preprocess"), [
    ("relu", "sigmoid", "standardize"), ("tanh", "sigmoid", "none"),
    ("leaky_relu", "sigmoid", "scale255"), ("relu", "softmax", "none"),
    ("tanh", "softmax", "standardize"), ("leaky_relu", "softmax", "standardize"),
    ("relu", "linear", "standardize"), ("tanh", "linear", "scale255"),
    ("leaky_relu", "linear", "none"),
])
def test_integrated_gradients_are_complete_at_256_steps(hidden, output, preprocess, rng):
    """sum_i attributions[i] = f(x) - f(x') within 1% at 256 steps, over 12 examples.

    Per example for tanh, where f is smooth along the path and the midpoint rule's error is
    O(1 / steps^2). For (leaky) ReLU the gradient jumps where the path crosses a unit's kink,
    so the error is O(1 / steps) times the jumps; an example whose score barely changes
    (|f(x) - f(x')| much smaller than sum_i |attributions[i]|) can miss 1% on its own, so
    those networks are held to 1% in norm over the examples: ||gap|| < 0.01 ||f(x) - f(x')||.
    """
    net, X = _net(hidden, output, preprocess, rng, dims=(16, 8), epochs=10)
    X = X[:, :12]
    target = 1 if output == "linear" else None
    ex = attribute(net, X, target=target, steps=256)
    change = ex.score - ex.baseline_score
    gap = ex.attributions.sum(axis=0) - change
    np.testing.assert_allclose(gap, ex.completeness_gap, rtol=0, atol=1e-12)
    assert np.linalg.norm(change) > 0.1  # the scores move along the path: a real test
    assert np.linalg.norm(gap) < 0.01 * np.linalg.norm(change)
    if hidden == "tanh":
        assert np.all(np.abs(gap) < 0.01 * np.abs(change))


def test_integrated_gradients_converge_as_steps_grow(rng):
    net, X = _net("relu", "softmax", "standardize", rng, dims=(16, 8), epochs=10)
    gaps = [np.abs(attribute(net, X[:, :12], steps=s).completeness_gap).max()
            for s in (8, 64, 512)]
    assert gaps[2] < gaps[1] < gaps[0]


@pytest.mark.parametrize("preprocess", PREPROCESS)
def test_linear_model_attributions_are_weight_times_displacement(preprocess, rng):
    X, y = _data("linear", preprocess, rng)
    net = Network([4, 2], output="linear", dtype="float64", seed=3)
    net.fit(X, y, epochs=3, learning_rate=0.01, l2=0.0, preprocess=preprocess, verbose=False)
    W = net.params["W1"][1]  # the second output
    per_unit = {"none": 1.0, "scale255": 1 / 255}.get(preprocess)
    if per_unit is None:
        per_unit = 1 / net.preprocessor.std_.ravel()
    std = getattr(net, "target_std_", None)
    w = W * per_unit * (1.0 if std is None else np.ravel(std)[1])  # d prediction / d raw x
    baseline = rng.normal(size=4)
    ig = attribute(net, X[:, :7], target=1, baseline=baseline, steps=5).attributions
    np.testing.assert_allclose(ig, w[:, None] * (X[:, :7] - baseline[:, None]), rtol=1e-13)
    sal = net.attributions(X[:, :7], "saliency", target=1)
    np.testing.assert_allclose(sal, np.repeat(w[:, None], 7, axis=1), rtol=1e-14)


def test_default_baseline_is_the_training_mean_or_zeros(rng):
    net, X = _net("tanh", "sigmoid", "standardize", rng)
    mean = net.preprocessor.mean_
    explicit = attribute(net, X[:, :4], baseline=mean).attributions
    np.testing.assert_array_equal(attribute(net, X[:, :4]).attributions, explicit)
    net, X = _net("tanh", "sigmoid", "scale255", rng)
    np.testing.assert_array_equal(attribute(net, X[:, :4]).attributions,
                                  attribute(net, X[:, :4], baseline=0.0).attributions)


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_smoothgrad_without_noise_is_saliency(output, rng):
    net, X = _net("relu", output, "standardize", rng)
    target = 0 if output == "linear" else None
    sal = attribute(net, X[:, :6], "saliency", target=target).attributions
    smooth = attribute(net, X[:, :6], "smoothgrad", target=target, noise=0.0,
                       n_samples=7, seed=1).attributions
    np.testing.assert_allclose(smooth, sal, rtol=1e-13, atol=0)


def test_smoothgrad_is_seeded_and_averages_noise(rng):
    net, X = _net("tanh", "softmax", "standardize", rng)
    a = net.attributions(X[:, :3], "smoothgrad", seed=7, n_samples=20)
    np.testing.assert_array_equal(a, net.attributions(X[:, :3], "smoothgrad", seed=7,
                                                      n_samples=20))
    b = net.attributions(X[:, :3], "smoothgrad", seed=8, n_samples=20)
    assert not np.array_equal(a, b)
    sal = net.attributions(X[:, :3], "saliency")
    assert not np.allclose(a, sal)


@pytest.mark.parametrize("method", METHODS)
def test_chunking_does_not_change_the_result(method, rng, monkeypatch):
    net, X = _net("relu", "softmax", "standardize", rng)
    whole = attribute(net, X[:, :5], method, seed=0, steps=16, n_samples=6).attributions
    monkeypatch.setattr(attributions, "CHUNK_ELEMENTS", 7 * 2 * (4 + 5 + 3 + 3))  # 7 columns
    chunked = attribute(net, X[:, :5], method, seed=0, steps=16, n_samples=6).attributions
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("m", [1, 9])
def test_shape_is_that_of_X(method, m, rng):
    net, X = _net("relu", "sigmoid", "scale255", rng)
    a = net.attributions(X[:, :m].astype(np.uint8), method, steps=4, seed=0, n_samples=3)
    assert a.shape == (4, m) and a.dtype == np.float64 and np.all(np.isfinite(a))


def test_per_example_targets_match_one_at_a_time(rng):
    net, X = _net("relu", "softmax", "standardize", rng)
    labels = np.array([7, 2, 5, 7])
    together = net.attributions(X[:, :4], target=labels, steps=8)
    for i, label in enumerate(labels):
        alone = net.attributions(X[:, i:i + 1], target=label, steps=8)
        np.testing.assert_allclose(together[:, i:i + 1], alone, rtol=1e-12)


def test_unknown_target_names_the_known_classes(rng):
    net, X = _net("relu", "softmax", "none", rng)
    with pytest.raises(ValueError, match=r"target 3 is not one of .*\[2, 5, 7\]"):
        net.attributions(X[:, :2], target=3)
    with pytest.raises(ValueError, match=r"target 'cat' is not one of"):
        net.attributions(X[:, :2], target=[2, "cat"])
    with pytest.raises(ValueError, match=r"one per example \(2\)"):
        net.attributions(X[:, :2], target=[2, 5, 7])


def test_bad_arguments_are_named(rng):
    net, X = _net("relu", "linear", "none", rng)
    with pytest.raises(ValueError, match="2 outputs; pass target=j"):
        net.attributions(X[:, :2])
    with pytest.raises(ValueError, match="output index 0..1"):
        net.attributions(X[:, :2], target=2)
    with pytest.raises(ValueError, match="unknown attribution method 'lime'"):
        net.attributions(X[:, :2], "lime", target=0)
    with pytest.raises(ValueError, match="baseline is used by integrated_gradients only"):
        net.attributions(X[:, :2], "saliency", target=0, baseline=0.0)
    with pytest.raises(ValueError, match=r"baseline must be .* got shape \(3,\)"):
        net.attributions(X[:, :2], target=0, baseline=np.zeros(3))
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        net.attributions(X[:, :2], target=0, steps=0)
    with pytest.raises(ValueError, match="noise must be"):
        net.attributions(X[:, :2], "smoothgrad", target=0, noise=-1.0)
    with pytest.raises(ValueError, match="network expects n_x = 4"):
        net.attributions(X[:3, :2], target=0)


def test_unknown_preprocessing_is_refused(rng):
    net, X = _net("relu", "sigmoid", "none", rng)
    net.preprocessor = object()
    with pytest.raises(ValueError, match="derivative of the input preprocessing"):
        net.attributions(X[:, :2])


def test_cat_network_integrated_gradients(cat_dir, record_property):
    """The course's [12288, 20, 7, 5, 1] network, trained briefly on the cat images.

    The time of integrated gradients at 64 steps on one image is recorded as a test property
    (``--junitxml``), never asserted. Completeness is checked over the 50 test images at 256
    steps, in norm (see ``test_integrated_gradients_are_complete_at_256_steps``: a ReLU
    network's per-example error is first order in 1 / steps).
    """
    from deepstep.data import load

    train = load(cat_dir / "train_catvnoncat.h5")
    test = load(cat_dir / "test_catvnoncat.h5")
    net = Network([12288, 20, 7, 5, 1], seed=1)
    net.fit(train.X, train.y, epochs=8, batch_size=32, preprocess="standardize", verbose=False)
    start = time.perf_counter()
    one = attribute(net, test.X[:, :1], steps=64)
    record_property("integrated_gradients_64_steps_seconds", time.perf_counter() - start)
    assert one.attributions.shape == (12288, 1)
    ex = attribute(net, test.X, steps=256)
    change = ex.score - ex.baseline_score
    assert np.linalg.norm(ex.completeness_gap) < 0.01 * np.linalg.norm(change)
    np.testing.assert_array_equal(ex.predicted, net.predict(test.X).ravel())
