"""Element-wise work split across threads: the same bits as one thread."""

from __future__ import annotations

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from deepstep import engine
from deepstep.engine import parallel
from deepstep.engine.step import train_step
from deepstep.optim import OPTIMIZERS, get_optimizer


def test_run_split_covers_every_element_once_in_aligned_parts(monkeypatch, rng):
    monkeypatch.setenv("DEEPSTEP_ELEMENTWISE_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_PER_THREAD", 10)
    a = np.zeros(1001)
    parts = []

    def mark(x, value):
        parts.append((x.size, x.ctypes.data))
        x += value

    parallel.run_split(mark, (a,), 1.0)
    np.testing.assert_array_equal(a, 1.0)
    assert len(parts) == min(3, os.cpu_count() or 1) and sum(n for n, _ in parts) == 1001
    starts = sorted(p for _, p in parts)
    assert all((p - a.ctypes.data) % (parallel.ALIGN * a.itemsize) == 0 for p in starts)


def test_thread_count_follows_the_blas_and_the_switch(monkeypatch):
    monkeypatch.delenv("DEEPSTEP_ELEMENTWISE_THREADS", raising=False)
    with threadpool_limits(limits=1):
        assert parallel.threads_for(10**8) == 1
    assert parallel.threads_for(parallel.MIN_PER_THREAD - 1) == 1
    monkeypatch.setenv("DEEPSTEP_ELEMENTWISE_THREADS", "1")
    assert parallel.threads_for(10**8) == 1


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_split_updates_are_bit_for_bit_the_one_thread_updates(name, monkeypatch, rng):
    monkeypatch.setattr(parallel, "MIN_PER_THREAD", 8)
    dims = [30, 20, 10, 3]
    start = engine.initialize(dims, "he", rng=rng, dtype=np.float32)
    X = rng.standard_normal((30, 40)).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[:, rng.integers(0, 3, 40)]
    acts, loss = engine.resolve_activations("relu", "softmax", 3), engine.get_loss("cce")
    results = []
    for threads in ("1", "2"):
        monkeypatch.setenv("DEEPSTEP_ELEMENTWISE_THREADS", threads)
        params, opt, ws = engine.flat.pack(start), get_optimizer(name), engine.Workspace()
        state = opt.init(params)
        for t in range(1, 6):
            train_step(X, Y, params, acts, loss, opt, state, 0.01, t, l2=0.1, workspace=ws)
        results.append(params.buffer.copy())
    assert results[0].tobytes() == results[1].tobytes()
