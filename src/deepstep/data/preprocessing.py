"""Input preprocessing that is fitted once, recorded and re-applied (e.g. by a saved model).

Modes are a registry keyed by name: ``"scale255"`` (X / 255, for uint8 pixels, as the course
does), ``"standardize"`` ((X - mean) / std per feature, statistics from the training set)
and ``"none"``. Statistics are kept in float64 whatever the data's dtype.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

MODES = ("none", "scale255", "standardize")
_FORMAT = "deepstep.Preprocessor"


def default_mode(X: NDArray) -> str:
    """The usual choice: "scale255" for uint8 data (pixels), "standardize" otherwise.

    Examples
    --------
    >>> default_mode(np.zeros((3, 2), dtype=np.uint8)), default_mode(np.zeros((3, 2)))
    ('scale255', 'standardize')
    """
    return "scale255" if np.asarray(X).dtype == np.uint8 else "standardize"


@dataclass
class Preprocessor:
    """A recorded input transform: ``fit`` on training data, ``transform`` any data.

    Parameters
    ----------
    mode : {"none", "scale255", "standardize"}
    min_std : float
        Features whose training std is below this get std 1 (they are left centred but not
        scaled), as scikit-learn's ``StandardScaler`` does: dividing by a tiny std would blow
        up any new value of a feature that was constant in training (an always-black pixel).

    Attributes
    ----------
    mean_, std_ : ndarray of shape (n_x, 1), float64, or None
        Training statistics ("standardize" only), set by ``fit`` / ``fit_stream``.
    n_seen_ : int
        Examples the statistics were computed from.

    Examples
    --------
    >>> X = np.array([[0.0, 2.0, 4.0], [1.0, 1.0, 1.0]])
    >>> p = Preprocessor("standardize").fit(X)
    >>> p.transform(X).round(3)
    array([[-1.225,  0.   ,  1.225],
           [ 0.   ,  0.   ,  0.   ]])
    >>> q = Preprocessor.from_state(*p.to_state())
    >>> bool(np.array_equal(q.transform(X), p.transform(X)))
    True
    """

    mode: str = "standardize"
    min_std: float = 1e-8
    mean_: NDArray | None = None
    std_: NDArray | None = None
    n_seen_: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown preprocessing mode {self.mode!r}; choose one of {MODES}")

    @property
    def fitted(self) -> bool:
        """Whether ``transform`` can run (only "standardize" needs fitting)."""
        return self.mode != "standardize" or self.mean_ is not None

    def fit(self, X: NDArray, weights: NDArray | None = None) -> Preprocessor:
        """Compute the training statistics from X of shape (n_x, m); returns self.

        ``weights`` (m,), optional, gives the statistics of the weighted sample (an example
        of weight 2 counts as if it appeared twice).
        """
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] == 0:
            raise ValueError(f"fit needs X of shape (n_x, m) with m >= 1, got {X.shape}")
        if self.mode == "standardize":
            if weights is None:
                mean = X.mean(axis=1, keepdims=True, dtype=np.float64)
                var = ((X - mean) ** 2).mean(axis=1, keepdims=True)
            else:
                w = np.asarray(weights, dtype=np.float64).ravel()
                mean = np.average(X, axis=1, weights=w).reshape(-1, 1)
                var = np.average((X - mean) ** 2, axis=1, weights=w).reshape(-1, 1)
            self._set(mean, var, X.shape[1])
        self.n_seen_ = X.shape[1]
        return self

    def fit_stream(self, batches: Iterable[Any]) -> Preprocessor:
        """Compute the statistics in one pass over batches Xb (n_x, b) or (Xb, yb) pairs.

        Batches are merged with Chan et al.'s pairwise update of (count, mean, M2) in float64
        (Welford's algorithm generalised to blocks), so the result equals ``fit`` on all the
        columns at once up to rounding, while only one batch is ever in memory.
        """
        n, mean, M2 = 0, None, None
        for batch in batches:
            Xb = np.asarray(batch[0] if isinstance(batch, tuple) else batch)
            k = Xb.shape[1]
            if k == 0:
                continue
            mb = Xb.mean(axis=1, keepdims=True, dtype=np.float64)
            M2b = ((Xb - mb) ** 2).sum(axis=1, keepdims=True)
            if mean is None:
                n, mean, M2 = k, mb, M2b
            else:
                delta, tot = mb - mean, n + k
                mean = mean + delta * (k / tot)
                M2 = M2 + M2b + delta**2 * (n * k / tot)
                n = tot
        if mean is None or M2 is None:
            raise ValueError("fit_stream got no examples: the batch iterator was empty")
        if self.mode == "standardize":
            self._set(mean, M2 / n, n)
        self.n_seen_ = n
        return self

    def _set(self, mean: NDArray, var: NDArray, n: int) -> None:
        std = np.sqrt(var)
        self.mean_, self.std_ = mean, np.where(std < self.min_std, 1.0, std)

    def transform(self, X: NDArray, dtype: DTypeLike = np.float64) -> NDArray:
        """Apply the recorded transform to X (n_x, m); returns a new float array of ``dtype``."""
        X = np.asarray(X)
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"transform returns floats; got dtype {dtype}")
        mean, std = self.mean_, self.std_
        if self.mode == "standardize":
            if mean is None or std is None:
                raise ValueError("this 'standardize' Preprocessor is not fitted: call fit(X_train)")
            if X.ndim != 2 or X.shape[0] != mean.shape[0]:
                raise ValueError(
                    f"expected X of shape ({mean.shape[0]}, m) as in fit, got {X.shape}"
                )
        out = X.astype(dtype)  # a copy, then in place: one batch-sized buffer, not three
        if self.mode == "scale255":
            out /= dtype.type(255)
        elif mean is not None and std is not None:
            out -= mean.astype(dtype)
            out /= std.astype(dtype)
        return out

    def fit_transform(self, X: NDArray, dtype: DTypeLike = np.float64) -> NDArray:
        """``fit(X)`` then ``transform(X, dtype)``."""
        return self.fit(X).transform(X, dtype)

    def to_state(self) -> tuple[dict[str, Any], dict[str, NDArray]]:
        """A JSON-able header and named float64 arrays, e.g. to store beside a model."""
        header: dict[str, Any] = {
            "format": _FORMAT,
            "version": 1,
            "mode": self.mode,
            "min_std": self.min_std,
            "n_seen": self.n_seen_,
        }
        arrays: dict[str, NDArray] = {}
        if self.mean_ is not None and self.std_ is not None:
            arrays = {"mean": self.mean_, "std": self.std_}
        return header, arrays

    @classmethod
    def from_state(cls, header: dict[str, Any], arrays: dict[str, NDArray]) -> Preprocessor:
        """Rebuild from ``to_state()`` output; raises ValueError if it is not one."""
        if header.get("format") != _FORMAT:
            raise ValueError(f"not a saved Preprocessor (format {header.get('format')!r})")
        p = cls(header["mode"], float(header["min_std"]), n_seen_=int(header["n_seen"]))
        if "mean" in arrays:
            p.mean_ = np.asarray(arrays["mean"], dtype=np.float64).reshape(-1, 1)
            p.std_ = np.asarray(arrays["std"], dtype=np.float64).reshape(-1, 1)
        return p

    def to_dict(self) -> dict[str, Any]:
        """Everything as one JSON-able dict (arrays as lists): small models only."""
        header, arrays = self.to_state()
        return {**header, "arrays": {k: v.ravel().tolist() for k, v in arrays.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessor:
        """Inverse of ``to_dict``."""
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in d.get("arrays", {}).items()}
        return cls.from_state({k: v for k, v in d.items() if k != "arrays"}, arrays)
