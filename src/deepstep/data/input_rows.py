"""CSV rows as examples for a saved model (``predict`` / ``explain``), matched to its features.

:func:`read_csv_rows` is the one place where new inputs' CSV rows are read, through the data
loaders' own reader (:func:`deepstep.data.csv.read_feature_rows`): columns found by the names
the model recorded (``config_["data"]["features"]``) when the file has a header, by position
otherwise, categorical columns one-hot encoded in the recorded order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from numpy.typing import NDArray

from .csv import read_feature_rows
from .features import Features

if TYPE_CHECKING:
    from ..model import Network


@dataclass
class Rows:
    """The rows of one CSV file as the model's inputs.

    Attributes
    ----------
    names : list of str
        ``"<file>:<line>"`` per row (1-based file line).
    X : ndarray of shape (n_x, m), float64
        The rows encoded as the training data was.
    features : list of str or None
        The name of each of the n_x features (one-hot rows as ``column=category``) when the
        model records its CSV columns; None otherwise (see :func:`header_names`).
    """

    names: list[str]
    X: NDArray
    features: list[str] | None


def recorded_features(net: Network) -> Features | None:
    """The model's CSV feature columns (``config_["data"]["features"]``), or None."""
    meta = (net.config_.get("data") or {}).get("features")
    return None if meta is None else Features.from_dict(meta, "the model's features "
                                                        "description")


def read_csv_rows(net: Network, path: Path) -> Rows:
    """The rows of a CSV file as examples for ``net``.

    Raises
    ------
    ValueError
        For the whole file (naming it, the row and the column): text in a numeric column, an
        unseen category, a missing or non-finite value, columns that do not fit the model.
    """
    features = recorded_features(net)
    names, X = read_feature_rows(path, features, n_x=net.layer_dims[0])
    return Rows(names, X, None if features is None else features.expanded_names())


def header_names(path: Path, n_x: int) -> list[str] | None:
    """The first n_x column names of a CSV file with a header row (None without one): the
    feature names of a model that did not record its own (trained on bundled data)."""
    from .table import read_table

    try:
        table = read_table(path)
    except ValueError:
        return None
    return table.names[:n_x] if table.has_header and len(table.names) >= n_x else None

