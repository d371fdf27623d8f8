"""SIGINT and SIGTERM during training: finish the batch, then stop cleanly.

A signal handler may run between any two bytecodes, in the middle of a parameter update;
stopping there would leave the weights and the optimiser state out of step. So while
training runs, the handlers only record the signal, and the loop looks at it after each
batch. A second SIGINT or SIGTERM (either, after either) does not wait: it raises
KeyboardInterrupt at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Received:
    """The signal received so far (``received`` is None until one arrives)."""

    def __init__(self) -> None:
        self.received: int | None = None


@contextmanager
def deferred_signals(enabled: bool = True) -> Iterator[Received]:
    """Record SIGINT / SIGTERM instead of acting on them, for the duration of the block.

    Only the main thread can install handlers; elsewhere (or with ``enabled`` False) the
    block runs with the handlers as they are and nothing is ever recorded.

    Examples
    --------
    >>> with deferred_signals() as flag:
    ...     signal.raise_signal(signal.SIGTERM)
    ...     flag.received == signal.SIGTERM
    True
    """
    flag = Received()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in SIGNALS}

    def record(signum: int, frame: Any) -> None:
        if flag.received is not None:  # the second time: stop now
            signal.signal(signum, previous[signum])
            raise KeyboardInterrupt
        flag.received = signum

    for s in SIGNALS:
        signal.signal(s, record)
    try:
        yield flag
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
