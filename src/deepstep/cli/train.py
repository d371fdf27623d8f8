"""``deepstep train``: resolve the layered settings, train, print where the run was saved."""

from __future__ import annotations

import argparse
from typing import Any

from ..data.splits import TEST_FRACTION
from ..model import DEFAULTS
from .common import add_command, shown, typed, with_default
from .settings import PARSERS, PRESETS, default_settings, read_config, resolve_settings


def add_parser(subs: Any) -> argparse.ArgumentParser:
    """Declare ``train`` and its flags; every default shown comes from the settings."""
    D = default_settings()
    course = PRESETS["course"]
    p = add_command(subs, "train", "Train a network; save the model, metrics and an HTML report.",
                    f"""\
  deepstep train                                  # bundled digits, deepstep.DEFAULTS
  deepstep train --data breast_cancer --layers 32,16 --seeds 5
  deepstep train --data train_catvnoncat.h5 --test test_catvnoncat.h5 --preset course
  deepstep train --data images/ --epochs 30 --lr 0.001 --out runs/cats
  deepstep train --config run.toml --seed 3       # flags override the TOML file

SRC is an h5 file, an image folder (one subfolder per class), a CSV file (label in the
last column), an MNIST IDX file or folder, or a bundled name: digits, breast_cancer, iris,
wine, diabetes. Without --test a stratified {TEST_FRACTION:.0%} of SRC is held out with the
seed.""")
    a = p.add_argument
    a("--data", metavar="SRC", help=with_default("training data", f"the bundled {D['data']}"))
    a("--test", metavar="SRC",
      help=with_default("test data", f"a stratified {TEST_FRACTION:.0%} of --data"))
    a("--layers", metavar="N,N,...", type=typed(PARSERS["layers"], "layers"),
      help=with_default("HIDDEN layer sizes, e.g. 20,7,5 (input and output sizes come from "
                        "the data)", D["layers"]))
    a("--hidden", metavar="ACT", type=typed(PARSERS["hidden"], "activation"),
      help=with_default("hidden activation (relu, tanh, sigmoid, leaky_relu, ...; or one per "
                        "layer)", D["hidden"]))
    a("--output", metavar="ACT", type=typed(PARSERS["output"], "activation"),
      help=with_default("output activation; auto is sigmoid / softmax / linear from the labels",
                        D["output"]))
    a("--init", type=typed(PARSERS["init"], "init"),
      help=with_default("he, xavier, course, course_app", D["init"]))
    a("--optimizer", type=typed(PARSERS["optimizer"], "optimizer"),
      help=with_default("adam, gd, momentum, rmsprop", D["optimizer"]))
    a("--lr", metavar="X", type=typed(PARSERS["lr"], "lr"),
      help=with_default("learning rate", f"{DEFAULTS['learning_rate']:g} for "
                        f"{DEFAULTS['optimizer']}, else deepstep.Network.fit's for the optimizer"))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--epochs", metavar="N", type=typed(PARSERS["epochs"], "epochs"),
                   help=with_default("passes over the training data", D["epochs"]))
    g.add_argument("--iterations", metavar="N", type=typed(PARSERS["iterations"], "iterations"),
                   help="the course's word for --epochs (of full-batch training)")
    a("--batch-size", metavar="N", type=typed(PARSERS["batch_size"], "batch size"),
      help=with_default("mini-batch size, or 'full' for full-batch gradient descent",
                        D["batch_size"] or "full"))
    a("--l2", metavar="X", type=typed(PARSERS["l2"], "l2"),
      help=with_default("L2 strength lambda", D["l2"]))
    a("--dropout", metavar="X", type=typed(PARSERS["dropout"], "dropout"),
      help=with_default("probability of dropping a hidden unit, in [0, 1)", D["dropout"]))
    a("--seed", metavar="N", type=typed(PARSERS["seed"], "seed"),
      help=with_default("random seed", D["seed"]))
    a("--seeds", metavar="K", type=typed(PARSERS["seeds"], "seeds"),
      help=with_default("train K seeds (seed, seed+1, ...) and report each, their mean and std",
                        D["seeds"]))
    a("--dtype", type=typed(PARSERS["dtype"], "dtype"),
      help=with_default("float32 or float64", D["dtype"]))
    a("--preset", type=typed(PARSERS["preset"], "preset"),
      help=with_default(f"course: the course's application exactly ({shown(course['layers'])}, "
                        f"{course['optimizer']} {course['lr']:g}, {course['epochs']} iterations)",
                        D["preset"]))
    a("--preprocess", type=typed(PARSERS["preprocess"], "preprocess"),
      help=with_default("standardize, scale255 (divide by 255, as the course) or none",
                        D["preprocess"]))
    a("--validation", metavar="X", type=typed(PARSERS["validation"], "fraction"),
      help=with_default("fraction of the training part held out for validation (0 = none)",
                        D["validation"]))
    a("--config", metavar="TOML", help="read these settings from a TOML file (same names)")
    a("--out", metavar="DIR", help=with_default("output folder", "runs/<date-time>"))
    a("--json", metavar="FILE", help="also write the metrics to this JSON file")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Train with DEFAULTS < preset < ``--config`` < flags; print the metrics and the folder."""
    from .. import training_run

    config = read_config(args.config) if args.config else {}
    settings = resolve_settings(vars(args), config)
    metrics, out = training_run.train(settings, print)
    print(f"saved to {out}: model.safetensors, metrics.json, costs.png, report.html")
    if settings["json"]:
        print(f"metrics written to {settings['json']}")
    return 0
