"""``deepstep export``: write a saved model as an ONNX file (rows in, labels and
probabilities or values out), for onnxruntime and other ONNX runtimes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_USAGE, add_command, load_model


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``export`` and its flags."""
    p = add_command(subs, "export", "Export a saved model to ONNX (for onnxruntime).", """\
  deepstep export --model runs/cats/model.safetensors --out cats.onnx
  deepstep export --model model.safetensors --out model.onnx --dtype float32 --overwrite

The graph takes raw rows X of shape (N, n_x) (the recorded preprocessing is in it) and
outputs label (N,) and probabilities (N, k) for a classifier, values (N, n_y) for regression.
Needs pip install 'deepstep[onnx]'.""")
    p.add_argument("--model", required=True, metavar="M", help="a model file saved by train")
    p.add_argument("--out", required=True, metavar="FILE", help="the ONNX file to write")
    p.add_argument("--dtype", choices=("model", "float32", "float64"), default="model",
                   help="float type of the graph (default: model, the model's own)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it exists (default: refuse)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Write ``--out`` and print one line on its versions, input and outputs."""
    out = Path(args.out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a folder: give a file name, e.g. "
                                f"{out / 'model.onnx'}")
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out} exists: give --overwrite to replace it, or another --out")
    from ..onnx_export import describe, write_onnx

    net = load_model(args.model)
    try:
        model = write_onnx(net, out, None if args.dtype == "model" else args.dtype)
    except ImportError as e:  # the onnx extra is not installed: one line, exit 2
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {out}: {describe(model)}")
    return 0
