"""Seeded fuzzing of the model loader in a memory-limited child (bench/fuzz_models.py).

Every mutated file must end in ModelFormatError or in a model whose predictions are finite;
the hostile files must be refused without the child's resident memory growing.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="RLIMIT_AS and /proc/self/status are Linux's")


@pytest.fixture(scope="module")
def fuzz_models():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("fuzz_models")
    finally:
        sys.path.remove(str(BENCH))


def test_2000_mutations_end_in_model_format_error_or_finite_predictions(fuzz_models, tmp_path):
    counts = fuzz_models.in_child(["--child", "fuzz", "--n", "2000", "--seed", "20261122",
                                   "--folder", str(tmp_path)], limit_mb=512)
    outcomes = {o for c in counts.values() for o in c}
    assert outcomes <= set(fuzz_models.ALLOWED), fuzz_models.table(counts)
    assert sum(sum(c.values()) for c in counts.values()) == 2000
    for family in fuzz_models.FAMILIES:  # each family both breaks files and leaves some usable
        assert counts[family].get("ModelFormatError", 0) > 100, fuzz_models.table(counts)
    assert counts["metadata"].get("loaded, finite", 0) > 20


HOSTILE = ("header_1M_values", "header_16MB_strings", "declares_40GB", "layer_1e9_units",
           "length_2**64-1", "length_100MiB", "nested_1e5", "containers_1e5")


def test_hostile_files_are_refused_in_bounded_memory(fuzz_models, tmp_path):
    """Peak resident memory while loading, above the resident memory before: the JSON caps
    bound the worst (a header of a million numbers) to about 45 MB; the others allocate
    nothing of note (the bench script also measures two 48 MiB models)."""
    hostile = fuzz_models.hostile_files(tmp_path, big=False)
    assert set(hostile) == set(HOSTILE)
    results = fuzz_models.in_child(["--child", "measure", "--paths",
                                    *map(str, hostile.values())], limit_mb=512)
    for name, r in zip(hostile, results, strict=True):
        assert r["outcome"] == "ModelFormatError", r
        assert r["peak_delta"] < (96 if name.startswith("header") else 8) * 2**20, r
