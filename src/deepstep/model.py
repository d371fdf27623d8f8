"""The user-facing network: ``Network(...).fit / predict / predict_proba / evaluate / save``.

Course orientation throughout: X is (n_x, m), one column per example; labels are (m,) or
(1, m). The math is in :mod:`deepstep.engine`, the loop and its callbacks in
:mod:`deepstep.training`, the task and the label encoding in :mod:`deepstep.targets`, the
defaults in :mod:`deepstep.recipe`; this module ties them together.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import engine
from .engine.diagnostics import warn_if_collapsed
from .engine.metrics import accuracy, predict_classes
from .engine.regularizers import l2_cost
from .engine.validation import check_labels, check_X
from .optim import Optimizer, get_optimizer, get_schedule
from .recipe import DEFAULTS, DataShape, learning_rate_for, recipe
from .targets import TargetEncoder, check_task, detect_task
from .training import callbacks as cb
from .training.batches import ArrayBatches, BatchSource, StreamBatches
from .training.loop import Trainer, keep_probabilities, per_hidden_layer, run

Array = NDArray[np.floating]

__all__ = ["DEFAULTS", "BatchSource", "Network"]

#: ``fit``'s marker for "the recipe's value" where None already means something.
AUTO = "auto"


@dataclass
class TrainState:
    """What a later ``fit`` continues from: the optimiser and its state, the step count, the
    epochs done and the random generators of shuffling and dropout."""

    optimizer: Optimizer
    opt_state: dict[str, Any]
    step: int = 0
    epoch: int = 0
    shuffle_rng: np.random.Generator = field(default_factory=np.random.default_rng)
    dropout_rng: np.random.Generator = field(default_factory=np.random.default_rng)

    def __getstate__(self) -> dict[str, Any]:
        # an Optimizer is made of closures: pickle its name and hyperparameters instead
        state = dict(self.__dict__)
        state["optimizer"] = (self.optimizer.name, dict(self.optimizer.hyper))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        name, hyper = state["optimizer"]
        self.__dict__.update(state, optimizer=get_optimizer(name, **hyper))


class Network:
    """A fully connected network in the course's layout, trained with the deepstep engine.

    Parameters
    ----------
    layer_dims : sequence of int
        [n[0], n[1], ..., n[L]]: input size, hidden sizes, output size (1 for two classes,
        the number of classes for softmax, the number of targets for regression).
    hidden : str or list of str
        Hidden activation, one name for all hidden layers or one per layer.
    output : str
        "auto" (settled at ``fit`` from the task: sigmoid + binary cross-entropy for two
        classes on one unit, softmax + categorical cross-entropy for k units, linear +
        squared error for regression) or an activation name.
    init : {"he", "xavier", "course", "course_app"}
    dtype : {"float32", "float64"}
    seed : int
        Seeds the initialisation and the generators of the hold-out split, shuffling and
        dropout (independent streams). Same seed and data give identical bits.
    loss : str, optional
        Overrides the loss that goes with the output activation.
    task : {"auto", "binary", "multiclass", "regression"}
        "auto" decides from the labels at the first ``fit`` with the rule of
        :mod:`deepstep.targets` (integers with few distinct values are classes, text and
        booleans are classes, numbers with fractions or many distinct integers are values).
    solver : {"auto", "primal", "dual"}
        "dual" keeps the first layer as W1 = c W1_0 + A X^T (gd and momentum only), far
        cheaper when n_x >> m; "auto" takes it when the cost model of
        :mod:`deepstep.engine.dual` says so. The fitted weights are the same either way.

    Attributes
    ----------
    params : dict, W{l} of shape (n[l], n[l-1]) and b{l} of shape (n[l], 1)
    classes_ : ndarray or None
        The class labels seen by ``fit`` as given (ints, strings, booleans); None for
        regression.
    target_mean_, target_std_ : ndarray of shape (n[L], 1) or None
        Regression targets are standardised with these training statistics; ``predict``
        returns the original units.
    history_ : dict of per-epoch lists, filled by ``fit`` (continued by later fits)
    preprocessor : the input preprocessing fitted by the first ``fit`` (applied by
        ``predict``)
    config_ : dict, the settings of the last ``fit`` (and what the command line records)
    train_state_ : TrainState or None, what a later ``fit`` continues from

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2, 200)); y = (X[0] + X[1] > 0).astype(int)
    >>> net = Network([2, 8, 1], seed=0)
    >>> h = net.fit(X, y, epochs=60, learning_rate=0.01, l2=0.0, verbose=False)
    >>> net.evaluate(X, y)["accuracy"] > 0.95
    True
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        hidden: str | Sequence[str] = "relu",
        output: str = "auto",
        init: str = "he",
        dtype: str = "float32",
        seed: int = 0,
        loss: str | None = None,
        task: str = "auto",
        solver: str = "auto",
    ) -> None:
        self.solver = engine.dual.check_solver(solver)
        self.layer_dims = engine.initializers.validate_layer_dims(layer_dims)
        L = len(self.layer_dims) - 1
        self.hidden = [hidden] * (L - 1) if isinstance(hidden, str) else list(hidden)
        engine.resolve_activations(self.hidden, "linear", L)  # validates names and count
        if output != "auto":
            engine.get_activation(output)
        if loss is not None:
            engine.get_loss(loss)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
        self.output = output
        self.loss_name = loss
        self.init = init
        self.seed = seed
        self.task_requested = check_task(task)
        self.rng = np.random.default_rng(seed)
        self.params = engine.initialize(
            self.layer_dims, init, seed=seed, rng=self.rng, dtype=self.dtype
        )
        self.classes_: NDArray | None = None
        self.target_mean_: NDArray | None = None
        self.target_std_: NDArray | None = None
        self.preprocessor: Any = None
        self.history_: dict[str, list[float]] = {}
        self.config_: dict[str, Any] = {}
        self.train_state_: TrainState | None = None

    # --- structure ---------------------------------------------------------------------------

    @property
    def n_layers(self) -> int:
        """L, the number of layers with weights."""
        return len(self.layer_dims) - 1

    @property
    def activations(self) -> list[engine.Activation]:
        """One engine Activation per layer (the output one once it is known)."""
        return engine.resolve_activations(self.hidden, self._output_name(), self.n_layers)

    def _output_name(self, task: str | None = None) -> str:
        if self.output != "auto":
            return self.output
        task = task or (None if self.task_requested == "auto" else self.task_requested)
        if task == "regression":
            return "linear"
        return "sigmoid" if self.layer_dims[-1] == 1 else "softmax"

    @property
    def loss(self) -> engine.Loss:
        """The loss: the one given, else the output activation's partner."""
        if self.loss_name is not None:
            return engine.get_loss(self.loss_name)
        return engine.loss_for_output(self.activations[-1].name)

    @property
    def task(self) -> str:
        """"binary", "multiclass" or "regression": as fitted, else as asked, else from the
        output activation."""
        if self.classes_ is not None:
            return "binary" if len(self.classes_) == 2 else "multiclass"
        if self.target_mean_ is not None or self.loss.name == "mse":
            return "regression"
        if self.task_requested != "auto":
            return self.task_requested
        return "binary" if self.activations[-1].name == "sigmoid" else "multiclass"

    def __repr__(self) -> str:
        acts = [a.name for a in self.activations]
        return f"Network({self.layer_dims}, activations={acts}, dtype={self.dtype.name})"

    # --- targets -----------------------------------------------------------------------------

    def targets(self) -> TargetEncoder:
        """The fitted :class:`~deepstep.targets.TargetEncoder` (labels <-> Y)."""
        enc = TargetEncoder(self.task, self.layer_dims[-1])
        enc.classes_, enc.mean_, enc.std_ = self.classes_, self.target_mean_, self.target_std_
        if not enc.fitted:
            raise ValueError("this network has not been fitted: call fit(X, y) first")
        return enc

    def fit_targets(self, y: NDArray, weights: NDArray | None = None) -> None:
        """Settle the task, the output activation and the target encoding from training
        labels (``fit`` does it at its first call; call it first to fix the classes in
        advance, e.g. for incremental training on batches that lack some classes).

        Parameters
        ----------
        y : array-like of shape (m,), (1, m) or (n_y, m)
        weights : ndarray of shape (m,), optional
            Example weights (regression targets are standardised with weighted statistics).
        """
        task = self.task_requested
        if task == "auto":
            task = detect_task(y).task
            if task == "multiclass" and self.layer_dims[-1] == 1 and self.output in (
                    "auto", "sigmoid"):
                k = np.unique(np.asarray(y)).size
                raise ValueError(
                    f"the labels look like {k} classes ({detect_task(y).reason}) but the "
                    f"output layer has 1 unit: make the last entry of layer_dims {k}, or "
                    "give task='regression' to predict them as numbers")
        if self.output == "auto":
            self.output = self._output_name(task)
        if task != "regression" and self.loss.name == "mse":
            task = "regression"  # an explicit squared-error loss: the labels are values
        enc = TargetEncoder(task, self.layer_dims[-1]).fit(y, weights)
        self.classes_, self.target_mean_, self.target_std_ = enc.classes_, enc.mean_, enc.std_

    def _encode(self, y: NDArray, m: int) -> Array:
        """Labels -> the training target Y of shape (n[L], m) in the network's dtype."""
        Y = np.asarray(y)
        if Y.ndim == 2 and Y.shape[0] > 1:
            if Y.shape[1] != m:
                raise ValueError(f"targets are {Y.shape} but X has m = {m} columns")
        else:
            Y = check_labels(Y, m)
        return self.targets().encode(Y, self.dtype)

    # --- inputs ------------------------------------------------------------------------------

    def _inputs(self, X: NDArray) -> Array:
        """Raw inputs -> the network's dtype, through the fitted preprocessing."""
        X = check_X(np.asarray(X), self.layer_dims[0])
        if self.preprocessor is not None:
            X = self.preprocessor.transform(X, dtype=self.dtype)
        return X.astype(self.dtype, copy=False)

    def _fit_preprocessor(self, X: NDArray, preprocess: str | Any,
                          weights: NDArray | None = None) -> None:
        if preprocess == "none":
            self.preprocessor = None
        elif isinstance(preprocess, str):
            from .data.preprocessing import Preprocessor

            self.preprocessor = Preprocessor(preprocess).fit(X, weights)
        else:
            self.preprocessor = preprocess

    # --- training ----------------------------------------------------------------------------

    def fit(
        self,
        X: NDArray | BatchSource,
        Y: NDArray | None = None,
        *,
        epochs: int | None = None,
        iterations: int | None = None,
        batch_size: int | None | str = AUTO,
        optimizer: str | None = None,
        learning_rate: float | None = None,
        schedule: str | None = None,
        l2: float | None = None,
        dropout: float | Sequence[float] | None = None,
        clip_norm: float | None = None,
        validation_data: tuple[NDArray, NDArray] | None = None,
        validation_split: float | None = None,
        early_stopping: int | bool | None = None,
        preprocess: str | Any | None = None,
        shuffle: bool = True,
        verbose: bool = True,
        callbacks: Sequence[cb.Callback] = (),
        class_weight: str | Mapping[Any, float] | None = None,
        sample_weight: NDArray | None = None,
        resume_from: str | Path | None = None,
        **optimizer_hyper: float,
    ) -> dict[str, list[float]]:
        """Train on X (n_x, m) and labels Y ((m,) or (1, m), or one-hot (k, m)).

        Every setting left out takes the value of the default recipe for data of this shape
        (:func:`deepstep.recipe.recipe`; the README's "Defaults" table). A second ``fit``
        continues from the current weights, optimiser state and generators for ``epochs``
        more epochs, keeping the preprocessing and the classes of the first.

        Parameters
        ----------
        epochs, iterations : int
            Passes over the data; ``iterations`` is the course's word for epochs of
            full-batch training.
        batch_size : int, None or "auto"
            Mini-batch size (None = full batch). Batches are shuffled every epoch (course 2's
            ``random_mini_batches``); the last, partial batch is kept.
        optimizer : {"adam", "gd", "momentum", "rmsprop"}
        learning_rate : float
            Default: the recipe's for Adam and RMSprop, 0.0075 (the course's) otherwise.
        schedule : {"constant", "step", "exponential", "inverse_time", "cosine"}
        l2 : float
            L2 strength lambda: the cost gains lambda / (2 b) sum ||W||^2 (b the batch).
        dropout : float or list of float
            Probability of dropping a hidden unit (one value, or one per hidden layer).
        clip_norm : float, optional
            Clip the gradients to this global L2 norm.
        validation_data, validation_split : held-out data, or the fraction of (X, Y) to hold
            out (at random, with the network's seed).
        early_stopping : int or bool
            Stop when the validation loss has not improved for this many epochs (True = 10)
            and restore the weights of the best epoch (0 / False: off).
        preprocess : {"standardize", "scale255", "none"} or a preprocessor
            Fitted on the training inputs, recorded in the model, applied again by
            ``predict`` and ``evaluate``. For a streamed source, fitted in one pass over it.
        shuffle : bool
            Shuffle the examples every epoch (False: batch k is examples k b .. (k+1) b - 1,
            as scikit-learn's ``shuffle=False``).
        verbose : bool
            Progress on stderr (:class:`deepstep.training.ProgressBar`).
        callbacks : list of :class:`deepstep.training.Callback`
            Called after the built-ins (history, non-finite check, schedule, progress,
            early stopping).
        class_weight : "balanced" or dict {label: weight}, optional
            Weigh each example's loss by its class ("balanced": m / (k count[class])).
        sample_weight : ndarray of shape (m,), optional
            Weigh each example's loss (times its class weight). Weights are rescaled to mean
            1 over the training examples, so the learning rate keeps its meaning.
        resume_from : path, optional
            A checkpoint written by :class:`deepstep.training.ModelCheckpoint`: continue
            that run, with the same data and settings, to its configured number of epochs;
            the result is bit for bit the uninterrupted run's.
        **optimizer_hyper : e.g. beta1=0.9, beta2=0.999, eps=1e-8 for Adam.

        Returns
        -------
        history : dict of per-epoch lists: "epoch", "loss", "accuracy", "lr", "seconds" and,
            with validation, "val_loss", "val_accuracy" (``history_`` holds the same). "loss"
            is the objective (data loss + L2 penalty, averaged over the epoch's batches);
            "val_loss" adds the same penalty, so the curves compare. ``evaluate`` reports
            the data loss alone.
        """
        streaming = not isinstance(X, np.ndarray) and hasattr(X, "batches")
        if not streaming and Y is None:
            raise ValueError("fit(X, Y) needs labels Y for array inputs")
        shape = _shape(X, Y, streaming, self)
        given = dict(epochs=epochs if epochs is not None else iterations,
                     batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
                     schedule=schedule, l2=l2, dropout=dropout, early_stopping=early_stopping,
                     validation_split=validation_split, preprocess=preprocess)
        if epochs is not None and iterations is not None:
            raise ValueError("give epochs or iterations, not both")
        base = recipe(shape)
        s = _settings(base, given)
        opt = get_optimizer(s["optimizer"], **optimizer_hyper)
        if learning_rate is None:
            s["learning_rate"] = learning_rate_for(opt.name, base)
        if not s["learning_rate"] > 0:
            raise ValueError(f"learning_rate must be positive, got {s['learning_rate']}")
        keep_probs = keep_probabilities(s["dropout"], self.n_layers - 1)
        if s["early_stopping"] and validation_data is None and not s["validation_split"]:
            raise ValueError("early_stopping needs validation_data or validation_split")

        fitted = self.classes_ is not None or self.target_mean_ is not None
        new_inputs = self.train_state_ is None and not self.history_  # never trained yet
        if streaming:
            source: BatchSource = X  # type: ignore[assignment]
            if class_weight is not None or sample_weight is not None:
                raise ValueError("class_weight and sample_weight need in-memory arrays, not a "
                                 "streamed source")
            if not fitted:
                self.fit_targets(source.labels())
            self._fit_stream_preprocessor(source, s["preprocess"])
            data: ArrayBatches | StreamBatches = StreamBatches(
                source, s["batch_size"], lambda Xb, yb: (Xb, self._encode(yb, Xb.shape[1])),
                self.layer_dims[0], self.dtype)
            dual, solver_note = engine.dual.plan(self.solver, opt, None, self.params,
                                                 batch_size=s["batch_size"], epochs=s["epochs"])
            fingerprint = {"m": source.m, "n_x": source.n_x}
            weight_scale = 1.0
        else:
            Xa = check_X(np.asarray(X), self.layer_dims[0])
            Ya = _label_block(Y, Xa.shape[1])
            weights = None if sample_weight is None else _sample_weights(sample_weight,
                                                                        Xa.shape[1])
            fingerprint = _fingerprint(Xa, Ya)
            if validation_data is None and s["validation_split"]:
                Xa, Ya, weights, validation_data = self._hold_out(Xa, Ya, weights,
                                                                  s["validation_split"])
            if not fitted:
                self.fit_targets(Ya, weights)
            if new_inputs:
                self._fit_preprocessor(Xa, s["preprocess"], weights)
            Xp = self._inputs(Xa)
            Yp = self._encode(Ya, Xp.shape[1])
            w, weight_scale = self._example_weights(Ya, class_weight, weights)
            dual, solver_note = engine.dual.plan(
                self.solver, opt, Xp, self.params, batch_size=s["batch_size"],
                epochs=s["epochs"], l2=s["l2"], clip_norm=clip_norm,
                validation=validation_data is not None or bool(callbacks),
                state=None if self.train_state_ is None else self.train_state_.opt_state,
                resuming=resume_from is not None)
            # the dual path batches example indices (columns of its K = X^T X), not X itself
            columns = Xp if dual is None else np.arange(Xp.shape[1])[None, :]
            data = ArrayBatches(columns, Yp, s["batch_size"], w)  # type: ignore[arg-type]
        val = None
        if validation_data is not None:
            Xv = self._inputs(validation_data[0])
            val = (Xv, self._encode(validation_data[1], Xv.shape[1]))

        self.params = engine.flat.pack(self.params)  # one buffer: the optimiser's fast path
        state = self._train_state(opt, resume_from is not None)
        trainer = Trainer(
            self, data, val, state.optimizer, state.opt_state, epochs=state.epoch + s["epochs"],
            learning_rate=s["learning_rate"], l2=s["l2"], keep_probs=keep_probs,
            clip_norm=clip_norm, shuffle_rng=state.shuffle_rng if shuffle else None,
            dropout_rng=state.dropout_rng, step=state.step, epoch=state.epoch,
            weight_scale=weight_scale)
        if dual is not None:  # the dual path's step, and W1 formed when the loop reads it
            trainer.step_fn = dual.train_step
            trainer.sync = lambda: dual.sync(self.params, trainer.opt_state)
            trainer.sync_every_epoch = bool(callbacks)
        self.config_ = {
            **{k: v for k, v in self.config_.items() if k in ("hyperparameters", "data")},
            **{k: s[k] for k in ("epochs", "batch_size", "learning_rate", "schedule", "l2",
                                 "early_stopping", "validation_split")},
            "optimizer": opt.name, "optimizer_hyper": opt.hyper,
            "preprocess": getattr(self.preprocessor, "mode", "none"),
            "dropout": per_hidden_layer(s["dropout"], self.n_layers - 1),
            "clip_norm": clip_norm, "seed": self.seed, "m": data.m, "shuffle": shuffle,
            "class_weight": class_weight if isinstance(class_weight, str) else (
                None if class_weight is None else {str(k): float(v) for k, v in
                                                   class_weight.items()}),
            "sample_weight": sample_weight is not None, "data_fingerprint": fingerprint,
            "solver": solver_note,
        }
        history = cb.History()
        history.history = {k: list(v) for k, v in self.history_.items()}
        schedule_fn = get_schedule(s["schedule"], s["learning_rate"], s["epochs"])
        built_in: list[cb.Callback] = [history, cb.TerminateOnNaN(),
                                       cb.LearningRateSchedule(schedule_fn)]
        if verbose:
            built_in.append(cb.ProgressBar())
        if s["early_stopping"]:
            built_in.append(cb.EarlyStopping(s["early_stopping"]))
        everything = [*built_in, *callbacks]
        if resume_from is not None:
            from .training.checkpoint import restore_checkpoint

            restore_checkpoint(resume_from, trainer, everything)
        try:
            run(trainer, everything)
        finally:
            self.history_ = history.history
            self.train_state_ = None if trainer.error is not None else TrainState(
                trainer.optimizer, trainer.opt_state, trainer.step, trainer.epoch,
                state.shuffle_rng, state.dropout_rng)
        if self.task != "regression" and not streaming and self.history_.get("loss"):
            warn_if_collapsed(Xp, Yp, self.params, self.activations, self.history_["loss"],
                              trainer.step, self.init, stacklevel=2)
        return self.history_

    def _train_state(self, opt: Optimizer, resuming: bool) -> TrainState:
        """The state to continue from (an earlier fit with the same optimiser), or a new one
        with generators derived from the seed."""
        st = self.train_state_
        if st is not None and not resuming:
            if st.optimizer.name == opt.name and st.optimizer.hyper == opt.hyper:
                return st
            return TrainState(opt, opt.init(self.params), st.step, st.epoch, st.shuffle_rng,
                              st.dropout_rng)
        shuffle_seed, dropout_seed = np.random.SeedSequence(self.seed).spawn(3)[1:]
        return TrainState(opt, opt.init(self.params), 0, 0, np.random.default_rng(shuffle_seed),
                          np.random.default_rng(dropout_seed))

    def _hold_out(self, X: NDArray, Y: NDArray, w: NDArray | None, fraction: float):
        """Split off ``fraction`` of the columns at random (the seed's split stream)."""
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
        m = X.shape[1]
        n_val = max(1, int(round(m * fraction)))
        if n_val >= m:
            raise ValueError(f"validation_split {fraction} leaves no training example of {m}")
        split_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(3)[0])
        perm = split_rng.permutation(m)
        v, t = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        return X[:, t], Y[:, t], None if w is None else w[t], (X[:, v], Y[:, v])

    def _example_weights(self, Y: NDArray, class_weight: Any, weights: NDArray | None
                         ) -> tuple[Array | None, float]:
        """Per-example loss weights (1, m) rescaled to mean 1 (None when not weighted), and
        the mean of the weights as given (the L2 penalty is divided by the batch's total
        weight, as if an example of weight 2 appeared twice)."""
        if class_weight is None and weights is None:
            return None, 1.0
        w = np.ones(Y.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
        if class_weight is not None:
            if self.classes_ is None:
                raise ValueError("class_weight is for classification; this is regression")
            index = self.targets().index(Y.ravel()) if Y.shape[0] == 1 else np.argmax(Y, 0)
            w = w * _class_weights(class_weight, self.classes_, index)[index]
        if self.classes_ is not None:
            index = self.targets().index(Y.ravel()) if Y.shape[0] == 1 else np.argmax(Y, 0)
            weighted = np.unique(index[w > 0])
            if weighted.size < 2:
                raise ValueError(
                    "the example weights leave a single class with positive weight "
                    f"({self.classes_[weighted].tolist()}); a classifier needs two classes")
        total = w.sum()
        if not total > 0:
            raise ValueError("the example weights sum to 0: give some positive weights")
        return (w * (w.size / total)).reshape(1, -1).astype(self.dtype), total / w.size

    def _fit_stream_preprocessor(self, source: Any, preprocess: str | Any) -> None:
        """Fit ``preprocess`` in one unshuffled pass over the source and attach it there, so
        every later batch arrives preprocessed; a source's own preprocessor is kept."""
        if self.train_state_ is not None or self.history_:  # keep the first fit's
            source.preprocessor = self.preprocessor
        elif isinstance(preprocess, str) and preprocess != "none":
            from .data.preprocessing import Preprocessor

            source.preprocessor = None
            source.preprocessor = Preprocessor(preprocess).fit_stream(source.batches(1024))
        elif preprocess is not None and not isinstance(preprocess, str):
            source.preprocessor = preprocess
        self.preprocessor = getattr(source, "preprocessor", None)

    # --- inference ---------------------------------------------------------------------------

    def predict_proba(self, X: NDArray) -> Array:
        """Class probabilities A[L]: (1, m) probabilities of ``classes_[1]`` for a sigmoid
        output, (k, m) for softmax. (A regression model has none: use :meth:`predict`.)
        """
        if self.task == "regression":
            raise ValueError("a regression model predicts values, not probabilities: use "
                             "predict")
        return self.forward(X)

    def forward(self, X: NDArray) -> Array:
        """The network's output A[L] of shape (n[L], m) for raw inputs X (n_x, m): through the
        recorded preprocessing, before any decoding (standardised units for regression)."""
        return engine.predict_forward(self._inputs(X), self.params, self.activations)

    def predict(self, X: NDArray) -> NDArray:
        """Predicted labels, shape (1, m) (the course's layout) from ``classes_``; for
        regression the values, shape (n_y, m), in the original units (float64)."""
        AL = self.forward(X)
        if self.classes_ is None and self.target_mean_ is None:  # e.g. loaded old-style
            return AL if self.task == "regression" else predict_classes(AL)
        return self.targets().decode(AL)

    def evaluate(self, X: NDArray, Y: NDArray) -> dict[str, float]:
        """Metrics on (X, Y): classification {"loss", "accuracy"}; regression {"loss", "r2",
        "mae", "rmse"} (r2, mae, rmse in the original units).

        The loss has no L2 term: it is the data loss (for regression, half the mean squared
        error of the standardised targets), comparable across runs.
        """
        Xp = self._inputs(X)
        return self._score(Xp, self._encode(Y, Xp.shape[1]))

    def _score(self, X: Array, Y: Array, l2: float = 0.0,
               penalty_m: int = 1) -> dict[str, float]:
        AL = engine.predict_forward(X, self.params, self.activations)
        out = {"loss": engine.compute_cost(AL, Y, self.loss)}
        if l2:  # the objective as a training batch of penalty_m examples sees it
            out["data_loss"] = out["loss"]
            out["loss"] += l2_cost(self.params, l2, penalty_m)
        if self.task == "regression":
            out.update(regression_metrics(self._values(Y), self._values(AL)))
        else:
            out["accuracy"] = accuracy(predict_classes(AL), predict_classes(Y))
        return out

    def _values(self, A: Array) -> NDArray:
        if self.target_mean_ is None or self.target_std_ is None:
            return np.asarray(A, dtype=np.float64)
        return np.asarray(A, dtype=np.float64) * self.target_std_ + self.target_mean_

    def attributions(self, X: NDArray, method: str = "integrated_gradients", target: Any = None,
                     baseline: NDArray | float | None = None, steps: int = 64,
                     seed: int | np.random.Generator | None = None, **options: Any) -> Array:
        """Each raw feature's contribution to the target class's score, shape (n_x, m).

        See :func:`deepstep.attributions.attribute` (which also returns the predictions) for
        the methods, the scores explained and the defaults.
        """
        from .attributions import attribute

        return attribute(self, X, method, target, baseline, steps, seed, **options).attributions

    # --- persistence -------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the model (weights, architecture, classes, preprocessing, training config)
        atomically to ``path``. See :mod:`deepstep.io`.
        """
        from .io import save_model

        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Read a model written by :meth:`save`, validating every field; never runs code."""
        from .io import load_model

        return load_model(path)

    def to_onnx(self, path: str | Path, dtype: str | None = None) -> Path:
        """Write the network as an ONNX graph on rows (N, n_x) with the preprocessing, giving
        ``label`` and ``probabilities`` (or ``values``); ``dtype`` None keeps the model's.
        Needs ``pip install 'deepstep[onnx]'``. See :mod:`deepstep.onnx_export`.
        """
        from .onnx_export import write_onnx

        write_onnx(self, path, dtype)
        return Path(path)


def regression_metrics(Y: NDArray, P: NDArray) -> dict[str, float]:
    """R^2 (averaged over targets), MAE and RMSE of predictions P against Y, both (n_y, m).

    Examples
    --------
    >>> m = regression_metrics(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 2.0, 4.0]]))
    >>> round(m["r2"], 3), round(m["mae"], 3), round(m["rmse"], 3)
    (0.5, 0.333, 0.577)
    """
    D = P - Y
    ss_res = np.sum(D * D, axis=1)
    ss_tot = np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.nan)
    return {"r2": float(np.mean(r2)), "mae": float(np.mean(np.abs(D))),
            "rmse": float(np.sqrt(np.mean(D * D)))}


# --- fit's helpers -------------------------------------------------------------------------------


def _shape(X: Any, Y: Any, streaming: bool, net: Network) -> DataShape:
    """What the recipe looks at."""
    if streaming:
        m, n_x, y, dtype = X.m, X.n_x, None, getattr(X, "dtype", None)
    else:
        Xa = np.asarray(X)
        m, n_x, y, dtype = (Xa.shape[1] if Xa.ndim == 2 else 0), net.layer_dims[0], Y, Xa.dtype
    task = net.task if net.task_requested != "auto" or y is None else _safe_task(y)
    k = net.layer_dims[-1] if task == "multiclass" else 2
    return DataShape(m=m, n_x=n_x, task=task, n_classes=k, pixels=dtype == np.uint8)


def _safe_task(y: Any) -> str:
    try:
        return detect_task(y).task
    except ValueError:
        return "binary"  # the labels' own error is raised, with its context, later


def _settings(base: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The recipe's values overridden by the arguments given (None / AUTO: not given).

    The recipe holds data out only for its own early stopping: when early stopping is off
    and no ``validation_split`` is given, nothing is held out.
    """
    s = dict(base)
    for key, value in given.items():
        if isinstance(value, str) and value == AUTO:
            continue
        if value is not None or key == "batch_size":  # batch_size None: full batch
            s[key] = value
    s["epochs"] = int(s["epochs"])
    if s["epochs"] < 1:
        raise ValueError(f"epochs must be >= 1, got {s['epochs']}")
    s["early_stopping"] = 10 if s["early_stopping"] is True else int(s["early_stopping"] or 0)
    if s["early_stopping"] < 0:
        raise ValueError(f"early_stopping must be a number of epochs >= 0, got "
                         f"{s['early_stopping']}")
    if not s["early_stopping"] and given["validation_split"] is None:
        s["validation_split"] = 0.0
    return s


def _label_block(Y: Any, m: int) -> NDArray:
    """Labels as (1, m) or a (n_y, m) block, with a clear error for a wrong m."""
    Ya = np.asarray(Y)
    if Ya.ndim == 2 and Ya.shape[0] > 1:
        if Ya.shape[1] != m:
            raise ValueError(f"targets are {Ya.shape} but X has m = {m} columns")
        return Ya
    return check_labels(Ya, m)


def _sample_weights(sample_weight: Any, m: int) -> NDArray:
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape != (m,):
        raise ValueError(f"sample_weight has {w.size} values for m = {m} examples")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must hold finite numbers >= 0")
    return w


def _class_weights(class_weight: Any, classes: NDArray, index: NDArray) -> NDArray:
    """One weight per class: "balanced" gives m / (k count), a dict gives its values (1 for
    classes it leaves out)."""
    k = classes.size
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be 'balanced' or a dict, got {class_weight!r}")
        counts = np.bincount(index, minlength=k).astype(np.float64)
        return np.where(counts > 0, index.size / (k * np.maximum(counts, 1)), 0.0)
    out = np.ones(k)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    for label, weight in class_weight.items():
        if label not in lookup:
            raise ValueError(f"class_weight names class {label!r}, which the labels do not "
                             f"have; classes: {classes.tolist()}")
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0")
        out[lookup[label]] = float(weight)
    return out


def _fingerprint(X: NDArray, Y: NDArray) -> dict[str, Any]:
    """Enough to tell, on resume, that the data are the same: shapes and a CRC of the values,
    example by example (the same for any memory order; a block of examples is copied at a
    time, never the whole of X)."""
    crc = 0
    step = max(1, 2**22 // max(1, X.shape[0] * X.itemsize))
    for j in range(0, X.shape[1], step):
        crc = zlib.crc32(np.ascontiguousarray(X[:, j:j + step].T).tobytes(), crc)
    labels = Y.astype(str) if Y.dtype.kind in "OU" else np.ascontiguousarray(Y)
    crc = zlib.crc32(labels.tobytes(), crc)
    return {"m": int(X.shape[1]), "n_x": int(X.shape[0]), "crc32": int(crc)}

