"""``deepstep gradcheck``: backpropagation against central differences on a random network."""

from __future__ import annotations

import argparse
from typing import Any

from ..gradcheck import TOLERANCE
from .common import EXIT_FAILED, EXIT_OK, add_command, typed, with_default
from .settings import PARSERS, parse_layers, positive_float, positive_int

#: The network and data checked when no flag is given.
DEFAULTS: dict[str, Any] = {"layers": [5, 4, 3, 1], "hidden": "relu", "output": "sigmoid",
                            "m": 5, "l2": 0.0, "dropout": 0.0, "seed": 0}


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``gradcheck`` and its flags."""
    D = DEFAULTS
    p = add_command(subs, "gradcheck", "Check backpropagation against central differences.",
                    """\
  deepstep gradcheck --layers 5,4,3,1
  deepstep gradcheck --layers 4,6,3 --hidden tanh --output softmax --l2 0.7 --dropout 0.2

Relative error ||g - g_num|| / (||g|| + ||g_num||) per parameter, in float64 on random data;
exit status 1 when the overall error is above --tol.""")
    a = p.add_argument
    a("--layers", metavar="N,N,...", type=typed(parse_layers, "layers"), default=D["layers"],
      help=with_default("ALL layer sizes", D["layers"]))
    a("--hidden", default=D["hidden"], type=typed(PARSERS["hidden"], "activation"),
      help=with_default("hidden activation (or one per hidden layer)", D["hidden"]))
    a("--output", default=D["output"], type=typed(PARSERS["output"], "activation"),
      help=with_default("output activation; its loss is the one training pairs with it",
                        D["output"]))
    a("--m", type=typed(positive_int, "m"), default=D["m"],
      help=with_default("examples", D["m"]))
    a("--l2", type=typed(PARSERS["l2"], "l2"), default=D["l2"],
      help=with_default("L2 strength lambda", D["l2"]))
    a("--dropout", type=typed(PARSERS["dropout"], "dropout"), default=D["dropout"],
      help=with_default("dropout rate of the hidden layers (fixed masks)", D["dropout"]))
    a("--seed", type=typed(PARSERS["seed"], "seed"), default=D["seed"],
      help=with_default("seed of the random parameters and data", D["seed"]))
    a("--tol", type=typed(positive_float, "tol"), default=None,
      help=with_default("threshold on the overall relative error",
                        f"deepstep.gradcheck.TOLERANCE, {TOLERANCE:g}"))
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the relative error per parameter; exit status 1 when it is above the tolerance."""
    from .. import engine, gradcheck
    from ..explain import count_params

    if len(args.layers) < 2:
        raise ValueError("gradcheck needs at least two sizes (input and output), e.g. 5,4,3,1")
    n = count_params(args.layers)
    if n > 20_000:
        raise ValueError(f"{n:,} parameters is too many to check (two forward passes each); "
                         "use smaller --layers, e.g. 5,4,3,1")
    output = "sigmoid" if args.output == "auto" else args.output
    loss = engine.loss_for_output(engine.get_activation(output).name).name
    result = gradcheck.check_architecture(
        args.layers, args.hidden, output, loss, m=args.m, l2=args.l2,
        keep_prob=1 - args.dropout, seed=args.seed)
    if args.tol is not None:
        result = gradcheck.GradCheckResult(result.relative_error, result.per_parameter,
                                           result.shapes, args.tol)
    print(f"layers {args.layers}, hidden {args.hidden}, output {output}, loss {loss}, "
          f"m = {args.m}, l2 {args.l2:g}, dropout {args.dropout:g}")
    print(result)
    return EXIT_OK if result.passed else EXIT_FAILED
