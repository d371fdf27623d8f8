"""``deepstep explain``: the course's shapes table, parameters, memory and FLOPs of a network."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, load_model, typed, with_default
from .settings import PARSERS, parse_layers, positive_int

#: Without ``--model``: the course's cat data (209 training examples), float64, gd.
DEFAULT_M, DEFAULT_DTYPE, DEFAULT_OPTIMIZER = 209, "float64", "gd"


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``explain`` and its flags."""
    p = add_command(subs, "explain", "The course's W, b, Z, A shapes table, parameters, FLOPs.",
                    """\
  deepstep explain --layers 12288,20,7,5,1 --m 209
  deepstep explain --layers 784,128,10 --m 32 --dtype float32 --optimizer adam
  deepstep explain --model runs/cats/model.safetensors""")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--layers", metavar="N,N,...", type=typed(parse_layers, "layers"),
                   help="ALL layer sizes n[0],...,n[L] (input and output included)")
    g.add_argument("--model", metavar="M", help="take the sizes from a saved model")
    p.add_argument("--m", type=typed(positive_int, "m"),
                   help=with_default("examples per iteration",
                                     f"{DEFAULT_M}, or the model's batch / m"))
    p.add_argument("--dtype", type=typed(PARSERS["dtype"], "dtype"),
                   help=with_default("float32 or float64", f"{DEFAULT_DTYPE}, or the model's"))
    p.add_argument("--optimizer", type=typed(PARSERS["optimizer"], "optimizer"),
                   help=with_default("for the memory of its state",
                                     f"{DEFAULT_OPTIMIZER}, or the model's"))
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the table for ``--layers``, or for the sizes of ``--model``."""
    from ..explain import format_table

    dims, m, dtype, optimizer = args.layers, args.m or DEFAULT_M, args.dtype, args.optimizer
    if args.model:
        net = load_model(args.model)
        cfg = net.config_
        dims = net.layer_dims
        m = args.m or int(cfg.get("batch_size") or cfg.get("m") or DEFAULT_M)
        dtype, optimizer = dtype or net.dtype.name, optimizer or cfg.get("optimizer", "gd")
    print(format_table(dims, m, dtype or DEFAULT_DTYPE, optimizer or DEFAULT_OPTIMIZER))
    return 0
