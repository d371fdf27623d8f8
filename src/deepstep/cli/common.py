"""What every command shares: the argument parser class, value types for argparse, defaults in
the help, the errors that count as the user's, one-line error output and the exit statuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

#: Exit statuses: success, a failed check (gradcheck), a user error, interrupted (Ctrl-C).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Errors that are the user's to fix (a missing file, a bad value, a file that is not a
#: model): one line on stderr and exit status 2, no traceback unless ``--debug``.
USER_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
               PermissionError, FloatingPointError)


class UsageError(Exception):
    """A command-line mistake (argparse's error), reported as one line with exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse without abbreviations (``--epoch`` is not ``--epochs``) whose errors raise
    :class:`UsageError` instead of exiting, so :func:`deepstep.cli.main` reports them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise the argparse ``message`` as a :class:`UsageError` naming the command."""
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def typed(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """Wrap a settings parser for argparse: its ValueError message becomes the error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = name
    return convert


def shown(value: Any) -> str:
    """A default value as it would be typed on the command line.

    Examples
    --------
    >>> shown([20, 7, 5]), shown(2e-4), shown(None), shown("relu")
    ('20,7,5', '0.0002', 'none', 'relu')
    """
    if value is None or value == []:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def with_default(text: str, value: Any) -> str:
    """Help ``text`` followed by "(default: ``value``)", escaped for argparse's % formatting."""
    return f"{text} (default: {shown(value).replace('%', '%%')})"


def add_command(subs: Any, name: str, help: str, epilog: str) -> argparse.ArgumentParser:
    """A command's parser with its one-line description, its examples and ``--debug``."""
    p = subs.add_parser(name, help=help, description=help, epilog="examples:\n" + epilog,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback on errors")
    return p


def load_model(path: str) -> Any:
    """The :class:`deepstep.Network` saved at ``path``."""
    from ..model import Network

    return Network.load(path)


def one_line(e: BaseException) -> str:
    """The message of ``e`` on one line (for ``error: ...`` on stderr)."""
    text = str(e) if str(e) else type(e).__name__
    if isinstance(e, KeyError):
        text = f"missing {text}"
    return " ".join(text.split())


def show_warning(message: Any, category: type, filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
    """Print a warning as one ``warning: ...`` line on stderr (for ``warnings.showwarning``)."""
    print(f"warning: {one_line(Exception(str(message)))}", file=sys.stderr)
