"""``deepstep predict``: the class and its probability (or the value) for each input."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, load_model


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``predict`` and its flags."""
    p = add_command(subs, "predict", "Class and probability for each image or CSV row.", """\
  deepstep predict --model runs/cats/model.safetensors my_cat.jpg other.png
  deepstep predict --model model.safetensors new_rows.csv

Images are converted and resized to the training images' shape; a CSV file holds one
example per row (an optional header row and label column are ignored).""")
    p.add_argument("--model", required=True, metavar="M", help="a model.safetensors from train")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image or CSV files")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print one line per image or CSV row: ``name: label (probability p)``."""
    from ..data.inputs import read_inputs
    from ..predictions import predictions

    net = load_model(args.model)
    names, X = read_inputs(net, args.inputs)
    for name, (label, p) in zip(names, predictions(net, X), strict=True):
        print(f"{name}: {label}" + ("" if p is None else f" (probability {p:.4f})"))
    return 0
