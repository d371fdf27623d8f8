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
data description); ``history`` (lists of numbers, NaN as ``{"$float": "NaN"}``); ``data`` (the
training data description ``predict`` reads inputs by, or null); ``train_state`` (optional:
what a later ``fit`` continues from: optimiser name and hyperparameters, step and epoch
counts, the shuffling and dropout generators' states; its arrays are the tensors
``opt.<slot>.<parameter>``, e.g. Adam's ``opt.v.W1`` and ``opt.s.W1``).

Every field is type- and range-checked on load, and on save, so whatever is saved loads
(:mod:`deepstep.io.model_schema`, caps in its ``LIMITS``). A parameter beyond
``MAX_ABS_WEIGHT`` (1e6) is refused as damage rather than loaded to overflow in ``predict``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__, engine
from .container import TensorSpec, as_format_error, read_tensors, to_json, write_tensors
from .model_schema import (
    CLASS_KINDS,
    FORMAT_VERSION,
    OPTIMIZER_SLOTS,
    check_metadata,
    check_values,
)
from .values import Invalid

if TYPE_CHECKING:
    from ..model import Network

FORMAT = "deepstep-model"


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
    t_mean, t_std = net.target_mean_, net.target_std_
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
        "train_state": _train_state(net, tensors),
    }
    return tensors, metadata


def _train_state(net: Network, tensors: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """What a later ``fit`` continues from (the optimiser's arrays go into ``tensors`` as
    ``opt.<slot>.<parameter>``), or None for a network never trained."""
    st = net.train_state_
    if st is None:
        return None
    for slot in OPTIMIZER_SLOTS[st.optimizer.name]:
        for key, value in st.opt_state[slot].items():
            tensors[f"opt.{slot}.{key}"] = np.array(value)
    return {"optimizer": st.optimizer.name, "hyper": dict(st.optimizer.hyper),
            "step": st.step, "epoch": st.epoch,
            "shuffle_rng": st.shuffle_rng.bit_generator.state,
            "dropout_rng": st.dropout_rng.bit_generator.state}


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
    for kind, (py, _) in CLASS_KINDS.items():
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
    try:
        net = Network(meta["layer_dims"], hidden=acts[:-1], output=output, init=meta["init"],
                      dtype=meta["dtype"], seed=meta["seed"], task=meta["task"],
                      loss=None if loss == _default_loss(acts[-1]) else loss)
    except ValueError as e:  # every field was checked; this is a safety net
        raise Invalid("", f"cannot build the network ({e})") from None
    for key, value in net.params.items():
        np.copyto(value, tensors[key])  # params may be views into one flat buffer
    net.classes_ = meta["classes"]
    pre = meta["preprocessing"]
    net.preprocessor = None if pre is None else Preprocessor.from_state(
        pre, {k[4:]: v for k, v in tensors.items() if k.startswith("pre.")})
    scaled = meta["target_scaling"] is not None
    net.target_mean_ = tensors["target.mean"] if scaled else None
    net.target_std_ = tensors["target.std"] if scaled else None
    training = dict(meta["training"])
    if meta["data"] is not None:
        training["data"] = meta["data"]
    net.config_ = training
    net.history_ = meta["history"]
    net.train_state_ = _load_train_state(meta["train_state"], tensors)
    if [a.name for a in net.activations] != acts:
        raise Invalid("activations", f"{acts}, but the output {output!r} and the task "
                                     f"{meta['task']!r} make {[a.name for a in net.activations]}")
    if net.task != meta["task"]:
        raise Invalid("task", f"{meta['task']!r}, but the output {acts[-1]}, loss {loss} and "
                              f"classes make a {net.task!r} model")
    return net


def _load_train_state(st: dict[str, Any] | None, tensors: dict[str, np.ndarray]) -> Any:
    from ..model import TrainState
    from ..optim import get_optimizer

    if st is None:
        return None
    opt = get_optimizer(st["optimizer"], **st["hyper"])
    state = {slot: {k[len(slot) + 5:]: v for k, v in tensors.items()
                    if k.startswith(f"opt.{slot}.")} for slot in OPTIMIZER_SLOTS[opt.name]}
    generators = []
    for name in ("shuffle_rng", "dropout_rng"):
        rng = np.random.default_rng()
        rng.bit_generator.state = st[name]
        generators.append(rng)
    return TrainState(opt, state, st["step"], st["epoch"], *generators)


def _default_loss(output: str) -> str:
    return engine.loss_for_output(output).name
