"""The ``deepstep`` command: train, evaluate, predict, report, explain, gradcheck, export,
search, runs.

One module per command (:data:`COMMANDS`), each declaring its parser (``add_parser``) and a
``run(args) -> int`` that parses and prints; the work lives in the library
(:mod:`deepstep.training_run`, :mod:`deepstep.data.inputs`, :mod:`deepstep.report.run`,
:mod:`deepstep.explain`, :mod:`deepstep.gradcheck`). The layered settings of ``train`` are in
:mod:`deepstep.cli.settings`. User errors (a missing file, a bad value, a file that is not a
model) exit with status 2 and one line on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from .. import __version__
from . import evaluate, explain, export, gradcheck, predict, report, runs, search, train
from .common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    USER_ERRORS,
    Parser,
    UsageError,
    one_line,
    show_warning,
)

#: The commands in the order ``deepstep --help`` lists them.
COMMANDS = (train, evaluate, predict, report, explain, gradcheck, export, search, runs)


class _CommandListFormatter(argparse.RawDescriptionHelpFormatter):
    """Every command of ``deepstep --help`` on one line with its text.

    argparse measures the command names without the extra indent it then draws them with,
    so the longest ("gradcheck") lands alone on its line; this counts that indent.
    """

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            longest = max(map(len, action.choices), default=0)
            drawn = longest + self._current_indent + self._indent_increment
            self._action_max_length = max(self._action_max_length, drawn)


def build_parser() -> argparse.ArgumentParser:
    """The ``deepstep`` argument parser with one sub-command per module of :data:`COMMANDS`."""
    parser = Parser(prog="deepstep", description="Build, train and explain deep neural "
                    "networks from scratch on NumPy.", epilog="examples:\n"
                    "  deepstep train\n"
                    "  deepstep predict --model runs/<run>/model.safetensors photo.jpg\n"
                    "  deepstep explain --input 12288 --layers 20,7,5 --output 1 --m 209\n"
                    "  deepstep <command> --help",
                    formatter_class=_CommandListFormatter)
    parser.add_argument("--version", action="version", version=f"deepstep {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subs = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``deepstep`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 a failed gradient check, 2 a user error (one line on
        stderr), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

    Examples
    --------
    >>> main(["explain", "--input", "2", "--layers", "3", "--output", "1", "--m", "4"])
    ... # doctest: +ELLIPSIS
    layer_dims [2, 3, 1], m = 4 examples, float64
    ...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv  # the command line as given (a run folder's command.txt)
    except UsageError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as e:  # --help and --version
        return int(e.code or EXIT_OK)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show_warning
        try:
            return int(args.run(args))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # e.g. `deepstep explain ... | head`: stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
        except USER_ERRORS as e:
            if debug:
                raise
            print(f"error: {one_line(e)}", file=sys.stderr)
            return EXIT_USAGE
