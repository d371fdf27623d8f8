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
    for name in ("bench_cat", "bench_mnist", "bench_scaling", "profile_step",
                 "callback_overhead", "run_all"):
        sys.modules.pop(name, None)
    return tmp_path


def test_cat_quick_deepstep_only(bench):
    payload = importlib.import_module("bench_cat").run(quick=True, peers=False)
    res = payload["results"]
    cost = res["deepstep course float64"]["final_cost"]
    for path in ("dual", "primal"):
        net = res[f"deepstep Network {path} float32"]
        assert net["final_cost"] == pytest.approx(cost, abs=1e-4)
        assert net["solver"].startswith({"dual": "dual -> dual", "primal": "solver='primal'"}[path])
        assert 0.5 < net["train_acc"] <= 1 and 0.3 < net["test_acc"] <= 1
    assert "Network dual f32 / Network primal f32" in payload["ratios"]
    assert json.loads((bench / "cat_quick.json").read_text())["iterations"] == 30
    assert "| deepstep Network dual float32 |" in (bench / "cat_quick.md").read_text()


def test_mnist_quick_deepstep_only(bench):
    payload = importlib.import_module("bench_mnist").run(quick=True, peers=False)
    assert payload["results"]["deepstep Network float32"]["accuracy"] > 0.6
    assert (bench / "mnist_quick.md").exists()


def test_callback_overhead_is_measured_inside_fit(bench):
    payload = importlib.import_module("callback_overhead").run(epochs=1, repeats=1)
    for res in payload["results"].values():
        assert 0 < res["callbacks_us"] < res["step_us"]
    assert "| quiet (History, TerminateOnNaN) |" in payload["table"]
    assert (bench / "callback_overhead.md").exists()


def test_scaling_quick(bench):
    payload = importlib.import_module("bench_scaling").run(quick=True)
    assert payload["memory"]["ratio"] < 1.5
    assert len(payload["batch_size"]["seconds"]) == 3


def test_profile_step_parts_add_up(bench):
    parts = importlib.import_module("profile_step").run(quick=True, only="MNIST", threads_=1)
    (name, p), = parts.items()
    assert name.startswith("MNIST")
    total = sum(p[k] for k in importlib.import_module("profile_step").PARTS)
    assert total == pytest.approx(p["fit, per step"], rel=1e-9)
    assert p["products"] > 0 and p["optimiser"] > 0


def test_make_bench_finds_its_block_in_the_readme(bench, tmp_path):
    run_all = importlib.import_module("run_all")
    assert run_all.START in importlib.import_module("common").README.read_text()
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{run_all.START}\nold\n{run_all.END}\n\nafter\n")
    run_all.splice_readme("new table", run_all.START, run_all.END, readme)
    assert readme.read_text() == f"# x\n\n{run_all.START}\nnew table\n{run_all.END}\n\nafter\n"
    readme.write_text("no markers")
    with pytest.raises(SystemExit, match="markers are missing"):
        run_all.splice_readme("x", run_all.START, run_all.END, readme)
    quality = importlib.import_module("quality")
    assert quality.README_START in importlib.import_module("common").README.read_text()
    assert quality.README_END in importlib.import_module("common").README.read_text()
