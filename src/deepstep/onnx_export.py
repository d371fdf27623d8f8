"""Export a :class:`~deepstep.Network` to ONNX: raw rows in, probabilities and labels (or
values in original units) out, so the model runs in onnxruntime and other ONNX runtimes.

The graph works in the **row layout** ONNX users expect, X of shape (N, n_x) with N symbolic,
which is the course's A[0] transposed. Each layer Z[l] = W[l] A[l-1] + b[l] becomes one
``Gemm(A[l-1]^T, W[l], b[l], transB=1)`` = A[l-1]^T W[l]^T + b[l]^T, so the stored weights
are W[l] exactly as trained, (n[l], n[l-1]). Parts, in order:

==================  =================================================================
preprocessing       "standardize": Sub(mean) then Div(std), the recorded float64
                    statistics in the graph's dtype (as ``Preprocessor.transform``
                    computes); "scale255": Div(255); "none": nothing
layer l = 1..L      Gemm (transB=1) then the activation (:data:`ACTIVATION_OPS`);
                    linear adds no node
classifier head     ``probabilities`` (N, k): Softmax's output, or for one sigmoid unit
                    Concat(1 - p, p) (N, 2) as scikit-learn's predict_proba;
                    ``label`` (N,): ArgMax over the probabilities, then Gather on a
                    constant tensor of the original labels (ints, strings, booleans,
                    or the data's class names)
regression head     ``values`` (N, n_y): A[L] * target_std + target_mean (the training
                    targets were standardised; the values are in original units)
==================  =================================================================

The whole graph computes in one float type: the model's own (float32 or float64) unless
``dtype`` asks for another. A float64 model therefore exports as a float64 graph that
matches ``Network.predict`` to rounding; ``dtype="float32"`` rounds its weights for runtimes
and accelerators that only take float32. Inputs and probabilities / values have that
type.

Versions. onnx writes the newest IR version it knows, which the onnxruntime of the same
period cannot read yet (onnx 1.23 writes IR 14; onnxruntime 1.30 reads up to IR 13 and
opset 26). The file sets both explicitly: opset :data:`OPSET` = 13, the first opset in
which every operator used here has its current definition (Softmax over one axis,
ArgMax's tie rule, Gemm's optional C), and :data:`IR_VERSION` = 7, the IR version that
introduced opset 13. Every onnxruntime since 1.6 loads it; the project's ``onnx`` extra
pins the onnxruntime the tests run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import __version__
from .engine.activations import LEAKY_SLOPE
from .files import atomic_write, jsonable

if TYPE_CHECKING:
    import onnx

    from .model import Network

#: The default ("ai.onnx") opset of the exported graph.
OPSET = 13
#: The file's IR version: 7 is the one that goes with opset 13 (onnx 1.8).
IR_VERSION = 7
#: Names of the graph's input, its symbolic batch dimension and its outputs.
INPUT, BATCH = "X", "N"
LABEL, PROBABILITIES, VALUES = "label", "probabilities", "values"


def _onnx() -> Any:
    """The ``onnx`` module, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as e:
        raise ImportError("ONNX export needs the onnx package: pip install "
                          "'deepstep[onnx]' (or pip install onnx)") from e
    return onnx


class _Graph:
    """Collects nodes and constant tensors (initializers) under unique names."""

    def __init__(self, dtype: np.dtype) -> None:
        self.onnx = _onnx()
        self.dtype = dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.outputs: list[Any] = []

    def const(self, name: str, value: NDArray | float, as_given: bool = False) -> str:
        """A constant tensor: floats in the graph's dtype unless ``as_given``."""
        array = np.asarray(value)
        if array.dtype.kind == "f" and not as_given:
            array = array.astype(self.dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str, **attrs: Any) -> str:
        """Add node ``op_type(inputs) -> output``; returns ``output``."""
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [output], name=output,
                                                     **attrs))
        return output

    def output(self, name: str, dtype: np.dtype, dims: list[str | int], doc: str) -> None:
        """Declare graph output ``name`` of element type ``dtype`` and shape ``dims``."""
        elem = (self.onnx.TensorProto.STRING if dtype.kind in "UO"
                else self.onnx.helper.np_dtype_to_tensor_dtype(dtype))
        self.outputs.append(self.onnx.helper.make_tensor_value_info(name, elem, dims, doc))


def _leaky_relu(g: _Graph, Z: str, A: str) -> str:
    if g.dtype == np.float32:
        return g.op("LeakyRelu", [Z], A, alpha=LEAKY_SLOPE)
    # onnxruntime has no float64 LeakyRelu kernel; max(Z, slope Z) is the same for a slope in
    # [0, 1], bit for bit (the engine also computes slope * Z and keeps Z where Z > 0)
    scaled = g.op("Mul", [Z, g.const(f"{A}.slope", LEAKY_SLOPE)], f"{A}.scaled")
    return g.op("Max", [Z, scaled], A)


#: Engine activation name -> function adding its nodes (graph, input Z, output name) -> A.
#: Softmax is over axis 1: the units of one example, a row here, a column in the engine.
ACTIVATION_OPS: dict[str, Callable[[_Graph, str, str], str]] = {
    "relu": lambda g, Z, A: g.op("Relu", [Z], A),
    "tanh": lambda g, Z, A: g.op("Tanh", [Z], A),
    "sigmoid": lambda g, Z, A: g.op("Sigmoid", [Z], A),
    "leaky_relu": _leaky_relu,
    "linear": lambda g, Z, A: Z,
    "softmax": lambda g, Z, A: g.op("Softmax", [Z], A, axis=1),
}


def _preprocessing(g: _Graph, net: Network, X: str) -> str:
    """Nodes of the recorded input preprocessing; returns the name of A[0] (rows)."""
    pre = net.preprocessor
    mode = "none" if pre is None else getattr(pre, "mode", None)
    if mode == "none":
        return X
    if mode == "scale255":
        return g.op("Div", [X, g.const("pre.255", 255.0)], "X.scaled")
    if mode == "standardize" and getattr(pre, "mean_", None) is not None:
        centred = g.op("Sub", [X, g.const("pre.mean", np.ravel(pre.mean_))], "X.centred")
        return g.op("Div", [centred, g.const("pre.std", np.ravel(pre.std_))], "X.standardized")
    raise ValueError(f"the model's preprocessing {pre!r} has no ONNX form; ONNX export "
                     "supports 'standardize' (fitted), 'scale255' and 'none'")


def export_labels(net: Network) -> NDArray:
    """The labels the exported graph outputs, one per class in ``classes_`` order.

    ``classes_`` as given to ``fit`` (ints as int64, strings, booleans), except that when
    the model's data description names the classes (``config_["data"]["classes"]``) and
    ``classes_`` are integer indices into those names, the names are exported (as
    ``deepstep predict`` prints them).

    Examples
    --------
    >>> from deepstep import Network
    >>> net = Network([2, 3])
    >>> net.classes_ = np.array([0, 2, 1])
    >>> export_labels(net).tolist()
    [0, 2, 1]
    >>> net.config_ = {"data": {"classes": ["cat", "dog", "bird"]}}
    >>> export_labels(net).tolist()
    ['cat', 'bird', 'dog']
    """
    classes = net.classes_
    if classes is None:  # not fitted (or an old file): predict gives the class index
        return np.arange(max(2, net.layer_dims[-1]), dtype=np.int64)
    classes = np.asarray(classes)
    names = (net.config_.get("data") or {}).get("classes")
    if names and classes.dtype.kind in "iu" and all(0 <= c < len(names) for c in classes):
        return np.array([str(names[int(c)]) for c in classes], dtype=str)
    if classes.dtype.kind in "iu":
        return classes.astype(np.int64)
    if classes.dtype.kind == "S":
        return np.char.decode(classes, "utf-8")
    if classes.dtype.kind == "O":
        if all(isinstance(c, str) for c in classes):
            return classes.astype(str)
        raise ValueError(f"class labels of mixed types {classes.tolist()[:5]} cannot be one "
                         "ONNX tensor; train with labels of one type (e.g. all strings)")
    return classes  # bool, float (whole-valued floats), str


def _classifier_head(g: _Graph, net: Network, A: str) -> None:
    """Outputs ``probabilities`` (N, k) and ``label`` (N,)."""
    k = net.layer_dims[-1]
    if k == 1:  # one sigmoid unit: both columns (1 - p, p)
        one_minus = g.op("Sub", [g.const("one", 1.0), A], "1-p")
        proba = g.op("Concat", [one_minus, A], PROBABILITIES, axis=1)
    else:
        proba = g.op("Identity", [A], PROBABILITIES)
    # ArgMax keeps the first of equal values, so for (1 - p, p) it picks column 1 exactly
    # when p > 0.5 (1 - p is exact for p in [0.5, 1]): the engine's threshold
    index = g.op("ArgMax", [proba], "class_index", axis=1, keepdims=0)
    labels = export_labels(net)
    g.op("Gather", [g.const("classes", labels, as_given=True), index], LABEL, axis=0)
    g.output(LABEL, labels.dtype, [BATCH], "the predicted class, one of the original labels")
    g.output(PROBABILITIES, g.dtype, [BATCH, max(2, k)],
             "the probability of each class, in the order of the labels (metadata "
             "deepstep.classes)")


def _regression_head(g: _Graph, net: Network, A: str) -> None:
    """Output ``values`` (N, n_y) in the units of the training targets."""
    mean, std = getattr(net, "target_mean_", None), getattr(net, "target_std_", None)
    if mean is None or std is None:  # not fitted: predict returns A[L]
        g.op("Identity", [A], VALUES)
    else:
        scaled = g.op("Mul", [A, g.const("target.std", np.ravel(std))], "values.scaled")
        g.op("Add", [scaled, g.const("target.mean", np.ravel(mean))], VALUES)
    g.output(VALUES, g.dtype, [BATCH, net.layer_dims[-1]],
             "the predicted values in the units of the training targets")


def _metadata(net: Network, dtype: np.dtype) -> dict[str, str]:
    """The model's description as metadata_props (strings; JSON for structured values)."""
    data = net.config_.get("data") or {}
    return {
        "deepstep.version": __version__,
        "deepstep.task": net.task,
        "deepstep.layer_dims": _json(net.layer_dims),
        "deepstep.activations": _json([a.name for a in net.activations]),
        "deepstep.preprocess": getattr(net.preprocessor, "mode", "none"),
        "deepstep.dtype": net.dtype.name,
        "deepstep.graph_dtype": dtype.name,
        "deepstep.classes": _json(None if net.task == "regression" else export_labels(net)),
        "deepstep.data": _json(data),
        "deepstep.config": _json({k: v for k, v in net.config_.items() if k != "data"}),
    }


def _json(value: Any) -> str:
    """Strict JSON (NaN and infinities as null), readable by any JSON parser."""

    def finite(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        if isinstance(v, list):
            return [finite(x) for x in v]
        return v

    return json.dumps(finite(jsonable(value)), allow_nan=False, default=str)


def build_onnx(net: Network, dtype: str | None = None) -> onnx.ModelProto:
    """The ONNX model of ``net`` (see the module docstring for the graph), checked with
    ``onnx.checker``.

    Parameters
    ----------
    net : Network
    dtype : {None, "float32", "float64"}
        The graph's float type; None: the model's own.

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (N, n_x); outputs ``label`` (N,) and ``probabilities`` (N, k) (k = 2
        for one sigmoid unit) for classifiers, ``values`` (N, n_y) for regression.

    Examples
    --------
    >>> from deepstep import Network
    >>> describe(build_onnx(Network([4, 3, 1], seed=0)))
    'opset 13, IR 7; input X (N, 4) float32; outputs label (N,) int64, probabilities (N, 2) float32'
    """
    onnx = _onnx()
    helper = onnx.helper
    dt = np.dtype(net.dtype if dtype is None else dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    missing = [a.name for a in net.activations if a.name not in ACTIVATION_OPS]
    if missing:
        raise ValueError(f"activation {missing[0]!r} has no ONNX form yet: add it to "
                         "deepstep.onnx_export.ACTIVATION_OPS")
    g = _Graph(dt)
    A = _preprocessing(g, net, INPUT)
    for l, act in enumerate(net.activations, start=1):
        W, b = net.params[f"W{l}"], net.params[f"b{l}"]
        Z = g.op("Gemm", [A, g.const(f"W{l}", W), g.const(f"b{l}", np.ravel(b))], f"Z{l}",
                 transB=1)
        A = ACTIVATION_OPS[act.name](g, Z, f"A{l}")
    head = _regression_head if net.task == "regression" else _classifier_head
    head(g, net, A)
    rows = helper.make_tensor_value_info(INPUT, helper.np_dtype_to_tensor_dtype(dt),
                                         [BATCH, net.layer_dims[0]],
                                         "raw input rows (N, n_x), before preprocessing")
    graph = helper.make_graph(g.nodes, "deepstep", [rows], g.outputs,
                              initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION, producer_name="deepstep",
                              producer_version=__version__,
                              doc_string=f"deepstep {net!r}, task {net.task}")
    helper.set_model_props(model, _metadata(net, dt))
    onnx.checker.check_model(model, full_check=True)
    return model


def write_onnx(net: Network, path: str | Path, dtype: str | None = None) -> onnx.ModelProto:
    """Write the ONNX model of ``net`` (:func:`build_onnx`) atomically to ``path`` (an
    existing file is replaced); returns the model."""
    model = build_onnx(net, dtype)
    atomic_write(path, model.SerializeToString())
    return model


def describe(model: onnx.ModelProto) -> str:
    """One line on a model's versions, input and outputs, e.g. for the command line."""
    onnx = _onnx()

    def tensor(v: Any) -> str:
        t = v.type.tensor_type
        dims = [d.dim_param or str(d.dim_value) for d in t.shape.dim]
        shape = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
        kind = ("string" if t.elem_type == onnx.TensorProto.STRING
                else onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name)
        return f"{v.name} {shape} {kind}"

    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    return (f"opset {opset}, IR {model.ir_version}; input {tensor(model.graph.input[0])}; "
            f"outputs {', '.join(tensor(v) for v in model.graph.output)}")
