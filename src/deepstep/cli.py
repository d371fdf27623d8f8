"""The ``deepstep`` command: train, evaluate, predict, explain, gradcheck, report.

This module only parses arguments and prints; the work is in :mod:`deepstep.pipeline`
(training runs and saved models) and :mod:`deepstep.explain` (the shape table). User errors
(a missing file, a bad value, a file that is not a model) exit with status 2 and one line on
stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__, pipeline
from .pipeline import PARSERS

USER_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
               PermissionError, FloatingPointError)


class UsageError(Exception):
    """A command-line mistake (argparse's error), reported as one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """Wrap a pipeline parser for argparse: its ValueError message becomes the error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = name
    return convert


def _sub(subs: Any, name: str, help: str, epilog: str) -> argparse.ArgumentParser:
    p = subs.add_parser(name, help=help, description=help, epilog="examples:\n" + epilog,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback on errors")
    return p


def _train_parser(subs: Any) -> None:
    p = _sub(subs, "train", "Train a network; save the model, metrics and an HTML report.", """\
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
    a("--layers", metavar="N,N,...", type=_type(PARSERS["layers"], "layers"),
      help="HIDDEN layer sizes, e.g. 20,7,5 (input and output sizes come from the data)")
    a("--hidden", metavar="ACT", type=_type(PARSERS["hidden"], "activation"),
      help="hidden activation (relu, tanh, sigmoid, leaky_relu, ...; or one per layer)")
    a("--output", metavar="ACT", type=_type(PARSERS["output"], "activation"),
      help="output activation, default auto (sigmoid / softmax / linear from the labels)")
    a("--init", type=_type(PARSERS["init"], "init"), help="he, xavier, course, course_app")
    a("--optimizer", type=_type(PARSERS["optimizer"], "optimizer"),
      help="adam, gd, momentum, rmsprop")
    a("--lr", metavar="X", type=_type(PARSERS["lr"], "lr"), help="learning rate")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--epochs", metavar="N", type=_type(PARSERS["epochs"], "epochs"),
                   help="passes over the training data")
    g.add_argument("--iterations", metavar="N", type=_type(PARSERS["iterations"], "iterations"),
                   help="the course's word for epochs (of full-batch training)")
    a("--batch-size", metavar="N", type=_type(PARSERS["batch_size"], "batch size"),
      help="mini-batch size, or 'full' for full-batch gradient descent")
    a("--l2", metavar="X", type=_type(PARSERS["l2"], "l2"), help="L2 strength lambda")
    a("--dropout", metavar="X", type=_type(PARSERS["dropout"], "dropout"),
      help="probability of dropping a hidden unit, in [0, 1)")
    a("--seed", metavar="N", type=_type(PARSERS["seed"], "seed"), help="random seed")
    a("--seeds", metavar="K", type=_type(PARSERS["seeds"], "seeds"),
      help="train K seeds (seed, seed+1, ...) and report each, their mean and std")
    a("--dtype", type=_type(PARSERS["dtype"], "dtype"), help="float32 or float64")
    a("--preset", type=_type(PARSERS["preset"], "preset"),
      help="course: the course's application exactly (20,7,5, gd 0.0075, 2500 iterations)")
    a("--preprocess", type=_type(PARSERS["preprocess"], "preprocess"),
      help="standardize, scale255 (divide by 255, as the course) or none")
    a("--validation", metavar="X", type=_type(PARSERS["validation"], "fraction"),
      help="fraction of the training part held out for validation (default 0.1; 0 = none)")
    a("--config", metavar="TOML", help="read these settings from a TOML file (same names)")
    a("--out", metavar="DIR", help="output folder (default runs/<date-time>)")
    a("--json", metavar="FILE", help="also write the metrics to this JSON file")
    p.set_defaults(func=_cmd_train)


def _model_parsers(subs: Any) -> None:
    p = _sub(subs, "evaluate", "Loss and accuracy of a saved model on a data set.", """\
  deepstep evaluate --model runs/cats/model.safetensors --data test_catvnoncat.h5
  deepstep evaluate --model model.safetensors --data iris --json scores.json""")
    p.add_argument("--model", required=True, metavar="M", help="a model.safetensors from train")
    p.add_argument("--data", required=True, metavar="SRC", help="data with labels")
    p.add_argument("--json", metavar="FILE", help="also write the metrics to this JSON file")
    p.set_defaults(func=_cmd_evaluate)

    p = _sub(subs, "predict", "Class and probability for each image or CSV row.", """\
  deepstep predict --model runs/cats/model.safetensors my_cat.jpg other.png
  deepstep predict --model model.safetensors new_rows.csv

Images are converted and resized to the training images' shape; a CSV file holds one
example per row (an optional header row and label column are ignored).""")
    p.add_argument("--model", required=True, metavar="M", help="a model.safetensors from train")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image or CSV files")
    p.set_defaults(func=_cmd_predict)

    p = _sub(subs, "report", "Rebuild the HTML report of a saved model on a data set.", """\
  deepstep report --model runs/cats/model.safetensors --data test_catvnoncat.h5
  deepstep report --model model.safetensors --data digits --out digits_report.html""")
    p.add_argument("--model", required=True, metavar="M", help="a model.safetensors from train")
    p.add_argument("--data", required=True, metavar="SRC", help="data with labels")
    p.add_argument("--out", metavar="FILE", help="default: report.html beside the model")
    p.set_defaults(func=_cmd_report)


def _tool_parsers(subs: Any) -> None:
    p = _sub(subs, "explain", "The course's W, b, Z, A shapes table, parameters, FLOPs.", """\
  deepstep explain --layers 12288,20,7,5,1 --m 209
  deepstep explain --layers 784,128,10 --m 32 --dtype float32 --optimizer adam
  deepstep explain --model runs/cats/model.safetensors""")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--layers", metavar="N,N,...", type=_type(pipeline.parse_layers, "layers"),
                   help="ALL layer sizes n[0],...,n[L] (input and output included)")
    g.add_argument("--model", metavar="M", help="take the sizes from a saved model")
    p.add_argument("--m", type=_type(pipeline.positive_int, "m"),
                   help="examples per iteration (default 209, or the model's batch / m)")
    p.add_argument("--dtype", type=_type(PARSERS["dtype"], "dtype"),
                   help="default float64 (or the model's)")
    p.add_argument("--optimizer", type=_type(PARSERS["optimizer"], "optimizer"),
                   help="for the memory of its state (default gd, or the model's)")
    p.set_defaults(func=_cmd_explain)

    p = _sub(subs, "gradcheck", "Check backpropagation against central differences.", """\
  deepstep gradcheck --layers 5,4,3,1
  deepstep gradcheck --layers 4,6,3 --hidden tanh --output softmax --l2 0.7 --dropout 0.2

Relative error ||g - g_num|| / (||g|| + ||g_num||) per parameter, in float64 on random data;
exit status 1 when the overall error is above --tol.""")
    a = p.add_argument
    a("--layers", metavar="N,N,...", type=_type(pipeline.parse_layers, "layers"),
      default=[5, 4, 3, 1], help="ALL layer sizes (default 5,4,3,1)")
    a("--hidden", default="relu", type=_type(PARSERS["hidden"], "activation"))
    a("--output", default="sigmoid", type=_type(PARSERS["output"], "activation"))
    a("--m", type=_type(pipeline.positive_int, "m"), default=5, help="examples (default 5)")
    a("--l2", type=_type(PARSERS["l2"], "l2"), default=0.0)
    a("--dropout", type=_type(PARSERS["dropout"], "dropout"), default=0.0,
      help="dropout rate of the hidden layers (fixed masks)")
    a("--seed", type=_type(PARSERS["seed"], "seed"), default=0)
    a("--tol", type=_type(pipeline.positive_float, "tol"), default=None,
      help="threshold (default deepstep.gradcheck.TOLERANCE, 1e-7)")
    p.set_defaults(func=_cmd_gradcheck)


def build_parser() -> argparse.ArgumentParser:
    """The ``deepstep`` argument parser with its six commands."""
    parser = _Parser(prog="deepstep", description="Build, train and explain deep neural "
                     "networks from scratch on NumPy.", epilog="examples:\n"
                     "  deepstep train\n  deepstep explain --layers 12288,20,7,5,1 --m 209\n"
                     "  deepstep <command> --help",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"deepstep {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subs = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _train_parser(subs)
    _model_parsers(subs)
    _tool_parsers(subs)
    return parser


# --- commands ----------------------------------------------------------------------------------


def _cmd_train(args: argparse.Namespace) -> int:
    config = pipeline.read_config(args.config) if args.config else {}
    settings = pipeline.resolve_settings(vars(args), config)
    metrics, out = pipeline.train(settings, print)
    print(f"saved to {out}: model.safetensors, metrics.json, costs.png, report.html")
    if settings["json"]:
        print(f"metrics written to {settings['json']}")
    return 0


def _load_model(path: str) -> Any:
    from .model import Network

    return Network.load(path)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    net = _load_model(args.model)
    ds = pipeline.load_for_model(net, args.data)
    metrics = {ds.name or "data": net.evaluate(ds.X, pipeline.model_labels(net, ds))}
    print(pipeline.metrics_table(metrics, {ds.name or "data": ds.m}))
    if args.json:
        pipeline.write_json(args.json, metrics)
        print(f"metrics written to {args.json}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    net = _load_model(args.model)
    names, X = pipeline.read_inputs(net, args.inputs)
    for name, (label, p) in zip(names, pipeline.predictions(net, X), strict=True):
        print(f"{name}: {label}" + ("" if p is None else f" (probability {p:.4f})"))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    net = _load_model(args.model)
    ds = pipeline.load_for_model(net, args.data)
    metrics = dict(net.config_.get("metrics") or {})
    metrics[f"{ds.name} (this report)"] = net.evaluate(ds.X, pipeline.model_labels(net, ds))
    out = Path(args.out) if args.out else Path(args.model).with_name("report.html")
    notes = [*net.config_.get("notes", []), f"confusion matrix and mislabeled images: {ds.name}"]
    pipeline.write_report(out, net, ds, metrics, f"deepstep: {Path(args.model).name}", notes)
    print(f"report written to {out}")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from .explain import format_table

    dims, m, dtype, optimizer = args.layers, args.m or 209, args.dtype, args.optimizer
    if args.model:
        net = _load_model(args.model)
        cfg = net.config_
        dims = net.layer_dims
        m = args.m or int(cfg.get("batch_size") or cfg.get("m") or 209)
        dtype, optimizer = dtype or net.dtype.name, optimizer or cfg.get("optimizer", "gd")
    print(format_table(dims, m, dtype or "float64", optimizer or "gd"))
    return 0


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from . import engine, gradcheck
    from .explain import count_params

    if len(args.layers) < 2:
        raise ValueError("gradcheck needs at least two sizes (input and output), e.g. 5,4,3,1")
    n = count_params(args.layers)
    if n > 20_000:
        raise ValueError(f"{n:,} parameters is too many to check (two forward passes each); "
                         "use smaller --layers, e.g. 5,4,3,1")
    output = "sigmoid" if args.output == "auto" else args.output
    loss = engine.loss_for_output(engine.get_activation(output).name).name
    result = gradcheck.check_architecture(
        args.layers, args.hidden, output, loss, m=args.m, l2=args.l2,
        keep_prob=1 - args.dropout, seed=args.seed)
    if args.tol is not None:
        result = gradcheck.GradCheckResult(result.relative_error, result.per_parameter,
                                           result.shapes, args.tol)
    print(f"layers {args.layers}, hidden {args.hidden}, output {output}, loss {loss}, "
          f"m = {args.m}, l2 {args.l2:g}, dropout {args.dropout:g}")
    print(result)
    return 0 if result.passed else 1


# --- entry point -------------------------------------------------------------------------------


def _one_line(e: BaseException) -> str:
    text = str(e) if str(e) else type(e).__name__
    if isinstance(e, KeyError):
        text = f"missing {text}"
    return " ".join(text.split())


def _show_warning(message: Any, category: type, filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    print(f"warning: {_one_line(Exception(str(message)))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``deepstep`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 a failed gradient check, 2 a user error (one line on
        stderr), 130 interrupted.

    Examples
    --------
    >>> main(["explain", "--layers", "2,3,1", "--m", "4"])  # doctest: +ELLIPSIS
    layer_dims [2, 3, 1], m = 4 examples, float64
    ...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help and --version
        return int(e.code or 0)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # e.g. `deepstep explain ... | head`: stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except USER_ERRORS as e:
            if debug:
                raise
            print(f"error: {_one_line(e)}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
