"""Registering a `cdp` sub-command (cli/main.py collects each package's `register(subparsers)`).

Every command module declares its commands through :func:`add_command`: a command is named
with the function that runs it, and that function's docstring is its help, as in click: the
first paragraph is the line of `cdp --help`, the rest the text of `cdp NAME --help`. What the
user reads about a command is written once, on the code that does it.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable

#: what runs a command: the parsed arguments in, the exit code (None: 0) out
Handler = Callable[[argparse.Namespace], int | None]


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    handler: Handler | None = None,
    *,
    help: str | None = None,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """The parser of sub-command `name`, whose arguments the caller adds, run by `handler`.

    `help` and `description` default to the handler's docstring (see above); a group whose
    own sub-commands have the handlers has no handler and passes its `help`.
    """
    summary, _, rest = (inspect.getdoc(handler) or "").partition("\n\n")
    parser = subparsers.add_parser(
        name,
        help=help or " ".join(summary.split()) or None,
        description=description or rest or None,
    )
    if handler is not None:
        parser.set_defaults(func=handler)
    return parser


def doc_description(module_doc: str | None) -> str:
    """The paragraph after a module docstring's first line: the `--help` text of a command
    that module is about."""
    return (module_doc or "").split("\n\n")[1]
