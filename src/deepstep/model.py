"""The user-facing network: ``Network(...).fit / predict / predict_proba / evaluate / save``.

Course orientation throughout: X is (n_x, m), one column per example; labels are (m,) or
(1, m). Everything numerical is delegated to :mod:`deepstep.engine` and :mod:`deepstep.optim`;
this module holds the training loop (epochs, mini-batches, validation, early stopping) and
the bookkeeping around it.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from . import engine
from .engine.diagnostics import warn_if_collapsed
from .engine.metrics import accuracy, predict_classes
from .engine.regularizers import l2_cost
from .engine.step import train_step
from .engine.validation import check_labels, check_X
from .optim import get_optimizer, get_schedule

Array = NDArray[np.floating]

#: The recipe ``fit`` and ``deepstep train`` use when no hyperparameter is given. Chosen on the
#: course's cat data (see README, "Defaults"): Adam with a small step, mini-batches of 32,
#: L2, and standardised inputs; it is robust to the seed where the course recipe is not.
DEFAULTS: dict[str, Any] = {
    "hidden_layers": [128],
    "hidden": "relu",
    "init": "he",
    "optimizer": "adam",
    "learning_rate": 2e-4,
    "batch_size": 32,
    "epochs": 50,
    "l2": 1.0,
    "dropout": 0.0,
    "preprocess": "standardize",
}


class BatchSource(Protocol):
    """Data that arrives in mini-batches (e.g. a streamed h5 file or image folder).

    ``batches`` yields (Xb of shape (n_x, b), yb of shape (b,)) already preprocessed.
    """

    n_x: int
    m: int

    def labels(self) -> NDArray:
        """All m labels, shape (m,)."""
        ...

    def batches(
        self, batch_size: int, rng: np.random.Generator | None = None, *, dtype: Any = ...
    ) -> Iterator[tuple[NDArray, NDArray]]:
        """Yield (Xb (n_x, b), yb (b,)) of ``dtype``; shuffled when ``rng`` is given."""
        ...


class Network:
    """A fully connected network in the course's layout, trained with the deepstep engine.

    Parameters
    ----------
    layer_dims : sequence of int
        [n[0], n[1], ..., n[L]]: input size, hidden sizes, output size (1 for binary labels,
        the number of classes for softmax, the number of targets for regression).
    hidden : str or list of str
        Hidden activation, one name for all hidden layers or one per layer.
    output : str
        "auto" (decided from the labels at ``fit``: 0/1 -> sigmoid + binary cross-entropy,
        integer classes -> softmax + categorical cross-entropy, real targets -> linear + MSE)
        or an activation name.
    init : {"he", "xavier", "course", "course_app"}
    dtype : {"float32", "float64"}
    seed : int
        Seeds the network's Generator (initialisation, shuffling, dropout; the legacy seed
        for the course initialisers). Same seed and data give identical bits.
    loss : str, optional
        Overrides the loss that goes with the output activation.
    solver : {"auto", "primal", "dual"}
        "dual" keeps the first layer as W1 = c W1_0 + A X^T (gd and momentum only), far
        cheaper when n_x >> m; "auto" takes it when the cost model of
        :mod:`deepstep.engine.dual` says so. The fitted weights are the same either way.

    Attributes
    ----------
    params : dict, W{l} of shape (n[l], n[l-1]) and b{l} of shape (n[l], 1)
    classes_ : ndarray or None, the class labels seen by ``fit`` (None for regression)
    history_ : dict of per-epoch lists, filled by ``fit``
    preprocessor : the input preprocessing fitted by ``fit`` (applied again by ``predict``)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2, 200)); y = (X[0] + X[1] > 0).astype(int)
    >>> net = Network([2, 8, 1], seed=0)
    >>> h = net.fit(X, y, epochs=60, learning_rate=0.01, batch_size=32, l2=0.0, verbose=False)
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
        self.rng = np.random.default_rng(seed)
        self.params = engine.initialize(
            self.layer_dims, init, seed=seed, rng=self.rng, dtype=self.dtype
        )
        self.classes_: NDArray | None = None
        self.preprocessor: Any = None
        self.history_: dict[str, list[float]] = {}
        self.config_: dict[str, Any] = {}

    # --- structure ---------------------------------------------------------------------------

    @property
    def n_layers(self) -> int:
        """L, the number of layers with weights."""
        return len(self.layer_dims) - 1

    @property
    def activations(self) -> list[engine.Activation]:
        """One engine Activation per layer (the output one once it is known)."""
        output = "sigmoid" if self.output == "auto" else self.output
        return engine.resolve_activations(self.hidden, output, self.n_layers)

    @property
    def loss(self) -> engine.Loss:
        """The loss: the one given, else the output activation's partner."""
        if self.loss_name is not None:
            return engine.get_loss(self.loss_name)
        return engine.loss_for_output(self.activations[-1].name)

    @property
    def task(self) -> str:
        """"binary", "multiclass" or "regression" (from the output activation and classes)."""
        if self.classes_ is None and self.loss.name == "mse":
            return "regression"
        return "binary" if self.activations[-1].name == "sigmoid" else "multiclass"

    def __repr__(self) -> str:
        acts = [a.name for a in self.activations]
        return f"Network({self.layer_dims}, activations={acts}, dtype={self.dtype.name})"

    # --- targets -----------------------------------------------------------------------------

    def _infer_output(self, y: NDArray) -> None:
        """Settle the output activation and ``classes_`` from the training labels.

        0/1 (two classes) -> sigmoid; integer or string classes -> softmax (one unit per
        class); real targets (floats, or many integral float values with one output) -> linear.
        """
        n_y = self.layer_dims[-1]
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[0] > 1:  # one-hot or multi-target, already (n_y, m)
            if y.shape[0] != n_y:
                raise ValueError(f"targets have {y.shape[0]} rows but the output layer has {n_y}")
            onehot = bool(np.isin(y, (0, 1)).all() and np.all(y.sum(axis=0) == 1))
            if self.output == "auto":
                self.output = "softmax" if onehot else "linear"
            self.classes_ = np.arange(n_y) if onehot and self.loss.name != "mse" else None
            return
        flat = y.ravel()
        if np.issubdtype(flat.dtype, np.floating):
            integral = bool(np.all(np.isfinite(flat)) and np.all(flat == np.round(flat)))
            categorical = integral and (n_y > 1 or np.unique(flat).size <= 2)
        else:
            categorical = True  # integers, booleans, strings
        if self.output == "auto":
            self.output = ("linear" if not categorical else "sigmoid" if n_y == 1 else "softmax")
        if not categorical or self.loss.name == "mse":
            self.classes_ = None
            return
        classes = np.unique(flat)
        k = classes.size
        if k < 2:
            raise ValueError(f"the labels hold a single class ({classes[0]!r}); a classifier "
                             "needs examples of at least two classes")
        if self.activations[-1].name == "sigmoid":
            if n_y != 1 or k > 2:
                raise ValueError(
                    f"the labels have {k} classes; a sigmoid output needs 2 classes and 1 output "
                    f"unit (for {k} classes make the last layer {k} units: output='softmax')")
        elif k != n_y:
            raise ValueError(
                f"the labels have {k} classes but the output layer has {n_y} units; make the "
                f"last entry of layer_dims {k}")
        self.classes_ = classes

    def _encode(self, y: NDArray, m: int) -> Array:
        """Labels -> the training target in course layout: (1, m) 0/1, (k, m) one-hot, or
        (n_y, m) real targets.
        """
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[0] > 1:
            if y.shape[1] != m:
                raise ValueError(f"targets are {y.shape} but X has m = {m} columns")
            return y.astype(self.dtype)
        if self.classes_ is None:
            return check_labels(y, m).astype(self.dtype)
        flat = check_labels(y, m).ravel()
        index = np.searchsorted(self.classes_, flat)
        index = np.clip(index, 0, self.classes_.size - 1)
        unknown = self.classes_[index] != flat
        if np.any(unknown):
            raise ValueError(
                f"labels {np.unique(flat[unknown])[:5].tolist()} were not seen in training; "
                f"known classes: {self.classes_.tolist()}"
            )
        if self.activations[-1].name == "sigmoid":
            return index.reshape(1, -1).astype(self.dtype)
        Y = np.zeros((self.layer_dims[-1], m), dtype=self.dtype)
        Y[index, np.arange(m)] = 1
        return Y

    def _decode(self, AL: Array) -> NDArray:
        idx = predict_classes(AL)
        return idx if self.classes_ is None else self.classes_[idx]

    # --- inputs ------------------------------------------------------------------------------

    def _inputs(self, X: NDArray) -> Array:
        """Raw inputs -> the network's dtype, through the fitted preprocessing."""
        X = np.asarray(X)
        if self.preprocessor is not None:
            X = self.preprocessor.transform(X, dtype=self.dtype)
        return check_X(X, self.layer_dims[0]).astype(self.dtype, copy=False)

    # --- training ----------------------------------------------------------------------------

    def fit(
        self,
        X: NDArray | BatchSource,
        Y: NDArray | None = None,
        *,
        epochs: int | None = None,
        iterations: int | None = None,
        batch_size: int | None = DEFAULTS["batch_size"],
        optimizer: str = DEFAULTS["optimizer"],
        learning_rate: float | None = None,
        schedule: str = "constant",
        l2: float = DEFAULTS["l2"],
        dropout: float | Sequence[float] = 0.0,
        clip_norm: float | None = None,
        validation_data: tuple[NDArray, NDArray] | None = None,
        validation_split: float = 0.0,
        early_stopping: int | bool = False,
        preprocess: str | Any | None = None,
        shuffle: bool = True,
        verbose: bool = True,
        **optimizer_hyper: float,
    ) -> dict[str, list[float]]:
        """Train on X (n_x, m) and labels Y ((m,) or (1, m), or one-hot (k, m)).

        Parameters
        ----------
        epochs, iterations : int
            Passes over the data; ``iterations`` is the course's word for epochs of full-batch
            training (default ``DEFAULTS["epochs"]``, 50).
        batch_size : int or None
            Mini-batch size (None = full batch). Batches are shuffled every epoch with the
            network's Generator (course 2's ``random_mini_batches``); the last, partial batch
            is kept.
        optimizer : {"adam", "gd", "momentum", "rmsprop"}
        learning_rate : float
            Default ``DEFAULTS["learning_rate"]`` (2e-4) for Adam and RMSprop, 0.0075 (the
            course's) otherwise.
        schedule : {"constant", "step", "exponential", "inverse_time", "cosine"}
        l2 : float
            L2 strength lambda: the cost gains lambda / (2 m) sum ||W||^2.
        dropout : float or list of float
            Probability of dropping a hidden unit (one value, or one per hidden layer); the
            keep probability is 1 - dropout (inverted dropout).
        clip_norm : float, optional
            Clip the gradients to this global L2 norm.
        validation_data, validation_split : held-out data, or the fraction of (X, Y) to hold
            out (chosen at random with the network's Generator).
        early_stopping : int or bool
            Stop when the validation loss has not improved for this many epochs (True = 10),
            and restore the weights of the best epoch.
        preprocess : {"standardize", "scale255", "none"} or a preprocessor, optional
            Fitted on the training inputs, recorded in the model, applied again by
            ``predict`` and ``evaluate``. For a streamed source, fitted in one pass over it.
        shuffle : bool
            Shuffle the examples every epoch (False keeps their order: batch k is examples
            k b .. (k+1) b - 1, as scikit-learn's ``shuffle=False``).
        verbose : bool
            A progress bar with the loss and ETA (only when stderr is a terminal).
        **optimizer_hyper : e.g. beta1=0.9, beta2=0.999, eps=1e-8 for Adam.

        Returns
        -------
        history : dict of per-epoch lists: "epoch", "loss", "accuracy", "val_loss",
            "val_accuracy", "lr", "seconds" (``history_`` holds the same). "loss" is the
            objective (data loss + L2 penalty, averaged over the epoch's batches);
            "val_loss" adds the same penalty, so the curves compare. ``evaluate`` reports
            the data loss alone.
        """
        if epochs is not None and iterations is not None:
            raise ValueError("give epochs or iterations, not both")
        epochs = epochs if epochs is not None else iterations
        epochs = DEFAULTS["epochs"] if epochs is None else int(epochs)
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        opt = get_optimizer(optimizer, **optimizer_hyper)
        if learning_rate is None:
            adaptive = opt.name in ("adam", "rmsprop")
            learning_rate = DEFAULTS["learning_rate"] if adaptive else 0.0075
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        lr_at = get_schedule(schedule, learning_rate, epochs)
        keep_probs = self._keep_probs(dropout)
        if early_stopping is True:
            early_stopping = 10
        streaming = not isinstance(X, np.ndarray) and hasattr(X, "batches")

        train: _ArrayBatches | _StreamBatches
        if streaming:
            source: BatchSource = X  # type: ignore[assignment]
            self._infer_output(source.labels())
            self._fit_stream_preprocessor(source, preprocess)
            train = _StreamBatches(source, self, shuffle)
            dual, solver_note = engine.dual.plan(self.solver, opt, None, self.params,
                                                 batch_size=batch_size, epochs=epochs)
            m = source.m
        else:
            if Y is None:
                raise ValueError("fit(X, Y) needs labels Y for array inputs")
            Xa: NDArray = check_X(np.asarray(X), self.layer_dims[0])
            Ycheck = np.asarray(Y)
            if Ycheck.ndim == 1 or Ycheck.shape[0] == 1:
                Ycheck = check_labels(Ycheck, Xa.shape[1])
            elif Ycheck.shape[1] != Xa.shape[1]:
                raise ValueError(f"targets are {Ycheck.shape} but X has m = {Xa.shape[1]} columns")
            if validation_data is None and validation_split:
                Xa, Ycheck, validation_data = self._hold_out(Xa, Ycheck, validation_split)
            self._infer_output(Ycheck)
            self._fit_preprocessor(Xa, preprocess)
            Xp = self._inputs(Xa)
            Yp = self._encode(Ycheck, Xp.shape[1])
            dual, solver_note = engine.dual.plan(
                self.solver, opt, Xp, self.params, batch_size=batch_size, epochs=epochs, l2=l2,
                clip_norm=clip_norm, validation=validation_data is not None)
            # the dual path batches example indices (columns of its K = X^T X), not X itself
            train = _ArrayBatches(Xp if dual is None else np.arange(Xp.shape[1])[None, :], Yp,
                                  batch_size, self.rng if shuffle else None)
            m = Xp.shape[1]
        if early_stopping and validation_data is None:
            raise ValueError("early_stopping needs validation_data or validation_split")
        val = None
        if validation_data is not None:
            Xv, Yv = validation_data
            Xv = self._inputs(Xv)
            val = (Xv, self._encode(Yv, Xv.shape[1]))

        self.config_ = {
            "epochs": epochs, "batch_size": batch_size, "optimizer": opt.name,
            "optimizer_hyper": opt.hyper, "learning_rate": learning_rate, "schedule": schedule,
            "l2": l2, "dropout": _per_hidden_layer(dropout, self.n_layers - 1),
            "clip_norm": clip_norm, "early_stopping": early_stopping, "seed": self.seed,
            "m": m, "solver": solver_note,
        }
        history: dict[str, list[float]] = {k: [] for k in
                                           ("epoch", "loss", "accuracy", "lr", "seconds")}
        if val is not None:
            history["val_loss"], history["val_accuracy"] = [], []
        acts, loss = self.activations, self.loss
        classify = self.task != "regression"
        self.params = engine.flat.pack(self.params)  # one buffer: the optimiser's fast path
        state = opt.init(self.params)
        workspace = engine.Workspace()  # the step's arrays, allocated once, reused every step
        best: tuple[float, dict[str, Array], int] | None = None
        t = 0
        bar = _progress(epochs, verbose)
        for epoch in range(epochs):
            start = time.perf_counter()
            lr = lr_at(epoch)
            total = correct = seen = 0.0
            n_batches = 0
            for Xb, Yb in train.epoch(batch_size):
                n_batches += 1
                t += 1
                J, AL, state = (train_step if dual is None else dual.train_step)(
                    Xb, Yb, self.params, acts, loss, opt, state, lr, t, l2=l2,
                    keep_probs=keep_probs, rng=self.rng, clip_norm=clip_norm,
                    workspace=workspace)
                b = Xb.shape[1]
                total += J * b
                seen += b
                if classify:
                    correct += accuracy(predict_classes(AL), predict_classes(Yb)) * b
            if not np.isfinite(total):
                raise FloatingPointError(
                    f"the loss became {total} at epoch {epoch}: lower the learning rate "
                    f"(now {lr}) or set clip_norm")
            history["epoch"].append(epoch)
            # one batch: the step's own cost, bit for bit (what the course records)
            history["loss"].append(J if n_batches == 1 else total / seen)
            history["accuracy"].append(correct / seen if classify else float("nan"))
            history["lr"].append(lr)
            if val is not None:
                # the same objective as the training loss: data loss + the L2 penalty as a
                # training batch sees it, so the two curves can be compared
                if dual is not None:  # W1 = c W1_0 + A X^T, formed for the validation
                    dual.sync(self.params, state)
                v = self._score(*val, l2=l2, penalty_m=min(batch_size or m, m))
                history["val_loss"].append(v["loss"])
                history["val_accuracy"].append(v.get("accuracy", float("nan")))
            history["seconds"].append(time.perf_counter() - start)
            if bar is not None:
                bar.set_postfix(_postfix(history), refresh=False)
                bar.update(1)
            if early_stopping and val is not None:
                v_loss = history["val_loss"][-1]
                if best is None or v_loss < best[0]:
                    best = (v_loss, copy.deepcopy(self.params), epoch)
                elif epoch - best[2] >= early_stopping:
                    break
        if bar is not None:
            bar.close()
        if dual is not None:
            dual.sync(self.params, state)
        if best is not None:
            self.params.update(best[1])  # copied into the buffer, not rebound
            self.config_["best_epoch"] = best[2]
        self.history_ = history
        if classify and not streaming:
            warn_if_collapsed(Xp, Yp, self.params, acts, history["loss"][-1], self.init,
                              stacklevel=2)
        return history

    def _keep_probs(self, dropout: float | Sequence[float]) -> list[float] | None:
        rates = _per_hidden_layer(dropout, self.n_layers - 1)
        if len(rates) != self.n_layers - 1:
            raise ValueError(f"dropout: {len(rates)} rates for {self.n_layers - 1} hidden layers")
        for r in rates:
            if not 0 <= r < 1:
                raise ValueError(f"dropout rate must be in [0, 1), got {r}")
        return [1 - r for r in rates] if any(rates) else None

    def _hold_out(self, X: NDArray, Y: NDArray, fraction: float):
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
        m = X.shape[1]
        n_val = max(1, int(round(m * fraction)))
        perm = self.rng.permutation(m)
        v, t = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        return X[:, t], Y[:, t], (X[:, v], Y[:, v])

    def _fit_preprocessor(self, X: NDArray, preprocess: str | Any | None) -> None:
        if preprocess is None or preprocess == "none":
            self.preprocessor = None
        elif isinstance(preprocess, str):
            from .data.preprocessing import Preprocessor

            self.preprocessor = Preprocessor(preprocess).fit(X)
        else:
            self.preprocessor = preprocess

    def _fit_stream_preprocessor(self, source: Any, preprocess: str | Any | None) -> None:
        """Fit ``preprocess`` in one unshuffled pass over the source and attach it there, so
        every later batch arrives preprocessed; a source's own preprocessor is kept."""
        if isinstance(preprocess, str) and preprocess != "none":
            from .data.preprocessing import Preprocessor

            source.preprocessor = None
            source.preprocessor = Preprocessor(preprocess).fit_stream(source.batches(1024))
        elif preprocess is not None and not isinstance(preprocess, str):
            source.preprocessor = preprocess
        self.preprocessor = getattr(source, "preprocessor", None)

    # --- inference ---------------------------------------------------------------------------

    def predict_proba(self, X: NDArray) -> Array:
        """The output A[L]: (1, m) probabilities of class ``classes_[1]`` for a sigmoid
        output, (k, m) class probabilities for softmax, (n_y, m) values for regression.
        """
        return engine.predict_forward(self._inputs(X), self.params, self.activations)

    def predict(self, X: NDArray) -> NDArray:
        """Predicted labels, shape (1, m) (the course's layout), or (n_y, m) for regression."""
        AL = self.predict_proba(X)
        return AL if self.task == "regression" else self._decode(AL)

    def evaluate(self, X: NDArray, Y: NDArray) -> dict[str, float]:
        """{"loss": ..., "accuracy": ...} on (X, Y); regression: {"loss", "mse", "r2"}.

        The loss has no L2 term: it is the data loss, comparable across runs.
        """
        Xp = self._inputs(X)
        return self._score(Xp, self._encode(Y, Xp.shape[1]))

    def _score(self, X: Array, Y: Array, l2: float = 0.0,
               penalty_m: int = 1) -> dict[str, float]:
        AL = engine.predict_forward(X, self.params, self.activations)
        out = {"loss": engine.compute_cost(AL, Y, self.loss)}
        if l2:
            out["loss"] += l2_cost(self.params, l2, penalty_m)
        if self.task == "regression":
            mse = float(np.mean((AL - Y) ** 2))
            var = float(np.mean((Y - Y.mean(axis=1, keepdims=True)) ** 2))
            out.update(mse=mse, r2=1 - mse / var if var > 0 else float("nan"))
        else:
            out["accuracy"] = accuracy(predict_classes(AL), predict_classes(Y))
        return out

    # --- persistence -------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the model (weights, architecture, classes, preprocessing, training config)
        atomically to ``path`` (an ``.npz`` file, no pickles). See :mod:`deepstep.io`.
        """
        from .io import save_model

        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Read a model written by :meth:`save`, validating every field; never runs code."""
        from .io import load_model

        return load_model(path)


# --- batching --------------------------------------------------------------------------------


class _ArrayBatches:
    """Mini-batches of in-memory arrays, shuffled each epoch (course 2, random_mini_batches).

    For mini-batches the examples are kept as rows of a C-ordered (m, n_x) array (X itself
    when X is already F-ordered, else one copy), so gathering a shuffled batch copies
    contiguous rows, into the same two arrays every step; the batch is handed to the engine as
    its (n_x, b) transpose view, an F-ordered array, the layout the engine's products run
    fastest on. A full batch is X itself.
    """

    def __init__(
        self, X: Array, Y: Array, batch_size: int | None, rng: np.random.Generator | None
    ):
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.X, self.Y, self.rng = X, Y, rng
        self.m = X.shape[1]
        full = batch_size is None or batch_size >= self.m
        self.rows = None if full else np.ascontiguousarray(X.T)  # no copy when X is F-ordered
        self.Y_rows = None if full else np.ascontiguousarray(Y.T)
        self._out: tuple[Array, Array] | None = None

    def epoch(self, batch_size: int | None) -> Iterator[tuple[Array, Array]]:
        if self.rows is None or self.Y_rows is None or batch_size is None:
            yield self.X, self.Y
            return
        order = np.arange(self.m) if self.rng is None else self.rng.permutation(self.m)
        for k in range(0, self.m, batch_size):
            idx = order[k:k + batch_size]
            Xb, Yb = self._buffers(idx.size)
            np.take(self.rows, idx, axis=0, out=Xb, mode="clip")  # "clip": unbuffered, 2x
            np.take(self.Y_rows, idx, axis=0, out=Yb, mode="clip")  # faster (idx is valid)
            yield Xb.T, Yb.T

    def _buffers(self, b: int) -> tuple[Array, Array]:
        assert self.rows is not None and self.Y_rows is not None
        if self._out is None or self._out[0].shape[0] != b:
            self._out = (np.empty((b, self.rows.shape[1]), self.rows.dtype),
                         np.empty((b, self.Y_rows.shape[1]), self.Y_rows.dtype))
        return self._out


class _StreamBatches:
    """Mini-batches from a :class:`BatchSource`, encoded for the network."""

    def __init__(self, source: BatchSource, net: Network, shuffle: bool):
        self.source, self.net = source, net
        self.rng = net.rng if shuffle else None

    def epoch(self, batch_size: int | None) -> Iterator[tuple[Array, Array]]:
        size = batch_size or 256
        for Xb, yb in self.source.batches(size, self.rng, dtype=self.net.dtype):
            Xb = check_X(np.asarray(Xb), self.net.layer_dims[0]).astype(self.net.dtype)
            yield Xb, self.net._encode(yb, Xb.shape[1])


def _per_hidden_layer(dropout: float | Sequence[float], n_hidden: int) -> list[float]:
    """One dropout rate per hidden layer, from one rate or a list."""
    if isinstance(dropout, (int, float, np.number)):
        return [float(dropout)] * n_hidden
    return [float(r) for r in dropout]


def _progress(epochs: int, verbose: bool):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, unit="epoch", file=sys.stderr, disable=None, leave=False,
                dynamic_ncols=True)


def _postfix(history: dict[str, list[float]]) -> dict[str, str]:
    out = {"loss": f"{history['loss'][-1]:.4f}"}
    if history.get("val_loss"):
        out["val_loss"] = f"{history['val_loss'][-1]:.4f}"
    return out
