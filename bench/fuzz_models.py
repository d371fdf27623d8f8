"""Fuzz the model loader: mutated model files, each loaded in a memory-limited child process.

    python bench/fuzz_models.py                 # 20,000 mutations + the hostile files
    python bench/fuzz_models.py --n 2000 --seed 1 --limit-mb 512

Four families of mutations of three small models (binary labels {3, 8} with standardised
inputs and an image data description; string classes, float64, scale255; two-target
regression with target scaling):

- ``bytes``: bit flips, overwritten / inserted / deleted spans, truncation, junk appended,
  the 8-byte header length replaced, anywhere in the file (half of them in the header);
- ``header``: the safetensors header JSON: dtypes, shapes (1e5 x 1e5, negative, 2**62, ...),
  offsets (shifted, swapped, huge), tensors dropped / added / renamed, ``__metadata__`` of
  the wrong type, the declared length off;
- ``metadata``: one field of deepstep's metadata JSON (any depth) replaced by a wrong type,
  NaN / Infinity / 1e999, a negative or huge number, a 70,000-character or control-character
  string, an empty or big container, deleted, or an extra key added;
- ``tensors``: values inside W / b / pre.* / target.* set to NaN, inf, 1e30, 0, -1.

Each file must end in ``ModelFormatError`` or in a model whose ``forward``, ``predict`` (or
``predict_proba``) and the CLI's ``predictions`` give finite numbers; the table counts the
outcomes. The child runs under ``RLIMIT_AS`` so a loader that allocates too much fails as
``MemoryError``.
Then the hand-made hostile files (:func:`hostile_files`) are loaded in one child, each
measured as the peak resident memory (VmHWM, reset between files) above the resident memory
just before it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ALLOWED = ("ModelFormatError", "loaded, finite")
FAMILIES = ("bytes", "header", "metadata", "tensors")
HOSTILE_VALUES: list[Any] = [
    None, True, False, -1, 0, 1, 2**31, 10**40, -(10**40), 1e308, -1e308, 1e-320, 0.5,
    float("nan"), float("inf"), float("-inf"), "__1e999__", "", "x", "x" * 70_000,
    "\x1b[2J", "\ud800", "os.system", [], {}, [1] * 5, [[[[[1]]]]], {"a": 1}, ["a", "b"],
    list(range(1000)),
]


# --- the models ------------------------------------------------------------------------------


def base_models(folder: Path) -> list[Path]:
    """Three small trained models covering the metadata's variants."""
    from deepstep import Network

    rng = np.random.default_rng(0)
    fast = dict(epochs=3, batch_size=16, learning_rate=0.01, l2=0.0, verbose=False)
    X = rng.normal(size=(4, 60))
    paths = []

    net = Network([4, 6, 1], seed=0)
    net.fit(X, np.where(X[0] > 0, 8, 3), preprocess="standardize", validation_split=0.2, **fast)
    net.config_.update(
        data={"name": "tiny.h5", "kind": "h5", "classes": ["3", "8"], "image_shape": [2, 2, 1],
              "value_max": 255.0},
        hyperparameters={"preset": None, "layer_dims": net.layer_dims, "seed": 0},
        metrics={"train": {"loss": 0.5, "accuracy": 0.9}, "test": {"loss": 0.6, "accuracy": 0.8},
                 "seeds": [{"seed": 0, "train": {"loss": 0.5}}],
                 "mean": {"train": {"loss": 0.5, "accuracy": 0.9}},
                 "std": {"train": {"loss": 0.0, "accuracy": float("nan")}}},
        notes=["data: tiny", "test: held out"])
    paths.append(net.save(folder / "binary.safetensors"))

    net = Network([4, 5, 3], hidden="tanh", seed=1, dtype="float64")
    names = np.array(["bird", "cat", "dog"])[rng.integers(0, 3, 60)]
    net.fit(np.abs(X) * 60, names, preprocess="scale255", **fast)
    paths.append(net.save(folder / "strings.safetensors"))

    net = Network([4, 4, 2], seed=2)  # targets standardised by fit: target.mean / .std
    net.fit(X, np.stack([X[0] + 0.5 * X[1], X[2] - X[3]]) * 1.5 + 10, preprocess="standardize",
            **fast)
    paths.append(net.save(folder / "regression.safetensors"))
    return paths


# --- the mutations ---------------------------------------------------------------------------


def split(blob: bytes) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(safetensors header, deepstep metadata, tensor bytes) of a valid file."""
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = json.loads(header["__metadata__"]["deepstep"])
    return header, meta, blob[8 + n:]


def join(header: dict[str, Any], data: bytes, meta: dict[str, Any] | None = None,
         length_delta: int = 0) -> bytes:
    if meta is not None:
        text = json.dumps(meta).replace('"__1e999__"', "1e999")
        header = {**header, "__metadata__": {"deepstep": text}}
    raw = json.dumps(header).encode("utf-8", "surrogatepass")
    return struct.pack("<Q", max(0, len(raw) + length_delta)) + raw + data


def mutate_bytes(blob: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(blob)
    n = struct.unpack("<Q", blob[:8])[0]
    at = int(rng.integers(0, 8 + n)) if rng.random() < 0.5 else int(rng.integers(0, len(b)))
    op = rng.integers(8)
    if op == 0:  # in the header, flips that keep ASCII, so the JSON parser gets to work
        for _ in range(rng.integers(1, 9)):
            i = int(rng.integers(0, len(b)))
            b[i] ^= 1 << int(rng.integers(7 if 8 <= i < 8 + n else 8))
    elif op == 1:
        k = int(rng.integers(1, 17))
        b[at:at + k] = rng.integers(0, 256, k, dtype=np.uint8).tobytes()
    elif op == 2:
        b[at:at] = rng.integers(0, 256, int(rng.integers(1, 65)), dtype=np.uint8).tobytes()
    elif op == 3:
        del b[at:at + int(rng.integers(1, 65))]
    elif op == 4:
        del b[int(rng.integers(0, len(b))):]
    elif op == 5:
        b += rng.integers(0, 256, int(rng.integers(1, 4096)), dtype=np.uint8).tobytes()
    elif op == 6:
        choices = [0, 1, n - 1, n + 1, n + 8, 2**31, 2**63, 2**64 - 1, len(b), 100 * 2**20]
        b[:8] = struct.pack("<Q", int(choices[rng.integers(len(choices))]) % 2**64)
    else:
        i = int(rng.integers(0, len(b)))
        b[i:i] = b[at:at + int(rng.integers(1, 256))]
    return bytes(b)


def mutate_header(blob: bytes, rng: np.random.Generator) -> bytes:
    header, _, data = split(blob)
    names = [k for k in header if k != "__metadata__"]
    name = names[rng.integers(len(names))]
    entry = dict(header[name])
    op = rng.integers(10)
    delta = 0
    if op == 0:
        dtypes = ["F16", "BF16", "F64", "I64", "U8", "BOOL", "F32", "F8_E4M3", "x", 7, None]
        entry["dtype"] = dtypes[rng.integers(len(dtypes))]
    elif op == 1:
        shapes = [[100_000, 100_000], [0], [], [-1, 3], [2**62, 2**62], ["3", 1], [[1]],
                  [1] * 9, [10**30], [entry["shape"][0] + 1, 1], entry["shape"][::-1],
                  [*entry["shape"], 1]]
        entry["shape"] = shapes[rng.integers(len(shapes))]
    elif op == 2:
        b, e = entry["data_offsets"]
        offsets = [[b + 4, e + 4], [b - 4, e], [e, b], [0, 10**20], [-8, e], [b, e + 2**40],
                   [b], [b, e, e], ["0", e], [b + 0.5, e], None]
        entry["data_offsets"] = offsets[rng.integers(len(offsets))]
    elif op == 3:
        del header[name]
    elif op == 4:
        header["extra"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(data), len(data) + 4]}
        data += b"\0\0\0\0" if rng.random() < 0.5 else b""
    elif op == 5:
        header[name + "x" if rng.random() < 0.5 else "W9"] = header.pop(name)
    elif op == 6:
        values = [None, "text", 3, [], {"deepstep": 3}, {"deepstep": "{}"}, {"other": "x"},
                  {"deepstep": '{"format": "deepstep-checkpoint"}'}]
        header["__metadata__"] = values[rng.integers(len(values))]
    elif op == 7:
        delta = int([-1, 1, 7, -8, 64, 2**20][rng.integers(6)])
    elif op == 8:
        entry["extra"] = 1
    else:
        return struct.pack("<Q", 2) + b"[]" + data
    if op not in (3, 5):
        header[name] = entry
    return join(header, data, length_delta=delta)


def _paths(value: Any, at: tuple = ()) -> list[tuple]:
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        idx = list(range(len(value)))
        for i in (idx if len(idx) <= 4 else idx[:2] + idx[-1:]):
            out += _paths(value[i], (*at, i))
    return out


def mutate_metadata(blob: bytes, rng: np.random.Generator) -> bytes:
    header, meta, data = split(blob)
    paths = [p for p in _paths(meta) if p]
    path = paths[rng.integers(len(paths))]
    parent = meta
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    op = rng.random()
    if op < 0.12 and isinstance(parent, dict):
        del parent[key]
    elif op < 0.2 and isinstance(parent, dict):
        parent["extra_field"] = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
    elif op < 0.35 and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
        old = parent[key]
        parent[key] = [old + 1, old - 1, -old, old * 1000, old / 3][rng.integers(5)]
    else:
        parent[key] = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
    return join(header, data, meta)


def mutate_tensors(blob: bytes, rng: np.random.Generator) -> bytes:
    header, _, data = split(blob)
    names = [k for k in header if k != "__metadata__"]
    name = names[rng.integers(len(names))]
    spec = header[name]
    dtype = {"F32": "<f4", "F64": "<f8"}[spec["dtype"]]
    b, e = spec["data_offsets"]
    a = np.frombuffer(data[b:e], dtype=dtype).copy()
    value = [np.nan, np.inf, -np.inf, 1e30, -1e7, 0.0, -1.0, 1e-30][rng.integers(8)]
    a[rng.integers(a.size)] = value
    if rng.random() < 0.3:
        a[:] = value
    raw = bytearray(data)
    raw[b:e] = a.tobytes()
    n = struct.unpack("<Q", blob[:8])[0]
    return blob[:8 + n] + bytes(raw)


MUTATORS = {"bytes": mutate_bytes, "header": mutate_header, "metadata": mutate_metadata,
            "tensors": mutate_tensors}


# --- running ---------------------------------------------------------------------------------


def outcome(path: Path) -> str:
    """Load ``path`` and use the model as ``deepstep predict`` does; name what happened."""
    from deepstep import ModelFormatError, Network
    from deepstep.predictions import predictions

    try:
        net = Network.load(path)
    except ModelFormatError:
        return "ModelFormatError"
    except Exception as e:  # noqa: BLE001 - the point is to see every other kind
        return f"{type(e).__name__} on load"
    X = np.random.default_rng(1).normal(scale=3.0, size=(net.layer_dims[0], 7))
    try:
        with np.errstate(all="ignore"):
            values = [net.forward(X), net.predict(X)]  # A[L], and labels or values
            if net.task != "regression":
                values[1] = net.predict_proba(X)
            rows = predictions(net, X)
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__} in predict"
    ok = all(np.all(np.isfinite(v)) for v in values)
    ok = ok and all(p is None or math.isfinite(p) for _, p in rows)
    return "loaded, finite" if ok else "loaded, non-finite predictions"


def fuzz(n: int, seed: int, folder: Path) -> dict[str, dict[str, int]]:
    """Outcome counts per family of ``n`` mutations (in this process)."""
    rng = np.random.default_rng(seed)
    blobs = [p.read_bytes() for p in base_models(folder)]
    counts: dict[str, Counter[str]] = {f: Counter() for f in FAMILIES}
    target = folder / "mutant.safetensors"
    for i in range(n):
        family = FAMILIES[i % len(FAMILIES)]
        blob = MUTATORS[family](blobs[rng.integers(len(blobs))], rng)
        target.write_bytes(blob)
        counts[family][outcome(target)] += 1
    return {f: dict(c) for f, c in counts.items()}


def _status() -> dict[str, int]:
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS", "VmPeak"):
                fields[key] = int(rest.split()[0]) * 1024
    return fields


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so each file gets its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def measure(paths: list[Path]) -> list[dict[str, Any]]:
    """Outcome and peak resident memory above the resident memory just before, of loading
    each of ``paths`` in turn (the peak is reset between files)."""
    import gc

    import deepstep.predictions  # noqa: F401  - imports first, so the baseline includes them

    out = []
    for path in paths:
        gc.collect()
        if not _reset_peak() and out:
            raise RuntimeError("cannot reset VmHWM here: measure one file per child")
        before = _status()
        result = outcome(path)
        after = _status()
        out.append({"file": path.name, "bytes": path.stat().st_size, "outcome": result,
                    "peak_delta": after["VmHWM"] - before["VmRSS"]})
    return out


def in_child(args: list[str], limit_mb: int, timeout: float = 600) -> Any:
    """Run this script with ``args`` in a child limited to ``limit_mb`` of address space."""
    limit = limit_mb * 2**20

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                       preexec_fn=cap, env=env, timeout=timeout, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"child failed ({p.returncode}): {p.stderr[-2000:]}")
    return json.loads(p.stdout.splitlines()[-1])


# --- hostile files -----------------------------------------------------------------------------


def hostile_files(folder: Path, big: bool = True) -> dict[str, Path]:
    """Hand-made hostile files by name (with ``big``, two 48 MiB models first)."""
    from deepstep import Network

    files: dict[str, bytes] = {}
    blob = base_models(folder)[0].read_bytes()
    header, meta, data = split(blob)
    if big:  # a real-sized model (48 MiB of float32 weights), and the same with one NaN
        blob_big = Network([5000, 2500, 1], seed=0).save(folder / "big.safetensors").read_bytes()
        n = struct.unpack("<Q", blob_big[:8])[0]
        end = 8 + n + split(blob_big)[0]["W1"]["data_offsets"][1]
        files["big_valid"] = blob_big
        files["big_nan"] = blob_big[:end - 4] + struct.pack("<f", float("nan")) + blob_big[end:]
    # a header at the JSON value cap: 999,000 numbers "1.5" (parsed, then refused)
    files["header_1M_values"] = join(header, data, {**meta, "history": {"loss": [1.5] * 999_000}})
    # a header at the byte cap: 250 notes of 65,000 characters (16.25 MB), a bad seed
    notes = {**meta["training"], "notes": ["n" * 65_000] * 250}
    files["header_16MB_strings"] = join(header, data, {**meta, "training": notes, "seed": -1})
    # a tensor declared as 1e5 x 1e5 float32 (40 GB) in a file of a few kB
    files["declares_40GB"] = join({**header, "W1": {"dtype": "F32", "shape": [100_000, 100_000],
                                                    "data_offsets": [0, 4 * 10**10]}}, data)
    # layer_dims with a 1e9-unit layer and no data for it
    files["layer_1e9_units"] = join(header, data, {**meta, "layer_dims": [4, 10**9, 1]})
    # the header length: 2**64 - 1, and 100 MiB (over the cap)
    files["length_2**64-1"] = b"\xff" * 8 + blob[8:]
    files["length_100MiB"] = struct.pack("<Q", 100 * 2**20) + blob[8:]
    # 100,000 nested lists, and 100,001 empty lists in the metadata
    for name, text in (("nested_1e5", "[" * 100_000 + "]" * 100_000),
                       ("containers_1e5", "[" + "[]," * 100_000 + "[]]")):
        files[name] = join({**header, "__metadata__": {"deepstep": text}}, data)
    out = {}
    for name, content in files.items():
        out[name] = folder / f"{name}.safetensors"
        out[name].write_bytes(content)
    return out


def table(counts: dict[str, dict[str, int]]) -> str:
    outcomes = sorted({o for c in counts.values() for o in c}, key=lambda o: (o not in ALLOWED, o))
    rows = [["family", *outcomes, "total"]]
    for family, c in counts.items():
        rows.append([family, *(str(c.get(o, 0)) for o in outcomes), str(sum(c.values()))])
    rows.append(["all", *(str(sum(c.get(o, 0) for c in counts.values())) for o in outcomes),
                 str(sum(sum(c.values()) for c in counts.values()))])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |"
                     for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit-mb", type=int, default=1024)
    ap.add_argument("--child", choices=("fuzz", "measure"))
    ap.add_argument("--paths", nargs="*", default=[])
    ap.add_argument("--folder")
    args = ap.parse_args()
    if args.child == "fuzz":
        print(json.dumps(fuzz(args.n, args.seed, Path(args.folder))))
        return
    if args.child == "measure":
        print(json.dumps(measure([Path(p) for p in args.paths])))
        return
    with tempfile.TemporaryDirectory() as d:
        counts = in_child(["--child", "fuzz", "--n", str(args.n), "--seed", str(args.seed),
                           "--folder", d], args.limit_mb, timeout=3600)
        print(f"{args.n:,} mutations, seed {args.seed}, RLIMIT_AS {args.limit_mb} MiB\n")
        print(table(counts))
        print("\nhostile files (peak resident memory while loading, above the resident "
              "memory just before):")
        paths = [str(p) for p in hostile_files(Path(d)).values()]
        for r in in_child(["--child", "measure", "--paths", *paths], args.limit_mb):
            print(f"  {r['file']:34s} {r['bytes'] / 2**20:9.3f} MiB  {r['outcome']:16s} "
                  f"+{r['peak_delta'] / 2**20:7.1f} MiB  ({r['peak_delta'] / r['bytes']:.1f} x "
                  "the file)")


if __name__ == "__main__":
    main()
