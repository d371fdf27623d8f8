"""Optimisers (init/update over a parameter dict) and learning-rate schedules."""

from .optimizers import OPTIMIZERS, Optimizer, adam, gd, get_optimizer, momentum, rmsprop
from .schedules import SCHEDULES, get_schedule

__all__ = ["OPTIMIZERS", "SCHEDULES", "Optimizer", "adam", "gd", "get_optimizer", "get_schedule",
           "momentum", "rmsprop"]
