"""``vertex-triggers``: the operator's command line over the functions' own modules.

Every subcommand but compile and new-route reads the configuration the functions read
($TRIGGERS_CONFIG, else functions/triggers.yaml; --config overrides) and talks to the services
they talk to: Application Default Credentials on Google Cloud, or VERTEX_AI_EMULATOR_HOST,
STORAGE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST locally. compile and new-route read the files
they are given. --json (every subcommand but new-route) prints machine-readable output.
"""

import argparse
import sys
from collections.abc import Sequence

from vertex_trigger.public import ConfigError

from triggers_cli import (
    backfill,
    check,
    compile_pipeline,
    explain,
    new_route,
    pause,
    replay,
    rerun,
    status,
)
from triggers_cli.check import error_line

SUBCOMMANDS = (
    check, explain, backfill, status, replay, pause, rerun, compile_pipeline, new_route
)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the subcommand; return its exit code."""
    parser = argparse.ArgumentParser(
        prog="vertex-triggers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(commands)
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except ConfigError as exc:  # the configuration an instance would refuse to start with
        print(error_line(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
