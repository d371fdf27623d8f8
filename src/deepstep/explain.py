"""The course's shape table, parameter count, memory and FLOPs of a fully connected network.

For layer l = 1..L of a network with sizes n[0], ..., n[L] trained on m examples
(course notation, examples as columns)::

    W[l] (n[l], n[l-1])   b[l] (n[l], 1)   Z[l] = W[l] A[l-1] + b[l] (n[l], m)   A[l] (n[l], m)

and A[0] = X is (n[0], m). Everything here is arithmetic on the sizes; nothing is allocated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Optimiser state kept per parameter (copies of the parameter count): Adam keeps v and s.
OPTIMIZER_STATE = {"gd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}


def layer_rows(layer_dims: Sequence[int], m: int) -> list[dict[str, Any]]:
    """One row per layer l = 1..L: ``layer``, ``W``, ``b``, ``Z``, ``A`` shapes and ``params``.

    The rows are what :func:`deepstep.report.html.build_report` takes as ``shapes``.

    Parameters
    ----------
    layer_dims : sequence of int
        [n[0], n[1], ..., n[L]].
    m : int
        Number of examples (columns of X).

    Returns
    -------
    list of dict
        ``W`` (n[l], n[l-1]), ``b`` (n[l], 1), ``Z`` and ``A`` (n[l], m), ``params``
        n[l] n[l-1] + n[l].

    Examples
    --------
    >>> layer_rows([3, 2, 1], 5)[0]
    {'layer': 1, 'W': (2, 3), 'b': (2, 1), 'Z': (2, 5), 'A': (2, 5), 'params': 8}
    """
    dims = _check(layer_dims, m)
    return [
        {"layer": l, "W": (dims[l], dims[l - 1]), "b": (dims[l], 1), "Z": (dims[l], m),
         "A": (dims[l], m), "params": dims[l] * dims[l - 1] + dims[l]}
        for l in range(1, len(dims))
    ]


def count_params(layer_dims: Sequence[int]) -> int:
    """Total number of weights and biases, sum over l of n[l] n[l-1] + n[l].

    Examples
    --------
    >>> count_params([12288, 20, 7, 5, 1])
    245973
    """
    dims = _check(layer_dims, 1)
    return sum(dims[l] * dims[l - 1] + dims[l] for l in range(1, len(dims)))


@dataclass(frozen=True)
class Cost:
    """Memory (bytes) and floating-point operations of one training iteration on m examples.

    Attributes
    ----------
    params : int
        Number of parameters P.
    param_bytes, grad_bytes, optimizer_bytes : int
        P numbers each for the weights and their gradients, plus the optimiser's state
        (0, P or 2P numbers, see ``OPTIMIZER_STATE``).
    cache_bytes : int
        The forward cache kept for backpropagation: X (n[0], m) plus Z[l] and A[l]
        (n[l], m) for every layer.
    forward_flops, backward_flops : int
        Matrix products only, 2 FLOPs per multiply-add: forward W[l] A[l-1] is 2 n[l] n[l-1] m
        per layer; backward dW[l] = dZ[l] A[l-1].T and dA[l-1] = W[l].T dZ[l] are
        2 n[l] n[l-1] m each, except that dA[0] (the gradient for X) is not computed.
    elementwise_flops : int
        A rough count of the rest, 1 FLOP per element: bias add and activation forward,
        activation derivative and db sum backward (4 per entry of each Z[l]), and the update
        (2 per parameter).
    """

    params: int
    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    cache_bytes: int
    forward_flops: int
    backward_flops: int
    elementwise_flops: int

    @property
    def total_flops(self) -> int:
        """Forward + backward matrix-product FLOPs + the element-wise estimate."""
        return self.forward_flops + self.backward_flops + self.elementwise_flops

    @property
    def total_bytes(self) -> int:
        """Parameters, gradients, optimiser state and forward cache together."""
        return self.param_bytes + self.grad_bytes + self.optimizer_bytes + self.cache_bytes


def training_cost(
    layer_dims: Sequence[int], m: int, dtype: str = "float64", optimizer: str = "gd"
) -> Cost:
    """Memory and FLOPs of one training iteration (forward + backward + update) on m examples.

    Parameters
    ----------
    layer_dims : sequence of int
        [n[0], ..., n[L]].
    m : int
        Examples per iteration (the batch size; all of X for full-batch gradient descent).
    dtype : {"float32", "float64"}
    optimizer : {"gd", "momentum", "rmsprop", "adam"}

    Returns
    -------
    Cost

    Examples
    --------
    >>> c = training_cost([2, 3, 1], m=4)
    >>> c.params, c.forward_flops, c.backward_flops
    (13, 72, 96)
    """
    dims = _check(layer_dims, m)
    if optimizer not in OPTIMIZER_STATE:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(OPTIMIZER_STATE)}")
    size = np.dtype(dtype).itemsize
    P = count_params(dims)
    products = [2 * dims[l] * dims[l - 1] * m for l in range(1, len(dims))]
    units = sum(dims[1:])
    return Cost(
        params=P,
        param_bytes=P * size,
        grad_bytes=P * size,
        optimizer_bytes=OPTIMIZER_STATE[optimizer] * P * size,
        cache_bytes=(dims[0] * m + 2 * units * m) * size,
        forward_flops=sum(products),
        backward_flops=products[0] + 2 * sum(products[1:]),
        elementwise_flops=4 * units * m + 2 * P,
    )


def _shape(s: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(v) for v in s) + ")"


def _bytes(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def _flops(n: int) -> str:
    for unit, scale in (("GFLOP", 1e9), ("MFLOP", 1e6), ("kFLOP", 1e3)):
        if n >= scale:
            return f"{n:,} ({n / scale:.2f} {unit})"
    return f"{n:,}"


def format_table(
    layer_dims: Sequence[int], m: int, dtype: str = "float64", optimizer: str = "gd"
) -> str:
    """The course's shape table with parameter count, memory and FLOPs, as printable text.

    Examples
    --------
    >>> print(format_table([3, 2, 1], 5).splitlines()[3])
    1      (2, 3)  (2, 1)  (2, 5)  (2, 5)  8
    """
    dims = _check(layer_dims, m)
    rows = layer_rows(dims, m)
    cost = training_cost(dims, m, dtype, optimizer)
    table = [("layer", "W", "b", "Z", "A", "params", "")]
    table.append(("0", "-", "-", "-", _shape((dims[0], m)), "-", "A[0] = X"))
    for r in rows:
        table.append((str(r["layer"]), _shape(r["W"]), _shape(r["b"]), _shape(r["Z"]),
                      _shape(r["A"]), f"{r['params']:,}", ""))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [f"layer_dims {list(dims)}, m = {m} examples, {dtype}"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in table]
    state = OPTIMIZER_STATE[optimizer]
    lines += [
        f"parameters: {cost.params:,}",
        f"memory ({np.dtype(dtype).itemsize} bytes per number): parameters "
        f"{_bytes(cost.param_bytes)}, gradients {_bytes(cost.grad_bytes)}, {optimizer} state "
        f"{_bytes(cost.optimizer_bytes)} ({state} x parameters), forward cache "
        f"{_bytes(cost.cache_bytes)} (X, Z[l], A[l]); total {_bytes(cost.total_bytes)}",
        f"FLOPs per iteration on m = {m}: forward {_flops(cost.forward_flops)}, "
        f"backward {_flops(cost.backward_flops)}, element-wise ~{_flops(cost.elementwise_flops)}"
        f"; total {_flops(cost.total_flops)}",
        "  counted as 2 FLOPs per multiply-add in the matrix products: forward W[l] A[l-1] "
        "(2 n[l] n[l-1] m per layer); backward dW[l] = dZ[l] A[l-1].T and "
        "dA[l-1] = W[l].T dZ[l] (2 n[l] n[l-1] m each; dA[0] is not computed); element-wise "
        "is a rough 4 per entry of Z[l] (bias, activation, its derivative, db) + 2 per "
        "parameter (update)",
    ]
    return "\n".join(lines)


def _check(layer_dims: Sequence[int], m: int) -> list[int]:
    dims = [int(n) for n in layer_dims]
    if len(dims) < 2 or any(n < 1 for n in dims):
        raise ValueError(f"layer sizes must be >= 1 and at least two (input and output), got "
                         f"{list(layer_dims)}; e.g. --layers 12288,20,7,5,1")
    if int(m) < 1:
        raise ValueError(f"m (the number of examples) must be >= 1, got {m}")
    return dims
