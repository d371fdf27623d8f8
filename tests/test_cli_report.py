"""``deepstep report`` writes a new file, never over an existing one without --overwrite."""

from __future__ import annotations

import re

import pytest

from cli_helpers import model_file, ok, run


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    out = tmp_path_factory.mktemp("iris") / "20250101-120000-ab12"
    ok(["train", "--data", "iris", "--layers", "6", "--epochs", "5", "--out", out])
    return model_file(out)


def test_report_is_a_new_file_beside_the_model_titled_with_data_and_run(iris):
    run_report = (iris.parent / "report.html").read_bytes()
    code, out, err = run(["report", "--model", iris, "--data", "iris"])
    assert code == 0, err
    new = iris.parent / f"report-{iris.stem}.html"
    assert out.strip() == f"report written to {new}"
    html = new.read_text()
    title = re.search(r"<title>(.*?)</title>", html, re.S)[1]
    assert "iris" in title and "20250101-120000-ab12" in title and "model." not in title
    assert "iris (this report)" in html
    assert (iris.parent / "report.html").read_bytes() == run_report  # the run's own report


def test_an_existing_report_is_kept_unless_overwrite(iris, tmp_path):
    target = tmp_path / "r.html"
    target.write_text("mine")
    code, out, err = run(["report", "--model", iris, "--data", "iris", "--out", target])
    assert code == 2 and out == "" and target.read_text() == "mine"
    assert err.strip() == (f"error: --out {target} exists; pass --overwrite to replace it, or "
                           "choose another file")
    ok(["report", "--model", iris, "--data", "iris", "--out", target, "--overwrite"])
    assert "<html" in target.read_text().lower()


def test_evaluate_labels_in_the_models_classes(iris, tmp_path):
    out = ok(["evaluate", "--model", iris, "--data", "iris", "--json", tmp_path / "m.json"])
    assert re.search(r"^iris\s+150\s+[\d.]+\s+0\.\d+$", out, re.M)


@pytest.mark.parametrize("labels", [[3, 8], ["no", "yes"], [False, True]])
def test_models_fit_in_python_on_any_labels(labels, tmp_path):
    """evaluate and report score a model fit on {3, 8}, strings or booleans against a CSV
    labelled the same way, exactly as Network.evaluate does on the labels as given."""
    import numpy as np

    from cli_helpers import separable_rows, write_csv
    from deepstep import Network

    X, y = separable_rows(labels, m=120)
    net = Network([3, 4, 1], seed=0)
    net.fit(X.T, np.array(y), epochs=40, learning_rate=0.05, verbose=False)
    model = net.save(tmp_path / "m.safetensors")
    data = write_csv(tmp_path / "d.csv", ["a", "b", "c", "label"],
                     [[*x, t] for x, t in zip(X, y, strict=True)])
    expected = net.evaluate(X.T, np.array(y))
    out = ok(["evaluate", "--model", model, "--data", data])
    assert re.search(rf"^d\.csv\s+120\s+{expected['loss']:.4f}\s+{expected['accuracy']:.4f}$",
                     out, re.M), out
    ok(["report", "--model", model, "--data", data])
    html = (tmp_path / "report-m.html").read_text()
    assert 'id="confusion-matrix"' in html


@pytest.mark.browser
def test_report_renders_in_chromium_with_its_title(iris, tmp_path):
    from PIL import Image

    from test_report_browser import find_chromium, run_chromium

    exe = find_chromium()
    out = tmp_path / "r.html"
    ok(["report", "--model", iris, "--data", "iris", "--out", out])
    dom = run_chromium(exe, tmp_path, "--dump-dom", out.as_uri()).stdout
    title = "deepstep: iris, model of 20250101-120000-ab12 (trained on iris)"
    assert re.search(r"<title>(.*?)</title>", dom)[1] == title
    assert re.search(r"<h1[^>]*>(.*?)</h1>", dom, re.S)[1].strip() == title
    shot = tmp_path / "shot.png"
    run_chromium(exe, tmp_path, f"--screenshot={shot}", "--window-size=1200,1800", out.as_uri())
    import numpy as np

    px = np.asarray(Image.open(shot).convert("RGB"))
    assert (px < 235).any(axis=-1).mean() > 0.03
