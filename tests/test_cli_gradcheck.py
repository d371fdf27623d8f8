"""``deepstep gradcheck``: hidden --layers with --input/--output, sampling on large networks."""

from __future__ import annotations

import re

import numpy as np

from cli_helpers import model_file, ok, run
from deepstep.gradcheck import check_architecture, sample_entries


def _errors(out: str) -> dict[str, float]:
    return {m[1]: float(m[2]) for m in re.finditer(r"^(W\d|b\d)\s.*\s(\d\.\d+e[-+]\d+)$", out,
                                                   re.M)}


def test_default_network_is_checked_whole():
    out = ok(["gradcheck"])
    assert out.startswith("layers [5, 4, 3, 1], hidden relu, output sigmoid")
    assert "checked all 43 parameters" in out
    assert set(_errors(out)) == {"W1", "b1", "W2", "b2", "W3", "b3"}


def test_large_network_is_sampled_and_says_how_many():
    argv = ["gradcheck", "--input", "784", "--layers", "128", "--output", "10",
            "--output-activation", "softmax"]
    out = ok(argv)
    assert "layers [784, 128, 10], hidden relu, output softmax, loss categorical_cross_entropy" \
        in out
    assert re.search(r"^W1\s+\(128, 784\)\s+50 of 100,352\s+\d\.\d+e-\d+$", out, re.M)
    assert re.search(r"^b2\s+\(10, 1\)\s+10 of 10\s", out, re.M)
    assert ("checked 160 of 101,770 parameters: at most 50 per array, drawn with seed 0 "
            "(--samples, --seed)") in out
    assert re.search(r"^overall\s.*\d  ok$", out, re.M)
    assert ok(argv) == out  # seeded: the same entries, the same errors
    other = ok([*argv, "--seed", "1"])
    assert _errors(other) != _errors(out)
    assert "checked 40 of 101,770" in ok([*argv, "--samples", "10"])


def test_sampling_compares_exactly_the_sampled_entries():
    full = check_architecture([4, 6, 3], "tanh", "softmax", "cce", seed=3)
    sampled = check_architecture([4, 6, 3], "tanh", "softmax", "cce", seed=3, samples=5)
    assert sampled.checked == {"W1": 5, "b1": 5, "W2": 5, "b2": 3}
    assert full.checked == {"W1": 24, "b1": 6, "W2": 18, "b2": 3}
    assert sampled.passed and full.passed
    idx = sample_entries({"W": (30, 40)}, 25, np.random.default_rng(0))["W"]
    assert len(set(idx.tolist())) == 25 and idx.max() < 1200


def test_a_wrong_gradient_is_caught_on_the_sampled_entries(monkeypatch):
    """Break dW[1] by 1%: the sampled check fails just as the full one does."""
    from deepstep import engine

    real = engine.backward

    def broken(*args, **kwargs):
        grads = real(*args, **kwargs)
        grads["dW1"] = grads["dW1"] * 1.01
        return grads

    monkeypatch.setattr(engine, "backward", broken)
    code, out, _ = run(["gradcheck", "--input", "300", "--layers", "40", "--output", "3",
                        "--output-activation", "softmax", "--samples", "8"])
    assert code == 1 and "FAILED" in out


def test_model_architecture(tmp_path):
    ok(["train", "--data", "iris", "--layers", "5", "--epochs", "2", "--out", tmp_path / "r"])
    out = ok(["gradcheck", "--model", model_file(tmp_path / "r")])
    assert out.startswith("layers [4, 5, 3], hidden ['relu'], output softmax, loss "
                          "categorical_cross_entropy")
    code, _, err = run(["gradcheck", "--model", model_file(tmp_path / "r"), "--layers", "3"])
    assert code == 2 and "give --model or --layers, not both" in err


def test_output_is_a_size_with_a_hint_for_an_activation():
    code, out, err = run(["gradcheck", "--output", "softmax"])
    assert code == 2 and out == ""
    assert "here --output is the number of output units, the output activation is " \
           "--output-activation" in err
