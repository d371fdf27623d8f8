"""Checkpoints: everything the next step depends on, so a resumed run is bit for bit the run
that was not interrupted.

A checkpoint holds the parameters, the optimiser's state, the step and epoch counts, the
batch reached in the epoch in progress with the shuffling Generator's state at that epoch's
start (the resumed run draws the same order and skips the done batches), the dropout
Generator's state, the epoch's running sums, the history and the callbacks' state (early
stopping's best weights, ...), and the settings and data fingerprint it was written with
(a resume with other settings or other data is refused). It is written atomically in the
model files' safe container (:mod:`deepstep.io`), kind "deepstep-checkpoint".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import read_tensors, write_tensors

if TYPE_CHECKING:
    from .callbacks import Callback
    from .loop import Trainer

KIND = "deepstep-checkpoint"
VERSION = 1
#: fit settings that must be the same to resume (epochs may grow).
MUST_MATCH = ("batch_size", "optimizer", "optimizer_hyper", "learning_rate", "schedule",
              "l2", "dropout", "clip_norm", "early_stopping", "validation_split", "preprocess",
              "seed", "shuffle", "class_weight", "sample_weight", "data_fingerprint")


def _split(prefix: str, state: dict[str, Any], tensors: dict[str, np.ndarray]) -> Any:
    """Move the arrays of a nested dict into ``tensors`` (keys joined by "."), return the
    rest as JSON values with each array replaced by its tensor name."""
    out: dict[str, Any] = {}
    for key, value in state.items():
        name = f"{prefix}.{key}"
        if isinstance(value, np.ndarray):
            tensors[name] = np.ascontiguousarray(value)
            out[key] = {"tensor": name}
        elif isinstance(value, dict):
            out[key] = _split(name, value, tensors)
        else:
            out[key] = value
    return out


def _join(state: Any, tensors: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`_split`."""
    if isinstance(state, dict):
        if set(state) == {"tensor"}:
            return np.array(tensors[state["tensor"]])
        return {k: _join(v, tensors) for k, v in state.items()}
    return state


def save_checkpoint(path: str | Path, trainer: Trainer) -> Path:
    """Write ``trainer``'s whole state to ``path`` atomically."""
    net = trainer.net
    tensors: dict[str, np.ndarray] = {}
    meta = {
        "version": VERSION,
        "network": {"layer_dims": net.layer_dims,
                    "activations": [a.name for a in net.activations],
                    "dtype": net.dtype.name},
        "settings": {k: net.config_.get(k) for k in MUST_MATCH},
        "params": _split("param", dict(net.params), tensors),
        "optimizer": _split("opt", trainer.opt_state, tensors),
        "trainer": trainer.state(),
        "callbacks": [{"type": type(c).__name__, "state": _split(f"cb{i}", c.state(), tensors)}
                      for i, c in enumerate(trainer.callbacks)],
    }
    return write_tensors(path, tensors, meta, KIND)


def restore_checkpoint(path: str | Path, trainer: Trainer, callbacks: list[Callback]) -> None:
    """Put a checkpoint's state back into a freshly built ``trainer`` and its callbacks.

    Raises ValueError when the checkpoint was written for another network, other settings
    or other data, naming what differs.
    """
    path = Path(path)
    tensors, meta = read_tensors(path, KIND)
    net = trainer.net
    mine = {"layer_dims": net.layer_dims, "activations": [a.name for a in net.activations],
            "dtype": net.dtype.name}
    for key, value in mine.items():
        if meta["network"].get(key) != value:
            raise ValueError(f"{path} was written for a network with {key} "
                             f"{meta['network'].get(key)}, not {value}")
    for key in MUST_MATCH:
        theirs, ours = meta["settings"].get(key), net.config_.get(key)
        if _jsonish(theirs) != _jsonish(ours):
            what = "data" if key == "data_fingerprint" else f"{key} {theirs!r}"
            raise ValueError(f"{path} was written with {what}; this run has "
                             f"{'other data' if key == 'data_fingerprint' else repr(ours)}: "
                             "resume with the same data and settings")
    for key, value in _join(meta["params"], tensors).items():
        np.copyto(net.params[key], value)
    run_epochs = trainer.epochs - trainer.first_epoch
    trainer.opt_state = _restore_into(trainer.opt_state, _join(meta["optimizer"], tensors))
    trainer.load_state(meta["trainer"])
    trainer.epochs = max(trainer.first_epoch + run_epochs, trainer.epoch)
    pending = [(c["type"], c["state"]) for c in meta["callbacks"] if c["state"]]
    for kind, state in pending:
        target = next((c for c in callbacks if type(c).__name__ == kind
                       and not getattr(c, "_restored", False)), None)
        if target is not None:
            target.load_state(_join(state, tensors))
            target._restored = True  # type: ignore[attr-defined]


def _restore_into(current: Any, saved: Any) -> Any:
    """Copy saved optimiser arrays into the current state's arrays (kept, so any view of
    them stays valid), taking the saved values for everything else."""
    if isinstance(current, dict) and isinstance(saved, dict):
        return {k: _restore_into(current.get(k), v) for k, v in saved.items()}
    if isinstance(current, np.ndarray) and isinstance(saved, np.ndarray) \
            and current.shape == saved.shape:
        np.copyto(current, saved)
        return current
    return saved


def _jsonish(value: Any) -> Any:
    """Compare settings as they read back from JSON (tuples as lists, ints as floats)."""
    import json

    return json.loads(json.dumps(value, default=str))
