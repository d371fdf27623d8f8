"""``deepstep predict``: the class and its probability (or the value) for each input."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_command, load_model, typed, with_default
from .settings import positive_int

FORMATS = ("text", "json", "csv")


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``predict`` and its flags."""
    p = add_command(subs, "predict", "Class and probability (or value) for each image or CSV "
                    "row.", """\
  deepstep predict --model runs/cats/model.safetensors my_cat.jpg holiday_photos/
  deepstep predict --model model.safetensors new_rows.csv --format csv > predictions.csv
  deepstep predict --model digits.safetensors scans/ --top-k 3 --format json

INPUT is an image file, a folder (searched recursively for .png, .jpg, .jpeg, .bmp, .gif,
.tif, .tiff, .webp, .ppm, .pgm files) or a CSV file with one example per row (a header row
and a last label column are allowed; with a header the model's feature columns are found
by name). Images are converted to the training images' channels and resized to their size,
with a note on stderr. An input that cannot be read is reported on stderr and skipped: the
others are still predicted and the exit status is 1 (2 when none could be read).""")
    p.add_argument("--model", required=True, metavar="M",
                   help="a model file from train (or its run folder)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders of "
                   "images, CSV files")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help=with_default("text: 'input: label (probability p)' lines; json: one "
                                     "document; csv: a table with a header", "text"))
    p.add_argument("--top-k", metavar="K", type=typed(positive_int, "K"), default=None,
                   help=with_default("also list the K most probable classes of each input "
                                     "(classifiers)", None))
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print one prediction per image or CSV row; failed inputs on stderr (exit 1)."""
    from ..data.inputs import read_inputs
    from ..predictions import check_top_k, format_csv, format_json, format_text, predict_items

    net = load_model(args.model)
    check_top_k(net, args.top_k)
    inputs = read_inputs(net, args.inputs)
    for line in inputs.failure_lines():
        print(f"error: {line}", file=sys.stderr)
    if not inputs.items:
        return EXIT_USAGE
    for line in inputs.notices():
        print(f"note: {line}", file=sys.stderr)
    preds = predict_items(net, inputs.X, [it.name for it in inputs.items],
                          [it.notes for it in inputs.items], args.top_k)
    if args.format == "json":
        print(format_json(preds, inputs.failures, str(args.model)))
    elif args.format == "csv":
        print(format_csv(preds))
    else:
        print(format_text(preds))
    return EXIT_FAILED if inputs.failures else EXIT_OK
