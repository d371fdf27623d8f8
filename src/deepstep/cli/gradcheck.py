"""``deepstep gradcheck``: backpropagation against central differences on a random network."""

from __future__ import annotations

import argparse
from typing import Any

from ..gradcheck import TOLERANCE
from .architecture import add_size_flags, given_size_flags, layer_dims
from .common import EXIT_FAILED, EXIT_OK, add_command, load_model, typed, with_default
from .settings import PARSERS, positive_float, positive_int

#: The network and data checked when no flag is given: sizes 5, 4, 3, 1.
DEFAULTS: dict[str, Any] = {"input": 5, "layers": [4, 3], "output": 1, "hidden": "relu",
                            "output_activation": "sigmoid", "m": 5, "l2": 0.0,
                            "dropout": 0.0, "seed": 0, "samples": 50}
#: Above this the arrays alone would take too much memory for a check (float64).
MAX_BYTES = 512 * 2**20


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``gradcheck`` and its flags."""
    D = DEFAULTS
    p = add_command(subs, "gradcheck", "Check backpropagation against central differences.",
                    """\
  deepstep gradcheck
  deepstep gradcheck --input 4 --layers 6 --output 3 --hidden tanh --output-activation softmax \\
      --l2 0.7 --dropout 0.2
  deepstep gradcheck --input 784 --layers 128 --output 10 --output-activation softmax
  deepstep gradcheck --model runs/cats/model.safetensors

Relative error ||g - g_num|| / (||g|| + ||g_num||) per parameter, in float64 on random data
and random parameters (--model takes only the sizes and activations of a saved model). A
parameter array with more than --samples entries is checked on that many entries drawn with
--seed; the table says how many. Exit status 1 when the overall error is above --tol.""")
    a = p.add_argument
    add_size_flags(p, D)
    a("--model", metavar="M", help="check the architecture of a saved model (sizes, "
      "activations, loss) instead of --input/--layers/--output")
    a("--hidden", metavar="ACT", default=None, type=typed(PARSERS["hidden"], "activation"),
      help=with_default("hidden activation (or one per hidden layer)", D["hidden"]))
    a("--output-activation", metavar="ACT", default=None,
      type=typed(PARSERS["output"], "activation"),
      help=with_default("output activation; its loss is the one training pairs with it",
                        D["output_activation"]))
    a("--m", metavar="M", type=typed(positive_int, "m"), default=D["m"],
      help=with_default("examples", D["m"]))
    a("--l2", metavar="X", type=typed(PARSERS["l2"], "l2"), default=D["l2"],
      help=with_default("L2 strength lambda", D["l2"]))
    a("--dropout", metavar="X", type=typed(PARSERS["dropout"], "dropout"), default=D["dropout"],
      help=with_default("dropout rate of the hidden layers (fixed masks)", D["dropout"]))
    a("--samples", metavar="N", type=typed(positive_int, "samples"), default=D["samples"],
      help=with_default("entries checked per parameter array W[l], b[l] (all when it has "
                        "fewer)", D["samples"]))
    a("--seed", metavar="N", type=typed(PARSERS["seed"], "seed"), default=D["seed"],
      help=with_default("seed of the random parameters, data and sampled entries", D["seed"]))
    a("--tol", metavar="X", type=typed(positive_float, "tol"), default=None,
      help=with_default("threshold on the overall relative error",
                        f"deepstep.gradcheck.TOLERANCE, {TOLERANCE:g}"))
    p.set_defaults(run=run)
    return p


def _architecture(args: argparse.Namespace) -> tuple[list[int], Any, str, str | None]:
    """Layer sizes, hidden activation(s), output activation and loss (None: the output's)."""
    if args.model:
        if given_size_flags(args):
            raise ValueError(f"give --model or {'/'.join(given_size_flags(args))}, not both: "
                             "the model has its sizes")
        net = load_model(args.model)
        hidden = args.hidden or [a.name for a in net.activations[:-1]] or DEFAULTS["hidden"]
        output = args.output_activation or net.activations[-1].name
        loss = None if args.output_activation else net.loss.name
        return list(net.layer_dims), hidden, output, loss
    dims = layer_dims(args, DEFAULTS)
    output = args.output_activation or DEFAULTS["output_activation"]
    return dims, args.hidden or DEFAULTS["hidden"], output, None


def run(args: argparse.Namespace) -> int:
    """Print the relative error per parameter; exit status 1 when it is above the tolerance."""
    from .. import engine, gradcheck
    from ..explain import training_cost

    dims, hidden, output, loss = _architecture(args)
    output = "sigmoid" if output == "auto" else output
    loss = loss or engine.loss_for_output(engine.get_activation(output).name).name
    need = training_cost(dims, args.m, "float64").total_bytes
    if need > MAX_BYTES:
        raise ValueError(f"a check of layer sizes {dims} on m = {args.m} needs about "
                         f"{need / 2**20:,.0f} MiB, above {MAX_BYTES // 2**20} MiB; use smaller "
                         "--layers / --input or --m")
    try:
        result = gradcheck.check_architecture(
            dims, hidden, output, loss, m=args.m, l2=args.l2, keep_prob=1 - args.dropout,
            seed=args.seed, samples=args.samples)
    except RuntimeError as e:  # no draw kept the pre-activations off relu's kink
        raise ValueError(f"{e} (try a smaller --m, or --seed)") from None
    if args.tol is not None:
        result = gradcheck.GradCheckResult(result.relative_error, result.per_parameter,
                                           result.shapes, args.tol, result.checked)
    print(f"layers {dims}, hidden {hidden}, output {output}, loss {loss}, m = {args.m}, "
          f"l2 {args.l2:g}, dropout {args.dropout:g}")
    print(result)
    if result.n_checked < result.n_total:
        print(f"checked {result.n_checked:,} of {result.n_total:,} parameters: at most "
              f"{args.samples} per array, drawn with seed {args.seed} (--samples, --seed)")
    else:
        print(f"checked all {result.n_total:,} parameters")
    return EXIT_OK if result.passed else EXIT_FAILED
