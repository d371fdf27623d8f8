"""Callbacks: everything in training that is not the step itself (Keras' hooks).

A callback overrides any of ``on_train_begin``, ``on_epoch_begin(epoch)``,
``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)`` and ``on_train_end``; it sees
the run through ``self.trainer`` (:class:`deepstep.training.Trainer`: the network, ``lr``,
``epoch``, ``step``, ``history``) and stops it with ``self.trainer.stop_training = True``.
``state()`` / ``load_state()`` carry what a callback must remember across a resume (arrays
go into the checkpoint's tensors, the rest into its JSON).

Epochs are numbered from 0 in the hooks and the history; messages for people count from 1.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..report.formatting import fmt_seconds
from .loop import NonFiniteError

if TYPE_CHECKING:
    from .loop import Trainer

HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class Callback:
    """Base class: every hook does nothing."""

    trainer: Trainer

    def on_train_begin(self) -> None:
        """Before the first step of this run (also after a resume)."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Before the first batch of ``epoch`` (also when resuming in its middle)."""

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        """After each optimiser step; logs hold the batch's "loss", "size" and "step"."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """After the epoch's validation; logs hold "loss", "accuracy", "val_loss",
        "val_accuracy" (when validating), "lr" and "seconds"."""

    def on_train_end(self) -> None:
        """After the last epoch, or after a stop, an interrupt or an error."""

    def state(self) -> dict[str, Any]:
        """What this callback must remember across a resume (JSON values and arrays)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Take back :meth:`state` from a checkpoint."""


class CallbackList:
    """Calls each hook on the callbacks that override it, in order."""

    def __init__(self, callbacks: Sequence[Callback], trainer: Trainer) -> None:
        for cb in callbacks:
            cb.trainer = trainer
        self._hooks = {h: [getattr(cb, h) for cb in callbacks
                           if getattr(type(cb), h) is not getattr(Callback, h)] for h in HOOKS}

    def on_train_begin(self) -> None:
        for hook in self._hooks["on_train_begin"]:
            hook()

    def on_epoch_begin(self, epoch: int) -> None:
        for hook in self._hooks["on_epoch_begin"]:
            hook(epoch)

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        for hook in self._hooks["on_batch_end"]:
            hook(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for hook in self._hooks["on_epoch_end"]:
            hook(epoch, logs)

    def on_train_end(self) -> None:
        for hook in self._hooks["on_train_end"]:
            hook()


class History(Callback):
    """Records every epoch's logs: ``history["loss"][e]`` is epoch e's loss."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self) -> None:
        self.trainer.history = self.history

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def state(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state(self, state: dict[str, Any]) -> None:
        self.history = {k: list(v) for k, v in state["history"].items()}


class LearningRateSchedule(Callback):
    """Set the learning rate at the start of each epoch: ``lr = schedule(epoch - first)``,
    the epoch counted from the start of the run (see :mod:`deepstep.optim.schedules`)."""

    def __init__(self, schedule: Callable[[int], float]) -> None:
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int) -> None:
        self.trainer.lr = float(self.schedule(epoch - self.trainer.first_epoch))


class TerminateOnNaN(Callback):
    """Stop at the first non-finite batch loss and restore the last finite weights.

    A NaN or infinite weight makes the next forward pass, and so the next loss, non-finite,
    so checking the loss of every batch (a float) catches a bad update one step later at no
    cost; the weights of the last update are checked once at the end. The weights restored
    are those at the start of the epoch in progress, the last ones known to be finite.
    """

    def __init__(self) -> None:
        self._snapshot: dict[str, np.ndarray] = {}

    def on_epoch_begin(self, epoch: int) -> None:
        params = self.trainer.net.params
        if not self._snapshot:
            self._snapshot = {k: v.copy() for k, v in params.items()}
        else:
            for k, v in params.items():
                np.copyto(self._snapshot[k], v)

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if not math.isfinite(logs["loss"]):
            self._fail(f"the loss became {logs['loss']} at step {logs['step']} (epoch "
                       f"{self.trainer.epoch + 1}, batch {batch + 1})")

    def on_train_end(self) -> None:
        t = self.trainer
        if t.error is None and not all(np.isfinite(v).all() for v in t.net.params.values()):
            self._fail(f"the weights became non-finite at step {t.step}")

    def _fail(self, what: str) -> None:
        t = self.trainer
        for k, v in self._snapshot.items():
            np.copyto(t.net.params[k], v)
        t.stop_training = True
        t.error = NonFiniteError(
            f"{what}; the weights of the start of that epoch are restored. To train, lower the "
            f"learning rate (now {t.lr:g}; e.g. --lr {t.lr / 10:g}) or clip the gradients "
            "(e.g. --clip-norm 1.0), and check the data for huge or non-finite values")


def epochs_between(steps: int, batches_per_epoch: int) -> int:
    """Epochs to the end of the first epoch after ``steps`` more steps: an action "every
    ``steps`` steps" taken at epoch ends (every epoch when an epoch has that many batches).

    Examples
    --------
    >>> epochs_between(100, 1), epochs_between(100, 4), epochs_between(100, 125)
    (100, 25, 1)
    """
    return max(1, math.ceil(steps / max(batches_per_epoch, 1)))


def direction(monitor: str) -> float:
    """+1 for a log key where lower is better (losses), -1 where higher is (keys ending in
    "accuracy" or "r2"): ``direction(key) * value`` is always minimised.

    Examples
    --------
    >>> direction("val_loss"), direction("val_accuracy")
    (1.0, -1.0)
    """
    return -1.0 if monitor.endswith(("accuracy", "r2")) else 1.0


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; with ``restore_best`` put back the weights of the best epoch at the end.

    Parameters
    ----------
    patience : int
    monitor : str
        A key of the epoch logs, "val_loss" by default (lower is better; keys ending in
        "accuracy" or "r2" are maximised).
    min_delta : float
    restore_best : bool
    """

    def __init__(self, patience: int = 10, monitor: str = "val_loss", min_delta: float = 0.0,
                 restore_best: bool = True) -> None:
        if patience < 1:
            raise ValueError(f"patience must be >= 1 epoch, got {patience}")
        self.patience, self.monitor, self.min_delta = patience, monitor, min_delta
        self.restore_best = restore_best
        self.sign = direction(monitor)
        self.best = math.inf
        self.best_epoch = -1
        self.best_params: dict[str, np.ndarray] = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ValueError(f"early stopping monitors {self.monitor!r}, which the epoch logs "
                             f"do not have ({', '.join(logs)}); give validation data")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch = value, epoch
            if self.restore_best:
                params = self.trainer.net.params
                for k, v in params.items():
                    if k in self.best_params:
                        np.copyto(self.best_params[k], v)
                    else:
                        self.best_params[k] = v.copy()
        elif epoch - self.best_epoch >= self.patience:
            self.trainer.stop_training = True

    def on_train_end(self) -> None:
        t = self.trainer
        if self.restore_best and self.best_params and not t.interrupted and t.error is None:
            for k, v in self.best_params.items():
                np.copyto(t.net.params[k], v)
            t.net.config_["best_epoch"] = self.best_epoch

    def state(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch,
                **{f"best.{k}": v for k, v in self.best_params.items()}}

    def load_state(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = float(state["best"]), int(state["best_epoch"])
        self.best_params = {k[5:]: np.array(v) for k, v in state.items()
                            if k.startswith("best.")}


class ModelCheckpoint(Callback):
    """Write a resumable checkpoint (see :mod:`deepstep.training.checkpoint`) atomically.

    Parameters
    ----------
    path : str or Path
    every : int
        Write at the end of every ``every`` epochs (and when training is interrupted).
    every_steps : int, optional
        Instead of ``every``: write at the end of the first epoch after every
        ``every_steps`` steps (:func:`epochs_between`).
    best_only : bool
        Write only when ``monitor`` improves (then not on an interrupt: the file keeps the
        best state).
    monitor : str
        Epoch log key to watch for ``best_only`` (lower is better; keys ending in
        "accuracy" or "r2" are maximised, as for :class:`EarlyStopping`).
    """

    def __init__(self, path: str | Path, every: int = 1, best_only: bool = False,
                 monitor: str = "val_loss", every_steps: int | None = None) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1 epoch, got {every}")
        if every_steps is not None and every_steps < 1:
            raise ValueError(f"every_steps must be >= 1 step, got {every_steps}")
        self.path, self.every, self.best_only, self.monitor = Path(path), every, best_only, \
            monitor
        self.every_steps = every_steps
        self.sign = direction(monitor)
        self.best = math.inf

    def on_train_begin(self) -> None:
        if self.every_steps is not None:
            self.every = epochs_between(self.every_steps, len(self.trainer.data))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.best_only:
            if self.monitor not in logs:
                raise ValueError(f"the checkpoint monitors {self.monitor!r}, which the epoch "
                                 f"logs do not have ({', '.join(logs)}); give validation data "
                                 "or another monitor")
            value = self.sign * logs[self.monitor]
            if value < self.best:
                self.best = value
                self._write()
        elif (epoch + 1) % self.every == 0:
            self._write()

    def on_train_end(self) -> None:
        if self.trainer.interrupted and not self.best_only:
            self._write()

    def _write(self) -> None:
        from .checkpoint import save_checkpoint

        save_checkpoint(self.path, self.trainer)
        self.trainer.checkpoint_written = str(self.path)

    def state(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])


class HistoryFile(Callback):
    """Append each epoch's logs as one JSON line to ``path`` (flushed, so ``tail -f`` and a
    crash keep what was done). On a resume the file is rewritten from the history first, so
    it never holds epochs the resumed run does again."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_begin(self) -> None:
        from ..files import atomic_write

        h = self.trainer.history
        n = len(h.get("loss", []))
        lines = "".join(_json_line({k: v[e] for k, v in h.items() if len(v) > e})
                        for e in range(n))
        atomic_write(self.path, lines.encode("utf-8"))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(_json_line(logs))


def _json_line(logs: dict[str, Any]) -> str:
    return json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                       for k, v in logs.items()}) + "\n"


class PrintCost(Callback):
    """The course's lines, printed as training goes: ``Cost after iteration i: J`` every
    ``every`` epochs and at the last one (each epoch of full-batch training is an iteration).
    """

    def __init__(self, every: int = 100, file: IO[str] | None = None) -> None:
        self.every, self.file = every, file

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self.every == 0 or epoch == self.trainer.epochs - 1:
            print(f"Cost after iteration {epoch}: {logs['loss']}", file=self.file or sys.stdout,
                  flush=True)


class ProgressBar(Callback):
    """Progress on stderr: a live bar on a terminal, plain lines elsewhere.

    On a terminal: a tqdm bar over the epochs with loss, accuracy, val_loss, val_accuracy
    and the ETA, left on screen at the end. Off a terminal (CI, logs, notebooks writing to a
    file): a line at the end of the first epoch after every ``every_iterations`` steps (every
    100 iterations of full-batch training, every epoch when an epoch has that many
    mini-batches), and for the last epoch. Both end with a line giving the total time.
    """

    def __init__(self, file: IO[str] | None = None, every_iterations: int = 100,
                 live: bool | None = None) -> None:
        self.file = file
        self.every_iterations = every_iterations
        self.live = live
        self._bar: Any = None
        self._start, self._first = 0.0, 0

    def on_train_begin(self) -> None:
        t = self.trainer
        self._start, self._first = time.perf_counter(), t.epoch  # t.epoch > 0 on a resume
        self._full_batch = len(t.data) == 1
        self._every = epochs_between(self.every_iterations, len(t.data))
        stream = self.file or sys.stderr
        live = self.live if self.live is not None else _is_terminal(stream)
        if live:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=t.epochs, initial=t.epoch, unit="epoch", file=stream,
                             leave=True, dynamic_ncols=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        shown = {k: logs[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                 if k in logs and math.isfinite(logs[k])}
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4f}" for k, v in shown.items()}, refresh=False)
            self._bar.update(1)
        elif epoch % self._every == 0 or epoch == self.trainer.epochs - 1:
            word = "iteration" if self._full_batch else "epoch"
            cells = ", ".join(f"{k} {v:.4f}" for k, v in shown.items())
            print(f"{word} {epoch + 1}/{self.trainer.epochs}: {cells} "
                  f"({logs['seconds']:.2f} s)", file=self.file or sys.stderr, flush=True)

    def on_train_end(self) -> None:
        t = self.trainer
        if self._bar is not None:
            self._bar.close()
        done = t.epoch - self._first  # this call's epochs (a resumed one counts once)
        word = "iterations" if self._full_batch else "epochs"
        why = (" (interrupted)" if t.interrupted else " (stopped: non-finite values)"
               if t.error else " (stopped early)" if t.epoch < t.epochs else "")
        took = fmt_seconds(time.perf_counter() - self._start)  # as the report writes it
        print(f"trained {done} {word} in {took}{why}",
              file=self.file or sys.stderr, flush=True)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
