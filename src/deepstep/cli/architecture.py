"""The network-size flags of ``explain`` and ``gradcheck``: one meaning of ``--layers``.

``--layers`` is the HIDDEN sizes everywhere (as in ``train``); the input and output sizes,
which ``train`` takes from the data, are ``--input N`` and ``--output N`` here (or come
from ``--model M``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .common import typed, with_default
from .settings import parse_layers, positive_int

#: A sentinel default: "not given" (so an explicit value can be told from the default).
_UNSET = None


def _size(flag: str) -> Any:
    """Argparse type of ``--input`` / ``--output``: a whole number >= 1, with a hint when an
    activation name (the other commands' ``--output ACT``) is given instead."""

    def parse(text: str) -> int:
        try:
            return positive_int(text)
        except ValueError:
            hint = ""
            if flag == "--output" and not text.strip().lstrip("-").isdigit():
                hint = ("; here --output is the number of output units, the output activation "
                        "is --output-activation")
            raise argparse.ArgumentTypeError(f"expected a number of units >= 1, got "
                                             f"{text!r}{hint}") from None

    parse.__name__ = flag.lstrip("-")
    return parse


def add_size_flags(p: argparse.ArgumentParser, defaults: dict[str, Any] | None,
                   group: Any = None) -> None:
    """``--layers`` (hidden sizes), ``--input N``, ``--output N``; ``defaults`` with keys
    "layers", "input", "output" fills them in (None: they must be given)."""
    d = defaults or {}
    add = (group or p).add_argument
    layers_help = ("HIDDEN layer sizes n[1],...,n[L-1], e.g. 20,7,5 ('none': no hidden "
                   "layer), as in train")
    add("--layers", metavar="N,N,...", type=typed(parse_layers, "layers"), default=_UNSET,
        help=with_default(layers_help, d["layers"]) if d else layers_help)
    p.add_argument("--input", metavar="N", type=_size("--input"), default=_UNSET,
                   help=with_default("input size n[0] (features per example)", d["input"])
                   if d else "input size n[0] (features per example), with --layers")
    p.add_argument("--output", metavar="N", type=_size("--output"), default=_UNSET,
                   help=with_default("output size n[L] (1 for two classes, k for k classes)",
                                     d["output"]) if d else
                   "output size n[L] (1 for two classes, k for k classes), with --layers")


def layer_dims(args: argparse.Namespace, defaults: dict[str, Any] | None) -> list[int]:
    """[n[0], *hidden, n[L]] from ``--input``, ``--layers`` and ``--output`` (or defaults).

    Raises ValueError naming the missing flag, and explaining the old all-sizes meaning of
    ``--layers`` when it looks like one.
    """
    d = defaults or {}
    hidden = args.layers if args.layers is not None else d.get("layers")
    n_in = args.input if args.input is not None else d.get("input")
    n_out = args.output if args.output is not None else d.get("output")
    if n_in is None or n_out is None:
        missing = [f for f, v in (("--input", n_in), ("--output", n_out)) if v is None]
        hint = ""
        if hidden and len(hidden) >= 2:
            hint = (f"; if {','.join(map(str, hidden))} are ALL the sizes, give --input "
                    f"{hidden[0]} --layers {','.join(map(str, hidden[1:-1])) or 'none'} "
                    f"--output {hidden[-1]}")
        raise ValueError(f"give {' and '.join(missing)} N with --layers (--layers is the "
                         f"HIDDEN sizes only), or --model M{hint}")
    return [int(n_in), *(hidden or []), int(n_out)]


def given_size_flags(args: argparse.Namespace) -> Sequence[str]:
    """The size flags given on the command line (for "not with --model" errors)."""
    return [f"--{k}" for k in ("layers", "input", "output") if getattr(args, k) is not None]
