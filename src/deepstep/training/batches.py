"""Mini-batches for the training loop, in an order that a checkpoint can replay exactly.

An epoch's order is drawn from the shuffling Generator at the start of the epoch; a
checkpoint records that Generator's state at that moment and how many batches were done, so
a resumed run draws the same order and skips the batches already taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..engine.validation import check_X

Array = NDArray[np.floating]
#: One batch: X (n[0], b), Y (n[L], b), and the per-example weights (1, b) or None.
Batch = tuple[Array, Array, Array | None]


class BatchSource(Protocol):
    """Data that arrives in mini-batches (e.g. a streamed h5 file or image folder).

    ``batches`` yields (Xb of shape (n_x, b), yb of shape (b,)) already preprocessed.
    """

    n_x: int
    m: int

    def labels(self) -> NDArray:
        """All m labels, shape (m,)."""
        ...

    def batches(
        self, batch_size: int, rng: np.random.Generator | None = None, *, dtype: Any = ...
    ) -> Iterator[tuple[NDArray, NDArray]]:
        """Yield (Xb (n_x, b), yb (b,)) of ``dtype``; shuffled when ``rng`` is given."""
        ...


class ArrayBatches:
    """Mini-batches of in-memory arrays, shuffled each epoch (course 2, random_mini_batches).

    For mini-batches the examples are kept as rows of a C-ordered (m, n_x) array (X itself
    when X is already F-ordered, else one copy), so gathering a shuffled batch copies
    contiguous rows into the same buffers every step; the batch is handed to the engine as
    its (n_x, b) transpose view, an F-ordered array, the layout the engine's products run
    fastest on. A full batch is X itself.

    Parameters
    ----------
    X : ndarray of shape (n[0], m)
    Y : ndarray of shape (n[L], m)
    batch_size : int or None (full batch)
    weights : ndarray of shape (1, m), optional
        Per-example loss weights (mean 1), gathered with their examples.
    """

    def __init__(self, X: Array, Y: Array, batch_size: int | None,
                 weights: Array | None = None) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.X, self.Y, self.weights = X, Y, weights
        self.m = X.shape[1]
        self.full = batch_size is None or batch_size >= self.m
        self.batch_size = self.m if self.full else int(batch_size)  # type: ignore[arg-type]
        self._rows: list[NDArray] = [] if self.full else [
            np.ascontiguousarray(a.T) for a in (X, Y, weights) if a is not None]
        self._out: list[NDArray] = []

    def __len__(self) -> int:
        """Batches per epoch."""
        return -(-self.m // self.batch_size)

    def epoch(self, rng: np.random.Generator | None, skip: int = 0) -> Iterator[Batch]:
        """The epoch's batches after the first ``skip``; the order is drawn from ``rng``
        (consecutive when None) before anything is yielded."""
        if self.full:
            if skip == 0:
                yield self.X, self.Y, self.weights
            return
        order = np.arange(self.m) if rng is None else rng.permutation(self.m)
        for k in range(skip * self.batch_size, self.m, self.batch_size):
            idx = order[k:k + self.batch_size]
            out = self._buffers(idx.size)
            for rows, buf in zip(self._rows, out, strict=True):
                np.take(rows, idx, axis=0, out=buf, mode="clip")  # unbuffered: 2x faster
            yield out[0].T, out[1].T, (out[2].T if len(out) > 2 else None)

    def _buffers(self, b: int) -> list[NDArray]:
        if not self._out or self._out[0].shape[0] != b:
            self._out = [np.empty((b, r.shape[1]), r.dtype) for r in self._rows]
        return self._out


class StreamBatches:
    """Mini-batches from a :class:`BatchSource`, checked and encoded for the network.

    Parameters
    ----------
    source : BatchSource
    batch_size : int or None (None reads batches of 256)
    prepare : callable (Xb, yb) -> (Xb, Yb)
        Casts the inputs and encodes the labels as the network trains on them.
    n_x : int
    dtype : the network's dtype
    """

    def __init__(self, source: BatchSource, batch_size: int | None,
                 prepare: Callable[[NDArray, NDArray], tuple[Array, Array]], n_x: int,
                 dtype: Any) -> None:
        self.source, self.prepare, self.n_x, self.dtype = source, prepare, n_x, dtype
        self.batch_size = batch_size or 256
        self.m = source.m

    def __len__(self) -> int:
        """Batches per epoch (the tail chunk of a shuffled h5 file may add one)."""
        return -(-self.m // self.batch_size)

    def epoch(self, rng: np.random.Generator | None, skip: int = 0) -> Iterator[Batch]:
        """The epoch's batches after the first ``skip`` (read and dropped: a stream cannot
        seek)."""
        for k, (Xb, yb) in enumerate(self.source.batches(self.batch_size, rng,
                                                         dtype=self.dtype)):
            if k < skip:
                continue
            Xb = check_X(np.asarray(Xb), self.n_x).astype(self.dtype, copy=False)
            Xp, Yp = self.prepare(Xb, yb)
            yield Xp, Yp, None
