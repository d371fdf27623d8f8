"""The engine: the only place in deepstep with math.

Everything else (the course API, :class:`deepstep.Network`, the estimators, the CLI) is a thin
front over these functions.
"""

from . import dual, flat
from .activations import ACTIVATIONS, Activation, get_activation
from .flat import FlatParams
from .initializers import INITIALIZERS, initialize
from .linear import linear_backward, linear_forward
from .losses import LOSSES, Loss, get_loss, loss_for_output
from .network import (
    Workspace,
    backward,
    backward_from,
    compute_cost,
    forward,
    layer_dims,
    n_layers,
    predict_forward,
    resolve_activations,
)

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "Activation",
    "FlatParams",
    "Loss",
    "Workspace",
    "backward",
    "backward_from",
    "compute_cost",
    "dual",
    "flat",
    "forward",
    "get_activation",
    "get_loss",
    "initialize",
    "layer_dims",
    "linear_backward",
    "linear_forward",
    "loss_for_output",
    "n_layers",
    "predict_forward",
    "resolve_activations",
]
