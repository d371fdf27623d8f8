"""The model file: a :class:`deepstep.Network` in a safetensors container.

Tensors (``L`` layers, ``n = layer_dims``):

========================  ============  =====================  ===================================
name                      dtype         shape                  when
========================  ============  =====================  ===================================
``W1`` ... ``WL``         model dtype   (n[l], n[l-1])         always
``b1`` ... ``bL``         model dtype   (n[l], 1)              always
``pre.mean``, ``pre.std`` float64       (n[0], 1)              inputs standardised
``target.mean``, ``.std`` float64       (n[L], 1)              regression targets standardised
========================  ============  =====================  ===================================

Metadata (one JSON object, ``format`` "deepstep-model", ``format_version`` 2):
``deepstep_version``; ``layer_dims``; ``activations`` (one canonical name per layer);
``output`` ("auto" before training); ``loss``; ``init``; ``seed``; ``dtype``; ``task``;
``classes`` (``{"kind": "int" | "float" | "str" | "bool", "values": [...]}`` so labels come
back with their type, or null); ``preprocessing`` (the :class:`Preprocessor` state header or
null); ``target_scaling`` ("standardize" or null); ``training`` (``config_`` without the
data description); ``history`` (lists of numbers, NaN written as null); ``data`` (the
training data description ``predict`` reads inputs by, or null).

Every field is type- and range-checked on load (and on save, so whatever is saved loads):
see :data:`LIMITS`. A parameter beyond :data:`MAX_ABS_WEIGHT` is refused as damage rather than
loaded to overflow in ``predict``.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__, engine
from ..optim import OPTIMIZERS
from .container import (
    TensorSpec,
    as_format_error,
    read_tensors,
    to_json,
    write_tensors,
)
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

if TYPE_CHECKING:
    from ..model import Network

FORMAT = "deepstep-model"
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
_CLASS_KINDS: dict[str, tuple[type, Any]] = {
    "bool": (bool, np.bool_), "int": (int, np.int64), "float": (float, np.float64),
    "str": (str, np.str_),
}
_PREPROCESSOR = "deepstep.Preprocessor"


# --- saving ----------------------------------------------------------------------------------


def save_model(net: Network, path: str | os.PathLike[str]) -> Path:
    """Write ``net`` atomically to ``path`` (see the module docstring for the format).

    Raises ValueError, before anything is written, for a model that the loader would refuse
    (e.g. non-finite weights after a diverged run), naming the field.
    """
    tensors, metadata = model_state(net)
    try:
        meta = check_metadata(to_json(metadata), _specs_of(tensors))
        check_values(meta, tensors)
    except Invalid as e:
        raise ValueError(f"cannot save this model to {path}: {e}") from None
    return write_tensors(path, tensors, metadata, FORMAT)


def model_state(net: Network) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The tensors and the metadata (JSON-able) that describe ``net``."""
    tensors: dict[str, np.ndarray] = {k: np.asarray(v) for k, v in net.params.items()}
    pre_header = None
    if net.preprocessor is not None:
        if not hasattr(net.preprocessor, "to_state"):
            raise ValueError(f"cannot save a custom preprocessor "
                             f"({type(net.preprocessor).__name__}); use a mode name")
        pre_header, pre_arrays = net.preprocessor.to_state()
        tensors.update({f"pre.{k}": _column(v) for k, v in pre_arrays.items()})
    t_mean, t_std = getattr(net, "target_mean_", None), getattr(net, "target_std_", None)
    if t_mean is not None and t_std is not None:
        tensors.update({"target.mean": _column(t_mean), "target.std": _column(t_std)})
    training = dict(net.config_)
    data = training.pop("data", None)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "deepstep_version": __version__,
        "layer_dims": list(net.layer_dims),
        "activations": [a.name for a in net.activations],
        "output": net.output,
        "loss": net.loss.name,
        "init": net.init,
        "seed": net.seed,
        "dtype": net.dtype.name,
        "task": net.task,
        "classes": classes_to_json(net.classes_),
        "preprocessing": pre_header,
        "target_scaling": None if t_mean is None or t_std is None else "standardize",
        "training": training,
        "history": net.history_,
        "data": data,
    }
    return tensors, metadata


def _column(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).reshape(-1, 1)


def classes_to_json(classes: Any) -> dict[str, Any] | None:
    """``{"kind", "values"}`` for an array of class labels (bool, int, float or str).

    Examples
    --------
    >>> classes_to_json(np.array([3, 8]))
    {'kind': 'int', 'values': [3, 8]}
    >>> classes_to_json(np.array(["cat", "dog"], dtype=object))
    {'kind': 'str', 'values': ['cat', 'dog']}
    """
    if classes is None:
        return None
    values = np.asarray(classes).ravel().tolist()
    for kind, (py, _) in _CLASS_KINDS.items():
        if all(type(v) is py for v in values):
            return {"kind": kind, "values": values}
    kinds = sorted({type(v).__name__ for v in values})
    raise ValueError(f"cannot save class labels of types {kinds}: labels must all be bool, "
                     "int, float or str")


def _specs_of(tensors: Mapping[str, np.ndarray]) -> dict[str, TensorSpec]:
    return {k: TensorSpec(k, np.dtype(a.dtype), tuple(a.shape), 0, 0) for k, a in tensors.items()}


# --- loading ---------------------------------------------------------------------------------


def load_model(path: str | os.PathLike[str]) -> Network:
    """Read and validate a model file; returns a ready :class:`deepstep.Network`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ModelFormatError
        Anything else, naming the file and the field.
    """
    tensors, meta = read_tensors(path, FORMAT, check=check_metadata)
    with as_format_error(path, FORMAT):
        check_values(meta, tensors)
        return _build(meta, tensors)
    raise AssertionError("unreachable")  # pragma: no cover  (for type checkers)


def _build(meta: dict[str, Any], tensors: dict[str, np.ndarray]) -> Network:
    """The Network of checked metadata and tensors."""
    from ..data.preprocessing import Preprocessor
    from ..model import Network

    acts, output = meta["activations"], meta["output"]
    loss = meta["loss"]
    kwargs: dict[str, Any] = dict(
        hidden=acts[:-1], output=output, init=meta["init"], dtype=meta["dtype"],
        seed=meta["seed"], loss=None if loss == _default_loss(acts[-1]) else loss)
    if _takes_task(Network):  # the Network with task= (the lead's rewrite)
        kwargs["task"] = meta["task"]
    try:
        net = Network(meta["layer_dims"], **kwargs)
    except ValueError as e:  # every field was checked; this is a safety net
        raise Invalid("", f"cannot build the network ({e})") from None
    for key, value in net.params.items():
        np.copyto(value, tensors[key])  # params may be views into one flat buffer
    net.classes_ = meta["classes"]
    pre = meta["preprocessing"]
    net.preprocessor = None if pre is None else Preprocessor.from_state(
        pre, {k[4:]: v for k, v in tensors.items() if k.startswith("pre.")})
    scaled = meta["target_scaling"] is not None
    net.target_mean_ = tensors["target.mean"] if scaled else None  # type: ignore[attr-defined]
    net.target_std_ = tensors["target.std"] if scaled else None  # type: ignore[attr-defined]
    training = dict(meta["training"])
    if meta["data"] is not None:
        training["data"] = meta["data"]
    net.config_ = training
    net.history_ = meta["history"]
    if net.task != meta["task"]:
        raise Invalid("task", f"{meta['task']!r}, but the output {acts[-1]}, loss {loss} and "
                              f"classes make a {net.task!r} model")
    return net


@cache
def _takes_task(cls: type) -> bool:
    return "task" in inspect.signature(cls).parameters


def _default_loss(output: str) -> str:
    return engine.loss_for_output(output).name


# --- the schema --------------------------------------------------------------------------------


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
    }
    m = check_object(meta, "", fields, required=tuple(fields))
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
    c = check_object(value, field, {"kind": lambda v, f: check_choice(v, f, _CLASS_KINDS),
                                    "values": lambda v, f: v}, required=("kind", "values"))
    py, dtype = _CLASS_KINDS[c["kind"]]
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
        out[key] = [math.nan if v is None else _number(v, f"{f}[{i}]")
                    for i, v in enumerate(check_list(values, f, MAX_HISTORY))]
    return out


def _number(value: Any, field: str) -> int | float:
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

    return check_object(value, field, {
        "name": lambda v, f: check_string(v, f, 4096),
        "kind": lambda v, f: check_string(v, f, 64),
        "classes": names, "image_shape": image_shape,
        "value_max": lambda v, f: v if v is None else check_number(v, f, 0, MAX_ABS_STAT,
                                                                   strict_low=True),
    }, open_=True)


def _training(value: Any, field: str) -> dict[str, Any]:
    """``config_``: free-form JSON, with the fields that code reads back checked for type."""
    def pos(v: Any, f: str) -> int | None:
        return None if v is None else check_int(v, f, 1, 2**40)

    def notes(v: Any, f: str) -> list[str]:
        return [check_string(s, f"{f}[{i}]") for i, s in enumerate(check_list(v, f, 10_000))]

    def hyper(v: Any, f: str) -> dict[str, Any]:
        return check_object(v, f, {"preset": lambda p, g: p if p is None else
                                   check_string(p, g, 64)}, open_=True)

    return check_object(value, field, {
        "m": pos, "batch_size": pos, "notes": notes, "hyperparameters": hyper,
        "optimizer": lambda v, f: check_choice(v, f, OPTIMIZERS), "metrics": _metrics,
    }, open_=True)


def _metrics(value: Any, field: str) -> dict[str, Any]:
    """{split: {name: number}} plus, for several seeds, "seeds" and "mean" / "std" of the same
    shape (what :func:`deepstep.pipeline.summarise` writes; null comes back as NaN)."""
    def table(v: Any, f: str) -> dict[str, float]:
        if not isinstance(v, dict) or len(v) > 256:
            raise Invalid(f, "expected an object of at most 256 numbers")
        return {k: math.nan if x is None else check_number(x, f"{f}.{check_string(k, f, 64)}")
                for k, x in v.items()}

    if not isinstance(value, dict) or len(value) > 256:
        raise Invalid(field, "expected an object of at most 256 entries")
    out: dict[str, Any] = {}
    for key, v in value.items():
        f = f"{field}.{check_string(key, f'{field}{{key}}', 64)}"
        if key == "seeds":
            check_json(v, f, 2)
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
    expected = "sigmoid" if output == "auto" else output
    if acts[-1] != expected:
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
        cap = MAX_ABS_WEIGHT if name[0] in "Wb" else MAX_ABS_STAT
        if max(-lo, hi) > cap:
            raise Invalid(f"tensor {name}", f"holds {hi if hi > -lo else lo:g}; beyond "
                                            f"{cap:g} in absolute value, a sign of a damaged file")
