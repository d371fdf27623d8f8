"""Element-wise work on flat buffers, split across as many threads as the BLAS uses.

NumPy's element-wise loops run on one thread; BLAS products run on all of them. Once the
products are fast, a step's optimiser update (a dozen passes over every parameter) is a large
share of it. :func:`run_split` cuts the 1-D buffers of such an update into contiguous parts
and runs the same NumPy calls on each part in its own thread (NumPy releases the GIL inside
its loops). Every element goes through the same operations in the same order whatever the
split, so the result is bit for bit the one-thread result.

The thread count follows the BLAS's own (``threadpoolctl``: ``OMP_NUM_THREADS``,
``threadpool_limits``), so a run pinned to one thread stays on one thread; buffers under
:data:`MIN_PER_THREAD` elements per thread are not split (the hand-off would cost more than it
saves). ``DEEPSTEP_ELEMENTWISE_THREADS=1`` turns the split off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

MIN_PER_THREAD = 1 << 16
ALIGN = 16  # elements: each part starts on a 64-byte boundary (float32) of an aligned buffer

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_workers = 0
_blas: list[Any] | None = None


def blas_threads() -> int:
    """The number of threads the BLAS uses now (1 when it cannot be told)."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:  # threadpoolctl missing or unable to inspect: stay on one thread
            _blas = []
    return max([1, *(int(lib.num_threads) for lib in _blas)])


def threads_for(size: int) -> int:
    """Threads for an element-wise pass over ``size`` elements."""
    limit = os.environ.get("DEEPSTEP_ELEMENTWISE_THREADS")
    n = int(limit) if limit else blas_threads()
    return max(1, min(n, size // MIN_PER_THREAD, os.cpu_count() or 1))


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _workers
    with _lock:
        if _pool is None or _workers < workers:  # grows, never shrinks
            if _pool is not None:
                _pool.shutdown(wait=True)
            _pool = ThreadPoolExecutor(max_workers=workers,
                                       thread_name_prefix="deepstep-elementwise")
            _workers = workers
        return _pool


def run_split(fn: Callable[..., object], buffers: tuple[Array, ...], *args: Any) -> None:
    """``fn(*parts, *args)`` for aligned contiguous parts of the equal-sized 1-D ``buffers``.

    Parameters
    ----------
    fn : callable
        Element-wise work in place on its array arguments (the parts), e.g. an optimiser step.
    buffers : tuple of 1-D ndarray, all the same size
    *args : passed to every call after the parts (scalars)
    """
    size = buffers[0].size
    n = threads_for(size)
    if n == 1:
        fn(*buffers, *args)
        return
    step = -(-size // n // ALIGN) * ALIGN
    cuts = [(lo, min(lo + step, size)) for lo in range(0, size, step)]
    pool = _executor(len(cuts) - 1)
    futures = [pool.submit(fn, *(b[lo:hi] for b in buffers), *args) for lo, hi in cuts[1:]]
    lo, hi = cuts[0]
    try:
        fn(*(b[lo:hi] for b in buffers), *args)
    finally:
        for f in futures:
            f.result()
