"""Safe model and checkpoint files: safetensors containers, every field checked on load.

Two layers:

- :mod:`deepstep.io.container`: any named tensors plus deepstep's JSON metadata in a
  safetensors file, for every ``kind`` of file (:func:`write_tensors` / :func:`read_tensors`);
  the reader checks sizes, dtypes, shapes and offsets against the file before it allocates;
- :mod:`deepstep.io.model_file` and :mod:`deepstep.io.model_schema`: the model on top
  (:func:`save_model` / :func:`load_model`, format "deepstep-model" version 2, every field
  checked; the caps in :data:`LIMITS`).

A checkpoint (or any other kind of file) reuses the container:
``write_tensors(path, tensors, metadata, "deepstep-checkpoint")`` and
``read_tensors(path, "deepstep-checkpoint", check=...)``, where ``check(metadata, specs)``
validates with the helpers of :mod:`deepstep.io.values` and raises
:class:`~deepstep.io.values.Invalid`; value checks after reading go inside
``with as_format_error(path, kind):``.

Nothing in a file can run code (no pickles, no eval) or make the reader allocate more than
a small multiple of the file's size; any problem is a :class:`ModelFormatError` (a
ValueError) naming the file and the field. A missing file is a FileNotFoundError.
"""

from .container import (
    MAX_HEADER_BYTES,
    MAX_TENSOR_BYTES,
    ModelFormatError,
    TensorSpec,
    as_format_error,
    read_tensors,
    write_tensors,
)
from .model_file import FORMAT, load_model, model_state, save_model
from .model_schema import FORMAT_VERSION, LIMITS
from .values import Invalid

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LIMITS",
    "MAX_HEADER_BYTES",
    "MAX_TENSOR_BYTES",
    "Invalid",
    "ModelFormatError",
    "TensorSpec",
    "as_format_error",
    "load_model",
    "model_state",
    "read_tensors",
    "save_model",
    "write_tensors",
]
