"""The safetensors container: named tensors plus deepstep's metadata, read with checks first.

A safetensors file (https://github.com/huggingface/safetensors) is::

    8 bytes    N, the header length, unsigned little-endian
    N bytes    a JSON object: {"__metadata__": {str: str}, name: {"dtype": "F32",
               "shape": [n, m], "data_offsets": [begin, end]}, ...}
    the rest   the tensors' bytes, little-endian, C order, tiling the buffer exactly

deepstep keeps its own metadata as ONE JSON string under ``__metadata__["deepstep"]``; its
``"format"`` field is the ``kind`` of file ("deepstep-model", "deepstep-checkpoint"), so a
checkpoint given where a model is expected gets a plain answer.

Reading never trusts the file: the header length is checked against :data:`MAX_HEADER_BYTES`
and the file size, exactly N bytes are read and parsed as bounded JSON, every tensor's dtype,
shape and offsets are checked against the buffer (they must tile it with no gap, overlap or
slack, so the tensors' total size *is* the file's size), the caller's schema check runs on
the specs and the metadata, and only then is each tensor allocated and filled with
``readinto`` from the file. So the arrays made are never larger than the file itself, and a
file that shrinks while it is read gives a short read (an error), not a SIGBUS as a memory
map would. Writing uses the reference implementation (``safetensors.numpy.save``), so any
safetensors reader can open deepstep's files.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..files import atomic_write
from .values import (
    FLOAT_TAG,
    Invalid,
    check_int,
    check_json,
    check_list,
    check_string,
    parse_json,
    tag_nonfinite,
)

#: The header (JSON) may hold at most 16 MiB: safetensors itself allows 100 MB, but deepstep's
#: metadata is a few kB to a few MB (a history of 100,000 epochs), and parsing hostile JSON
#: costs a few times its size in memory.
MAX_HEADER_BYTES = 16 * 2**20
#: Tensors in one file (a model has 2 L + 4, a checkpoint about 6 L + 4).
MAX_TENSORS = 4096
#: Dimensions of one tensor.
MAX_NDIM = 8
#: Default cap on the bytes of all tensors of one file (16 GiB); the file size is the other.
MAX_TENSOR_BYTES = 2**34
#: The ``__metadata__`` key that holds deepstep's JSON.
METADATA_KEY = "deepstep"

#: safetensors dtype name -> NumPy dtype (little-endian). BF16 and the F8 types have no NumPy
#: equivalent and are refused.
DTYPES: dict[str, np.dtype] = {
    name: np.dtype(code) for name, code in (
        ("F16", "<f2"), ("F32", "<f4"), ("F64", "<f8"), ("I8", "i1"), ("I16", "<i2"),
        ("I32", "<i4"), ("I64", "<i8"), ("U8", "u1"), ("U16", "<u2"), ("U32", "<u4"),
        ("U64", "<u8"), ("BOOL", "?"))
}

# A few formats someone might hand us instead, recognised by their first bytes.
_MAGIC = (
    (b"PK\x03\x04", "a zip archive (a deepstep 0.1 .npz model, or a PyTorch .pt file?); "
                    "this deepstep reads only .safetensors model files, so retrain the model "
                    "to get a model.safetensors"),
    (b"PK\x05\x06", "an empty zip archive, not a safetensors file"),
    (b"\x93NUMPY", "a NumPy .npy array, not a safetensors file"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a data set?), not a model; give a .safetensors file"),
)
_NOUNS = {"deepstep-model": "deepstep model file", "deepstep-checkpoint": "deepstep checkpoint"}


class ModelFormatError(ValueError):
    """The file is not a valid deepstep file of the kind asked for; names the file and field.

    Attributes
    ----------
    path : Path
    field : str or None
        The offending field (``"layer_dims[1]"``, ``"tensor W1"``, ``"header length"``).
    """

    def __init__(self, path: str | os.PathLike[str], why: str, field: str | None = None,
                 kind: str = "deepstep-model") -> None:
        self.path, self.field, self.why = Path(path), field, why
        noun = _NOUNS.get(kind, f"{kind} file")
        super().__init__(f"{path} is not a valid {noun}: {f'{field}: ' if field else ''}{why}")


@contextmanager
def as_format_error(path: str | os.PathLike[str], kind: str) -> Iterator[None]:
    """Turn an :class:`Invalid` raised by a schema check into a :class:`ModelFormatError`."""
    try:
        yield
    except Invalid as e:
        raise ModelFormatError(path, e.why, e.field or None, kind) from None


@dataclass(frozen=True)
class TensorSpec:
    """One tensor as the header declares it (checked against the buffer)."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


# --- writing ---------------------------------------------------------------------------------


def to_json(value: Any, field: str = "") -> Any:
    """``value`` as the types JSON holds: NumPy scalars and arrays become numbers and lists,
    tuples lists (non-finite floats stay floats: the writer tags them, see
    :mod:`deepstep.io.values`). Anything else raises ValueError naming the field.
    """
    if isinstance(value, dict):
        if FLOAT_TAG in value:
            raise ValueError(f"cannot save {field or 'the metadata'}: the key {FLOAT_TAG!r} is "
                             "reserved")
        return {str(k): to_json(v, f"{field}.{k}" if field else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v, f"{field}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist(), field)
    if isinstance(value, np.generic):
        return to_json(value.item(), field)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"cannot save {field or 'the metadata'}: a {type(value).__name__} is not "
                     "JSON (use numbers, strings, lists and dicts)")


def encode_metadata(metadata: Mapping[str, Any], kind: str) -> str:
    """The metadata JSON text of a file of ``kind``, checked against the readers' caps, so
    that anything written can be read back (a ValueError names the field otherwise)."""
    if metadata.get("format", kind) != kind:
        raise ValueError(f"metadata format {metadata['format']!r} differs from kind {kind!r}")
    text = json.dumps(tag_nonfinite({"format": kind, **to_json(dict(metadata))}),
                      allow_nan=False, separators=(",", ":"))
    try:
        check_json(parse_json(text, "metadata"), "", nan=True, inf=True)
    except Invalid as e:
        raise ValueError(f"cannot save: {e}") from None
    return text


def write_tensors(path: str | os.PathLike[str], tensors: Mapping[str, np.ndarray],
                  metadata: Mapping[str, Any], kind: str) -> Path:
    """Write ``tensors`` and ``metadata`` (JSON-able) atomically as a safetensors file.

    Parameters
    ----------
    path : path-like
    tensors : mapping of str to ndarray
        Any shapes; dtypes among :data:`DTYPES` (float16/32/64, (u)int8-64, bool).
    metadata : mapping
        Stored as one JSON string under ``__metadata__["deepstep"]`` with ``"format": kind``.
    kind : str
        "deepstep-model", "deepstep-checkpoint", ...

    Returns
    -------
    Path
    """
    from safetensors.numpy import save

    allowed = list(DTYPES.values())
    arrays = {}
    for name, a in tensors.items():
        check_string(name, "tensor name", 256)
        a = np.asarray(a)
        if name == "__metadata__" or a.dtype.newbyteorder("<") not in allowed:
            raise ValueError(f"cannot save tensor {name!r} of dtype {a.dtype}")
        # safetensors takes the raw buffer as is (np.ascontiguousarray would make 0-d 1-d)
        arrays[name] = a if a.flags.c_contiguous else a.copy(order="C")
    blob = save(arrays, metadata={METADATA_KEY: encode_metadata(metadata, kind)})
    header_len = int.from_bytes(blob[:8], "little")
    if header_len > MAX_HEADER_BYTES:
        raise ValueError(f"cannot save: the header would be {header_len:,} bytes "
                         f"(at most {MAX_HEADER_BYTES:,}); shorten the history or the notes")
    return atomic_write(path, blob)


# --- reading ---------------------------------------------------------------------------------


Check = Callable[[dict[str, Any], dict[str, TensorSpec]], Any]


def read_tensors(path: str | os.PathLike[str], kind: str, *, check: Check | None = None,
                 max_bytes: int = MAX_TENSOR_BYTES) -> tuple[dict[str, np.ndarray], Any]:
    """Read a file written by :func:`write_tensors`, checking everything before allocating.

    Parameters
    ----------
    path : path-like
    kind : str
        The expected ``"format"`` of the metadata.
    check : callable, optional
        ``check(metadata, specs)`` runs after the container checks and before any tensor is
        allocated; it validates the metadata (dict) against the tensor specs (name ->
        :class:`TensorSpec`), raises :class:`~deepstep.io.values.Invalid` naming the field,
        and returns the metadata to hand back (e.g. converted). Without it the metadata
        only gets the generic checks (bounded numbers, strings and nesting).
    max_bytes : int
        Cap on the bytes of all tensors (the file size is the other cap).

    Returns
    -------
    tensors : dict of str to ndarray
        Native byte order, writable, C order.
    metadata : the value ``check`` returned, or the metadata dict.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ModelFormatError
        Anything else about the file, naming the file and the field.
    """
    path = Path(path)
    with as_format_error(path, kind), _open_regular(path, kind) as (f, size):
        header_len, header = _read_header(f, size)
        metadata = _metadata(header.pop("__metadata__", None), kind)
        specs = _specs(header, size - 8 - header_len, max_bytes)
        if check is None:
            check_json(metadata, "", nan=True, inf=True)
        else:
            metadata = check(metadata, specs)
        return _materialise(f, 8 + header_len, specs), metadata
    raise AssertionError("unreachable")  # pragma: no cover  (for type checkers)


@contextmanager
def _open_regular(path: Path, kind: str) -> Iterator[tuple[BinaryIO, int]]:
    """The open file and its size; a folder, FIFO or device is refused before it is opened
    (opening a FIFO would block), and once more after (in case it was swapped)."""
    noun = _NOUNS.get(kind, f"{kind} file")
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"{noun} not found: {path}") from None
    if stat.S_ISDIR(st.st_mode):
        inside = sorted(p.name for p in itertools.islice(path.glob("*.safetensors"), 3))
        hint = f"; give the file inside it ({', '.join(inside)})" if inside else ""
        raise Invalid("", f"it is a folder, not a file{hint}")
    if not stat.S_ISREG(st.st_mode):
        raise Invalid("", "not a regular file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb", buffering=0) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise Invalid("", "not a regular file")
        yield f, st.st_size  # type: ignore[misc]


def _read_into(f: BinaryIO, buf: memoryview, field: str) -> None:
    """Fill ``buf`` from ``f`` (a raw file may return less than asked: loop until EOF)."""
    got = 0
    while got < len(buf):
        n = f.readinto(buf[got:])  # type: ignore[attr-defined]
        if not n:
            raise Invalid(field, f"the file ended after {got:,} of {len(buf):,} bytes "
                                 "(truncated?)")
        got += n


def _read_exact(f: BinaryIO, n: int, field: str) -> bytes:
    buf = bytearray(n)
    _read_into(f, memoryview(buf), field)
    return bytes(buf)


def _read_header(f: BinaryIO, size: int) -> tuple[int, dict[str, Any]]:
    if size == 0:
        raise Invalid("", "the file is empty (0 bytes)")
    if size < 8:
        raise Invalid("", f"only {size} bytes; a safetensors file starts with an 8-byte "
                          "header length")
    first = _read_exact(f, 8, "header length")
    n = int.from_bytes(first, "little")
    if not 2 <= n <= min(MAX_HEADER_BYTES, size - 8):  # not a safetensors file: say what it is
        for magic, what in _MAGIC:
            if first.startswith(magic):
                raise Invalid("", f"it is {what}")
        if first[0] == 0x80 and 2 <= first[1] <= 5:
            raise Invalid("", "it is a Python pickle, which deepstep never loads (it could "
                              "run code); give a .safetensors file")
    if n > MAX_HEADER_BYTES:
        raise Invalid("header length", f"declares {n:,} bytes (at most {MAX_HEADER_BYTES:,}); "
                                       "this is not a deepstep file, or it is damaged")
    if n > size - 8:
        raise Invalid("header length", f"declares {n:,} bytes but only {size - 8:,} follow "
                                       "(truncated?)")
    raw = _read_exact(f, n, "header")
    if not raw.startswith(b"{"):
        raise Invalid("header", "does not start with '{' (not a safetensors file)")
    header = parse_json(raw, "header")
    if not isinstance(header, dict):
        raise Invalid("header", "not a JSON object")
    return n, header


def _metadata(meta: Any, kind: str) -> dict[str, Any]:
    if meta is None:
        raise Invalid("header.__metadata__", "missing: a safetensors file, but not one "
                                             "written by deepstep")
    if not isinstance(meta, dict):
        raise Invalid("header.__metadata__", "must be an object of strings")
    for key, value in meta.items():
        check_string(key, "header.__metadata__{key}", 256)
        if not isinstance(value, str):
            raise Invalid(f"header.__metadata__.{key}", "must be a string")
    if METADATA_KEY not in meta:
        raise Invalid(f"header.__metadata__.{METADATA_KEY}", "missing: a safetensors file, "
                                                             "but not one written by deepstep")
    metadata = parse_json(meta[METADATA_KEY], "metadata")
    if not isinstance(metadata, dict):
        raise Invalid("metadata", "not a JSON object")
    found = metadata.get("format")
    if found != kind:
        if isinstance(found, str) and found.startswith("deepstep-") and len(found) < 64:
            raise Invalid("format", f"this is a {found} file, not a {kind} file")
        raise Invalid("format", f"expected {kind!r}, got {str(found)[:64]!r}")
    return metadata


def _specs(header: dict[str, Any], buffer: int, max_bytes: int) -> dict[str, TensorSpec]:
    if len(header) > MAX_TENSORS:
        raise Invalid("header", f"{len(header):,} tensors (at most {MAX_TENSORS:,})")
    specs = {}
    for name, entry in header.items():
        field = f"tensor {check_string(name, 'tensor name', 256)}"
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise Invalid(field, "must be an object with exactly dtype, shape, data_offsets")
        dtype = entry["dtype"]
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise Invalid(f"{field}.dtype", f"{str(dtype)[:20]!r} is not one of "
                                            f"{', '.join(DTYPES)}")
        shape = tuple(check_int(n, f"{field}.shape[{i}]", 0, 2**40) for i, n in
                      enumerate(check_list(entry["shape"], f"{field}.shape", MAX_NDIM)))
        begin, end = (check_int(v, f"{field}.data_offsets[{i}]", 0, 2**62) for i, v in
                      enumerate(check_list(entry["data_offsets"], f"{field}.data_offsets", 2, 2)))
        nbytes = math.prod(shape) * DTYPES[dtype].itemsize
        if end - begin != nbytes:
            raise Invalid(f"{field}.data_offsets", f"[{begin}, {end}] holds {end - begin:,} "
                                                   f"bytes, the shape {list(shape)} needs "
                                                   f"{nbytes:,}")
        specs[name] = TensorSpec(name, DTYPES[dtype], shape, begin, end)
    at = 0
    for spec in sorted(specs.values(), key=lambda s: (s.begin, s.end)):
        if spec.begin != at:
            raise Invalid(f"tensor {spec.name}.data_offsets", f"starts at byte {spec.begin:,}, "
                          f"expected {at:,} (tensors must tile the data without gaps or overlaps)")
        at = spec.end
    if at != buffer:
        raise Invalid("tensors", f"cover {at:,} bytes but the file holds {buffer:,} bytes of "
                                 "data (truncated or padded?)")
    if at > max_bytes:
        raise Invalid("tensors", f"{at:,} bytes in all (at most {max_bytes:,})")
    return specs


def _materialise(f: BinaryIO, start: int, specs: Mapping[str, TensorSpec]
                 ) -> dict[str, np.ndarray]:
    out = {}
    for spec in sorted(specs.values(), key=lambda s: s.begin):
        a = np.empty(spec.shape, dtype=spec.dtype)
        if a.nbytes:
            f.seek(start + spec.begin)
            buf = memoryview(a.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
            _read_into(f, buf, f"tensor {spec.name}")
        if a.dtype == np.bool_ and a.view(np.uint8).max(initial=0) > 1:
            raise Invalid(f"tensor {spec.name}", "a BOOL tensor holds bytes other than 0 and 1")
        out[spec.name] = a.astype(a.dtype.newbyteorder("="), copy=False)
    return out
