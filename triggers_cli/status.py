"""``status``: the runs the triggers created, found by their trigger labels, and how they are.

A run a run_ended route launched is shown under the run whose end launched it (its
``trigger-upstream`` label); ``--chain JOB`` follows one chain from its first run to its last.
"""

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from vertex_trigger.public import (
    ROUTE_LABEL,
    UPSTREAM_LABEL,
    Config,
    EndState,
    PauseBoard,
    PauseRecord,
    PipelineJobs,
    connect_pauses,
    connect_vertex,
    event_label,
    filter_time,
    job_id_of,
    load_config,
    parse_rfc3339,
    state_of,
    trigger_of,
)

from triggers_cli.arguments import Commands, duration, subcommand
from triggers_cli.environment import cli_environment
from triggers_cli.output import print_json, table

COLUMNS = ("route", "kind", "source", "job", "state", "created", "duration", "error")
BRANCH = "└─ "  # a downstream run, under its upstream
MAX_CHAIN = 50  # runs followed by --chain: a bound, whatever a foreign configuration chains
PAUSE_COLUMNS = ("paused route", "by", "at", "reason")


@dataclass(frozen=True)
class RunStatus:
    """One run as ``status`` shows it."""

    route: str
    kind: str
    source: str
    job: str
    state: str
    created: str
    duration: str
    error: str
    upstream: str = ""  # the run whose end launched this one (run_ended routes)
    depth: int = 0  # links below the first shown run of its chain


def list_runs(
    config: Config, jobs: PipelineJobs, since: timedelta, now: datetime, route: str = ""
) -> list[RunStatus]:
    """Return the runs of the config's routes (or one route) created since ``now - since``."""
    names = [route] if route else [r.name for r in config.routes]
    after = filter_time(now - since)
    found: list[dict[str, Any]] = []
    for name in names:  # one filter per route: ours are the runs of this configuration's routes
        found += jobs.list(f'labels.{ROUTE_LABEL}="{name}" AND create_time>"{after}"')
    found.sort(key=lambda job: str(job.get("createTime", "")), reverse=True)
    return [run_status(job, now) for job in found]


def run_status(job: Mapping[str, Any], now: datetime) -> RunStatus:
    """Read a listed PipelineJob: its trigger (labels, display name), state, times and error."""
    trigger = trigger_of(job)
    state = state_of(job)
    error = job.get("error") if isinstance(job.get("error"), dict) else {}
    return RunStatus(
        route=trigger.route if trigger else "",
        kind=trigger.kind if trigger else "",
        source=trigger.source if trigger else "",
        job=job_id_of(job),
        state=state,
        created=str(job.get("createTime", "")),
        duration=_duration(job, now),
        error=str(error.get("message", "")) if state == EndState.FAILED else "",
        upstream=trigger.upstream if trigger else "",
    )


def as_tree(runs: Sequence[RunStatus]) -> list[RunStatus]:
    """Return the runs with each downstream run right under its upstream, depth set, in order."""
    listed = {run.job for run in runs}
    below: dict[str, list[RunStatus]] = {}
    for run in runs:
        below.setdefault(run.upstream if run.upstream in listed else "", []).append(run)
    tree: list[RunStatus] = []
    placed: set[str] = set()

    def place(parent: str, depth: int) -> None:
        for run in below.get(parent, []):
            if run.job in placed:  # a label cycle cannot loop the listing
                continue
            placed.add(run.job)
            tree.append(replace(run, depth=depth))
            place(run.job, depth + 1)

    place("", 0)
    for run in runs:  # what no root reaches (upstreams in a cycle of labels) still shows
        if run.job not in placed:
            placed.add(run.job)
            tree.append(run)
    return tree


def follow_chain(jobs: PipelineJobs, job_id: str, now: datetime) -> list[RunStatus]:
    """Return the chain ``job_id`` is in: up to its first run, then down every branch, as a tree."""
    first = jobs.get(job_id)
    if first is None:
        raise LookupError(f"no run {job_id!r} in Vertex AI")
    seen = {job_id}
    while (upstream := _upstream_of(first)) and upstream not in seen and len(seen) < MAX_CHAIN:
        found = jobs.get(upstream)
        if found is None:
            break  # deleted, or a hashed label: the chain is shown from here
        first, seen = found, seen | {upstream}
    chain = [first]
    pending = [job_id_of(first)]
    while pending and len(chain) < MAX_CHAIN:
        label = event_label(pending.pop(0))
        below = jobs.list(f'labels.{UPSTREAM_LABEL}="{label}"', order_by="create_time")
        chain += below
        pending += [job_id_of(run) for run in below]
    return as_tree([run_status(job, now) for job in chain])


def _upstream_of(job: Mapping[str, Any]) -> str:
    trigger = trigger_of(job)
    upstream = trigger.upstream if trigger else ""
    return "" if upstream.startswith("sha256:") else upstream


def _duration(job: Mapping[str, Any], now: datetime) -> str:
    """Return start (or create) to end; a run still going counts to now and ends with ``+``."""
    start = parse_rfc3339(str(job.get("startTime") or job.get("createTime") or ""))
    end = parse_rfc3339(str(job.get("endTime") or ""))
    if start is None:
        return ""
    seconds = int(((end or now) - start).total_seconds())
    return f"{_short(max(seconds, 0))}{'' if end else '+'}"


def _short(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def as_rows(
    runs: Sequence[RunStatus], paused: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Return the runs as plain mappings (table rows, JSON objects), each with its route's pause."""
    return [{**asdict(run), "route_paused": (paused or {}).get(run.route, "")} for run in runs]


def _pauses(config: Config, board: PauseBoard | None, route: str) -> list[PauseRecord]:
    names = [route] if route else [r.name for r in config.routes]
    records = [board.paused(name) for name in names] if board else []
    return [r for r in records if r is not None]


def _pause_rows(records: Sequence[PauseRecord]) -> list[dict[str, str]]:
    return [{"paused route": r.route, "by": r.by, "at": r.at, "reason": r.reason}
            for r in records]  # fmt: skip


def table_rows(
    runs: Sequence[RunStatus], paused: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Return the runs as table rows: a downstream run's job indented under its upstream."""
    rows = as_rows(runs, paused)
    for row in rows:
        if row["depth"]:
            row["job"] = "   " * (row["depth"] - 1) + BRANCH + row["job"]
    return rows


def register(commands: Commands) -> None:
    """Add ``status``."""
    parser = subcommand(commands, "status", run, "the runs the triggers created, by their labels")
    parser.add_argument("--route", default="", help="only this route's runs")
    parser.add_argument(
        "--since", type=duration, default="1d", help="created within this long (default 1d)"
    )
    parser.add_argument(
        "--watch", nargs="?", type=float, const=10.0, metavar="SECONDS",
        help="print again every SECONDS (default 10) until Ctrl-C",
    )  # fmt: skip
    parser.add_argument(
        "--chain", metavar="JOB",
        help="follow this run's chain, from its first run to its last (any age, any route)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Print the runs (again every --watch seconds)."""
    env = cli_environment(args.config, "")
    config = load_config(env.config_path, env.project)
    if args.route and config.route_named(args.route) is None:
        print(f"{env.config_path}: no route named {args.route!r}", file=sys.stderr)
        return 2
    jobs = connect_vertex(config, env)
    board = connect_pauses(config, env)
    try:
        while True:
            now = datetime.now(UTC)
            records = _pauses(config, board, args.route)
            pauses = _pause_rows(records)
            paused = {record.route: record.describe() for record in records}
            try:
                runs = _runs(config, jobs, args, now)
            except LookupError as exc:
                print(exc, file=sys.stderr)
                return 2
            if args.json:
                print_json(as_rows(runs, paused))
            else:
                if pauses:
                    print(table(pauses, PAUSE_COLUMNS), end="\n\n")
                print(
                    table(table_rows(runs, paused), COLUMNS)
                    if runs
                    else f"no runs since {filter_time(now - args.since)}"
                )
            if args.watch is None:
                return 0
            print(
                f"\n(as of {filter_time(now)}; again in {args.watch:g}s, Ctrl-C stops)\n",
                flush=True,
            )
            time.sleep(args.watch)
    except KeyboardInterrupt:  # how --watch is meant to end
        return 0


def _runs(
    config: Config, jobs: PipelineJobs, args: argparse.Namespace, now: datetime
) -> list[RunStatus]:
    """Return the chain of ``--chain``, else the routes' runs as a tree."""
    if args.chain:
        return follow_chain(jobs, args.chain.rsplit("/", 1)[-1], now)
    return as_tree(list_runs(config, jobs, args.since, now, args.route))
