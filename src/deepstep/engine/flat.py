"""Flat storage: named arrays (W1, b1, ..., WL, bL) as views into one contiguous buffer.

A training step touches every parameter, gradient and optimiser moment once per update. Kept
as 2L separate arrays, each element-wise operation of the optimiser is 2L NumPy calls (an Adam
step was 72); kept as views into one buffer, it is one call over the buffer. The views are
ordinary C-ordered arrays of the usual shapes, so every other function keeps working on them.

:func:`pack` copies a parameter dict into a :class:`FlatParams` once (the training loop does
it before its first step). Gradients (the :class:`~deepstep.engine.network.Workspace` lays
them out with :meth:`FlatParams.zeros_like`) and optimiser state use the same
:class:`Layout`, so ``P -= lr * dP`` over the whole network is ``P.buffer -= lr * dP.buffer``.

Each view starts on a 64-byte boundary (a cache line); the few elements of padding between
views are zero and stay zero under every update (a zero gradient changes nothing).

Examples
--------
>>> params = pack({"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))})
>>> params["W1"].base is params.buffer.base, params.layout.offsets, params.buffer.size
(True, (0, 8), 16)
>>> params.buffer *= 2
>>> params["W1"][0]
array([2., 2., 2.])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

Array = NDArray[np.floating]

ALIGN_BYTES = 64


@dataclass(frozen=True)
class Layout:
    """Where each named array lives in a flat buffer.

    Attributes
    ----------
    keys : tuple of str, in storage order
    shapes : tuple of shape tuples, one per key
    offsets : tuple of int, the element offset of each array in the buffer
    size : int, elements in the buffer (the arrays plus the alignment padding)
    dtype : numpy dtype of the buffer
    """

    keys: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    size: int
    dtype: np.dtype

    @classmethod
    def of(cls, arrays: Mapping[str, Array], dtype: DTypeLike | None = None) -> Layout:
        """The layout holding ``arrays`` in their dict order, in ``dtype`` (default: theirs)."""
        if not arrays:
            raise ValueError("nothing to lay out: the dict of arrays is empty")
        dt = np.result_type(*arrays.values()) if dtype is None else np.dtype(dtype)
        step = max(1, ALIGN_BYTES // dt.itemsize)
        offsets, offset = [], 0
        for a in arrays.values():
            offsets.append(offset)
            offset += -(-np.size(a) // step) * step
        return cls(tuple(arrays), tuple(np.shape(a) for a in arrays.values()), tuple(offsets),
                   offset, dt)

    def renamed(self, prefix: str) -> Layout:
        """The same layout with every key prefixed ("W1" -> "dW1" for the gradients)."""
        return Layout(tuple(prefix + k for k in self.keys), self.shapes, self.offsets,
                      self.size, self.dtype)

    @cached_property
    def gradients(self) -> Layout:
        """The gradients' layout: the same places, keys "dW1", "db1", ... (made once)."""
        return self.renamed("d")


def _aligned_zeros(size: int, dtype: np.dtype) -> Array:
    """A zero-filled 1-D array of ``size`` elements whose data starts on a 64-byte boundary."""
    raw = np.zeros(size + ALIGN_BYTES // dtype.itemsize, dtype=dtype)
    start = (-raw.ctypes.data % ALIGN_BYTES) // dtype.itemsize
    return raw[start:start + size]


class FlatParams(dict):
    """A dict of named arrays that are views into one 1-D buffer (``.buffer``).

    It reads like the dict it replaces. Writing ``params[k] = value`` copies ``value`` into
    the existing view (the buffer must keep backing every entry, or updates made through the
    buffer would miss it); adding or removing keys is an error.

    Parameters
    ----------
    layout : Layout
    buffer : 1-D ndarray of ``layout.size`` elements, optional
        The storage (zero-filled and 64-byte aligned when omitted).
    """

    buffer: Array
    layout: Layout

    def __init__(self, layout: Layout, buffer: Array | None = None) -> None:
        if buffer is None:
            buffer = _aligned_zeros(layout.size, layout.dtype)
        elif buffer.shape != (layout.size,) or buffer.dtype != layout.dtype:
            raise ValueError(f"buffer is {buffer.dtype} {buffer.shape}; the layout needs "
                             f"{layout.dtype} ({layout.size},)")
        super().__init__(
            (k, buffer[o:o + _count(s)].reshape(s))
            for k, s, o in zip(layout.keys, layout.shapes, layout.offsets, strict=True))
        self.buffer = buffer
        self.layout = layout

    # -- building -------------------------------------------------------------------------

    def zeros_like(self, gradients: bool = False) -> FlatParams:
        """A zero FlatParams of the same layout (with ``gradients``, keys "dW1", "db1", ...)."""
        return FlatParams(self.layout.gradients if gradients else self.layout)

    # -- writes go into the buffer --------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self:
            raise KeyError(f"{key!r} is not in this FlatParams (keys: {list(self)}); its "
                           "layout is fixed: build a new one with engine.flat.pack")
        view = dict.__getitem__(self, key)
        value = np.asarray(value)
        if value.shape != view.shape:
            raise ValueError(f"{key} is {view.shape}; cannot write an array of shape "
                             f"{value.shape} into it")
        np.copyto(view, value, casting="same_kind")

    def update(self, other: Any = (), /, **kw: Any) -> None:  # type: ignore[override]
        """Copy each value into the view of its key (see ``__setitem__``)."""
        items = other.items() if isinstance(other, Mapping) else other
        for k, v in [*items, *kw.items()]:
            self[k] = v

    def setdefault(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """The view of ``key``; a missing key is an error (the layout is fixed)."""
        if key not in self:
            self[key] = default  # raises: the layout is fixed
        return self[key]

    def _fixed(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the keys of a FlatParams are fixed (its arrays are views into one "
                        "buffer); copy it into a plain dict first: dict(params)")

    __delitem__ = pop = popitem = clear = __ior__ = _fixed  # type: ignore[assignment]

    # -- copies keep the layout ------------------------------------------------------------

    def __copy__(self) -> FlatParams:
        """A shallow copy: the same buffer, the same views."""
        return FlatParams(self.layout, self.buffer)

    def __deepcopy__(self, memo: dict) -> FlatParams:
        return FlatParams(self.layout, self.buffer.copy())

    def __reduce__(self):
        return (FlatParams, (self.layout, self.buffer.copy()))

    def __repr__(self) -> str:
        return f"FlatParams({list(self)}, {self.layout.dtype.name}, {self.layout.size} elements)"


def _count(shape: Iterable[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def pack(arrays: Mapping[str, Array], dtype: DTypeLike | None = None) -> FlatParams:
    """Copy named arrays into one buffer; a FlatParams of the right dtype is returned as is.

    Parameters
    ----------
    arrays : dict of ndarray, e.g. W{l} of shape (n[l], n[l-1]) and b{l} of shape (n[l], 1)
    dtype : the buffer's dtype (default: the arrays' common dtype)

    Returns
    -------
    FlatParams
        The same keys, shapes and values, each a view into ``.buffer``.
    """
    if isinstance(arrays, FlatParams) and (dtype is None or arrays.layout.dtype == dtype):
        return arrays
    flat = FlatParams(Layout.of(arrays, dtype))
    for k, v in arrays.items():
        np.copyto(dict.__getitem__(flat, k), v, casting="same_kind")
    return flat


def flat_pair(params: Mapping[str, Array], grads: Mapping[str, Array]) -> bool:
    """True when parameters and gradients share one layout (the optimisers' fast path):
    both FlatParams, the gradients' keys the parameters' with a "d" in front, same places.
    """
    if not (isinstance(params, FlatParams) and isinstance(grads, FlatParams)):
        return False
    want = params.layout.gradients
    return grads.layout is want or grads.layout == want


def flat_like(params: FlatParams, arrays: Mapping[str, Array]) -> bool:
    """True when ``arrays`` (e.g. one optimiser moment) is a FlatParams of ``params``' layout."""
    return isinstance(arrays, FlatParams) and (arrays.layout is params.layout
                                               or arrays.layout == params.layout)
