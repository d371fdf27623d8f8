"""Learning-rate schedules against reference values."""

from __future__ import annotations

import math

import pytest

from deepstep.optim import SCHEDULES, get_schedule
from deepstep.optim.schedules import constant, cosine, exponential, inverse_time, step

CASES = {
    "constant": (constant(0.1), {0: 0.1, 7: 0.1, 1000: 0.1}),
    "step": (step(1.0, drop=0.5, every=10), {0: 1.0, 9: 1.0, 10: 0.5, 25: 0.25}),
    "exponential": (exponential(2.0, decay=0.5), {0: 2.0, 1: 1.0, 3: 0.25}),
    "inverse_time": (inverse_time(1.0, decay=1.0), {0: 1.0, 1: 0.5, 2: 1 / 3, 3: 0.25}),
    "cosine": (cosine(1.0, epochs=10), {0: 1.0, 5: 0.5, 10: 0.0, 20: 0.0}),
}


def test_every_schedule_has_reference_values():
    assert set(CASES) == set(SCHEDULES)


@pytest.mark.parametrize("name", list(CASES))
def test_reference_values(name):
    schedule, expected = CASES[name]
    for epoch, lr in expected.items():
        assert schedule(epoch) == pytest.approx(lr, rel=1e-15, abs=1e-16), epoch


def test_course_schedule_lr_decay():
    # Course 2, week 2: learning_rate0 = 0.5, epoch_num = 100, decay_rate = 0.3,
    # time_interval = 100 gives 0.5 / (1 + 0.3 * 1) = 0.38461538...
    schedule = inverse_time(0.5, decay=0.3, every=100)
    assert schedule(99) == 0.5
    assert schedule(100) == pytest.approx(0.38461538461538464, rel=1e-15)


def test_cosine_with_a_floor():
    schedule = cosine(1.0, epochs=4, lr_min=0.1)
    assert schedule(2) == pytest.approx(0.55)
    assert schedule(1) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2)
    assert schedule(4) == pytest.approx(0.1)


def test_get_schedule():
    assert get_schedule("cosine", 1.0, 10)(5) == pytest.approx(0.5)
    assert get_schedule("step", 1.0, 10, drop=0.1, every=2)(4) == pytest.approx(0.01)
    own = lambda epoch: 0.3  # noqa: E731
    assert get_schedule(own, 1.0, 10) is own
    with pytest.raises(ValueError, match="unknown schedule 'warmup'"):
        get_schedule("warmup", 1.0, 10)
