"""Learning-rate schedules: ``schedule(epoch) -> learning rate`` for epoch = 0, 1, ...

- constant:     lr0
- step:         lr0 * drop ** floor(epoch / every)
- exponential:  lr0 * decay ** epoch
- inverse_time: lr0 / (1 + decay * floor(epoch / every))         (course 2, week 2)
- cosine:       lr_min + (lr0 - lr_min) (1 + cos(pi epoch / epochs)) / 2   (Loshchilov 2017)
"""

from __future__ import annotations

import math
from collections.abc import Callable

Schedule = Callable[[int], float]


def constant(lr0: float) -> Schedule:
    """The same rate every epoch."""
    return lambda epoch: lr0


def step(lr0: float, drop: float = 0.5, every: int = 10) -> Schedule:
    """Multiply the rate by ``drop`` every ``every`` epochs."""
    return lambda epoch: lr0 * drop ** (epoch // every)


def exponential(lr0: float, decay: float = 0.96) -> Schedule:
    """lr0 * decay ** epoch."""
    return lambda epoch: lr0 * decay**epoch


def inverse_time(lr0: float, decay: float = 1.0, every: int = 1) -> Schedule:
    """lr0 / (1 + decay * floor(epoch / every)), course 2's ``schedule_lr_decay``."""
    return lambda epoch: lr0 / (1 + decay * (epoch // every))


def cosine(lr0: float, epochs: int, lr_min: float = 0.0) -> Schedule:
    """Half a cosine from lr0 down to lr_min over ``epochs`` epochs."""
    span = max(epochs, 1)

    def rate(epoch: int) -> float:
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * min(epoch, span) / span)) / 2

    return rate


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step": step,
    "exponential": exponential,
    "inverse_time": inverse_time,
    "cosine": cosine,
}


def get_schedule(name: str | Schedule, lr0: float, epochs: int, **kwargs: float) -> Schedule:
    """A schedule by name (``cosine`` gets ``epochs``), or a callable passed through."""
    if callable(name):
        return name
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}")
    if name == "cosine":
        return cosine(lr0, epochs, **kwargs)
    return SCHEDULES[name](lr0, **kwargs)
