"""``deepstep evaluate``: the metrics of a saved model on a labelled data set."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, load_model


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``evaluate`` and its flags."""
    p = add_command(subs, "evaluate", "Loss and accuracy of a saved model on a data set.", """\
  deepstep evaluate --model runs/cats/model.safetensors --data test_catvnoncat.h5
  deepstep evaluate --model model.safetensors --data iris --json scores.json""")
    p.add_argument("--model", required=True, metavar="M", help="a model.safetensors from train")
    p.add_argument("--data", required=True, metavar="SRC", help="data with labels")
    p.add_argument("--json", metavar="FILE", help="also write the metrics to this JSON file")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the metrics table of the model on ``--data`` (and write ``--json``)."""
    from ..data.inputs import load_for_model, model_labels
    from ..files import write_json
    from ..training_run import metrics_table

    net = load_model(args.model)
    ds = load_for_model(net, args.data)
    metrics = {ds.name or "data": net.evaluate(ds.X, model_labels(net, ds))}
    print(metrics_table(metrics, {ds.name or "data": ds.m}))
    if args.json:
        write_json(args.json, metrics)
        print(f"metrics written to {args.json}")
    return 0
