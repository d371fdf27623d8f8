"""The training loop: epochs of mini-batch steps, with every other feature in a callback.

:class:`Trainer` holds everything the next step depends on (parameters, optimiser state,
the step count, the epoch and batch in progress, the random generators, the running sums
of the epoch), which is exactly what a checkpoint stores; :func:`run` is the loop itself.
The step, :func:`deepstep.engine.step.train_step`, is the only place with math.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .. import engine
from ..engine.metrics import predict_classes
from ..engine.step import train_step
from ..optim import Optimizer
from .batches import ArrayBatches, Batch, StreamBatches
from .signals import deferred_signals

if TYPE_CHECKING:
    from ..model import Network
    from .callbacks import Callback

Array = NDArray[np.floating]


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the current batch was finished, a checkpoint written (when
    a :class:`~deepstep.training.ModelCheckpoint` was given) and training stopped."""

    def __init__(self, signum: int, epoch: int, step: int, checkpoint: str | None) -> None:
        import signal

        self.signum, self.epoch, self.step, self.checkpoint = signum, epoch, step, checkpoint
        name = signal.Signals(signum).name
        where = f"; checkpoint written to {checkpoint}" if checkpoint else ""
        super().__init__(f"training interrupted by {name} during epoch {epoch + 1} after "
                         f"step {step}{where}")


class NonFiniteError(FloatingPointError):
    """The loss or the weights became NaN or infinite; the last finite weights are restored."""


class Trainer:
    """One training run in progress: the network, the optimiser and where training stands.

    Parameters
    ----------
    net : Network
        Trained in place (``net.params``).
    data : ArrayBatches or StreamBatches
        The training batches.
    validation : tuple (X (n[0], m_v), Y (n[L], m_v)), optional
        Already preprocessed and encoded; scored at the end of every epoch.
    optimizer, opt_state : the optimiser and its state (continued from an earlier fit or
        a checkpoint, or fresh)
    epochs : int
        The epoch at which the run ends (counted from the network's first epoch).
    learning_rate : float
        The learning rate (a LearningRateSchedule callback may change ``lr`` per epoch).
    l2, keep_probs, clip_norm : L2 strength, dropout keep probabilities, clipping norm
    shuffle_rng, dropout_rng : numpy Generators (shuffle_rng None keeps the data's order)
    step, epoch : where training stands (both 0 for a new network)
    weight_scale : float
        The mean of the example weights as given (the batches carry them rescaled to mean
        1): the L2 penalty of a weighted batch is divided by its total weight.
    """

    def __init__(self, net: Network, data: ArrayBatches | StreamBatches,
                 validation: tuple[Array, Array] | None, optimizer: Optimizer,
                 opt_state: dict[str, Any], *, epochs: int, learning_rate: float, l2: float,
                 keep_probs: list[float] | None, clip_norm: float | None,
                 shuffle_rng: np.random.Generator | None, dropout_rng: np.random.Generator,
                 step: int = 0, epoch: int = 0, weight_scale: float = 1.0) -> None:
        self.net, self.data, self.validation = net, data, validation
        self.optimizer, self.opt_state = optimizer, opt_state
        self.epochs, self.lr, self.l2 = epochs, learning_rate, l2
        self.keep_probs, self.clip_norm = keep_probs, clip_norm
        self.weight_scale = weight_scale
        self.shuffle_rng, self.dropout_rng = shuffle_rng, dropout_rng
        self.step, self.epoch, self.first_epoch = step, epoch, epoch
        self.batch = 0  # batches done in the epoch in progress
        self.epoch_rng_state: dict[str, Any] | None = None  # shuffle_rng at the epoch's start
        self.sums = _EpochSums()
        self.stop_training = False
        self.interrupted: int | None = None  # the signal that stopped training
        self.error: Exception | None = None
        self.checkpoint_written: str | None = None
        self.history: dict[str, list[float]] = {}
        self.callbacks: list[Callback] = []
        self._acts, self._loss = net.activations, net.loss
        self._classify = net.task != "regression"
        self._workspace = engine.Workspace()  # the step's arrays, allocated once
        self._parts: dict[str, float] = {}
        # the step (engine.dual's for the dual path) and, for the dual path, what writes W1
        # into net.params before the loop reads them (validation, callbacks, the end)
        self.step_fn: Callable[..., tuple[float, Array, dict[str, Any]]] = train_step
        self.sync: Callable[[], None] | None = None
        self.sync_every_epoch = False

    # --- the step ----------------------------------------------------------------------------

    def batches(self) -> Iterator[Batch]:
        """The batches of the epoch in progress that are still to do.

        At the start of an epoch the shuffling Generator's state is kept, so a checkpoint
        taken mid-epoch can draw the same order again and skip the batches already done.
        """
        rng = self.shuffle_rng
        if self.batch == 0:
            self.sums.start = time.perf_counter()
        if rng is not None:
            if self.batch == 0 or self.epoch_rng_state is None:
                self.epoch_rng_state = copy.deepcopy(dict(rng.bit_generator.state))
            else:
                rng.bit_generator.state = copy.deepcopy(self.epoch_rng_state)
        return self.data.epoch(rng, skip=self.batch)

    def train_on(self, batch: Batch) -> dict[str, float]:
        """One optimiser step on ``batch``; returns the batch's logs ("loss", "size")."""
        Xb, Yb, weights = batch
        b = Xb.shape[1]
        l2 = self.l2
        if weights is not None and l2:  # lambda / (2 total weight), not lambda / (2 b)
            total = float(weights.sum()) * self.weight_scale
            l2 = l2 * (b / total) if total > 0 else l2  # exactly l2 for unit weights
        self.step += 1
        J, AL, self.opt_state = self.step_fn(
            Xb, Yb, self.net.params, self._acts, self._loss, self.optimizer, self.opt_state,
            self.lr, self.step, l2=l2, keep_probs=self.keep_probs, rng=self.dropout_rng,
            clip_norm=self.clip_norm, workspace=self._workspace, weights=weights,
            parts=self._parts)
        correct = 0
        if self._classify:
            correct = int(np.count_nonzero(predict_classes(AL) == predict_classes(Yb)))
        self.sums.add(J, self._parts["data_loss"], b, correct)
        self.batch += 1
        return {"loss": J, "size": b, "step": self.step}

    def end_epoch(self) -> dict[str, float]:
        """Close the epoch: its logs "loss" (the objective: data loss + L2 penalty),
        "data_loss", "accuracy", "lr", with validation "val_loss", "val_data_loss",
        "val_accuracy", and "seconds"."""
        s = self.sums
        if self.sync is not None and (self.validation is not None or self.sync_every_epoch):
            self.sync()
        logs = {"epoch": self.epoch, "loss": s.loss(), "data_loss": s.data_loss(),
                "accuracy": s.correct / s.seen if self._classify else math.nan,
                "lr": self.lr}
        if self.validation is not None:
            # the same objective as the training loss: data loss + the L2 penalty as a
            # training batch sees it, so the two curves can be compared
            b = min(self.data.batch_size, self.data.m)
            v = self.net._score(*self.validation, l2=self.l2, penalty_m=b)
            logs["val_loss"], logs["val_data_loss"] = v["loss"], v.pop("data_loss", v["loss"])
            logs["val_accuracy"] = v.get("accuracy", math.nan)
        logs["seconds"] = time.perf_counter() - s.start
        self.epoch += 1
        self.batch = 0
        self.sums = _EpochSums()
        return logs

    # --- checkpoints -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the next step depends on, as JSON values (arrays kept apart by the
        checkpoint writer): position, generators, running sums, history."""
        return {
            "step": self.step, "epoch": self.epoch, "batch": self.batch,
            "first_epoch": self.first_epoch, "epochs": self.epochs, "lr": self.lr,
            "epoch_rng_state": self.epoch_rng_state,
            "shuffle_rng": None if self.shuffle_rng is None else
            self.shuffle_rng.bit_generator.state,
            "dropout_rng": self.dropout_rng.bit_generator.state,
            "sums": self.sums.state(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state` (taken from a checkpoint)."""
        self.step, self.epoch, self.batch = state["step"], state["epoch"], state["batch"]
        self.first_epoch, self.lr = state["first_epoch"], state["lr"]
        self.epoch_rng_state = state["epoch_rng_state"]
        if self.shuffle_rng is not None and state["shuffle_rng"] is not None:
            self.shuffle_rng.bit_generator.state = state["shuffle_rng"]
        self.dropout_rng.bit_generator.state = state["dropout_rng"]
        self.sums = _EpochSums.from_state(state["sums"])


class _EpochSums:
    """Running totals of the epoch in progress (the epoch's loss is their mean)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.data_total = 0.0
        self.seen = 0
        self.correct = 0
        self.batches = 0
        self.last = self.last_data = math.nan
        self.start = time.perf_counter()
        self.elapsed = 0.0  # seconds spent before a resume

    def add(self, J: float, data_loss: float, b: int, correct: int) -> None:
        self.total += J * b
        self.data_total += data_loss * b
        self.seen += b
        self.correct += correct
        self.batches += 1
        self.last = J
        self.last_data = data_loss

    def loss(self) -> float:
        # one batch: the step's own cost, bit for bit (what the course records)
        return self.last if self.batches == 1 else self.total / self.seen

    def data_loss(self) -> float:
        return self.last_data if self.batches == 1 else self.data_total / self.seen

    def state(self) -> dict[str, Any]:
        return {"total": self.total, "data_total": self.data_total, "seen": self.seen,
                "correct": self.correct, "batches": self.batches, "last": self.last,
                "last_data": self.last_data,
                "elapsed": self.elapsed + time.perf_counter() - self.start}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> _EpochSums:
        sums = cls()
        sums.total, sums.seen, sums.correct = state["total"], state["seen"], state["correct"]
        sums.data_total, sums.last_data = state["data_total"], state["last_data"]
        sums.batches, sums.last = state["batches"], state["last"]
        sums.start -= state["elapsed"]
        return sums


def run(trainer: Trainer, callbacks: Sequence[Callback], *, handle_signals: bool = True
        ) -> None:
    """Train until ``trainer.epochs``, a callback sets ``stop_training``, or a signal.

    SIGINT / SIGTERM (in the main thread, with ``handle_signals``) finish the current batch;
    the callbacks' ``on_train_end`` then sees ``trainer.interrupted`` (ModelCheckpoint writes
    a checkpoint there) and :class:`TrainingInterrupted` is raised. A callback that sets
    ``trainer.error`` (TerminateOnNaN) stops training the same way and the error is raised.
    """
    from .callbacks import CallbackList

    trainer.callbacks = list(callbacks)
    cbs = CallbackList(callbacks, trainer)
    # overflow is reported once, by TerminateOnNaN with its advice, not as numpy warnings
    with deferred_signals(handle_signals) as signals, np.errstate(over="ignore",
                                                                   invalid="ignore"):
        try:
            cbs.on_train_begin()
            while trainer.epoch < trainer.epochs and not trainer.stop_training:
                cbs.on_epoch_begin(trainer.epoch)
                for batch in trainer.batches():
                    logs = trainer.train_on(batch)
                    cbs.on_batch_end(trainer.batch - 1, logs)
                    trainer.interrupted = trainer.interrupted or signals.received
                    if trainer.stop_training or trainer.interrupted or trainer.error:
                        break
                if trainer.interrupted or trainer.error:
                    break
                cbs.on_epoch_end(trainer.epoch, trainer.end_epoch())
        finally:
            if trainer.sync is not None and trainer.error is None:
                trainer.sync()
            cbs.on_train_end()
    if trainer.error is not None:
        raise trainer.error
    if trainer.interrupted:
        raise TrainingInterrupted(trainer.interrupted, trainer.epoch, trainer.step,
                                  trainer.checkpoint_written)


def per_hidden_layer(rates: float | Sequence[float], n_hidden: int) -> list[float]:
    """One dropout rate per hidden layer, from one rate or a list."""
    if isinstance(rates, (int, float, np.number)):
        return [float(rates)] * n_hidden
    return [float(r) for r in rates]


def keep_probabilities(dropout: float | Sequence[float], n_hidden: int) -> list[float] | None:
    """Inverted-dropout keep probabilities, one per hidden layer (None: no dropout)."""
    rates = per_hidden_layer(dropout, n_hidden)
    if len(rates) != n_hidden:
        raise ValueError(f"dropout: {len(rates)} rates for {n_hidden} hidden layers")
    for r in rates:
        if not 0 <= r < 1:
            raise ValueError(f"dropout rate must be in [0, 1), got {r}")
    return [1 - r for r in rates] if any(rates) else None


Schedule = Callable[[int], float]
