"""The model file's schema: every metadata field and tensor of a "deepstep-model" file.

:func:`check_metadata` runs between the container's checks and the first allocation: it
type- and range-checks every field (known activation, loss and init names from the engine's
registries; finite numbers; bounded strings and lists), the cross-field rules (one activation
per layer, classes against the output size, the task) and the tensor specs against the layer
sizes. :func:`check_values` then checks the numbers themselves. Each failure is an
:class:`~deepstep.io.values.Invalid` naming the field. The caps are module constants,
collected in :data:`LIMITS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import engine
from ..optim import OPTIMIZERS
from .container import TensorSpec
from .values import (
    Invalid,
    check_choice,
    check_int,
    check_json,
    check_list,
    check_number,
    check_object,
    check_string,
)

FORMAT_VERSION = 2

#: Layers with weights (L) and units per layer. The real bound is the file: every declared
#: weight must be in it, so a layer of 1e9 units needs a file of 4 GB per input.
MAX_LAYERS = 1024
MAX_UNITS = 2**24
#: |W|, |b| above this are refused: trained weights are O(1) to O(100) (inputs and regression
#: targets are standardised), while a flipped exponent bit makes them 1e19 to 1e38 and the
#: forward pass overflow. Raise it here if a real model ever needs more.
MAX_ABS_WEIGHT = 1e6
#: |mean| and std of the input / target statistics (float32 overflows at 3.4e38).
MAX_ABS_STAT = 1e30
#: Smallest ``min_std`` of a Preprocessor (the floor under the stds it divides by).
MIN_STD_FLOOR = 1e-12
#: Epochs in each history list.
MAX_HISTORY = 100_000
#: Characters of one class name, and of all class names as one NumPy string array
#: (k x the longest name: 2**22 characters are a 16 MiB array).
MAX_CLASS_NAME = 256
MAX_CLASS_CHARS = 2**22

LIMITS = {
    "layers": MAX_LAYERS, "units": MAX_UNITS, "abs_weight": MAX_ABS_WEIGHT,
    "abs_stat": MAX_ABS_STAT, "min_std_floor": MIN_STD_FLOOR, "history": MAX_HISTORY,
    "class_name": MAX_CLASS_NAME, "class_chars": MAX_CLASS_CHARS,
}

TASKS = ("binary", "multiclass", "regression")
CLASS_KINDS: dict[str, tuple[type, Any]] = {
    "bool": (bool, np.bool_), "int": (int, np.int64), "float": (float, np.float64),
    "str": (str, np.str_),
}
_PREPROCESSOR = "deepstep.Preprocessor"


def check_metadata(meta: dict[str, Any], specs: Mapping[str, TensorSpec]) -> dict[str, Any]:
    """Check every metadata field and the tensor specs against them, before any tensor
    exists; returns the metadata with classes as an array and NaN back in the history.
    Raises :class:`Invalid` naming the field."""
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise Invalid("format_version", f"{version}: written by a newer deepstep; upgrade "
                                            f"deepstep (this one reads version {FORMAT_VERSION})")
        raise Invalid("format_version", f"{str(version)[:20]}; this deepstep reads version "
                                        f"{FORMAT_VERSION} only")
    fields: dict[str, Callable[[Any, str], Any]] = {
        "format": lambda v, f: v, "format_version": lambda v, f: v,
        "deepstep_version": lambda v, f: check_string(v, f, 64),
        "layer_dims": _layer_dims, "activations": _activations,
        "output": _output, "loss": lambda v, f: check_choice(v, f, engine.LOSSES),
        "init": lambda v, f: check_choice(v, f, engine.INITIALIZERS),
        "seed": _seed, "dtype": lambda v, f: check_choice(v, f, ("float32", "float64")),
        "task": lambda v, f: check_choice(v, f, TASKS),
        "classes": _classes, "preprocessing": _preprocessing,
        "target_scaling": lambda v, f: v if v is None else check_choice(v, f, ("standardize",)),
        "training": _training, "history": _history, "data": _data,
        "train_state": _train_state,
    }
    m = check_object(meta, "", fields, required=tuple(k for k in fields if k != "train_state"))
    m.setdefault("train_state", None)
    _consistent(m)
    _check_specs(m, specs)
    return m


def _layer_dims(value: Any, field: str) -> list[int]:
    dims = check_list(value, field, MAX_LAYERS + 1, 2)
    return [check_int(n, f"{field}[{i}]", 1, MAX_UNITS) for i, n in enumerate(dims)]


def _activations(value: Any, field: str) -> list[str]:
    names = check_list(value, field, MAX_LAYERS, 1)
    return [check_choice(a, f"{field}[{i}]", engine.ACTIVATIONS) for i, a in enumerate(names)]


def _output(value: Any, field: str) -> str:
    return value if value == "auto" else check_choice(value, field, engine.ACTIVATIONS)


def _seed(value: Any, field: str) -> int | None:
    return None if value is None else check_int(value, field, 0, 2**63 - 1)


def _classes(value: Any, field: str) -> np.ndarray | None:
    if value is None:
        return None
    c = check_object(value, field, {"kind": lambda v, f: check_choice(v, f, CLASS_KINDS),
                                    "values": lambda v, f: v}, required=("kind", "values"))
    py, dtype = CLASS_KINDS[c["kind"]]
    values = check_list(c["values"], f"{field}.values", MAX_UNITS, 2)
    for i, v in enumerate(values):
        f = f"{field}.values[{i}]"
        if type(v) is not py:
            raise Invalid(f, f"expected a {c['kind']} like the other labels, got {v!r:.40}")
        if py is str:
            check_string(v, f, MAX_CLASS_NAME)
        elif py is int:
            check_int(v, f, -(2**63), 2**63 - 1)
        elif py is float:
            check_number(v, f)
    if py is str and len(values) * max(map(len, values)) > MAX_CLASS_CHARS:
        raise Invalid(f"{field}.values", f"{len(values):,} names of up to "
                                         f"{max(map(len, values))} characters (at most "
                                         f"{MAX_CLASS_CHARS:,} as an array)")
    if any(not a < b for a, b in zip(values[:-1], values[1:], strict=True)):
        raise Invalid(f"{field}.values", "must be distinct and sorted (as fit stores them)")
    return np.array(values, dtype=dtype)


def _preprocessing(value: Any, field: str) -> dict[str, Any] | None:
    from ..data.preprocessing import MODES

    if value is None:
        return None
    return check_object(value, field, {
        "format": lambda v, f: check_choice(v, f, (_PREPROCESSOR,)),
        "version": lambda v, f: check_int(v, f, 1, 1),
        "mode": lambda v, f: check_choice(v, f, MODES),
        "min_std": lambda v, f: check_number(v, f, MIN_STD_FLOOR, 1.0),
        "n_seen": lambda v, f: check_int(v, f, 0, 2**63 - 1),
    }, required=("format", "version", "mode", "min_std", "n_seen"))


def _history(value: Any, field: str) -> dict[str, list[float]]:
    if not isinstance(value, dict) or len(value) > 64:
        raise Invalid(field, "expected an object of at most 64 lists")
    out = {}
    for key, values in value.items():
        f = f"{field}.{check_string(key, f'{field}{{key}}', 64)}"
        out[key] = [_number_or_nan(v, f"{f}[{i}]")
                    for i, v in enumerate(check_list(values, f, MAX_HISTORY))]
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) > 1:  # one entry per epoch in every list
        raise Invalid(field, f"lists of different lengths {lengths}")
    return out


def _number_or_nan(value: Any, field: str) -> int | float:
    """A finite number, or NaN (null is read as NaN too): a history or metrics entry."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    check_number(value, field)
    return value


def _data(value: Any, field: str) -> dict[str, Any] | None:
    if value is None:
        return None

    def names(v: Any, f: str) -> list[str] | None:
        if v is None:
            return None
        items = check_list(v, f, MAX_UNITS, 1)
        return [check_string(c, f"{f}[{i}]", MAX_CLASS_NAME) for i, c in enumerate(items)]

    def image_shape(v: Any, f: str) -> list[int] | None:
        if v is None:
            return None
        h, w, c = (check_int(n, f"{f}[{i}]", 1, MAX_UNITS) for i, n in
                   enumerate(check_list(v, f, 3, 3)))
        if c not in (1, 3):
            raise Invalid(f"{f}[2]", f"{c} channels (expected 1 or 3)")
        return [h, w, c]

    def features(v: Any, f: str) -> dict[str, Any] | None:
        if v is None:
            return None
        from ..data.features import Features

        try:
            return Features.from_dict(v, f).to_dict()
        except ValueError as e:
            raise Invalid(f, str(e).removeprefix(f"{f}: ")) from None

    return check_object(value, field, {
        "name": lambda v, f: check_string(v, f, 4096),
        "kind": lambda v, f: check_string(v, f, 64),
        "classes": names, "image_shape": image_shape, "features": features,
        "value_max": lambda v, f: v if v is None else check_number(v, f, 0, MAX_ABS_STAT,
                                                                   strict_low=True),
    }, open_=True, nan=True)


#: The optimiser state each optimiser keeps, one array per parameter in each slot.
OPTIMIZER_SLOTS = {"gd": (), "momentum": ("v",), "rmsprop": ("s",), "adam": ("v", "s")}
#: Optimiser hyperparameters: decay rates in [0, 1), eps in (0, 1].
_DECAYS = ("beta", "beta1", "beta2")


def _train_state(value: Any, field: str) -> dict[str, Any] | None:
    """What a later ``fit`` continues from: optimiser, its hyperparameters and slots, the
    step and epoch counts, and the two generators' states (numpy PCG64 state dicts)."""
    if value is None:
        return None

    def optimizer(v: Any, f: str) -> str:
        return check_choice(v, f, OPTIMIZERS)

    def decay(v: Any, f: str) -> float:
        x = check_number(v, f, 0.0, 1.0)
        if x == 1.0:
            raise Invalid(f, "1 (a decay rate must be below 1)")
        return x

    def hyper(v: Any, f: str) -> dict[str, float]:
        fields: dict[str, Callable[[Any, str], Any]] = {k: decay for k in _DECAYS}
        fields["eps"] = lambda x, g: check_number(x, g, 0.0, 1.0, strict_low=True)
        return check_object(v, f, fields)

    def generator(v: Any, f: str) -> dict[str, Any]:
        return check_object(v, f, {
            "bit_generator": lambda x, g: check_choice(x, g, ("PCG64",)),
            "state": lambda x, g: check_object(x, g, {
                "state": lambda y, h: check_int(y, h, 0, 2**128 - 1),
                "inc": lambda y, h: check_int(y, h, 0, 2**128 - 1)},
                required=("state", "inc")),
            "has_uint32": lambda x, g: check_int(x, g, 0, 1),
            "uinteger": lambda x, g: check_int(x, g, 0, 2**32 - 1),
        }, required=("bit_generator", "state", "has_uint32", "uinteger"))

    st = check_object(value, field, {
        "optimizer": optimizer, "hyper": hyper,
        "step": lambda v, f: check_int(v, f, 0, 2**62),
        "epoch": lambda v, f: check_int(v, f, 0, 2**40),
        "shuffle_rng": generator, "dropout_rng": generator,
    }, required=("optimizer", "hyper", "step", "epoch", "shuffle_rng", "dropout_rng"))
    known = engine_hyper(st["optimizer"])
    if set(st["hyper"]) != set(known):
        raise Invalid(f"{field}.hyper", f"{sorted(st['hyper'])}, but {st['optimizer']} takes "
                                        f"{sorted(known)}")
    return st


def engine_hyper(optimizer: str) -> dict[str, float]:
    """The hyperparameter names (with their defaults) of an optimiser."""
    return dict(OPTIMIZERS[optimizer]().hyper)


def _training(value: Any, field: str) -> dict[str, Any]:
    """``config_``: free-form JSON, with the fields that code reads back checked for type."""
    def pos(v: Any, f: str) -> int | None:
        return None if v is None else check_int(v, f, 1, 2**40)

    def notes(v: Any, f: str) -> list[str]:
        return [check_string(s, f"{f}[{i}]") for i, s in enumerate(check_list(v, f, 10_000))]

    def hyper(v: Any, f: str) -> dict[str, Any]:
        return check_object(v, f, {"preset": lambda p, g: p if p is None else
                                   check_string(p, g, 64)}, open_=True, nan=True)

    return check_object(value, field, {
        "m": pos, "batch_size": pos, "notes": notes, "hyperparameters": hyper,
        "optimizer": lambda v, f: check_choice(v, f, OPTIMIZERS), "metrics": _metrics,
    }, open_=True, nan=True)


def _metrics(value: Any, field: str) -> dict[str, Any]:
    """{split: {name: number}} plus, for several seeds, "seeds" and "mean" / "std" of the same
    shape (what :func:`deepstep.pipeline.summarise` writes; each number finite or NaN)."""
    def table(v: Any, f: str) -> dict[str, float]:
        if not isinstance(v, dict) or len(v) > 256:
            raise Invalid(f, "expected an object of at most 256 numbers")
        return {k: _number_or_nan(x, f"{f}.{check_string(k, f, 64)}")
                for k, x in v.items()}

    if not isinstance(value, dict) or len(value) > 256:
        raise Invalid(field, "expected an object of at most 256 entries")
    out: dict[str, Any] = {}
    for key, v in value.items():
        f = f"{field}.{check_string(key, f'{field}{{key}}', 64)}"
        if key == "seeds":
            check_json(v, f, 2, nan=True)
            out[key] = check_list(v, f, 100_000)
        elif key in ("mean", "std"):
            if not isinstance(v, dict):
                raise Invalid(f, f"expected an object, got {type(v).__name__}")
            out[key] = {s: table(t, f"{f}.{check_string(s, f, 64)}") for s, t in v.items()}
        else:
            out[key] = table(v, f)
    if ("mean" in out) != ("std" in out):
        raise Invalid(field, "has one of mean and std without the other")
    for stat in ("mean", "std"):
        for split, names in out.get(stat, {}).items():
            if split not in out or set(names) != set(out[split]):
                raise Invalid(f"{field}.{stat}.{split}", "does not match the split's metrics")
    return out


def _consistent(m: dict[str, Any]) -> None:
    """Cross-field rules: activations per layer, classes against the output, the task."""
    dims, acts, output = m["layer_dims"], m["activations"], m["output"]
    L, n_y = len(dims) - 1, dims[-1]
    if len(acts) != L:
        raise Invalid("activations", f"{len(acts)} names for {L} layers")
    if output != "auto" and acts[-1] != output:  # "auto": the Network decides (checked later)
        raise Invalid("activations", f"ends with {acts[-1]!r} but the output is {output!r}")
    if m["seed"] is not None and m["init"] in ("course", "course_app") and m["seed"] >= 2**32:
        raise Invalid("seed", f"{m['seed']} (the course initialisers take seeds < 2**32)")
    classes, task = m["classes"], m["task"]
    if classes is not None:
        k = classes.size
        if acts[-1] == "sigmoid" and (n_y != 1 or k != 2):
            raise Invalid("classes", f"{k} classes for a sigmoid output of {n_y} units "
                                     "(it needs 2 classes and 1 unit)")
        if acts[-1] != "sigmoid" and k != n_y:
            raise Invalid("classes", f"{k} classes for an output layer of {n_y} units")
        if task == "regression" or (task == "binary" and k != 2):
            raise Invalid("task", f"{task!r} with {k} classes")
    if task == "multiclass" and acts[-1] == "sigmoid":
        raise Invalid("task", "'multiclass' with a sigmoid output")
    if m["target_scaling"] is not None and task != "regression":
        raise Invalid("target_scaling", f"set for a {task} model (regression only)")
    data = m["data"]
    if data is not None:
        shape = data.get("image_shape")
        if shape is not None and math.prod(shape) != dims[0]:
            raise Invalid("data.image_shape", f"{shape} makes {math.prod(shape)} inputs, the "
                                              f"network takes {dims[0]}")
        names = data.get("classes")
        if names is not None and classes is not None and len(names) != classes.size:
            raise Invalid("data.classes", f"{len(names)} names for {classes.size} classes")
        features = data.get("features")
        if features is not None:
            from ..data.features import Features

            n = Features.from_dict(features).n_x
            if n != dims[0]:
                raise Invalid("data.features", f"describes {n} inputs, the network takes "
                                               f"{dims[0]}")


def _check_specs(m: dict[str, Any], specs: Mapping[str, TensorSpec]) -> None:
    """The tensors must be exactly the ones the metadata implies, in dtype and shape."""
    dims, dtype = m["layer_dims"], np.dtype(m["dtype"])
    want: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
    for l in range(1, len(dims)):
        want[f"W{l}"] = (dtype, (dims[l], dims[l - 1]))
        want[f"b{l}"] = (dtype, (dims[l], 1))
    pre = m["preprocessing"]
    if pre is not None and pre["mode"] == "standardize":
        f64 = np.dtype(np.float64)
        want.update({"pre.mean": (f64, (dims[0], 1)), "pre.std": (f64, (dims[0], 1))})
    if m["target_scaling"] is not None:
        f64 = np.dtype(np.float64)
        want.update({"target.mean": (f64, (dims[-1], 1)), "target.std": (f64, (dims[-1], 1))})
    if m["train_state"] is not None:  # one array per parameter in each optimiser slot
        params = {k: v for k, v in want.items() if k[0] in "Wb" and "." not in k}
        for slot in OPTIMIZER_SLOTS[m["train_state"]["optimizer"]]:
            want.update({f"opt.{slot}.{k}": v for k, v in params.items()})
    for name, (dt, shape) in want.items():
        spec = specs.get(name)
        if spec is None:
            raise Invalid(f"tensor {name}", f"missing (the metadata implies a {dt} "
                                            f"{shape} tensor)")
        if spec.dtype != dt or spec.shape != shape:
            raise Invalid(f"tensor {name}", f"{spec.dtype} {spec.shape}, expected {dt} {shape}")
    extra = sorted(set(specs) - set(want))
    if extra:
        raise Invalid(f"tensor {extra[0]}", "unexpected (not part of a deepstep model)")


def check_values(m: dict[str, Any], tensors: Mapping[str, np.ndarray]) -> None:
    """The numbers themselves: finite, weights within :data:`MAX_ABS_WEIGHT`, statistics
    within :data:`MAX_ABS_STAT`, stds >= ``min_std`` (> 0 for targets)."""
    for name, a in tensors.items():
        if a.size == 0:
            continue
        lo, hi = float(a.min()), float(a.max())  # NaN propagates; no |a| temporary
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise Invalid(f"tensor {name}", "holds NaN or infinite values")
        if name.endswith("std"):
            floor = m["preprocessing"]["min_std"] if name.startswith("pre.") else 0.0
            if lo < floor or (floor == 0.0 and lo <= 0):
                raise Invalid(f"tensor {name}", f"holds {lo:g}; a std must be "
                                                f"{'>= ' + format(floor, 'g') if floor else '> 0'}")
        cap = MAX_ABS_WEIGHT if name[0] in "Wb" or name.startswith("opt.") else MAX_ABS_STAT
        if max(-lo, hi) > cap:
            raise Invalid(f"tensor {name}", f"holds {hi if hi > -lo else lo:g}; beyond "
                                            f"{cap:g} in absolute value, a sign of a damaged file")
