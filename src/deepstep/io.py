"""Safe save and load of a :class:`deepstep.Network`.

The file is a NumPy ``.npz`` archive read with ``allow_pickle=False`` (it can hold only plain
arrays, so loading never executes code). It contains:

- ``header.json``: UTF-8 JSON as a uint8 array: format name and version, layer sizes,
  activation and loss names (checked against the registries on load), dtype, classes,
  preprocessing description, training config, deepstep version;
- ``W1``, ``b1``, ..., ``WL``, ``bL``: the weights;
- ``pre.<name>``: the preprocessing arrays (e.g. training mean and std).

Files are written atomically: to a temporary file in the same folder, flushed and fsynced,
then renamed over the target with ``os.replace``, so an existing model is never left
half-written.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__, engine
from .files import atomic_write
from .files import jsonable as _jsonable

if TYPE_CHECKING:
    from .model import Network

FORMAT = "deepstep-model"
FORMAT_VERSION = 1
HEADER = "header.json"


class ModelFormatError(ValueError):
    """The file is not a deepstep model, or one of its fields is invalid."""


def save_model(net: Network, path: str | Path) -> Path:
    """Write ``net`` to ``path`` (see the module docstring for the format)."""
    arrays: dict[str, np.ndarray] = {k: np.asarray(v) for k, v in net.params.items()}
    pre_header = None
    if net.preprocessor is not None:
        pre_header, pre_arrays = net.preprocessor.to_state()
        arrays.update({f"pre.{k}": np.asarray(v) for k, v in pre_arrays.items()})
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "deepstep_version": __version__,
        "layer_dims": net.layer_dims,
        "activations": [a.name for a in net.activations],
        "output": net.output,
        "loss": net.loss.name,
        "init": net.init,
        "seed": net.seed,
        "dtype": net.dtype.name,
        "classes": None if net.classes_ is None else _jsonable(net.classes_),
        "preprocessing": pre_header,
        "training": _jsonable(net.config_),
        "history": _jsonable(net.history_),
    }
    blob = json.dumps(header, allow_nan=True).encode("utf-8")
    arrays[HEADER] = np.frombuffer(blob, dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def _fail(path: Path, why: str) -> ModelFormatError:
    return ModelFormatError(f"{path} is not a valid deepstep model: {why}")


def read_header(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The validated header and the arrays of a model file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise _fail(path, "cannot read it as an .npz archive (give a file written by "
                          "Network.save or deepstep train)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as e:
        why = "it holds pickled objects, which deepstep never loads" if "pickle" in str(e) \
            else f"cannot read it as an .npz archive ({e})"
        raise _fail(path, why) from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise _fail(path, f"cannot read it as an .npz archive ({e})") from None
    if HEADER not in arrays:
        raise _fail(path, "no header.json inside (was it written by Network.save?)")
    try:
        header = json.loads(arrays.pop(HEADER).astype(np.uint8).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(path, f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _fail(path, f"the header's format is not {FORMAT!r}")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise _fail(path, f"format version {version!r}; this deepstep reads {FORMAT_VERSION}")
    return header, arrays


def load_model(path: str | Path) -> Network:
    """Read and validate a model file; returns a ready :class:`deepstep.Network`."""
    from .model import Network

    path = Path(path)
    header, arrays = read_header(path)
    try:
        dims = engine.initializers.validate_layer_dims(header["layer_dims"])
        acts = [engine.get_activation(a).name for a in header["activations"]]
        loss = engine.get_loss(header["loss"]).name
        dtype = np.dtype(header["dtype"])
    except (KeyError, TypeError, ValueError) as e:
        raise _fail(path, f"bad header field ({e})") from None
    L = len(dims) - 1
    if len(acts) != L:
        raise _fail(path, f"{len(acts)} activations for {L} layers")
    if dtype not in (np.float32, np.float64):
        raise _fail(path, f"dtype {dtype} (expected float32 or float64)")
    params = {}
    for l in range(1, L + 1):
        for key, shape in ((f"W{l}", (dims[l], dims[l - 1])), (f"b{l}", (dims[l], 1))):
            a = arrays.get(key)
            if a is None:
                raise _fail(path, f"missing array {key}")
            if a.shape != shape or a.dtype != dtype:
                raise _fail(path, f"{key} is {a.shape} {a.dtype}, expected {shape} {dtype}")
            if not np.all(np.isfinite(a)):
                raise _fail(path, f"{key} holds non-finite values")
            params[key] = a
    extra = set(arrays) - set(params) - {k for k in arrays if k.startswith("pre.")}
    if extra:
        raise _fail(path, f"unexpected arrays {sorted(extra)}")

    net = Network(dims, hidden=acts[:-1], output=acts[-1], init=str(header.get("init", "he")),
                  dtype=dtype.name, seed=int(header.get("seed") or 0), loss=loss)
    net.params = params
    classes = header.get("classes")
    if classes is not None:
        if not isinstance(classes, list) or not classes:
            raise _fail(path, "classes must be a non-empty list")
        net.classes_ = np.asarray(classes)
    pre = header.get("preprocessing")
    if pre is not None:
        from .data.preprocessing import Preprocessor

        pre_arrays = {k[4:]: v for k, v in arrays.items() if k.startswith("pre.")}
        try:
            net.preprocessor = Preprocessor.from_state(pre, pre_arrays)
        except (KeyError, TypeError, ValueError) as e:
            raise _fail(path, f"bad preprocessing ({e})") from None
    net.config_ = header.get("training") or {}
    net.history_ = header.get("history") or {}
    return net
