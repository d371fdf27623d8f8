"""scikit-learn estimators over :class:`deepstep.Network`.

scikit-learn puts examples in rows, X of shape (n_samples, n_features); deepstep's course
layout puts them in columns. The conversion happens here, once, with ``X.T``; everything
inside sees (n_x, m).

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
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from .model import DEFAULTS, Network


class _DeepstepBase(BaseEstimator):
    """Hyperparameters shared by the classifier and the regressor (see :meth:`Network.fit`)."""

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = tuple(DEFAULTS["hidden_layers"]),
        hidden: str = DEFAULTS["hidden"],
        init: str = DEFAULTS["init"],
        optimizer: str = DEFAULTS["optimizer"],
        learning_rate: float | None = 1e-3,
        batch_size: int | None = DEFAULTS["batch_size"],
        epochs: int = DEFAULTS["epochs"],
        l2: float = 0.0,
        dropout: float = 0.0,
        preprocess: str | None = "standardize",
        early_stopping: int | bool = False,
        validation_fraction: float = 0.1,
        dtype: str = "float64",
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
        self.preprocess = preprocess
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _fit_network(self, X: NDArray, Y: NDArray, n_out: int, output: str) -> None:
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        dims = [X.shape[1], *self.hidden_layer_sizes, n_out]
        self.network_ = Network(dims, hidden=self.hidden, output=output, init=self.init,
                                dtype=self.dtype, seed=seed)
        history = self.network_.fit(
            X.T, Y, epochs=self.epochs, batch_size=self.batch_size, optimizer=self.optimizer,
            learning_rate=self.learning_rate, l2=self.l2, dropout=self.dropout,
            preprocess=self.preprocess, early_stopping=self.early_stopping,
            validation_split=self.validation_fraction if self.early_stopping else 0.0,
            verbose=self.verbose)
        self.loss_curve_ = list(history["loss"])
        self.n_iter_ = len(self.loss_curve_)

    def _output(self, X: NDArray) -> NDArray:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.predict_proba(X.T)


class DeepstepClassifier(ClassifierMixin, _DeepstepBase):
    """A deepstep network as a scikit-learn classifier (sigmoid for 2 classes, else softmax).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    network_ : the fitted :class:`deepstep.Network`
    loss_curve_ : list of float, the training loss per epoch
    """

    def fit(self, X: NDArray, y: NDArray) -> DeepstepClassifier:
        """Train on X of shape (n_samples, n_features) and labels y of shape (n_samples,)."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        k = self.classes_.size
        if k < 2:
            raise ValueError(f"the labels hold only 1 class ({self.classes_[0]!r}); a "
                             "classifier needs at least 2 classes")
        self._fit_network(X, index, 1 if k == 2 else k, "sigmoid" if k == 2 else "softmax")
        return self

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

    Attributes
    ----------
    network_ : the fitted :class:`deepstep.Network`
    loss_curve_ : list of float, the training loss per epoch
    """

    def fit(self, X: NDArray, y: NDArray) -> DeepstepRegressor:
        """Train on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets)."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], multi_output=True,
                             y_numeric=True)
        Y = np.asarray(y, dtype=np.float64)
        Y = Y.reshape(1, -1) if Y.ndim == 1 else Y.T
        self._fit_network(X, Y, Y.shape[0], "linear")
        return self

    def predict(self, X: NDArray) -> NDArray:
        """Predicted targets, shape (n_samples,) or (n_samples, n_targets)."""
        AL = self._output(X)
        return AL.ravel() if AL.shape[0] == 1 else AL.T

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
