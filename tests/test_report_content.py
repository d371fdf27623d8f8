"""What the report computes from a network and a data set: per-class scores, ROC, regression
values in original units, mislabeled images with their attributions, the curves' axes."""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest

from deepstep.attributions import attribute
from deepstep.data import Dataset
from deepstep.engine.metrics import predict_classes
from deepstep.model import Network, regression_metrics
from deepstep.report import run as report_run
from deepstep.report.classification import ClassEvaluation, from_predictions
from deepstep.report.formatting import fmt
from deepstep.report.mislabeled import find_mislabeled


def _per_class_by_hand(cm: np.ndarray) -> np.ndarray:
    """(k, 3) precision, recall, F1 from the confusion matrix (0 where undefined)."""
    tp = np.diag(cm).astype(float)
    called, actual = cm.sum(axis=0), cm.sum(axis=1)
    p = np.divide(tp, called, out=np.zeros_like(tp), where=called > 0)
    r = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros_like(tp), where=p + r > 0)
    return np.stack([p, r, f], axis=1)


def test_per_class_scores_follow_the_confusion_matrix(rng):
    k, m = 4, 300
    y = rng.integers(0, k, m)
    pred = np.where(rng.random(m) < 0.6, y, rng.integers(0, k, m))
    pred[pred == 3] = 2  # class 3 is never predicted: its precision is 0, not an error
    ev = ClassEvaluation(list("abcd"), y, pred, np.ones(m))
    cm = ev.confusion()
    np.testing.assert_array_equal(
        cm, [[np.sum((y == i) & (pred == j)) for j in range(k)] for i in range(k)])
    rows = ev.per_class()
    assert [r[0] for r in rows] == list("abcd")
    np.testing.assert_allclose([r[1:4] for r in rows], _per_class_by_hand(cm))
    assert [r[4] for r in rows] == np.bincount(y, minlength=k).tolist()
    macro = ev.macro_average()
    np.testing.assert_allclose(macro[1:4], _per_class_by_hand(cm).mean(axis=0))
    assert macro[4] == m


def test_roc_auc_is_the_chance_a_positive_outranks_a_negative(rng):
    y = rng.integers(0, 2, 120)
    score = np.round(np.clip(0.3 * y + rng.random(120) * 0.8, 0, 1), 2)  # with ties
    ev = from_predictions(["no", "yes"], y, score[None, :])
    roc = ev.roc()
    pos, neg = score[y == 1], score[y == 0]
    diff = pos[:, None] - neg[None, :]
    expected = np.mean(diff > 0) + 0.5 * np.mean(diff == 0)  # Mann-Whitney
    assert roc.auc == pytest.approx(expected)
    assert roc.positive == "yes" and roc.fpr[0] == 0 and roc.tpr[-1] == 1
    assert np.all(np.diff(roc.fpr) >= 0) and np.all(np.diff(roc.tpr) >= 0)


def test_from_predictions_decides_as_the_network_does(rng):
    A = rng.random((1, 50))
    A[0, :3] = 0.5  # exactly 0.5 is classes[0], as predict_classes says
    ev = from_predictions(["a", "b"], np.zeros(50, int), A)
    np.testing.assert_array_equal(ev.y_pred, predict_classes(A).ravel())
    np.testing.assert_allclose(ev.probability, np.where(ev.y_pred == 1, A[0], 1 - A[0]))
    S = rng.dirichlet(np.ones(3), 40).T
    ev = from_predictions(["a", "b", "c"], np.zeros(40, int), S)
    np.testing.assert_array_equal(ev.y_pred, S.argmax(0))
    np.testing.assert_allclose(ev.probability, S.max(0))
    assert ev.positive_score is None and ev.roc() is None and ev.roc_missing() == ""


def _blobs(rng, m=160, n_x=4, k=2, shift=1.2):
    y = rng.integers(0, k, m)
    X = rng.normal(size=(n_x, m))
    X[0] += shift * (y - (k - 1) / 2)
    return X, y


def test_costs_history_x_axis_follows_the_batch_size(rng):
    X, y = _blobs(rng)
    net = Network([4, 3, 1], seed=0)
    net.fit(X, y, epochs=3, batch_size=None, learning_rate=0.05, l2=0.0, verbose=False)
    h = report_run.costs_history(net)
    assert h["iteration"] == [0, 1, 2] and "epoch" not in h  # the course's iteration i
    net = Network([4, 3, 1], seed=0)
    net.fit(X, y, epochs=3, batch_size=32, learning_rate=0.05, l2=0.0, verbose=False)
    h = report_run.costs_history(net)
    assert h["epoch"] == [1, 2, 3] and "iteration" not in h
    assert set(h) >= {"loss", "data_loss", "accuracy", "lr", "seconds"}


def test_binary_tabular_report(tmp_path, rng):
    X, y = _blobs(rng, m=200)
    net = Network([4, 6, 1], seed=0)
    net.fit(X[:, :150], y[:150], epochs=8, batch_size=32, learning_rate=0.01, l2=0.5,
            verbose=False)
    ds = Dataset(X[:, 150:], y[150:], ["no", "yes"], name="blobs")
    metrics = {"test": net.evaluate(ds.X, ds.y)}
    text = report_run.write_report(tmp_path / "r.html", net, ds, metrics, "blobs", []
                                   ).read_text()
    sections = re.findall(r'<section id="([^"]+)"', text)
    assert sections == ["metrics", "per-class", "confusion", "roc", "costs", "hyperparameters",
                        "shapes"]  # tabular: no mislabeled images
    ev = report_run.evaluate(net, ds)
    assert ev.data == "blobs (50 examples)"
    assert f"ROC AUC {fmt(ev.roc().auc)}" in text
    assert f"test accuracy {fmt(metrics['test']['accuracy'])}" in text
    assert "with λ = 0.5 and b = 32, the mini-batch size" in text
    assert "<th>epochs</th>" not in text and "<td>epochs</td>" in text  # fit settings shown


def test_regression_report_is_in_original_units(tmp_path, rng):
    X = rng.normal(size=(3, 240))
    y = 1000 + 300 * X[0] - 100 * X[1] + rng.normal(0, 30, 240)
    net = Network([3, 8, 1], seed=0)
    net.fit(X[:, :200], y[:200], epochs=30, learning_rate=0.01, l2=0.0, verbose=False)
    ds = Dataset(X[:, 200:], y[200:], None, name="lines")
    ev = report_run.evaluate(net, ds)
    assert abs(ev.y_pred.mean() - 1000) < 150  # not standardised units near 0
    met = regression_metrics(y[None, 200:], net.predict(ds.X))
    assert ev.metrics() == pytest.approx(met)
    text = report_run.write_report(tmp_path / "r.html", net, ds, {"test": net.evaluate(
        ds.X, ds.y)}, "lines", []).read_text()
    assert 'id="regression-plots"' in text and 'id="confusion-matrix"' not in text
    assert f"R² {fmt(met['r2'])}, MAE {fmt(met['mae'])}, RMSE {fmt(met['rmse'])}" in text
    assert "accuracy" not in text.split("<h2>Metrics</h2>")[1].split("</section>")[0]


def _image_data(rng, m=120, side=6):
    """Grey images: class 1 has a bright top half, with enough noise for some mistakes."""
    y = rng.integers(0, 2, m)
    img = rng.normal(100, 60, (m, side, side, 1))
    img[y == 1, : side // 2] += 50
    X = np.clip(img, 0, 255).astype(np.uint8).reshape(m, -1).T
    return X, y, (side, side, 1)


def test_mislabeled_images_come_with_their_attributions(rng):
    X, y, shape = _image_data(rng)
    net = Network([X.shape[0], 4, 1], seed=0, dtype="float64")
    net.fit(X, y, epochs=5, learning_rate=0.01, l2=0.0, verbose=False)
    ev = from_predictions(["dark", "bright"], y, net.predict_proba(X))
    wrong = np.flatnonzero(ev.y_pred != y)
    assert wrong.size > 4
    mis = find_mislabeled(net, X, shape, ev, max_images=3, steps=16)
    assert mis.total == wrong.size and mis.m == 120 and len(mis.true) == 3
    assert np.all(np.diff(mis.probability) <= 0)  # the most confident mistakes first
    shown = wrong[np.argsort(-ev.probability[wrong], kind="stable")[:3]]
    np.testing.assert_array_equal(mis.images, X[:, shown].T.reshape(3, *shape))
    expected = attribute(net, X[:, shown], "integrated_gradients", steps=16)
    np.testing.assert_allclose(mis.attributions, expected.attributions)
    assert list(expected.predicted) == [1 - y[i] for i in shown]  # explains the prediction
    assert mis.predicted == [["dark", "bright"][1 - y[i]] for i in shown]
    plain = find_mislabeled(net, X, shape, ev, max_images=3, steps=0)
    assert plain.attributions is None and plain.steps == 0
    assert find_mislabeled(net, X, None, ev) is None  # tabular: nothing to show


def test_unmatched_classes_give_no_classifier_sections(tmp_path, rng):
    X, y = _blobs(rng)
    net = Network([4, 3, 1], seed=0)
    net.fit(X, np.where(y == 1, "yes", "no"), epochs=2, learning_rate=0.01, verbose=False)
    ds = Dataset(X, y, ["no", "yes"], name="blobs")  # y: indices into the model's classes
    ev = report_run.evaluate(net, ds)
    assert ev.classes == ["no", "yes"] and ev.y_true.tolist() == y.tolist()
    three = Dataset(X, y, ["a", "b", "c"], name="blobs")
    assert report_run.evaluate(net, three) is None  # never a wrong name on a class
    assert report_run.evaluate(net, Dataset(X, X[0], None)) is None  # values for a classifier


def test_cat_report_explains_the_mislabeled_images(cat_dir, tmp_path):
    with h5py.File(cat_dir / "train_catvnoncat.h5", "r") as f:
        X = f["train_set_x"][:].reshape(209, -1).T
        y = f["train_set_y"][:].astype(np.int64)
    with h5py.File(cat_dir / "test_catvnoncat.h5", "r") as f:
        Xt = f["test_set_x"][:].reshape(50, -1).T
        yt = f["test_set_y"][:].astype(np.int64)
    net = Network([12288, 7, 1], seed=1, dtype="float64")
    net.fit(X, y, epochs=300, batch_size=None, optimizer="gd", learning_rate=0.0075,
            l2=0.0, preprocess="scale255", verbose=False)
    test = Dataset(Xt, yt, ["non-cat", "cat"], (64, 64, 3), name="test_catvnoncat.h5")
    metrics = {"test": net.evaluate(Xt, yt)}
    out = report_run.write_report(tmp_path / "r.html", net, test, metrics, "cats", [])
    text = out.read_text()
    wrong = int(round((1 - metrics["test"]["accuracy"]) * 50))
    assert wrong > 0
    assert f"On test_catvnoncat.h5 (50 examples): {wrong} mislabeled example" in text
    assert "integrated gradients map for the predicted class (32 steps from a black image" in text
    assert "Black pixels get none" in text
    assert 'id="mislabeled-images"' in text and 'id="roc-curve"' in text
    assert "300 points: full-batch gradient descent, one per iteration" in text
