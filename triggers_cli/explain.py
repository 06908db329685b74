"""``explain``: what the functions would decide for an event, with nothing created.

The event is a file or a live object (``gs://``: its metadata is read through the GCS JSON API),
or a run (its job name or id: the log entry of its state change is built for it). It goes through
the function's own ``serve`` and handler with the dry-run collaborators: the decision, route, job
id, parameters and request body are the handler's. Without ``--check-vertex`` Vertex is not asked
(no duplicate or cooldown can show); with it, runs are listed and read, never created or
cancelled. Run-state entries always read the run, and show each run_ended route its end would
launch, with its body.
"""

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vertex_trigger.public import (
    DeploymentError,
    Environment,
    Outcome,
    Services,
    TransientError,
    serve,
)

from triggers_cli.arguments import Commands, add_function, subcommand
from triggers_cli.check import CHECK_ONLY_RUN_KEY
from triggers_cli.dry_run import Recorded, dry_run_services, would
from triggers_cli.environment import cli_environment, cli_services
from triggers_cli.events import (
    Explainable,
    NoSuchObjectError,
    event_from_bytes,
    event_from_gcs,
    event_from_job,
    job_named,
)
from triggers_cli.functions import Function
from triggers_cli.output import body_text, print_json, table

# How the functions' Google session says it found neither credentials nor an emulator.
NO_CREDENTIALS = "no Google credentials"
SIGN_IN = "or Google credentials (gcloud auth application-default login)"


@dataclass(frozen=True)
class Explanation:
    """What the function would decide, and what it would have sent."""

    decision: str
    function: str
    route: str
    job: str
    source: str
    event_id: str
    reason: str
    parameters: dict[str, Any] | None
    labels: dict[str, str] | None
    body: dict[str, Any] | None
    cancels: list[str]
    messages: list[dict[str, Any]]
    posts: list[dict[str, str]]
    launches: list[dict[str, Any]]  # a run's end: each run_ended route it would launch


def explain(explainable: Explainable, services: Services, check_vertex: bool) -> Explanation:
    """Dispatch the event to its function's handler with nothing written; say what it decided."""
    read = reads_vertex(check_vertex, explainable.function)
    dry, recorded = dry_run_services(services, read_vertex=read)
    logged: list[Outcome] = []
    chained: list[Outcome] = []  # the lines a run's end writes per run_ended route
    dry = replace(dry, log=chained.append)
    # What the platform would see raised (failed, deferred) was logged by serve first.
    with contextlib.suppress(Exception):
        serve(explainable.function.handler, explainable.event, dry, log=logged.append)
    return explanation(logged[-1], explainable.function, recorded, chained)


def reads_vertex(check_vertex: bool, function: Function) -> bool:
    """Tell whether explaining an event for ``function`` lists and reads runs."""
    return check_vertex or function is Function.RUN_STATE


def explanation(
    outcome: Outcome, function: Function, recorded: Recorded, chained: Sequence[Outcome] = ()
) -> Explanation:
    """Join the handler's outcome with the create request it made for its job (if any)."""
    body = recorded.creates.get(outcome.job)
    return Explanation(
        decision=would(outcome.decision),
        function=function.value,
        route=outcome.route,
        job=outcome.job,
        source=outcome.source,
        event_id=outcome.event_id,
        reason=outcome.reason,
        parameters=_parameters(body),
        labels=body.get("labels") if body else None,
        body=body,
        cancels=recorded.cancels,
        messages=recorded.messages,
        posts=recorded.posts,
        launches=[_launch(line, recorded.creates.get(line.job)) for line in chained],
    )


def _parameters(body: dict[str, Any] | None) -> dict[str, Any] | None:
    runtime = (body or {}).get("runtimeConfig", {})
    return runtime.get("parameterValues", runtime.get("parameters")) if body else None


def _launch(line: Outcome, body: dict[str, Any] | None) -> dict[str, Any]:
    """One run_ended route's decision after a run's end, with the request it would send."""
    return {
        "decision": would(line.decision),
        "route": line.route,
        "job": line.job,
        "reason": line.reason,
        "parameters": _parameters(body),
        "labels": body.get("labels") if body else None,
        "body": body,
    }


def register(commands: Commands) -> None:
    """Add ``explain``."""
    parser = subcommand(
        commands, "explain", run, "what the functions would decide for an event; creates nothing"
    )
    parser.add_argument(
        "event",
        metavar="EVENT",
        help="gs://BUCKET/OBJECT (its metadata is read), a file: a CloudEvent, a "
        "StorageObjectData, a Pub/Sub message, an alert body, a run's log entry; or a run: "
        "projects/P/locations/L/pipelineJobs/ID or its ID (what its end would launch)",
    )
    parser.add_argument(
        "--check-vertex", action="store_true",
        help="list and read runs, so duplicates and cooldowns show (never creates)",
    )  # fmt: skip
    add_function(parser, "the function to ask (default: the one whose trigger gets this event)")


def run(args: argparse.Namespace) -> int:
    """Explain the event; print the decision, parameters, labels and request body."""
    if args.event.startswith("gs://"):
        function = Function.OBJECT_FINALIZED
        env = cli_environment(args.config, function.value)
        services = cli_services(_dry(env, reads_vertex(args.check_vertex, function)))
        try:
            explainable = event_from_gcs(services.storage, args.event)
        except NoSuchObjectError as exc:
            print(exc, file=sys.stderr)
            return 2
        except (DeploymentError, TransientError) as exc:
            print(needs(f"reading {args.event}'s metadata", "Cloud Storage",
                        "STORAGE_EMULATOR_HOST", exc, "or explain a file holding the event"),
                  file=sys.stderr)  # fmt: skip
            return 1
    else:
        now = datetime.now(UTC)
        job = job_named(args.event) if not Path(args.event).exists() else None
        if job is not None:
            explainable = event_from_job(job, now)
        else:
            try:
                content = Path(args.event).read_bytes()
            except OSError as exc:
                print(f"explain: cannot read {args.event}: {exc.strerror}", file=sys.stderr)
                return 1
            explainable = event_from_bytes(content, now, args.function)
        env = cli_environment(args.config, explainable.function.value)
        services = cli_services(_dry(env, reads_vertex(args.check_vertex, explainable.function)))
    result = explain(explainable, services, args.check_vertex)
    if result.decision == "failed" and NO_CREDENTIALS in result.reason:
        instead = "or leave out --check-vertex" if args.check_vertex else ""
        print(needs("reading runs", "Vertex AI", "VERTEX_AI_EMULATOR_HOST", result.reason,
                    instead), file=sys.stderr)  # fmt: skip
        return 1
    if args.json:
        print_json(asdict(result))
    else:
        print(human(result, explainable.form))
    return 0


def needs(what: str, service: str, variable: str, problem: object, instead: str = "") -> str:
    """Say in one line what explain needs to reach ``service``, and what it got."""
    first = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
    reason = "no emulator host or credentials" if NO_CREDENTIALS in first else first
    alternative = f"; {instead}" if instead else ""
    return (
        f"explain: {what} needs {service}: set {variable} (the local stack's: `make up` prints "
        f"the line to export) {SIGN_IN}{alternative} ({reason})"
    )


def human(result: Explanation, form: str) -> str:
    """Return the explanation as readable text: fields, parameters, labels, the request body."""
    fields = [
        {"field": "decision", "value": result.decision},
        {"field": "function", "value": f"{result.function} (event read as {form})"},
        {"field": "route", "value": result.route},
        {"field": "job", "value": result.job},
        {"field": "source", "value": result.source},
        {"field": "event id", "value": result.event_id},
        {"field": "reason", "value": result.reason},
    ]
    parts = [table(fields, ["field", "value"])]
    if result.parameters is not None:
        rows = [{"parameter": k, "value": json.dumps(v)} for k, v in result.parameters.items()]
        parts.append(table(rows, ["parameter", "value"]))
    if result.labels is not None:
        rows = [{"label": k, "value": v} for k, v in result.labels.items()]
        parts.append(table(rows, ["label", "value"]))
    if result.body is not None:
        parts.append(body_text(result.job, result.body))
    for launch in result.launches:
        parts.append(_launch_text(launch))
    parts += [f"would cancel run {job}" for job in result.cancels]
    parts += [f"would publish to {m['topic']}: {m['data']}" for m in result.messages]
    parts += [f"would post to route {p['route']}'s webhook: {p['text']}" for p in result.posts]
    return "\n\n".join(parts)


def _launch_text(launch: dict[str, Any]) -> str:
    """Return one run_ended route's decision and the request it would send."""
    head = f"run_ended route {launch['route']}: {launch['decision']} {launch['job']}"
    text = f"{head}: {launch['reason']}" if launch["reason"] else head
    return f"{text}\n{body_text(launch['job'], launch['body'])}" if launch["body"] else text


def _dry(env: Environment, read_vertex: bool) -> Environment:
    """Return ``env`` with a stand-in run key if it has none and no run is read.

    Explain creates and signs nothing, but the runs it lists and reads (--check-vertex, a run's
    end) are told ours by the deployment's run key, as the functions tell them: there the
    instance's own rule applies ($TRIGGER_RUN_KEY, the emulator's local key, else its error).
    """
    if read_vertex or env.run_key or env.vertex_emulator_host:
        return env
    return replace(env, run_key=CHECK_ONLY_RUN_KEY)
