"""``deepstep train``: resolve the layered settings, train, print where the run was saved."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, typed
from .settings import PARSERS, read_config, resolve_settings


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``train`` and its flags."""
    p = add_command(subs, "train", "Train a network; save the model, metrics and an HTML report.",
                    """\
  deepstep train                                  # bundled digits, deepstep.DEFAULTS
  deepstep train --data breast_cancer --layers 32,16 --seeds 5
  deepstep train --data train_catvnoncat.h5 --test test_catvnoncat.h5 --preset course
  deepstep train --data images/ --epochs 30 --lr 0.001 --out runs/cats
  deepstep train --config run.toml --seed 3       # flags override the TOML file

SRC is an h5 file, an image folder (one subfolder per class), a CSV file (label in the
last column), an MNIST IDX file or folder, or a bundled name: digits, breast_cancer, iris,
wine, diabetes. Without --test a stratified 20% of SRC is held out with the seed.""")
    a = p.add_argument
    a("--data", metavar="SRC", help="training data (default: the bundled digits)")
    a("--test", metavar="SRC", help="test data (default: a stratified 20%% of --data)")
    a("--layers", metavar="N,N,...", type=typed(PARSERS["layers"], "layers"),
      help="HIDDEN layer sizes, e.g. 20,7,5 (input and output sizes come from the data)")
    a("--hidden", metavar="ACT", type=typed(PARSERS["hidden"], "activation"),
      help="hidden activation (relu, tanh, sigmoid, leaky_relu, ...; or one per layer)")
    a("--output", metavar="ACT", type=typed(PARSERS["output"], "activation"),
      help="output activation, default auto (sigmoid / softmax / linear from the labels)")
    a("--init", type=typed(PARSERS["init"], "init"), help="he, xavier, course, course_app")
    a("--optimizer", type=typed(PARSERS["optimizer"], "optimizer"),
      help="adam, gd, momentum, rmsprop")
    a("--lr", metavar="X", type=typed(PARSERS["lr"], "lr"), help="learning rate")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--epochs", metavar="N", type=typed(PARSERS["epochs"], "epochs"),
                   help="passes over the training data")
    g.add_argument("--iterations", metavar="N", type=typed(PARSERS["iterations"], "iterations"),
                   help="the course's word for epochs (of full-batch training)")
    a("--batch-size", metavar="N", type=typed(PARSERS["batch_size"], "batch size"),
      help="mini-batch size, or 'full' for full-batch gradient descent")
    a("--l2", metavar="X", type=typed(PARSERS["l2"], "l2"), help="L2 strength lambda")
    a("--dropout", metavar="X", type=typed(PARSERS["dropout"], "dropout"),
      help="probability of dropping a hidden unit, in [0, 1)")
    a("--seed", metavar="N", type=typed(PARSERS["seed"], "seed"), help="random seed")
    a("--seeds", metavar="K", type=typed(PARSERS["seeds"], "seeds"),
      help="train K seeds (seed, seed+1, ...) and report each, their mean and std")
    a("--dtype", type=typed(PARSERS["dtype"], "dtype"), help="float32 or float64")
    a("--preset", type=typed(PARSERS["preset"], "preset"),
      help="course: the course's application exactly (20,7,5, gd 0.0075, 2500 iterations)")
    a("--preprocess", type=typed(PARSERS["preprocess"], "preprocess"),
      help="standardize, scale255 (divide by 255, as the course) or none")
    a("--validation", metavar="X", type=typed(PARSERS["validation"], "fraction"),
      help="fraction of the training part held out for validation (default 0.1; 0 = none)")
    a("--config", metavar="TOML", help="read these settings from a TOML file (same names)")
    a("--out", metavar="DIR", help="output folder (default runs/<date-time>)")
    a("--json", metavar="FILE", help="also write the metrics to this JSON file")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Train with DEFAULTS < preset < ``--config`` < flags; print the metrics and the folder."""
    from .. import training_run

    config = read_config(args.config) if args.config else {}
    settings = resolve_settings(vars(args), config)
    metrics, out = training_run.train(settings, print)
    print(f"saved to {out}: model.npz, metrics.json, costs.png, report.html")
    if settings["json"]:
        print(f"metrics written to {settings['json']}")
    return 0
