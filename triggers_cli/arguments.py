"""The options every subcommand shares, and the argument types they parse."""

import argparse
from collections.abc import Callable
from datetime import timedelta

from vertex_trigger.public import parse_duration

from triggers_cli.functions import Function

Command = Callable[[argparse.Namespace], int]
Commands = argparse._SubParsersAction  # what add_subparsers returns (argparse has no public name)


def subcommand(
    commands: Commands, name: str, run: Command, summary: str
) -> argparse.ArgumentParser:
    """Add a subcommand with ``--config`` and ``--json``; ``run(args)`` returns the exit code."""
    parser = commands.add_parser(name, help=summary, description=summary)
    parser.add_argument(
        "--config",
        help="the triggers.yaml (default: as the functions, $TRIGGERS_CONFIG, else "
        "functions/triggers.yaml)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(command=run)
    return parser


def add_function(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--function NAME`` (one of the three entry points)."""
    parser.add_argument(
        "--function", type=Function, choices=list(Function), metavar="NAME", help=what
    )


def duration(text: str) -> timedelta:
    """Parse ``30m``, ``6h``, ``1d`` (the configuration's duration syntax)."""
    try:
        return timedelta(seconds=parse_duration(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
