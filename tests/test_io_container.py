"""The generic container layer (deepstep.io.container / values): what checkpoints build on."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import load_file
from safetensors.numpy import save as reference_save

from deepstep.io import Invalid, ModelFormatError, read_tensors, write_tensors
from deepstep.io.values import MAX_CONTAINERS, MAX_DEPTH, check_json, parse_json

KIND = "deepstep-checkpoint"


def test_round_trip_of_a_checkpoint_like_file(tmp_path):
    rng = np.random.default_rng(3)
    tensors = {
        "opt.m.W1": rng.normal(size=(3, 4)).astype(np.float32),
        "opt.v.W1": np.asfortranarray(rng.normal(size=(3, 4))),  # F order is written as C
        "step": np.array(12, dtype=np.int64),  # a 0-d tensor
        "mask": np.array([True, False, True]),
        "bytes": np.arange(5, dtype=np.uint8),
        "empty": np.zeros((0, 3), dtype=np.float64),
        "big_endian": np.arange(4, dtype=">f8"),
    }
    state = np.random.default_rng(7).bit_generator.state  # holds 128-bit integers
    meta = {"epoch": 3, "rng": state, "history": {"loss": [0.5, float("nan")]},
            "best": float("inf"), "worst": -float("inf")}
    path = write_tensors(tmp_path / "c.safetensors", tensors, meta, KIND)
    back, got = read_tensors(path, KIND)
    assert set(back) == set(tensors)
    for k, a in tensors.items():
        assert back[k].shape == a.shape and np.array_equal(back[k], a)
        assert back[k].dtype == a.dtype.newbyteorder("=") and back[k].flags.writeable
    assert got["format"] == KIND and got["rng"] == state and got["epoch"] == 3
    loss = got["history"]["loss"]  # non-finite floats come back exactly (tagged in the JSON)
    assert loss[0] == 0.5 and np.isnan(loss[1]) and got["best"] == -got["worst"] == np.inf
    gen = np.random.default_rng()
    gen.bit_generator.state = got["rng"]
    assert gen.random() == np.random.default_rng(7).random()
    ref = load_file(path)  # the reference reader agrees
    assert all(np.array_equal(ref[k], a) for k, a in tensors.items())


def test_a_file_written_by_the_reference_writer_is_read(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    meta = json.dumps({"format": KIND, "epoch": 1})
    (tmp_path / "r.safetensors").write_bytes(reference_save({"a": a}, {"deepstep": meta}))
    tensors, got = read_tensors(tmp_path / "r.safetensors", KIND)
    assert np.array_equal(tensors["a"], a) and got == {"format": KIND, "epoch": 1}


def test_the_check_runs_before_any_tensor_is_allocated(tmp_path, monkeypatch):
    path = write_tensors(tmp_path / "c.safetensors", {"w": np.zeros((2, 3))}, {"n": 2}, KIND)
    seen = {}

    def check(meta, specs):
        seen.update(specs)
        raise Invalid("n", "two is not enough")

    monkeypatch.setattr(np, "empty", lambda *a, **k: pytest.fail("allocated"))
    with pytest.raises(ModelFormatError, match=r"c.safetensors is not a valid deepstep "
                                               r"checkpoint: n: two is not enough"):
        read_tensors(path, KIND, check=check)
    assert seen["w"].shape == (2, 3) and seen["w"].dtype == np.float64
    assert (seen["w"].begin, seen["w"].end) == (0, 48)


def test_max_bytes_caps_the_tensors(tmp_path):
    path = write_tensors(tmp_path / "c.safetensors", {"w": np.zeros(100)}, {}, KIND)
    with pytest.raises(ModelFormatError, match="tensors: 800 bytes in all \\(at most 799\\)"):
        read_tensors(path, KIND, max_bytes=799)


def test_a_bool_tensor_holds_only_0_and_1(tmp_path):
    path = write_tensors(tmp_path / "c.safetensors", {"b": np.array([True, False])}, {}, KIND)
    blob = bytearray(path.read_bytes())
    blob[-1] = 2
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelFormatError, match="tensor b: a BOOL tensor holds bytes other"):
        read_tensors(path, KIND)


def test_metadata_is_checked_generically_without_a_schema(tmp_path):
    meta = json.dumps({"format": KIND, "x": "\x07bell"})
    (tmp_path / "c.safetensors").write_bytes(reference_save({}, {"deepstep": meta}))
    with pytest.raises(ModelFormatError, match="x: holds the control character '\\\\x07'"):
        read_tensors(tmp_path / "c.safetensors", KIND)


@pytest.mark.parametrize(("metadata", "says"), [
    ({"f": lambda: 0}, "cannot save f: a function is not JSON"),
    ({"s": "x" * 70_000}, "s: a string of 70,000 characters"),
    ({"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}, "deeper"),
    ({"format": "deepstep-model"}, "differs from kind"),
    ({"a": {"$float": "NaN"}}, "the key '\\$float' is reserved"),
])
def test_write_refuses_what_read_would_refuse(tmp_path, metadata, says):
    with pytest.raises(ValueError, match=says):
        write_tensors(tmp_path / "c.safetensors", {}, metadata, KIND)
    assert not (tmp_path / "c.safetensors").exists()


def test_write_refuses_unsupported_tensors(tmp_path):
    for bad in ({"x": np.array(["a"])}, {"x": np.zeros(2, complex)}, {"__metadata__": np.ones(1)}):
        with pytest.raises(ValueError, match="cannot save tensor"):
            write_tensors(tmp_path / "c.safetensors", bad, {}, KIND)


# --- bounded JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "says"), [
    ("[" * 100_001 + "]" * 100_001, "100,001 lists or objects"),
    ("[" * 2000 + "]" * 2000, "nested deeper than"),
    ("[" + "[]," * MAX_CONTAINERS + "1]", f"{MAX_CONTAINERS + 1:,} lists or objects"),
    ("[" + "1," * 1_000_000 + "1]", "more than 1,000,000 values"),
    ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
    ("[1e99999]", "inf"), ("[" + "9" * 5000 + "]", "not valid JSON"),
    (b'"\xff"', "not UTF-8"), ("[-Infinity]", "-Infinity is not a JSON number"),
    ('{"$float": "nan"}', "must be alone, with"), ('{"$float": "NaN", "a": 1}', "must be alone"),
    ('{"$float": {"a": 1}}', "must be alone"), ('{"$float": [1]}', "must be alone"),
    ('{"$float": "Infinity"}', "inf \\(numbers must be finite\\)"),
])
def test_parse_json_refuses_hostile_text(text, says):
    with pytest.raises(Invalid, match=says or "") as e:
        check_json(parse_json(text, "header"), "header")
    assert e.value.field.startswith("header")


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**100), 2**100)
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=30))
def test_what_json_writes_parse_json_reads(value):
    """Any finite JSON value round-trips (control characters and surrogates aside)."""
    try:
        check_json(value, "v")
    except Invalid:
        return
    assert parse_json(json.dumps(value), "v") == value


def test_depth_cap_is_checked_after_parsing_too():
    value = parse_json("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2), "h")
    with pytest.raises(Invalid, match=f"nested deeper than {MAX_DEPTH}"):
        check_json(value, "h")


@pytest.mark.parametrize("length", [0x280, 0x4B50])
def test_a_header_length_that_looks_like_a_magic_number_is_still_read(tmp_path, length):
    """A header of 640 bytes starts the file with b"\\x80\\x02", a pickle's first bytes;
    one of 0x4B50 with b"PK": only files that are not safetensors get named by magic."""
    path = tmp_path / "c.safetensors"
    base = struct.unpack("<Q", write_tensors(path, {}, {"pad": ""}, KIND).read_bytes()[:8])[0]
    for pad in range(length - base - 8, length - base + 8):
        write_tensors(path, {}, {"pad": "x" * pad}, KIND)
        if struct.unpack("<Q", path.read_bytes()[:8])[0] == length:
            break
    assert path.read_bytes()[:2] == struct.pack("<Q", length)[:2]
    assert read_tensors(path, KIND)[1]["pad"] == "x" * pad


def test_the_header_length_is_checked_against_the_file_before_reading(tmp_path):
    path = tmp_path / "c.safetensors"
    path.write_bytes(struct.pack("<Q", 64) + b"{}")
    with pytest.raises(ModelFormatError, match="header length: declares 64 bytes but only 2"):
        read_tensors(path, KIND)
