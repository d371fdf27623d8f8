"""``deepstep explain``: why a model predicted what it did (attributions per input), or the
course's shapes table, parameters, memory and FLOPs of a network."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .architecture import add_size_flags, given_size_flags, layer_dims
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_command, load_model, typed, with_default
from .settings import PARSERS, positive_int

#: Without ``--model``: the course's cat data (209 training examples), float64, gd.
DEFAULT_M, DEFAULT_DTYPE, DEFAULT_OPTIMIZER = 209, "float64", "gd"
#: Attributions: method, integrated gradients' steps, features shown per row, output folder.
DEFAULT_METHOD, DEFAULT_STEPS, DEFAULT_TOP, DEFAULT_OUT = ("integrated_gradients", 64, 10,
                                                           "explanations")
METHODS = ("integrated_gradients", "saliency", "smoothgrad")


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``explain`` and its flags."""
    p = add_command(subs, "explain", "Why a model predicted what it did, or a network's "
                    "shapes, parameters and FLOPs.", """\
  deepstep explain --model runs/cats/model.safetensors my_cat.jpg photos/
  deepstep explain --model runs/bc/model.safetensors rows.csv --top 5 --method saliency
  deepstep explain --input 12288 --layers 20,7,5 --output 1 --m 209
  deepstep explain --input 784 --layers 128 --output 10 --m 32 --dtype float32 --optimizer adam
  deepstep explain --model runs/cats/model.safetensors

With --model and INPUTs (image files, folders of images, CSV files, read as predict reads
them): for each image a PNG in --out with the image, its attribution map and the map over
the image (red pushed the explained class's score up, blue down), titled with the
prediction and its probability; for each CSV row a table of the --top features that pushed
the prediction up or down (the CSV header's column names when it has one). Existing PNGs
are not replaced without --overwrite. Without INPUTs: the course's shapes table of --model,
or of --input / --layers (hidden sizes) / --output.""")
    add_size_flags(p, None)
    p.add_argument("--model", metavar="M", help="a model file from train (or its run "
                   "folder)")
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="image files, folders of images or CSV files to explain (with --model)")
    t = p.add_argument_group("attributions (with --model and INPUTs)")
    t.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD,
                   help=with_default("integrated_gradients: each feature's share of the score "
                                     "against the baseline; saliency: the gradient; "
                                     "smoothgrad: the gradient averaged over noisy copies",
                                     DEFAULT_METHOD))
    t.add_argument("--steps", metavar="N", type=typed(positive_int, "steps"),
                   default=DEFAULT_STEPS,
                   help=with_default("integrated gradients' points on the path", DEFAULT_STEPS))
    t.add_argument("--target", metavar="LABEL",
                   help=with_default("the class whose score is explained", "the predicted "
                                     "class; for regression output 0"))
    t.add_argument("--top", metavar="N", type=typed(positive_int, "top"), default=DEFAULT_TOP,
                   help=with_default("features listed per CSV row", DEFAULT_TOP))
    t.add_argument("--seed", metavar="N", type=typed(PARSERS["seed"], "seed"), default=0,
                   help=with_default("smoothgrad's noise", 0))
    t.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=with_default("folder for the image PNGs", DEFAULT_OUT))
    t.add_argument("--overwrite", action="store_true",
                   help="replace PNGs that already exist in --out")
    s = p.add_argument_group("shapes table (without INPUTs)")
    s.add_argument("--m", type=typed(positive_int, "m"),
                   help=with_default("examples per iteration",
                                     f"{DEFAULT_M}, or the model's batch / m"))
    s.add_argument("--dtype", type=typed(PARSERS["dtype"], "dtype"),
                   help=with_default("float32 or float64", f"{DEFAULT_DTYPE}, or the model's"))
    s.add_argument("--optimizer", type=typed(PARSERS["optimizer"], "optimizer"),
                   help=with_default("for the memory of its state",
                                     f"{DEFAULT_OPTIMIZER}, or the model's"))
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Explain the INPUTs with ``--model``; else print the shapes table."""
    if args.model and given_size_flags(args):
        raise ValueError(f"give --model or {'/'.join(given_size_flags(args))}, not both: the "
                         "model has its sizes")
    if args.inputs:
        if not args.model:
            raise ValueError("explaining inputs needs --model M (the model whose predictions "
                             "are explained)")
        return explain_inputs(args)
    return shapes_table(args)


def shapes_table(args: argparse.Namespace) -> int:
    """Print the table for ``--input/--layers/--output``, or for the sizes of ``--model``."""
    from ..explain import format_table

    m, dtype, optimizer = args.m or DEFAULT_M, args.dtype, args.optimizer
    if args.model:
        net = load_model(args.model)
        cfg = net.config_
        dims = net.layer_dims
        m = args.m or int(cfg.get("batch_size") or cfg.get("m") or DEFAULT_M)
        dtype, optimizer = dtype or net.dtype.name, optimizer or cfg.get("optimizer", "gd")
    elif args.layers is None and args.input is None and args.output is None:
        raise ValueError("give --model M, or the sizes --input N --layers N,N,... --output N "
                         "(see deepstep explain --help)")
    else:
        dims = layer_dims(args, None)
    print(format_table(dims, m, dtype or DEFAULT_DTYPE, optimizer or DEFAULT_OPTIMIZER))
    return EXIT_OK


def explain_inputs(args: argparse.Namespace) -> int:
    """Overlay PNGs for images, ranked feature tables for CSV rows; failures on stderr."""
    from .. import explanations as xp
    from ..data.inputs import read_inputs

    net = load_model(args.model)
    target = xp.parse_target(net, args.target)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the PNGs")
    inputs = read_inputs(net, args.inputs)
    for line in inputs.failure_lines():
        print(f"error: {line}", file=sys.stderr)
    if not inputs.items:
        return EXIT_USAGE
    images = {i: img for i, it in enumerate(inputs.items)
              if (img := xp.item_image(net, it)) is not None}
    paths = dict(zip(images, xp.overlay_paths([inputs.items[i].name for i in images], out,
                                              args.method), strict=True))
    taken = [p for p in paths.values() if p.exists()]
    if taken and not args.overwrite:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise ValueError(f"{taken[0]} exists{more}; pass --overwrite to replace it, or choose "
                         "another --out")
    for line in inputs.notices():
        print(f"note: {line}", file=sys.stderr)
    explained = xp.explain_inputs(net, inputs, args.method, target, args.steps, args.seed)
    for i in xp.flat(explained):
        print(f"note: {inputs.items[i].name}: every attribution is 0: the output does not "
              "change with this input here (e.g. no hidden unit is active)", file=sys.stderr)
    for i, item in enumerate(inputs.items):
        if i not in images:
            print(xp.ranking(net, explained, i, args.top))
            continue
        xp.write_overlay(explained, i, images[i], paths[i])
        print(f"{item.name}: {xp.said(explained, i)} -> {paths[i]}")
    m = len(inputs.items)
    steps = f" ({args.steps} steps)" if args.method == "integrated_gradients" else ""
    print(f"{args.method.replace('_', ' ')}{steps} for {m} input{'s' * (m != 1)} in "
          f"{explained.seconds:.2f} s", file=sys.stderr)
    return EXIT_FAILED if inputs.failures else EXIT_OK
