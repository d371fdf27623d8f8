"""Mini-batches from data that need not fit in memory: one batch (or one chunk) read at a time.

Every source, in memory or on disk, answers the same protocol so a training loop can take
either: ``n_x``, ``m``, ``classes``, ``image_shape``, ``labels()`` and
``batches(batch_size, rng=None)`` yielding ``(Xb (n_x, b) float, yb (b,))``.

Shuffle semantics (``rng`` given), stated honestly:

* ``"full"`` (in-memory data, image folders): one permutation of all m examples; every batch
  is a uniform random draw without replacement, as in the course's ``random_mini_batches``.
* ``"chunk"`` (h5 files): the examples are cut into contiguous chunks of about
  ``chunk_bytes`` (a multiple of ``batch_size`` examples); the chunk order is shuffled and
  the examples inside each chunk are permuted. A batch therefore mixes examples from one
  chunk only: when a file is sorted by class, a chunk smaller than a class gives batches
  that are not representative. Raise ``chunk_bytes`` (memory permitting) or shuffle the
  file once when writing it. Only the chunk holding the file's tail yields a short batch,
  wherever that chunk falls in the order.

Inside a batch the columns come in increasing index order (``"full"``) or permuted order
(``"chunk"``); a gradient step averages over the batch, so the order does not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .preprocessing import Preprocessor

Take = Callable[[Any], NDArray]
"""Reads the columns selected by a slice or a sorted index array: returns (n_x, k) raw."""

SHUFFLES = ("full", "chunk")


def task_of(classes: list[str] | None) -> str:
    """Name the task: "regression" (classes None), "binary" (<= 2 classes), "multiclass"."""
    if classes is None:
        return "regression"
    return "binary" if len(classes) <= 2 else "multiclass"


def iter_batches(
    take: Take,
    y: NDArray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    *,
    chunk: int | None = None,
    preprocessor: Preprocessor | None = None,
    dtype: DTypeLike = np.float64,
) -> Iterator[tuple[NDArray, NDArray]]:
    """Yield ``(Xb (n_x, b), yb (b,))`` over all m = len(y) examples once.

    Parameters
    ----------
    take : callable
        ``take(sel)`` returns the raw columns (n_x, k) selected by ``sel``, a ``slice`` of
        consecutive examples or a sorted int array (h5py needs increasing indices).
    y : ndarray of shape (m,)
        All labels (small enough to keep in memory).
    batch_size : int
    rng : numpy.random.Generator or None
        None gives consecutive batches in file order.
    chunk : int or None
        None: full shuffle, one random sorted index array per batch. An int: chunk shuffle,
        read ``chunk`` consecutive examples at a time (see the module docstring).
    preprocessor : Preprocessor or None
        Applied to each batch; without it the raw values are cast to ``dtype``.
    dtype : numpy float dtype

    Examples
    --------
    >>> X = np.arange(10).reshape(2, 5)
    >>> [yb.tolist() for _, yb in iter_batches(lambda s: X[:, s], np.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    bs, m = int(batch_size), len(y)

    def finish(Xb: NDArray) -> NDArray:
        if preprocessor is not None:
            return preprocessor.transform(Xb, dtype=dtype)
        return np.asarray(Xb, dtype=dtype)

    if rng is None:
        for s in range(0, m, bs):
            sel = slice(s, min(s + bs, m))
            yield finish(take(sel)), y[sel]
    elif chunk is None:
        perm = rng.permutation(m)
        for s in range(0, m, bs):
            idx = np.sort(perm[s : s + bs])
            yield finish(take(idx)), y[idx]
    else:
        for s in rng.permutation(np.arange(0, m, chunk)):
            sel = slice(int(s), min(int(s) + chunk, m))
            Xc, yc = take(sel), y[sel]
            p = rng.permutation(len(yc))
            for b in range(0, len(p), bs):
                idx = p[b : b + bs]
                yield finish(Xc[:, idx]), yc[idx]
            del Xc  # free this chunk before the next one is read: one chunk in memory, not two


class BatchSource:
    """Data read batch by batch from disk (or memory); the protocol a training loop takes.

    Parameters
    ----------
    open_take : callable
        ``open_take()`` returns a context manager giving a ``take`` reader (see
        ``iter_batches``); it is entered once per ``batches`` pass, so a file stays open for
        exactly one epoch.
    y : ndarray of shape (m,)
        All labels: int class indices, or float for regression.
    n_x : int
        Features per example.
    classes, image_shape, name, kind
        As in ``Dataset``.
    shuffle : {"full", "chunk"}
        How ``rng`` shuffles (module docstring).
    example_bytes : int
        Raw bytes per example, sizes the chunks of ``"chunk"`` shuffling.
    chunk_bytes : int
        Target raw bytes read at once when chunk-shuffling (default 64 MiB).
    preprocessor : Preprocessor or None
        Applied to every batch (attribute, may be set later).
    """

    def __init__(
        self,
        open_take: Callable[[], AbstractContextManager[Take]],
        y: NDArray,
        *,
        n_x: int,
        classes: list[str] | None,
        image_shape: tuple[int, int, int] | None = None,
        name: str = "",
        kind: str = "",
        shuffle: str = "full",
        example_bytes: int = 1,
        chunk_bytes: int = 64 * 2**20,
        preprocessor: Preprocessor | None = None,
    ) -> None:
        if shuffle not in SHUFFLES:
            raise ValueError(f"shuffle must be one of {SHUFFLES}, got {shuffle!r}")
        self._open_take, self._y = open_take, y
        self.n_x, self.m = int(n_x), int(len(y))
        self.classes, self.image_shape, self.name, self.kind = classes, image_shape, name, kind
        self.shuffle, self.example_bytes, self.chunk_bytes = shuffle, example_bytes, chunk_bytes
        self.preprocessor = preprocessor

    @classmethod
    def from_arrays(cls, X: NDArray, y: NDArray, **kwargs: Any) -> BatchSource:
        """Wrap in-memory arrays X (n_x, m) and y (m,) (full shuffle)."""
        return cls(
            lambda: nullcontext(lambda sel: X[:, sel]),
            y,
            n_x=X.shape[0],
            shuffle="full",
            example_bytes=X.shape[0] * X.itemsize,
            **kwargs,
        )

    @property
    def task(self) -> str:
        """The learning task: "binary", "multiclass" or "regression"."""
        return task_of(self.classes)

    def labels(self) -> NDArray:
        """All labels, shape (m,)."""
        return self._y

    def chunk_examples(self, batch_size: int) -> int:
        """Examples per chunk: a multiple of ``batch_size`` of about ``chunk_bytes`` raw bytes."""
        per_batch = max(1, int(batch_size)) * max(1, self.example_bytes)
        return max(1, self.chunk_bytes // per_batch) * max(1, int(batch_size))

    def batches(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        *,
        dtype: DTypeLike = np.float64,
    ) -> Iterator[tuple[NDArray, NDArray]]:
        """Yield ``(Xb (n_x, b) float, yb (b,))`` over one pass, reading one batch or chunk.

        Memory held: one batch (unshuffled or ``"full"``) or one chunk plus one batch
        (``"chunk"``). See the module docstring for what shuffling guarantees.
        """
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        chunk = self.chunk_examples(batch_size) if self.shuffle == "chunk" else None

        def run() -> Iterator[tuple[NDArray, NDArray]]:
            with self._open_take() as take:
                yield from iter_batches(
                    take,
                    self._y,
                    batch_size,
                    rng,
                    chunk=chunk,
                    preprocessor=self.preprocessor,
                    dtype=dtype,
                )

        return run()

    def __repr__(self) -> str:
        return (
            f"BatchSource(name={self.name!r}, kind={self.kind!r}, n_x={self.n_x}, m={self.m}, "
            f"task={self.task!r}, shuffle={self.shuffle!r})"
        )
