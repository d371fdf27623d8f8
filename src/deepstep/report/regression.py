"""A regression's results on one data set: predicted against true values and the residuals,
in the targets' original units.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepstep.report.formatting import fmt
from deepstep.report.plots import TRAIN_COLOR, _figure, _png


@dataclass(frozen=True)
class RegressionEvaluation:
    """True and predicted values of m examples, in the original units.

    Attributes
    ----------
    y_true : ndarray of shape (m,)
    y_pred : ndarray of shape (m,)
        :meth:`deepstep.Network.predict`'s values (original units, not standardised).
    data : str
        What the examples are, e.g. "diabetes test split (88 examples)".

    Examples
    --------
    >>> ev = RegressionEvaluation(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    >>> {k: round(v, 3) for k, v in ev.metrics().items()}
    {'r2': 0.5, 'mae': 0.333, 'rmse': 0.577}
    """

    y_true: NDArray[np.float64]
    y_pred: NDArray[np.float64]
    data: str = ""

    @property
    def m(self) -> int:
        """Number of examples."""
        return int(self.y_true.size)

    def metrics(self) -> dict[str, float]:
        """R^2, MAE and RMSE (:func:`deepstep.model.regression_metrics`)."""
        from deepstep.model import regression_metrics

        return regression_metrics(self.y_true.reshape(1, -1), self.y_pred.reshape(1, -1))


def plot_regression(ev: RegressionEvaluation, path: str | os.PathLike[str] | None = None
                    ) -> bytes:
    """Two panels: predicted against true values (with the line y = x), and the residual
    (predicted - true) against the predicted value (with the zero line).

    Parameters
    ----------
    ev : RegressionEvaluation
        y_true, y_pred : ndarray of shape (m,), original units.
    path : str or path-like, optional
        Also write the PNG here (atomically).

    Returns
    -------
    bytes
        The PNG image; the first panel's title carries R^2, the second's MAE and RMSE.

    Examples
    --------
    >>> ev = RegressionEvaluation(np.array([1.0, 2.0, 3.0]), np.array([1.2, 1.9, 3.3]))
    >>> plot_regression(ev)[1:4]
    b'PNG'
    """
    y, p = np.asarray(ev.y_true, float).ravel(), np.asarray(ev.y_pred, float).ravel()
    met = ev.metrics()
    fig = _figure(11.0, 4.6)
    left, right = fig.subplots(1, 2)
    size = 18 if y.size <= 500 else 6
    style = {"s": size, "color": TRAIN_COLOR, "alpha": 0.7, "edgecolors": "none"}
    left.scatter(y, p, **style)
    both = np.concatenate([y, p])
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    pad = 0.03 * (hi - lo or 1.0)
    left.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#555555", linestyle="--",
              linewidth=1, label="predicted = true")
    left.set_xlim(lo - pad, hi + pad)
    left.set_ylim(lo - pad, hi + pad)
    left.set_aspect("equal")
    left.set_xlabel("true value")
    left.set_ylabel("predicted value")
    left.set_title(f"Predicted against true (R\u00b2 {fmt(met['r2'])})", fontsize=11)
    left.legend(loc="upper left")
    right.scatter(p, p - y, **style)
    right.axhline(0.0, color="#555555", linestyle="--", linewidth=1)
    right.set_xlabel("predicted value")
    right.set_ylabel("residual: predicted - true")
    right.set_title(f"Residuals (MAE {fmt(met['mae'])}, RMSE {fmt(met['rmse'])})",
                    fontsize=11)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    return _png(fig, path)
