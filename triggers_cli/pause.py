"""``pause ROUTE --reason TEXT`` and ``resume ROUTE [--catch-up | --skip-missed]``.

A pause is a small JSON record per route under the configuration's ``state`` location
(``functions/vertex_trigger/launch/pauses.py``): who paused it, when and why. Every instance
reads it at most once per ``pause_check`` (30 s by default), so within that long the route's
events are ``skipped`` with the record's reason and the sweeper leaves the route alone. Resuming
rewrites the record; after waiting ``pause_check`` for every instance to see it, ``--catch-up``
launches, with the backfill's machinery, each object that arrived meanwhile under the id its
event would have used; ``--skip-missed`` launches none of them, and the record keeps the window
so that the sweeper does not launch them either.
"""

import argparse
import getpass
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from vertex_trigger.public import (
    CATCH_UP,
    SKIP_MISSED,
    Config,
    DeploymentError,
    EventKind,
    PauseBoard,
    PauseRecord,
    RejectedEvent,
    TransientError,
    connect_pauses,
    load_config,
    parse_rfc3339,
    record_fields,
    resumed,
)

from triggers_cli.arguments import Commands, subcommand
from triggers_cli.backfill import Backfill, backfill, rate
from triggers_cli.environment import cli_environment, cli_services
from triggers_cli.functions import Function
from triggers_cli.output import print_json, table
from triggers_cli.pacing import DEFAULT_RATE, Pacer

# Objects are caught up from a little before the pause: the operator's clock and Cloud Storage's
# may differ, and a run that exists already is only a duplicate.
CLOCK_MARGIN = timedelta(minutes=5)
NO_STATE = (
    "{path}: no `state` location: set `state: gs://BUCKET/PREFIX` (where pauses live, "
    "docs/configuration.md) and deploy it once"
)


def _stamp(moment: datetime) -> str:
    """Return RFC 3339 to the microsecond: a skip window must not round objects into it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_by() -> str:
    """Return who is pausing: the login name on this machine."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def register(commands: Commands) -> None:
    """Add ``pause`` and ``resume``."""
    pause_parser = subcommand(
        commands, "pause", run_pause, "pause a route: its events are skipped, the sweeper waits"
    )
    pause_parser.add_argument("route", metavar="ROUTE", help="the route to pause")
    pause_parser.add_argument("--reason", required=True, help="why (every skipped event says it)")
    pause_parser.add_argument("--by", default=None, help="who pauses (default: login@host)")
    resume_parser = subcommand(
        commands, "resume", run_resume,
        "resume a paused route, launching what arrived meanwhile (--catch-up) or not",
    )  # fmt: skip
    resume_parser.add_argument("route", metavar="ROUTE", help="the route to resume")
    missed = resume_parser.add_mutually_exclusive_group()
    missed.add_argument(
        "--catch-up", dest="missed", action="store_const", const=CATCH_UP,
        help="launch each object that arrived while paused, under its event's job id",
    )  # fmt: skip
    missed.add_argument(
        "--skip-missed", dest="missed", action="store_const", const=SKIP_MISSED,
        help="launch none of them, now or by the sweeper (the default)",
    )  # fmt: skip
    resume_parser.add_argument("--by", default=None, help="who resumes (default: login@host)")
    resume_parser.add_argument(
        "--rate", type=rate, default=DEFAULT_RATE,
        help=f"catch-up creates per minute (default {DEFAULT_RATE}, as backfill)",
    )  # fmt: skip


def _board(args: argparse.Namespace) -> tuple[Config, PauseBoard] | None:
    env = cli_environment(args.config, "")
    config = load_config(env.config_path, env.project)
    if config.route_named(args.route) is None:
        print(f"{config.path}: no route named {args.route!r}", file=sys.stderr)
        return None
    board = connect_pauses(config, env)
    if board is None:
        print(NO_STATE.format(path=config.path), file=sys.stderr)
        return None
    return config, board


# Reading or writing a pause record: a refusal (the bucket, a grant) or an outage.
STATE_ERRORS = (DeploymentError, RejectedEvent, TransientError)


def run_pause(args: argparse.Namespace) -> int:
    """Write the route's pause record (unless it is paused already)."""
    found = _board(args)
    if found is None:
        return 2
    try:
        return _pause(args, *found)
    except STATE_ERRORS as exc:
        print(f"cannot pause {args.route}: {exc}", file=sys.stderr)
        return 1


def _pause(args: argparse.Namespace, config: Config, board: PauseBoard) -> int:
    current = board.record(args.route)
    if current is not None and current.paused:
        _say(args, current, f"{args.route} is already {current.describe().removeprefix('route ')}")
        return 0
    now = _stamp(datetime.now(UTC))
    record = PauseRecord(args.route, True, args.by or default_by(), now, args.reason,
                         skip_windows=current.skip_windows if current else ())  # fmt: skip
    board.write(record)
    _say(args, record, f"paused {args.route}: every instance skips its events within "
                       f"{config.pause_check:g}s and the sweeper leaves it alone")  # fmt: skip
    return 0


def run_resume(args: argparse.Namespace) -> int:
    """Rewrite the record as resumed, wait for every instance to see it, then catch up or not."""
    found = _board(args)
    if found is None:
        return 2
    try:
        return _resume(args, *found)
    except STATE_ERRORS as exc:
        print(f"cannot resume {args.route}: {exc}", file=sys.stderr)
        return 1


def _resume(args: argparse.Namespace, config: Config, board: PauseBoard) -> int:
    missed = args.missed or SKIP_MISSED
    current = board.record(args.route)
    if current is None or (not current.paused and missed != CATCH_UP):
        _say(args, current, f"{args.route} is not paused: nothing to resume")
        return 0
    if current.paused:
        now = _stamp(datetime.now(UTC))
        current = resumed(current, args.by or default_by(), now, missed)
        board.write(current)
        print(f"resumed {args.route} ({missed.replace('_', ' ')}); waiting "
              f"{config.pause_check:g}s for every instance to see it", file=sys.stderr)  # fmt: skip
        time.sleep(config.pause_check)
    try:
        caught = _catch_up(args, current, missed)
    except STATE_ERRORS as exc:  # the resume holds; only the catch-up is left to do
        print(f"resumed {args.route}, but its catch-up stopped: {exc}; run `vertex-triggers "
              f"resume {args.route} --catch-up` again to go on", file=sys.stderr)  # fmt: skip
        return 1
    _report(args, current, caught)
    return 1 if caught is not None and (caught.left or caught.interrupted) else 0


def _catch_up(args: argparse.Namespace, record: PauseRecord, missed: str) -> Backfill | None:
    """Launch what arrived while paused (--catch-up) or only since the resume (--skip-missed).

    Since the resume: an event a stale cache skipped in the last ``pause_check``. The backfill's
    candidates, under their events' job ids: a run that exists is a duplicate.
    """
    services = cli_services(cli_environment(args.config, Function.OBJECT_FINALIZED.value))
    route = services.config.route_named(args.route)
    if route is None or route.event is not EventKind.OBJECT_FINALIZED:
        return None  # drift alerts are not kept anywhere: the next alert launches
    if missed == CATCH_UP:
        since = (parse_rfc3339(record.at) or datetime.now(UTC)) - CLOCK_MARGIN
    else:  # from the end of the skip window exactly: the sweeper leaves out what is before it
        since = parse_rfc3339(record.resumed_at) or datetime.now(UTC)
    return backfill(services, route, since=since, until=None, pacer=Pacer(args.rate),
                    progress=not args.json)  # fmt: skip


def _report(args: argparse.Namespace, record: PauseRecord, caught: Backfill | None) -> None:
    counts = dict(Counter(row["decision"] for row in caught.rows)) if caught else {}
    if args.json:
        print_json({"record": record_fields(record), "caught_up": counts,
                    "candidates": caught.rows if caught else [],
                    "left": caught.left if caught else 0})  # fmt: skip
        return
    was = record.describe().removeprefix("route ")
    print(f"{record.route} resumed by {record.resumed_by} at {record.resumed_at} "
          f"({record.missed.replace('_', ' ')}); it was {was}")  # fmt: skip
    if caught is None:
        print("a drift route keeps no alerts: nothing to catch up; the next alert launches")
        return
    shown = [row for row in caught.rows if row["decision"] != "duplicate"]
    if shown:
        print(table(shown, ("source", "decision", "job", "reason")))
    rows = [{"decision": d, "count": n} for d, n in sorted(counts.items())]
    print(table(rows or [{"decision": "(nothing arrived)", "count": 0}], ["decision", "count"]))


def _say(args: argparse.Namespace, record: PauseRecord | None, text: str) -> None:
    if args.json:
        print_json({"record": record_fields(record) if record else None, "message": text})
    else:
        print(text)
