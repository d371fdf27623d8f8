"""End-to-end tests of the ``deepstep`` command, in-process through ``main([...])``."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from deepstep import Network
from deepstep.cli import COMMANDS, main
from deepstep.cli.common import Parser
from deepstep.explain import count_params, training_cost
from deepstep.gradcheck import TOLERANCE
from deepstep.model import DEFAULTS


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def ok(argv: list[str]) -> str:
    code, out, err = run(argv)
    assert code == 0, err
    assert "Traceback" not in err
    return out


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    """A small model trained on the bundled default (digits), shared by the model commands."""
    out = tmp_path_factory.mktemp("digits") / "run"
    ok(["train", "--layers", "16", "--epochs", "10", "--lr", "0.003", "--validation", "0.1",
        "--out", out])
    return out


# --- explain and gradcheck ---------------------------------------------------------------------


def test_explain_course_shapes_table():
    dims, m = [12288, 20, 7, 5, 1], 209
    out = ok(["explain", "--input", dims[0], "--layers", ",".join(map(str, dims[1:-1])),
              "--output", dims[-1], "--m", m])
    rows = {line.split()[0]: re.split(r"\s{2,}", line.strip())
            for line in out.splitlines() if re.match(r"^\d\s", line)}
    assert rows["0"][4] == "(12288, 209)"  # A[0] = X
    for l in range(1, 5):
        layer, W, b, Z, A, params = rows[str(l)]
        assert W == f"({dims[l]}, {dims[l - 1]})"
        assert b == f"({dims[l]}, 1)"
        assert Z == A == f"({dims[l]}, {m})"
        assert int(params.replace(",", "")) == dims[l] * dims[l - 1] + dims[l]
    assert rows["1"][1:4] == ["(20, 12288)", "(20, 1)", "(20, 209)"]
    expected = 20 * 12288 + 20 + 7 * 20 + 7 + 5 * 7 + 5 + 1 * 5 + 1
    assert expected == count_params(dims) == 245_973
    assert "parameters: 245,973" in out
    # FLOPs: 2 per multiply-add; forward one product per layer, backward two except layer 1
    products = [2 * dims[l] * dims[l - 1] * m for l in range(1, 5)]
    cost = training_cost(dims, m)
    assert cost.forward_flops == sum(products)
    assert cost.backward_flops == products[0] + 2 * sum(products[1:])
    assert f"forward {sum(products):,}" in out
    assert "2 FLOPs per multiply-add" in out
    assert cost.param_bytes == 8 * 245_973


def test_explain_model_takes_sizes_from_the_file(digits_run):
    out = ok(["explain", "--model", digits_run / "model.safetensors"])
    assert "layer_dims [64, 16, 10]" in out
    assert "m = 32 examples, float32" in out  # the model's mini-batch and dtype
    assert f"parameters: {64 * 16 + 16 + 16 * 10 + 10:,}" in out


def test_gradcheck_passes_and_fails_with_exit_status():
    out = ok(["gradcheck", "--input", "4", "--layers", "5", "--output", "3", "--hidden", "tanh",
              "--output-activation", "softmax", "--l2", "0.5", "--dropout", "0.2"])
    assert re.search(r"^W1\s+\(5, 4\)\s+\d\.\d+e-\d+", out, re.M)
    assert re.search(r"^overall\s.*  ok$", out, re.M)
    code, out, _ = run(["gradcheck", "--tol", "1e-30"])
    assert code == 1 and "FAILED" in out


# --- train --------------------------------------------------------------------------------------


def test_train_default_is_digits_with_defaults(digits_run):
    metrics = json.loads((digits_run / "metrics.json").read_text())
    assert set(metrics) == {"train", "validation", "test"}
    assert metrics["test"]["accuracy"] > 0.8
    for name in ("model.safetensors", "costs.png", "report.html"):
        assert (digits_run / name).stat().st_size > 0
    net = Network.load(digits_run / "model.safetensors")
    assert net.layer_dims == [64, 16, 10]
    hyper = net.config_["hyperparameters"]
    for key in ("init", "optimizer", "l2"):
        assert hyper[key] == DEFAULTS[key], key
    assert hyper["learning_rate"] == 0.003
    assert hyper["batch_size"] == DEFAULTS["batch_size"]
    assert net.preprocessor.mode == DEFAULTS["preprocess"]
    html = (digits_run / "report.html").read_text()
    for ident in ('id="cost-curve"', 'id="confusion-matrix"', 'id="mislabeled"', "(16, 64)"):
        assert ident in html


def test_train_without_flags_uses_defaults_and_says_where(tmp_path, monkeypatch):
    import deepstep.training_run as training_run
    from deepstep.recipe import DataShape, recipe

    seen = {}
    real = training_run.train_seed

    def spy(plan, seed, folder, log):
        seen.update(plan.settings)
        plan.settings["epochs"] = 2  # keep the test quick
        return real(plan, seed, folder, log)

    monkeypatch.setattr(training_run, "train_seed", spy)
    monkeypatch.chdir(tmp_path)
    out = ok(["train"])
    expected = recipe(DataShape(m=1438, n_x=64, task="multiclass", n_classes=10))
    assert seen["layers"] == expected["hidden_layers"] and seen["epochs"] == expected["epochs"]
    assert seen["data"] == "digits" and seen["lr"] == expected["learning_rate"]
    assert f"{expected['optimizer']} lr {expected['learning_rate']:g}" in out
    assert "from the recipe: layers, hidden, init, optimizer, lr" in out
    assert "task: multiclass (integer labels with 10 distinct values); to choose otherwise " \
           "give --task binary or --task regression" in out
    assert "none given, so a stratified 20% of digits was held out with seed 0" in out
    saved = re.search(r"saved to (\S+):", out).group(1)
    assert saved.startswith("runs") and (tmp_path / saved / "model.safetensors").is_file()
    assert re.search(r"^train\s+\d+\s+[\d.]+\s+[\d.]+$", out, re.M)
    assert re.search(r"^test\s", out, re.M)
    assert not re.search(r"^validation\s", out, re.M)  # the recipe trains on all of --data


def test_seeds_report_each_and_mean_std(tmp_path):
    out = ok(["train", "--data", "iris", "--layers", "8", "--epochs", "5", "--lr", "0.01",
              "--seed", "3", "--seeds", "2", "--out", tmp_path, "--json", tmp_path / "m.json"])
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert [s["seed"] for s in metrics["seeds"]] == [3, 4]
    accs = [s["test"]["accuracy"] for s in metrics["seeds"]]
    assert metrics["mean"]["test"]["accuracy"] == pytest.approx(np.mean(accs))
    assert metrics["std"]["test"]["accuracy"] == pytest.approx(np.std(accs, ddof=1))
    assert "seed 3:" in out and "seed 4:" in out and "±" in out
    assert "Per seed" in (tmp_path / "report.html").read_text()


def test_config_file_and_flags_override(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('data = "wine"\nlayers = [6]\nepochs = 3\nbatch-size = "full"\n'
                   'lr = 0.05\noptimizer = "gd"\nvalidation = 0\n')
    out = ok(["train", "--config", cfg, "--epochs", "4", "--out", tmp_path / "r"])
    assert "network [13, 6, 3]" in out and "gd lr 0.05, batch full, 4 iterations" in out
    net = Network.load(tmp_path / "r" / "model.safetensors")
    assert net.config_["epochs"] == 4 and net.config_["batch_size"] is None
    assert not re.search(r"^validation", out, re.M)


def test_csv_train_evaluate_predict(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,label"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{y}"
                               for r, y in zip(X, labels, strict=True)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    ok(["train", "--data", tmp_path / "d.csv", "--layers", "4", "--epochs", "30", "--lr",
        "0.05", "--l2", "0", "--out", tmp_path / "r"])
    model = tmp_path / "r" / "model.safetensors"
    out = ok(["evaluate", "--model", model, "--data", tmp_path / "d.csv"])
    assert re.search(r"^d\.csv\s+120\s+[\d.]+\s+(0\.9|1\.0)", out, re.M)
    (tmp_path / "new.csv").write_text("a,b,c\n2,2,0\n-2,-2,0\n")
    out = ok(["predict", "--model", model, tmp_path / "new.csv"])
    assert re.search(r"new\.csv:2: yes \(probability [01]\.\d+\)", out)
    assert re.search(r"new\.csv:3: no \(probability [01]\.\d+\)", out)


def test_regression_on_bundled_diabetes(tmp_path):
    out = ok(["train", "--data", "diabetes", "--layers", "8", "--epochs", "3", "--out", tmp_path])
    assert "regression" in out
    assert re.search(r"^split\s+examples\s+loss\s+r2\s+mae\s+rmse$", out, re.M)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics["test"]) == {"loss", "r2", "mae", "rmse"}


# --- the course's cat data ---------------------------------------------------------------------


def test_course_preset_short_run_matches_the_engine(cat_dir, tmp_path):
    args = ["train", "--data", cat_dir / "train_catvnoncat.h5", "--test",
            cat_dir / "test_catvnoncat.h5", "--preset", "course", "--iterations", "101",
            "--out", tmp_path]
    out = ok(args)
    costs = dict(re.findall(r"^Cost after iteration (\d+): (\S+)$", out, re.M))
    assert list(costs) == ["0", "100"]
    assert float(costs["0"]) == pytest.approx(0.771749, abs=1e-6)  # the course's first cost
    assert "init course_app, float64; gd lr 0.0075, batch full, 101 iterations" in out
    net = Network.load(tmp_path / "model.safetensors")
    assert net.layer_dims == [12288, 20, 7, 5, 1]
    assert [a.name for a in net.activations] == ["relu"] * 3 + ["sigmoid"]
    assert net.history_["loss"][100] == float(costs["100"])


@pytest.mark.slow
def test_course_preset_reproduces_the_notebook(cat_dir, tmp_path):
    out = ok(["train", "--data", cat_dir / "train_catvnoncat.h5", "--test",
              cat_dir / "test_catvnoncat.h5", "--preset", "course", "--out", tmp_path])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert round(metrics["train"]["accuracy"], 4) == 0.9856
    assert metrics["test"]["accuracy"] == 0.8
    assert re.search(r"^Cost after iteration 2400: 0\.0928", out, re.M)
    assert re.search(r"^train\s+209\s+\S+\s+0\.9856$", out, re.M)
    assert re.search(r"^test\s+50\s+\S+\s+0\.8000$", out, re.M)
    html = (tmp_path / "report.html").read_text()
    assert "10 mislabeled examples" in html  # 50 test images, 80% right


def test_image_folder_train_predict_report(cat_dir, tmp_path):
    root = tmp_path / "cats"
    with h5py.File(cat_dir / "train_catvnoncat.h5", "r") as f:
        x, y = f["train_set_x"][:60], f["train_set_y"][:60]
    for i, (img, label) in enumerate(zip(x, y, strict=True)):
        folder = root / ("cat" if label else "non-cat")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    out = ok(["train", "--data", root, "--layers", "8", "--epochs", "3", "--out", tmp_path / "r"])
    assert "images (64, 64, 3), 2 classes" in out
    model = tmp_path / "r" / "model.safetensors"
    big = tmp_path / "big.jpg"  # any size: resized to the model's 64x64
    Image.fromarray(x[0]).resize((150, 100)).save(big)
    out = ok(["predict", "--model", model, big, root / "cat" / sorted(
        p.name for p in (root / "cat").iterdir())[0]])
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(re.fullmatch(r".+: (cat|non-cat) \(probability (0\.\d+|1\.0+)\)", s) for s in lines)
    out = ok(["report", "--model", model, "--data", root, "--out", tmp_path / "again.html"])
    html = (tmp_path / "again.html").read_text()
    assert "cats (this report)" in html and 'id="confusion-matrix"' in html


def test_mnist_idx(mnist_dir, tmp_path):
    out = ok(["train", "--data", mnist_dir, "--layers", "32", "--epochs", "1", "--batch-size",
              "128", "--lr", "0.003", "--l2", "0", "--validation", "0", "--out", tmp_path])
    assert "10000 examples, 784 features, images (28, 28, 1), 10 classes" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.8
    digit = tmp_path / "digit.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(digit)
    out = ok(["predict", "--model", tmp_path / "model.safetensors", digit])
    assert re.fullmatch(r".*digit\.png: \d \(probability 0\.\d+\)\n", out)


# --- evaluate / report / predict on the digits model -------------------------------------------


def test_evaluate_and_report(digits_run, tmp_path):
    out = ok(["evaluate", "--model", digits_run / "model.safetensors", "--data", "digits",
              "--json", tmp_path / "e.json"])
    assert re.search(r"^digits\s+1797\s+[\d.]+\s+0\.9\d+$", out, re.M)
    assert set(json.loads((tmp_path / "e.json").read_text())["digits"]) == {"loss", "accuracy"}
    out = ok(["report", "--model", digits_run / "model.safetensors", "--data", "digits"])
    assert f"report written to {digits_run / 'report-model.html'}" in out
    assert "digits (this report)" in (digits_run / "report-model.html").read_text()


def test_predict_rescales_images_to_the_training_range(digits_run, tmp_path):
    from sklearn.datasets import load_digits

    d = load_digits()
    paths = []
    for i in range(10):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(np.round(d.images[i] * 255 / 16).astype(np.uint8)).save(paths[i])
    out = ok(["predict", "--model", digits_run / "model.safetensors", *paths])
    found = re.findall(r"^(\S+): (\d) \(probability 0\.\d+\)$", out, re.M)
    assert [f for f, _ in found] == [str(p) for p in paths]
    assert sum(int(c) == t for (_, c), t in zip(found, d.target[:10], strict=True)) >= 8


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "explain", "gradcheck",
                                     "report", "runs"])
def test_help_has_examples(command):
    code, out, _ = run([command, "--help"])
    assert code == 0 and "examples:\n  deepstep " + command in out


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, built the way ``main`` builds them."""
    subs = Parser(prog="deepstep").add_subparsers()
    return {cmd.__name__.rsplit(".", 1)[-1]: cmd.add_parser(subs) for cmd in COMMANDS}


def test_every_flag_of_every_command_has_help_text():
    parsers = _parsers()
    assert sorted(parsers) == ["evaluate", "explain", "export", "gradcheck", "predict", "report",
                               "runs", "search", "train"]
    for name, parser in parsers.items():
        for action in parser._actions:  # argparse keeps no public list of a parser's flags
            assert action.help and action.help.strip(), (name, action.option_strings)


@pytest.mark.parametrize("command", ["train", "gradcheck"])
def test_help_states_every_default(command):
    no_default = {"-h", "--help", "--debug", "--config", "--json", "--iterations",
                  "--overwrite", "--resume", "--model"}
    for action in _parsers()[command]._actions:
        if not set(action.option_strings) & no_default:
            assert "(default: " in action.help, action.option_strings


def test_help_defaults_come_from_the_settings():
    from deepstep.cli.common import shown
    from deepstep.cli.settings import shown_default

    code, out, _ = run(["train", "--help"])
    text = " ".join(out.split())
    assert code == 0
    for flag, key in [("--layers N,N,...", "layers"), ("--epochs N", "epochs"),
                      ("--l2 X", "l2"), ("--batch-size N", "batch_size"),
                      ("--optimizer OPTIMIZER", "optimizer"),
                      ("--preprocess PREPROCESS", "preprocess")]:
        within_flag = rf"{re.escape(flag)} (?:(?! --).)*"  # up to the next flag
        value = shown(shown_default(key))
        assert re.search(rf"{within_flag}\(default: {re.escape(value)}\)", text), flag
    assert "(default: 256; adapted to the data, see the README's Defaults)" in text
    assert f"(default: {DEFAULTS['learning_rate']:g} for {DEFAULTS['optimizer']}" in text
    code, out, _ = run(["gradcheck", "--help"])
    assert "(default: 4,3)" in out and f"{TOLERANCE:g})" in " ".join(out.split())


@pytest.mark.parametrize(("argv", "abbreviation"), [
    (["train", "--epoch", "3"], "--epoch"),
    (["train", "--lay", "8"], "--lay"),
    (["explain", "--layers", "2,3,1", "--opt", "adam"], "--opt"),
    (["gradcheck", "--to", "1e-3"], "--to"),
    (["evaluate", "--model", "m.npz", "--data", "digits", "--js", "x.json"], "--js"),
    (["--deb", "explain", "--layers", "2,3,1"], "--deb"),
])
def test_no_abbreviation_of_a_flag_is_accepted(argv, abbreviation):
    code, out, err = run(argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and f"unrecognized arguments: {abbreviation}" in err


# --- user errors: exit 2, one line, no traceback -----------------------------------------------


@pytest.fixture
def junk(tmp_path) -> Path:
    (tmp_path / "notamodel.npz").write_bytes(b"hello")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    (tmp_path / "bad.csv").write_text("a,b,y\n1,2,0\n3,oops,1\n")
    (tmp_path / "bad.toml").write_text("lr = 0.1\nwidth = 3\n")
    (tmp_path / "broken.toml").write_text("lr = = 0.1\n")
    (tmp_path / "hello.txt").write_text("hi")
    return tmp_path


@pytest.mark.parametrize(("argv", "says"), [
    (["train", "--data", "{t}/missing.h5"], "no such file"),
    (["train", "--data", "nosuchset"], "bundled names"),
    (["train", "--lr", "abc"], "--lr"),
    (["train", "--lr", "0"], "> 0"),
    (["train", "--hidden", "swish"], "unknown activation"),
    (["train", "--output", "swish"], "unknown activation"),
    (["train", "--optimizer", "sgd2"], "optimizer"),
    (["train", "--dropout", "1.5"], "[0, 1)"),
    (["train", "--batch-size", "0"], ">= 1"),
    (["train", "--epochs", "3", "--iterations", "3"], "not allowed"),
    (["train", "--data", "{t}/bad.csv"], "is not a number"),
    (["train", "--config", "{t}/bad.toml"], "unknown key 'width'"),
    (["train", "--config", "{t}/broken.toml"], "not valid TOML"),
    (["train", "--data", "iris", "--test", "wine"], "features"),
    (["evaluate", "--model", "{t}/notamodel.npz", "--data", "digits"], "not a valid deepstep"),
    (["evaluate", "--model", "{t}/plain.npz", "--data", "digits"], "zip archive"),
    (["evaluate", "--model", "{t}/missing.npz", "--data", "digits"], "no such file"),
    (["evaluate", "--model", "{d}/model.safetensors", "--data", "iris"], "features"),
    (["predict", "--model", "{d}/model.safetensors", "{t}/hello.txt"], "not an image"),
    (["predict", "--model", "{d}/model.safetensors", "{t}/bad.csv"], "columns"),
    (["predict", "--model", "{d}/model.safetensors"], "required"),
    (["explain"], "give --model M"),
    (["explain", "--layers", "5"], "give --input and --output"),
    (["gradcheck", "--input", "100000000"], "MiB"),
    (["frobnicate"], "invalid choice"),
])
def test_user_errors_exit_2_with_one_line(argv, says, junk, digits_run):
    argv = [a.format(t=junk, d=digits_run) for a in argv]
    code, out, err = run(argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and says in err
    assert "Traceback" not in err
