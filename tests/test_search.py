"""Hyper-parameter search: grid parsing, the search against scikit-learn's own cross-validation,
the same results on a Dask LocalCluster as in local processes, and ``deepstep search`` end to
end (table, files, model, report, TOML config, refusals, an unreachable scheduler)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from deepstep import Network
from deepstep.cli import main
from deepstep.data import load
from deepstep.data.splits import load_splits
from deepstep.search import (
    GRID_KEYS,
    SearchWarning,
    check_grid,
    connect,
    folds,
    grid_key,
    param_grid,
    parse_grid,
    search,
)
from deepstep.search_run import read_config
from deepstep.sklearn import DeepstepClassifier, DeepstepRegressor

# A 2 x 2 grid of tiny networks on a bundled set: 4 candidates x 3 folds = 12 short fits.
GRID = "layers=4;8,4 lr=3e-3;3e-2 epochs=15"


def run(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def free_port() -> int:
    """A local TCP port that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def iris():
    ds = load("iris")
    return ds.X.T, ds.y


# --- the grid ------------------------------------------------------------------------------------


def test_parse_grid_the_issue_example():
    grid = parse_grid("layers=64;128,64 lr=1e-3;3e-3 l2=0;1e-4")
    assert grid == {"layers": [(64,), (128, 64)], "lr": [1e-3, 3e-3], "l2": [0.0, 1e-4]}
    assert param_grid(grid) == {"hidden_layer_sizes": [(64,), (128, 64)],
                                "learning_rate": [1e-3, 3e-3], "l2": [0.0, 1e-4]}


def test_parse_grid_every_key():
    grid = parse_grid(["dropout=0;0.2 batch=32;full;auto epochs=5 optimizer=adam;gd",
                       "hidden=relu;tanh,relu schedule=constant;cosine init=he",
                       "preprocess=standardize clip=1 learning-rate=0.01 layers=none"])
    assert grid["dropout"] == [0.0, 0.2]
    assert grid["batch"] == [32, None, "auto"]
    assert grid["epochs"] == [5] and isinstance(grid["epochs"][0], int)
    assert grid["optimizer"] == ["adam", "gd"]
    assert grid["hidden"] == ["relu", ("tanh", "relu")]
    assert grid["schedule"] == ["constant", "cosine"]
    assert grid["lr"] == [0.01] and grid["layers"] == [()] and grid["clip"] == [1.0]
    assert list(grid) == [k for k in GRID_KEYS if k in grid]  # the registry's order


def test_every_grid_key_is_an_estimator_parameter():
    for est in (DeepstepClassifier(), DeepstepRegressor()):
        params = est.get_params()
        for key in GRID_KEYS.values():
            assert key.param in params


@pytest.mark.parametrize("text, message", [
    ("units=4;8", "unknown grid key 'units'; known keys: layers, lr, l2, dropout, batch"),
    ("lr=abc", "grid key 'lr': expected a finite number > 0"),
    ("lr=0", "grid key 'lr': expected a finite number > 0"),
    ("l2=-1", "grid key 'l2': expected a finite number >= 0"),
    ("dropout=1", "expected a fraction in [0, 1)"),
    ("epochs=2.5", "grid key 'epochs': expected a whole number >= 1"),
    ("layers=64;0", "expected hidden layer sizes like 128,64"),
    ("batch=big", "expected a batch size >= 1, 'full' or 'auto'"),
    ("optimizer=lbfgs", "unknown optimizer 'lbfgs'; choose one of gd, momentum, rmsprop, adam"),
    ("hidden=softplus", "unknown activation 'softplus'"),
    ("lr", "grid entry 'lr' is not KEY=V1;V2"),
    ("lr=", "grid key 'lr' has no values"),
    ("lr=1e-3;0.001", "grid key 'lr' repeats a value"),
    ("lr=1e-3 learning_rate=1e-2", "grid key 'lr' is given twice"),
    ("", "the grid is empty"),
])
def test_parse_grid_errors(text, message):
    with pytest.raises(ValueError) as e:
        parse_grid(text)
    assert message in str(e.value)


def test_check_grid_typed_values_as_in_a_toml_table():
    grid = check_grid({"layers": [[8], [16, 8], "4"], "learning_rate": [1e-3], "l2": 0,
                       "batch": ["full", 16]})
    assert grid == {"layers": [(8,), (16, 8), (4,)], "lr": [1e-3], "l2": [0.0],
                    "batch": [None, 16]}
    assert check_grid({"layers": [64, 32]})["layers"] == [(64,), (32,)]  # two candidates
    with pytest.raises(ValueError, match="expected a finite number >= 0, got True"):
        check_grid({"l2": [True]})
    assert grid_key("Hidden_Layer_Sizes") == "layers"


# --- the search ----------------------------------------------------------------------------------


def test_search_scores_are_scikit_learns_cross_validation(iris):
    X, y = iris
    result = search(X, y, GRID, cv=3, n_jobs=1, seed=7)
    assert result.task == "multiclass" and result.scoring == "accuracy"
    assert len(result.table) == 4
    assert [r["rank"] for r in result.table] == sorted(r["rank"] for r in result.table)
    means = [r["mean_score"] for r in result.table]
    assert means == sorted(means, reverse=True)
    # An independent run of every candidate through cross_val_score, with the parameters
    # not in the grid left at None (the recipe), gives the same fold scores.
    for row in result.table:
        est = DeepstepClassifier(hidden_layer_sizes=row["layers"], learning_rate=row["lr"],
                                 epochs=row["epochs"], random_state=7)
        scores = cross_val_score(est, X, y, cv=folds("multiclass", 3, 7), scoring="accuracy")
        np.testing.assert_array_equal(scores, row["fold_scores"])
        assert row["mean_score"] == pytest.approx(scores.mean(), abs=1e-12)
        assert row["std_score"] == pytest.approx(scores.std(), abs=1e-12)
    best = result.best_estimator.get_params()
    assert best["hidden_layer_sizes"] == result.best_params["layers"]
    assert best["learning_rate"] == result.best_params["lr"]
    for name in ("l2", "dropout", "optimizer", "hidden", "init", "schedule", "preprocess"):
        assert best[name] is None, name  # not in the grid: the recipe decides
    assert best["batch_size"] == "auto"
    assert result.best_estimator.network_.layer_dims[1:-1] == list(result.best_params["layers"])


def test_search_regression_scores_r2():
    ds = load("diabetes")
    result = search(ds.X.T, ds.y, "layers=4 lr=1e-2;3e-2 epochs=10", cv=3, n_jobs=1)
    assert result.task == "regression" and result.scoring == "r2"
    assert isinstance(result.best_estimator, DeepstepRegressor)
    row = result.table[0]
    est = DeepstepRegressor(hidden_layer_sizes=(4,), learning_rate=row["lr"], epochs=10,
                            random_state=0)
    scores = cross_val_score(est, ds.X.T, ds.y, cv=folds("regression", 3, 0), scoring="r2")
    np.testing.assert_allclose(scores, row["fold_scores"], rtol=1e-12)


def test_random_search_samples_distinct_candidates_with_the_seed(iris):
    X, y = iris
    grid = "layers=4;8 lr=1e-2;3e-2;1e-1 epochs=5"
    a = search(X, y, grid, random=3, cv=2, n_jobs=1, seed=3)
    b = search(X, y, grid, random=3, cv=2, n_jobs=1, seed=3)
    assert type(a.search).__name__ == "RandomizedSearchCV"
    picked = [(r["layers"], r["lr"]) for r in a.table]
    assert len(set(picked)) == 3
    assert picked == [(r["layers"], r["lr"]) for r in b.table]
    with pytest.raises(ValueError, match="more than the 6 candidates"):
        search(X, y, grid, random=7, cv=2, n_jobs=1)


DIVERGING = "layers=4 optimizer=gd preprocess=none epochs=20 lr=3e-2;1e6"


def test_failed_fits_rank_last_with_their_reason(iris):
    X, y = iris
    with pytest.warns(SearchWarning, match=r"^3 of 6 fits failed; .*NonFiniteError: the loss"):
        result = search(X, y, DIVERGING, cv=3, n_jobs=1)
    assert [r["lr"] for r in result.table] == [3e-2, 1e6]
    assert np.isnan(result.table[1]["mean_score"]) and result.best_params["lr"] == 3e-2
    assert result.failures == [result.failures[0]]
    assert result.failures[0].startswith("3 fits: NonFiniteError: the loss became nan")
    assert "Traceback" not in result.failures[0]


def test_cli_failed_fits_are_one_warning_line(tmp_path):
    code, text, err = run(["search", "--data", "iris", "--grid", DIVERGING, "--cv", 3,
                           "--n-jobs", 1, "--out", tmp_path / "s"])
    assert code == 0, err
    assert err.startswith("warning: 3 of 6 fits failed") and len(err.splitlines()) == 1
    assert re.search(r"^2\s+4\s+1e\+06\s+20\s+gd\s+none\s+failed\s", text, re.M)
    summary = json.loads((tmp_path / "s" / "results.json").read_text())
    assert len(summary["failures"]) == 1 and np.isnan(summary["candidates"][1]["mean_score"])
    code, text, err = run(["search", "--data", "iris", "--grid", DIVERGING.replace(
        "3e-2;", ""), "--cv", 3, "--n-jobs", 1, "--out", tmp_path / "t"])
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: every fit of the search failed: 3 x NonFiniteError")
    assert not (tmp_path / "t").exists()


# --- the cluster ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c:
        yield c


def _executed(client) -> int:
    return sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())


def test_cluster_search_finds_what_the_local_search_finds(iris, cluster):
    X, y = iris
    local = search(X, y, GRID, cv=3, n_jobs=1, seed=0)
    client = connect(cluster.scheduler_address, timeout=30)
    try:
        before = _executed(client)
        remote = search(X, y, GRID, cv=3, scheduler=client, seed=0)
        ran = _executed(client) - before
    finally:
        client.close()
    assert remote.workers == 2
    assert ran >= 1  # the fits ran as tasks on the cluster's workers
    assert remote.best_params == local.best_params
    a, b = local.search.cv_results_, remote.search.cv_results_
    assert [p for p in a["params"]] == [p for p in b["params"]]
    for f in range(3):
        np.testing.assert_array_equal(a[f"split{f}_test_score"], b[f"split{f}_test_score"])
    np.testing.assert_array_equal(a["rank_test_score"], b["rank_test_score"])
    # the refit of the best candidate on all the data is the same network
    for k, W in local.best_estimator.network_.params.items():
        np.testing.assert_array_equal(W, remote.best_estimator.network_.params[k])


def test_cli_search_on_the_cluster(tmp_path, cluster):
    code, out, err = run(["search", "--data", "iris", "--grid", GRID, "--cv", 3, "--out",
                          tmp_path / "s", "--scheduler", cluster.scheduler_address])
    assert code == 0, err
    assert f"on the Dask cluster at {cluster.scheduler_address}" in out
    assert f"ran on 2 worker threads of {cluster.scheduler_address}" in out
    summary = json.loads((tmp_path / "s" / "results.json").read_text())
    assert summary["workers"] == 2 and summary["scheduler"] == cluster.scheduler_address


def test_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    """In a process of its own, as a user runs it: one line on stderr, nothing written; the
    subprocess timeout only guards against a hang (the connect timeout is seconds)."""
    address = f"tcp://127.0.0.1:{free_port()}"
    out = tmp_path / "s"
    p = subprocess.run([sys.executable, "-m", "deepstep.cli", "search", "--data", "iris", "--grid",
                        "lr=1e-2", "--out", out, "--scheduler", address],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"error: cannot reach a Dask scheduler at {address}")
    assert "dask scheduler" in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_connect_to_a_server_that_is_not_a_scheduler():
    """A server that answers something else (here: closes at once) is named as such."""
    pytest.importorskip("distributed")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve():
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n" * 8)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.raises(ConnectionError, match=rf"127\.0\.0\.1:{port}"):
            connect(f"tcp://127.0.0.1:{port}", timeout=2)
    finally:
        server.close()


def test_connect_to_a_scheduler_without_workers():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as c:
        with pytest.raises(ConnectionError, match=r"has no worker after 1 s; start workers "
                           rf"with `dask worker {re.escape(c.scheduler_address)}`"):
            connect(c.scheduler_address, timeout=1)


@pytest.mark.parametrize("address, message", [
    ("nonsense", "bad scheduler address 'nonsense'"),
    ("tcp://no-such-host.invalid:8786", "unknown host"),
])
def test_connect_errors(address, message):
    pytest.importorskip("distributed")
    with pytest.raises(ConnectionError, match=message):
        connect(address, timeout=2)


def test_score_plot_has_one_panel_per_grid_key():
    from PIL import Image

    from deepstep.report.search import plot_scores

    def png(keys):
        grid = {k: [1, 2] for k in keys}
        table = [{**{k: v for k in keys}, "mean_score": 0.5 + 0.1 * v, "std_score": 0.01,
                  "candidate": v - 1} for v in (2, 1)]
        return Image.open(io.BytesIO(plot_scores(table, grid, "accuracy"))).size

    one, three, four = png(["epochs"]), png(["epochs", "cv", "x"]), png(["a", "b", "c", "d"])
    assert three[0] > 2.5 * one[0] and three[1] == one[1]  # side by side
    assert four[0] == three[0] and four[1] > 1.8 * three[1] - 100  # a second row


# --- the command ---------------------------------------------------------------------------------


def test_cli_search_end_to_end(tmp_path):
    out = tmp_path / "s"
    code, text, err = run(["search", "--data", "iris", "--grid", GRID, "--cv", 3,
                           "--n-jobs", 2, "--seed", 1, "--out", out])
    assert code == 0, err
    assert "in 2 local processes" in text
    assert re.search(r"^rank\s+layers\s+lr\s+epochs\s+accuracy \(mean ± std\)\s+fit time \(s\)$",
                     text, re.M)
    rows = re.findall(r"^([1-4])\s+(\S+)\s+(\S+)\s+15\s+(\d\.\d{4}) ± (\d\.\d{4})\s+\d+\.\d\d$",
                      text, re.M)
    assert len(rows) == 4
    assert {(r[1], r[2]) for r in rows} == {("4", "0.003"), ("4", "0.03"), ("8,4", "0.003"),
                                            ("8,4", "0.03")}
    assert [float(r[3]) for r in rows] == sorted((float(r[3]) for r in rows), reverse=True)
    assert "a stratified 20% of iris held out with seed 1" in text
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors", "results.csv",
                                                     "results.json", "search.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # no temporary folder left

    summary = json.loads((out / "results.json").read_text())
    assert summary["search"] == "GridSearchCV" and summary["cv"] == 3
    assert summary["scoring"] == "accuracy" and len(summary["candidates"]) == 4
    best = summary["candidates"][0]
    assert summary["best"]["params"] == {k: best[k] for k in ("layers", "lr", "epochs")}
    with (out / "results.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["rank"] for r in table] == ["1", "2", "3", "4"]
    assert float(table[0]["mean_accuracy"]) == best["mean_score"]
    assert np.mean([float(table[0][f"fold{i}_accuracy"]) for i in range(3)]) == \
        pytest.approx(best["mean_score"])

    # the saved model is the best candidate refitted on the training part; scored again on
    # the same held-out part it gives the printed test score
    net = Network.load(out / "model.safetensors")
    assert net.layer_dims[1:-1] == best["layers"]
    splits = load_splits({"data": "iris", "test": None, "seed": 1, "validation": 0.0})
    test = splits.test
    accuracy = float(np.mean(net.predict(test.X) == test.y))
    assert accuracy == pytest.approx(summary["test_score"]["score"], abs=1e-12)
    assert summary["test_score"]["examples"] == test.m
    assert f"test accuracy {accuracy:.4f}" in text
    assert net.config_["data"]["classes"] == ["setosa", "versicolor", "virginica"]

    page = (out / "search.html").read_text()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert re.search(r'<img id="score-plot" [^>]*src="data:image/png;base64,', page)
    assert not re.search(r"(src|href)=\"(https?:|//)", page)
    assert "<h1>deepstep search: iris</h1>" in page
    assert page.count('<tr class="best">') == 1


def test_cli_search_with_test_data_and_predict(tmp_path):
    ds = load("iris")
    header = "a,b,c,d,label\n"
    rows = [",".join(f"{v:g}" for v in ds.X[:, i]) + f",{ds.classes[ds.y[i]]}"
            for i in range(ds.m)]
    (tmp_path / "train.csv").write_text(header + "\n".join(rows[::2]) + "\n")
    (tmp_path / "test.csv").write_text(header + "\n".join(rows[1::2]) + "\n")
    out = tmp_path / "s"
    code, text, err = run(["search", "--data", tmp_path / "train.csv", "--test",
                           tmp_path / "test.csv", "--grid", "layers=8 lr=3e-2 epochs=20",
                           "--cv", 3, "--n-jobs", 1, "--out", out])
    assert code == 0, err
    assert f"--test {tmp_path / 'test.csv'}" in text
    code, pred, err = run(["predict", "--model", out / "model.safetensors",
                           tmp_path / "test.csv"])
    assert code == 0, err
    assert re.search(r"test\.csv:\d+: (setosa|versicolor|virginica) \(probability", pred)


def test_cli_search_from_a_toml_config(tmp_path):
    config = tmp_path / "search.toml"
    config.write_text('data = "iris"\ncv = 3\nn-jobs = 1\nseed = 2\n'
                      '[grid]\nlayers = [[4], [8, 4]]\nlr = [3e-3, 3e-2]\nepochs = [15]\n')
    assert read_config(config)["grid"] == parse_grid(GRID)
    code, text, err = run(["search", "--config", config, "--out", tmp_path / "a"])
    assert code == 0, err
    a = json.loads((tmp_path / "a" / "results.json").read_text())
    assert a["seed"] == 2 and a["cv"] == 3 and len(a["candidates"]) == 4
    # a flag's grid key replaces the file's key; the other keys stay
    code, text, err = run(["search", "--config", config, "--grid", "lr=1e-2", "--seed", 3,
                           "--out", tmp_path / "b"])
    assert code == 0, err
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert b["seed"] == 3 and b["grid"] == {"layers": [[4], [8, 4]], "lr": [0.01],
                                            "epochs": [15]}


@pytest.mark.parametrize("toml, message", [
    ('data = "iris"\nunits = 3\n', "unknown key 'units'; known keys: data, test, grid"),
    ('data = "iris"\n[grid]\nunits = [3]\n', "unknown grid key 'units'; known keys: layers"),
    ('data = "iris"\ngrid = "lr=1"\n', "grid must be a table of lists"),
    ('data = "iris"\ncv = 1\n[grid]\nlr = [1e-2]\n', "cv: expected a number of folds >= 2"),
    ('data = "iris"\n[grid]\nlr = ["fast"]\n', "grid: grid key 'lr': expected a finite"),
    ('data = "iris"\n[grid\n', "is not valid TOML"),
])
def test_toml_errors_are_exit_2_naming_the_key(tmp_path, toml, message):
    config = tmp_path / "search.toml"
    config.write_text(toml)
    code, text, err = run(["search", "--config", config, "--out", tmp_path / "s"])
    assert code == 2 and text == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("argv, message", [
    (["--grid", "units=4"], "unknown grid key 'units'; known keys: layers, lr, l2"),
    (["--grid", "lr=-1"], "grid key 'lr': expected a finite number > 0"),
    (["--grid", "lr=1e-2", "--grid", "lr=1e-3"], "grid key 'lr' is given twice"),
    (["--grid", "lr=1e-2", "--cv", "1"], "expected a number of folds >= 2"),
    (["--grid", "lr=1e-2", "--n-jobs", "0"], "expected a number of processes"),
    (["--grid", "lr=1e-2;2e-2", "--random", "3"], "--random 3 is more than the 2 candidates"),
    ([], "give --grid"),
])
def test_cli_usage_errors(tmp_path, argv, message):
    code, text, err = run(["search", "--data", "iris", "--out", tmp_path / "s", *argv])
    assert code == 2 and text == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_cli_refuses_a_non_empty_out_unless_overwrite(tmp_path, monkeypatch):
    out = tmp_path / "s"
    argv = ["search", "--data", "iris", "--grid", "layers=4 lr=3e-2 epochs=5", "--cv", 2,
            "--n-jobs", 1, "--out", out]
    code, text, err = run(argv)
    assert code == 0, err
    (out / "mine.txt").write_text("mine")
    before = sorted(p.name for p in out.iterdir())
    code, text, err = run(argv)
    assert code == 2 and "give --overwrite" in err
    assert sorted(p.name for p in out.iterdir()) == before
    code, text, err = run([*argv, "--overwrite"])  # a previous search's folder: replaced
    assert code == 0, err
    assert not (out / "mine.txt").exists() and (out / "model.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # no temporary or old folder left

    other = tmp_path / "other"  # any other folder with files is never replaced
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    code, text, err = run([*argv[:-1], other, "--overwrite"])
    assert code == 2 and "no results.json, so it is not a search folder" in err
    assert [p.name for p in other.iterdir()] == ["keep.txt"]
    (other / "results.json").write_text("{}")
    monkeypatch.chdir(other)
    code, text, err = run([*argv[:-1], ".", "--overwrite"])
    assert code == 2 and "is the current folder" in err
    (tmp_path / "empty").mkdir()  # an empty folder is fine without --overwrite
    code, text, err = run([*argv[:-1], tmp_path / "empty"])
    assert code == 0, err
