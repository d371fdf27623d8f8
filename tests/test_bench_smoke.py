"""The benchmark scripts' deepstep parts run (quick mode, no peers), so they do not rot."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture
def bench(monkeypatch, tmp_path, cat_dir, mnist_dir):
    monkeypatch.syspath_prepend(str(BENCH))
    common = importlib.import_module("common")
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    for name in ("bench_cat", "bench_mnist", "bench_scaling"):
        sys.modules.pop(name, None)
    return tmp_path


def test_cat_quick_deepstep_only(bench):
    payload = importlib.import_module("bench_cat").run(quick=True, peers=False)
    res = payload["results"]
    cost = res["deepstep course float64"]["final_cost"]
    assert res["deepstep Network float32"]["final_cost"] == pytest.approx(cost, abs=1e-4)
    assert json.loads((bench / "cat_quick.json").read_text())["iterations"] == 30
    assert "| deepstep Network float32 |" in (bench / "cat_quick.md").read_text()


def test_mnist_quick_deepstep_only(bench):
    payload = importlib.import_module("bench_mnist").run(quick=True, peers=False)
    assert payload["results"]["deepstep Network float32"]["accuracy"] > 0.6
    assert (bench / "mnist_quick.md").exists()


def test_scaling_quick(bench):
    payload = importlib.import_module("bench_scaling").run(quick=True)
    assert payload["memory"]["ratio"] < 1.5
    assert len(payload["batch_size"]["seconds"]) == 3
