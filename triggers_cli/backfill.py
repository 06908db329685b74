"""``backfill``: launch a route's runs for objects that were there before its events were.

Lists the objects under the route's prefix (created within ``--since``/``--until``; only the
partitions those cover when the route sets ``partitions``, as the sweeper does) and the
route's runs, then goes through the sweeper's own candidates: each object (each folder, for a
batch route) the event path would give this route, under the job id its event would have used.
A candidate whose run exists is a duplicate, so a second backfill launches nothing. Creates are
paced (``--rate``); a deferral (``max_running``) or a failure stops the route, and Ctrl-C stops
cleanly: backfilling again picks up what is left, never launching anything twice.
"""

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm
from vertex_trigger.public import (
    Decision,
    EventKind,
    Outcome,
    Route,
    Services,
    Trace,
    attempt_outcome,
    candidates,
    listed_events,
    parse_rfc3339,
    route_runs,
)

from triggers_cli.arguments import Commands, duration, subcommand
from triggers_cli.dry_run import dry_run_services, would
from triggers_cli.environment import cli_environment, cli_services
from triggers_cli.functions import Function
from triggers_cli.output import print_json, table
from triggers_cli.pacing import DEFAULT_RATE, Pacer, per_second

LAUNCHED = "no run for it: launched by backfill"
AGAIN = "backfill again to go on"
STOPS = frozenset({Decision.DEFERRED, Decision.FAILED})  # the next creates would fare no better
COLUMNS = ("source", "decision", "job", "reason")


@dataclass
class Backfill:
    """What one backfill did: a row per candidate tried, and how many were left."""

    route: str
    rows: list[dict[str, str]] = field(default_factory=list)
    left: int = 0
    interrupted: bool = False

    def counts(self) -> dict[str, int]:
        """Return how many candidates ended in each decision."""
        return dict(Counter(row["decision"] for row in self.rows))


def backfill(
    services: Services,
    route: Route,
    *,
    since: datetime | None,
    until: datetime | None,
    pacer: Pacer | None,
    dry_run: bool = False,
    progress: bool = True,
) -> Backfill:
    """List the route's objects and runs, then try every candidate, paced; Ctrl-C stops."""
    started = services.now()
    event_id = f"backfill-{started.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    listed = listed_events(services, route, since, until, event_id=event_id, started=started)
    runs = route_runs(services, route, since)
    attempts = list(candidates(services, route, listed.events, runs))
    acting = dry_run_services(services, read_vertex=True)[0] if dry_run else services
    result = Backfill(route.name)
    # disable=None: tqdm draws only on a terminal.
    bar = tqdm(attempts, unit="batch" if route.batch else "object", desc=route.name,
               file=sys.stderr, disable=None if progress else True)  # fmt: skip
    try:
        for done, (source, attempt) in enumerate(bar, 1):
            if pacer:
                pacer.wait()
            trace = Trace(event_id, source=source, route=route.name)
            outcome = attempt_outcome(acting, attempt, trace, launched=LAUNCHED, again=AGAIN)
            if pacer and _created(outcome, runs):
                pacer.spent()
            result.rows.append(_row(outcome, dry_run))
            bar.set_postfix(result.counts(), refresh=False)
            if outcome.decision in STOPS:
                result.left = len(attempts) - done
                break
    except KeyboardInterrupt:
        result.interrupted = True
        result.left = len(attempts) - len(result.rows)
    finally:
        bar.close()
    return result


def _created(outcome: Outcome, runs: set[str]) -> bool:
    """Tell whether the attempt (likely) sent a create: a job not known to exist, not skipped."""
    return (
        bool(outcome.job) and outcome.job not in runs and outcome.decision is not Decision.SKIPPED
    )


def _row(outcome: Outcome, dry_run: bool) -> dict[str, str]:
    decision = would(outcome.decision) if dry_run else outcome.decision.value
    return {"source": outcome.source, "decision": decision, "job": outcome.job,
            "reason": outcome.reason}  # fmt: skip


def moment(text: str) -> datetime:
    """Parse ``--since``/``--until``: an RFC 3339 time, or a duration back from now (``7d``)."""
    parsed = parse_rfc3339(text) if re.match(r"^\d{4}-", text) else None
    if parsed is not None:
        return parsed
    try:
        return datetime.now(UTC) - duration(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 time (2026-11-01T00:00:00Z) or a duration (7d), got {text!r}"
        ) from None


def rate(text: str) -> float:
    """Parse ``--rate`` into creates per second."""
    try:
        return per_second(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(commands: Commands) -> None:
    """Add ``backfill``."""
    parser = subcommand(
        commands, "backfill", run, "launch a route's runs for objects already in the bucket"
    )
    parser.add_argument("--route", required=True, help="an object_finalized route")
    parser.add_argument("--since", type=moment, help="objects created since (time, or 7d ago)")
    parser.add_argument("--until", type=moment, help="objects created before (time, or 1d ago)")
    parser.add_argument("--dry-run", action="store_true", help="decide only: create nothing")
    parser.add_argument(
        "--rate", type=rate, default=DEFAULT_RATE,
        help=f"creates per minute (N, N/min, N/s; default {DEFAULT_RATE}: half of Vertex AI's "
        "default 60/min per region, which live events share)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Backfill one route; print a row per candidate and the count of each decision."""
    services = cli_services(cli_environment(args.config, Function.OBJECT_FINALIZED.value))
    route = services.config.route_named(args.route)
    if route is None or route.event is not EventKind.OBJECT_FINALIZED:
        what = "no route named" if route is None else "not an object_finalized route:"
        print(f"{services.config.path}: {what} {args.route!r}", file=sys.stderr)
        return 2
    pacer = None if args.dry_run else Pacer(args.rate)
    result = backfill(services, route, since=args.since, until=args.until, pacer=pacer,
                      dry_run=args.dry_run, progress=not args.json)  # fmt: skip
    _print(result, args)
    if result.interrupted:
        return 130
    return 1 if result.left or {"failed", "deferred"} & result.counts().keys() else 0


def _print(result: Backfill, args: argparse.Namespace) -> None:
    if args.json:
        print_json({"route": result.route, "dry_run": args.dry_run, "decisions": result.counts(),
                    "left": result.left, "interrupted": result.interrupted,
                    "candidates": result.rows})  # fmt: skip
        return
    shown = [row for row in result.rows if row["decision"] != "duplicate"]
    if shown:
        print(table(shown, COLUMNS), end="\n\n")
    print(table(_summary(result), ["decision", "count"]))
    if result.left or result.interrupted:
        stopped = "interrupted" if result.interrupted else "stopped"
        print(f"\n{stopped} with {result.left} left: run it again to go on (the job ids are "
              "deterministic: nothing launches twice)")  # fmt: skip


def _summary(result: Backfill) -> Iterable[dict[str, Any]]:
    rows = [{"decision": d, "count": n} for d, n in sorted(result.counts().items())]
    return rows or [{"decision": "(nothing to backfill)", "count": 0}]
