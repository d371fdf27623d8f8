"""bench/quality.py runs end to end on one small set (one seed, both contenders), so it does
not rot; the full benchmark is `make bench-quality`."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture
def quality(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCH))
    common = importlib.import_module("common")
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    sys.modules.pop("quality", None)
    return importlib.import_module("quality")


def test_quick_run_on_iris_writes_table_and_json(quality, tmp_path):
    payload = quality.run(["iris"], seeds=1, out="quality_quick")
    res = payload["results"]["iris"]
    assert res["shape"] == [112, 4] and res["task"] == "multiclass"
    assert res["deepstep"]["mean"] > 0.85 and res["scikit-learn"]["mean"] > 0.85
    saved = json.loads((tmp_path / "quality_quick.json").read_text())
    assert saved["results"]["iris"]["deepstep"]["scores"] == res["deepstep"]["scores"]
    table = (tmp_path / "quality_quick.md").read_text()
    assert "| iris | multiclass | 112 x 4 | accuracy |" in table


def test_regression_predictions_are_in_original_units(quality):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 3))
    y = 1000.0 + 50.0 * X[:, 0] + rng.normal(scale=5.0, size=160)  # far from mean 0, std 1
    pred = quality.deepstep_default(X[:120], y[:120], X[120:], "regression", seed=0)
    assert pred.shape == (40,)
    assert quality.score("regression", y[120:], pred) > 0.8


def test_select_groups_and_names(quality):
    public = quality.select("public", quick=False)
    assert "cat" in public and "sonar-like" not in public
    assert quality.select("iris,extra", quick=False)[:2] == ["iris", "sonar-like"]
    assert quality.select(None, quick=True) == quality.QUICK
    with pytest.raises(SystemExit, match="unknown data set 'nope'"):
        quality.select("nope", quick=False)


def test_sets_given_as_an_argument_or_a_flag(quality, tmp_path, capsys):
    quality.main(["iris", "--seeds", "1", "--deepstep-only"])
    assert "| iris | multiclass |" in (tmp_path / "quality_quick.md").read_text()
    quality.main(["--sets", "wine", "--seeds", "1", "--deepstep-only"])
    assert "| wine | multiclass |" in (tmp_path / "quality_quick.md").read_text()
