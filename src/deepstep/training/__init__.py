"""Training: the loop, its callbacks, checkpoints and signal handling.

``Network.fit`` builds a :class:`Trainer` and calls :func:`run`; everything that is not the
step itself (history, progress, early stopping, checkpoints, the non-finite check, the
learning-rate schedule) is a :class:`Callback`.
"""

from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    HistoryFile,
    LearningRateSchedule,
    ModelCheckpoint,
    PrintCost,
    ProgressBar,
    TerminateOnNaN,
)
from .checkpoint import restore_checkpoint, save_checkpoint
from .loop import NonFiniteError, Trainer, TrainingInterrupted, run

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "HistoryFile",
    "LearningRateSchedule",
    "ModelCheckpoint",
    "NonFiniteError",
    "PrintCost",
    "ProgressBar",
    "TerminateOnNaN",
    "Trainer",
    "TrainingInterrupted",
    "restore_checkpoint",
    "run",
    "save_checkpoint",
]
