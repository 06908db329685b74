"""``rerun JOB [--dry-run]``: launch a run like JOB under a new deterministic id, ``...-rerun-N``.

The rerun is JOB again (its spec as sent, its parameters, the labels of its trigger), labelled
``trigger-rerun-of`` with JOB; it counts toward the route's limits and goes through its overlap
policy like any launch (functions/vertex_trigger/triggers/reruns.py). ``--dry-run`` prints the
request and what the launch would decide, with the dry-run collaborators: it creates nothing.
"""

import argparse
import sys
from datetime import UTC, datetime

from vertex_trigger.public import (
    Outcome,
    RerunError,
    RerunPlan,
    Services,
    Trace,
    attempt_outcome,
    plan_rerun,
    rerun,
)

from triggers_cli.arguments import Commands, subcommand
from triggers_cli.dry_run import dry_run_services, would
from triggers_cli.environment import cli_environment, cli_services
from triggers_cli.functions import Function
from triggers_cli.output import body_text, print_json, table

AGAIN = "rerun again later"


def register(commands: Commands) -> None:
    """Add ``rerun``."""
    parser = subcommand(
        commands, "rerun", run, "launch a run like JOB under a new id (JOB's original-rerun-N)"
    )
    parser.add_argument("job", metavar="JOB", help="the job id of a run of these routes")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the request and the decision: create nothing"
    )


def run(args: argparse.Namespace) -> int:
    """Plan the rerun, then print its request (--dry-run) or launch it."""
    services = cli_services(cli_environment(args.config, Function.OBJECT_FINALIZED.value))
    try:
        plan = plan_rerun(services, args.job)
    except RerunError as exc:
        print(exc, file=sys.stderr)
        return 2
    acting = dry_run_services(services, read_vertex=True)[0] if args.dry_run else services
    outcome = _launch(acting, plan)
    decision = would(outcome.decision) if args.dry_run else outcome.decision.value
    result = {"job": plan.job, "rerun_of": plan.of, "route": plan.route.name,
              "decision": decision, "reason": outcome.reason}  # fmt: skip
    if args.json:
        print_json({**result, "body": plan.body} if args.dry_run else result)
    else:
        if args.dry_run:
            print(body_text(plan.job, plan.body), end="\n\n")
        print(table([result], ["job", "rerun_of", "decision", "reason"]))
    return 0 if decision in ("launched", "would_launch", "duplicate") else 1


def _launch(services: Services, plan: RerunPlan) -> Outcome:
    """Create the rerun on its own budget; what it raises is its outcome."""
    event_id = f"rerun-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    launched = f"rerun of {plan.of}: launched by vertex-triggers rerun"
    return attempt_outcome(services, lambda s, trace: rerun(s, plan, trace), Trace(event_id),
                           launched=launched, again=AGAIN)  # fmt: skip
