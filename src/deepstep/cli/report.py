"""``deepstep report``: a new HTML report of a saved model on a labelled data set."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import add_command, load_model, model_path
from .outputs import check_new_file


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``report`` and its flags."""
    p = add_command(subs, "report", "Write an HTML report of a saved model on a data set.",
                    """\
  deepstep report --model runs/cats/model.safetensors --data test_catvnoncat.h5
  deepstep report --model model.safetensors --data digits --out digits_report.html

The report holds the model's training history and metrics, and its metrics, confusion
matrix and mislabeled images on --data. It is a new file: an existing one (such as the
run's own report.html) is never replaced without --overwrite.""")
    p.add_argument("--model", required=True, metavar="M", help="a model file from train (or "
                   "its run folder)")
    p.add_argument("--data", required=True, metavar="SRC", help="data with labels (h5, image "
                   "folder, CSV, IDX or a bundled name, as for train)")
    p.add_argument("--out", metavar="FILE", help="the report file (default: "
                   "report-<model file name without extension>.html beside the model)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(run=run)
    return p


def default_out(model: str | Path) -> Path:
    """report-<model stem>.html beside the model.

    Examples
    --------
    >>> default_out("runs/a/model.safetensors").as_posix()
    'runs/a/report-model.html'
    """
    m = Path(model)
    return m.with_name(f"report-{m.stem}.html")


def run_name(model: str | Path) -> str:
    """How the model is named in the title: its run folder for ``model.*`` files, else the
    file's stem."""
    m = Path(model).resolve()
    return m.parent.name if m.stem == "model" and m.parent.name else m.stem


def run(args: argparse.Namespace) -> int:
    """Write the report with the training metrics and those on ``--data``."""
    from ..data.inputs import load_for_model, model_labels
    from ..report.run import write_report

    model = model_path(args.model)
    out = check_new_file(args.out or default_out(model), "--out", overwrite=args.overwrite)
    net = load_model(model)
    ds = load_for_model(net, args.data)
    metrics = dict(net.config_.get("metrics") or {})
    metrics[f"{ds.name} (this report)"] = net.evaluate(ds.X, model_labels(net, ds))
    trained_on = (net.config_.get("data") or {}).get("name")
    title = f"deepstep: {ds.name}, model of {run_name(model)}" + (
        f" (trained on {trained_on})" if trained_on else "")
    notes = [*net.config_.get("notes", []), f"confusion matrix and mislabeled images: {ds.name}"]
    write_report(out, net, ds, metrics, title, notes)
    print(f"report written to {out}")
    return 0
