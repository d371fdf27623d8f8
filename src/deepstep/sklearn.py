"""scikit-learn estimators over :class:`deepstep.Network`.

scikit-learn puts examples in rows, X of shape (n_samples, n_features); deepstep's course
layout puts them in columns. The conversion happens here, once, with ``X.T``; everything
inside sees (n_x, m). Every hyperparameter left at None (or "auto") takes the default
recipe's value for the data's shape (:mod:`deepstep.recipe`), the same as ``deepstep train``
and ``Network.fit``.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> X, y = load_iris(return_X_y=True)
>>> clf = DeepstepClassifier(hidden_layer_sizes=(16,), epochs=200, learning_rate=0.01,
...                          random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.9
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_random_state,
    validate_data,
)

from .model import Network
from .recipe import DataShape, recipe
from .targets import check_task

#: Input dtypes fit keeps as given: 8-bit pixels stay uint8, so that the recipe sees pixels
#: (:class:`deepstep.recipe.DataShape`) as it does through Network.fit and deepstep train.
FIT_DTYPES = [np.float64, np.float32, np.uint8]


class _DeepstepBase(BaseEstimator):
    """Hyperparameters shared by the classifier and the regressor (see :meth:`Network.fit`).

    ``warm_start=True`` makes ``fit`` continue from the previous solution (weights,
    optimiser state, preprocessing) instead of starting again; ``partial_fit`` trains one
    epoch on the data it is given, continuing likewise.
    """

    _TASKS: tuple[str, ...] = ()

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] | None = None,
        hidden: str | None = None,
        init: str | None = None,
        optimizer: str | None = None,
        learning_rate: float | None = None,
        batch_size: int | str | None = "auto",
        epochs: int | None = None,
        l2: float | None = None,
        dropout: float | None = None,
        schedule: str | None = None,
        clip_norm: float | None = None,
        preprocess: str | None = None,
        early_stopping: int | bool | None = None,
        validation_fraction: float | None = None,
        dtype: str | None = None,
        task: str = "auto",
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.hidden = hidden
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.l2 = l2
        self.dropout = dropout
        self.schedule = schedule
        self.clip_norm = clip_norm
        self.preprocess = preprocess
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.dtype = dtype
        self.task = task
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def _task(self, default: str) -> str:
        task = check_task(self.task)
        if task == "auto":
            return default
        if task not in self._TASKS:
            raise ValueError(f"{type(self).__name__} does task {' or '.join(self._TASKS)}, "
                             f"not {task!r}")
        return task

    def _new_network(self, X: NDArray, n_out: int, task: str, k: int) -> Network:
        r = recipe(DataShape(m=X.shape[0], n_x=X.shape[1], task=task, n_classes=k,
                             pixels=X.dtype == np.uint8))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        hidden_sizes = r["hidden_layers"] if self.hidden_layer_sizes is None \
            else self.hidden_layer_sizes
        return Network([X.shape[1], *hidden_sizes, n_out], hidden=self.hidden or r["hidden"],
                       init=self.init or r["init"], dtype=self.dtype or r["dtype"], seed=seed,
                       task=task)

    def _train(self, X: NDArray, Y: NDArray, sample_weight: Any, *, class_weight: Any = None,
               epochs: int | None = None, incremental: bool = False) -> None:
        net = self.network_
        history = net.fit(
            X.T, Y, epochs=self.epochs if epochs is None else epochs,
            batch_size=self.batch_size, optimizer=self.optimizer,
            learning_rate=self.learning_rate, schedule=self.schedule, l2=self.l2,
            dropout=self.dropout, clip_norm=self.clip_norm, preprocess=self.preprocess,
            early_stopping=0 if incremental else self.early_stopping,
            validation_split=0.0 if incremental else self.validation_fraction,
            sample_weight=sample_weight, class_weight=class_weight, verbose=self.verbose)
        self.loss_curve_ = list(history["loss"])
        self.n_iter_ = len(self.loss_curve_)

    def _restart(self) -> bool:
        """Whether fit starts a new network (``warm_start`` off, or nothing fitted yet)."""
        return not (self.warm_start and hasattr(self, "network_"))

    def _output(self, X: NDArray) -> NDArray:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.forward(X.T)


def _sample_weight(sample_weight: Any, X: NDArray) -> NDArray | None:
    return None if sample_weight is None else _check_sample_weight(sample_weight, X)


class DeepstepClassifier(ClassifierMixin, _DeepstepBase):
    """A deepstep network as a scikit-learn classifier (sigmoid for 2 classes, else softmax).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    network_ : the fitted :class:`deepstep.Network`
    loss_curve_ : list of float, the training loss per epoch
    """

    _TASKS = ("binary", "multiclass")
    classes_: NDArray

    def __init__(self, hidden_layer_sizes=None, hidden=None, init=None, optimizer=None,
                 learning_rate=None, batch_size="auto", epochs=None, l2=None, dropout=None,
                 schedule=None, clip_norm=None, preprocess=None, early_stopping=None,
                 validation_fraction=None, dtype=None, task="auto", class_weight=None,
                 warm_start=False, random_state=None, verbose=False) -> None:
        super().__init__(hidden_layer_sizes, hidden, init, optimizer, learning_rate,
                         batch_size, epochs, l2, dropout, schedule, clip_norm, preprocess,
                         early_stopping, validation_fraction, dtype, task, warm_start,
                         random_state, verbose)
        self.class_weight = class_weight

    def fit(self, X: NDArray, y: NDArray, sample_weight: NDArray | None = None
            ) -> DeepstepClassifier:
        """Train on X (n_samples, n_features), labels y (n_samples,), optional weights."""
        restart = self._restart()
        X, y = validate_data(self, X, y, dtype=FIT_DTYPES, reset=restart)
        check_classification_targets(y)
        classes = np.unique(y)
        if not restart and np.array_equal(classes, self.classes_):
            index = np.searchsorted(self.classes_, y)
        else:
            self.classes_, index = classes, np.unique(y, return_inverse=True)[1]
            self._start(X)
        self._train(X, index, _sample_weight(sample_weight, X), class_weight=self._cw())
        return self

    def partial_fit(self, X: NDArray, y: NDArray, classes: NDArray | None = None,
                    sample_weight: NDArray | None = None) -> DeepstepClassifier:
        """One epoch on (X, y); the first call needs every class in ``classes``."""
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=FIT_DTYPES, reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("the first call to partial_fit needs classes=[all labels]")
            self.classes_ = np.unique(classes)
            self._start(X)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {np.unique(classes).tolist()} differ from those of the "
                             f"first call {self.classes_.tolist()}")
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"labels {unknown.tolist()} are not in classes "
                             f"{self.classes_.tolist()}")
        index = np.searchsorted(self.classes_, y)
        self._train(X, index, _sample_weight(sample_weight, X), class_weight=self._cw(),
                    epochs=1, incremental=True)
        return self

    def _start(self, X: NDArray) -> None:
        k = self.classes_.size
        if k < 2:
            raise ValueError(f"the labels hold only 1 class ({self.classes_[0]!r}); a "
                             "classifier needs at least 2 classes")
        task = self._task("binary" if k == 2 else "multiclass")
        self.network_ = self._new_network(X, 1 if k == 2 else k, task, k)
        self.network_.fit_targets(np.arange(k))

    def _cw(self) -> Any:
        if self.class_weight is None or isinstance(self.class_weight, str):
            return self.class_weight
        lookup = {c: i for i, c in enumerate(self.classes_.tolist())}
        return {lookup[c]: w for c, w in self.class_weight.items() if c in lookup}

    def predict_proba(self, X: NDArray) -> NDArray:
        """Class probabilities, shape (n_samples, n_classes)."""
        AL = self._output(X)
        if AL.shape[0] == 1:
            AL = np.vstack([1 - AL, AL])
        return AL.T

    def predict(self, X: NDArray) -> NDArray:
        """Predicted labels, shape (n_samples,)."""
        check_is_fitted(self, "network_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class DeepstepRegressor(RegressorMixin, _DeepstepBase):
    """A deepstep network with a linear output and squared error, as a scikit-learn regressor.

    Targets are standardised with the training mean and std inside (recorded in the
    network); predictions come back in the original units.

    Attributes
    ----------
    network_ : the fitted :class:`deepstep.Network`
    loss_curve_ : list of float, the training loss per epoch
    """

    _TASKS = ("regression",)

    def fit(self, X: NDArray, y: NDArray, sample_weight: NDArray | None = None
            ) -> DeepstepRegressor:
        """Train on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets)."""
        restart = self._restart()
        X, y = validate_data(self, X, y, dtype=FIT_DTYPES, multi_output=True,
                             y_numeric=True, reset=restart)
        Y = self._rows(y)
        if restart or self.network_.layer_dims[-1] != Y.shape[0]:
            self._start(X, Y)
        self._train(X, Y, _sample_weight(sample_weight, X))
        return self

    def partial_fit(self, X: NDArray, y: NDArray, sample_weight: NDArray | None = None
                    ) -> DeepstepRegressor:
        """One epoch on (X, y), continuing from the previous calls."""
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=FIT_DTYPES, multi_output=True,
                             y_numeric=True, reset=first)
        Y = self._rows(y)
        if first:
            self._start(X, Y)
        self._train(X, Y, _sample_weight(sample_weight, X), epochs=1,
                    incremental=True)
        return self

    @staticmethod
    def _rows(y: NDArray) -> NDArray:
        Y = np.asarray(y, dtype=np.float64)
        return Y.reshape(1, -1) if Y.ndim == 1 else Y.T

    def _start(self, X: NDArray, Y: NDArray) -> None:
        task = self._task("regression")
        self.network_ = self._new_network(X, Y.shape[0], task, 2)

    def predict(self, X: NDArray) -> NDArray:
        """Predicted targets, shape (n_samples,) or (n_samples, n_targets)."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        P = self.network_.predict(X.T)
        return P.ravel() if P.shape[0] == 1 else P.T

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
