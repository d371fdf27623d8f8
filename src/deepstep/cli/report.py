"""``deepstep report``: rebuild the HTML report of a saved model on a labelled data set."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, load_model


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``report`` and its flags."""
    p = add_command(subs, "report", "Rebuild the HTML report of a saved model on a data set.",
                    """\
  deepstep report --model runs/cats/model.safetensors --data test_catvnoncat.h5
  deepstep report --model model.safetensors --data digits --out digits_report.html""")
    p.add_argument("--model", required=True, metavar="M", help="a model.safetensors from train")
    p.add_argument("--data", required=True, metavar="SRC", help="data with labels")
    p.add_argument("--out", metavar="FILE", help="default: report.html beside the model")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Write the report with the training metrics and those on ``--data``."""
    from pathlib import Path

    from ..data.inputs import load_for_model, model_labels
    from ..report.run import write_report

    net = load_model(args.model)
    ds = load_for_model(net, args.data)
    metrics = dict(net.config_.get("metrics") or {})
    metrics[f"{ds.name} (this report)"] = net.evaluate(ds.X, model_labels(net, ds))
    out = Path(args.out) if args.out else Path(args.model).with_name("report.html")
    notes = [*net.config_.get("notes", []), f"confusion matrix and mislabeled images: {ds.name}"]
    write_report(out, net, ds, metrics, f"deepstep: {Path(args.model).name}", notes)
    print(f"report written to {out}")
    return 0
