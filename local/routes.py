"""The routes a local stack runs, and what each one watches and how to trigger it here.

Read with the functions' own loader; `make up` and `make demo` print these lines.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from vertex_trigger.public import (
    Config,
    ConfigError,
    Environment,
    EventKind,
    Route,
    build_services,
    load_config,
)

from triggers_cli.check import error_line

# A Vertex AI model name for alerts, when a route's `match` does not constrain it.
EXAMPLE_MODEL = "projects/{project}/locations/{region}/models/my-model"


def read_routes(path: Path) -> Config:
    """Read a routes file as an instance does (keys only: templates are read when it starts)."""
    return load_config(path, os.environ.get("GOOGLE_CLOUD_PROJECT"))


def start_up_check(config: Config) -> tuple[str, list[str]]:
    """Run an instance's start-up check here, before anything starts: (error line, warnings).

    Only when every template is a local file: one in Cloud Storage is read by the functions from
    the stack's storage emulator, which is not running yet.
    """
    if any(r.template.kind.value != "local" for r in config.routes):
        return "", []
    nowhere = "127.0.0.1:9"  # nothing is asked of Vertex AI or Pub/Sub at start-up
    env = Environment(config.path, config.project, nowhere, f"http://{nowhere}", nowhere,
                      function_target="on_object_finalized")  # fmt: skip
    warnings: list[str] = []
    try:
        build_services(env, warn=warnings.append)
    except ConfigError as err:
        return error_line(err), warnings
    return "", warnings


def example_of(glob: str, fallback: str) -> str:
    """Return a value the glob matches: the fallback when it does, else the glob's text."""
    if fnmatch.fnmatchcase(fallback, glob):
        return fallback
    for filler in ("", "x"):
        candidate = glob.replace("*", filler).replace("?", "x")
        if fnmatch.fnmatchcase(candidate, glob):
            return candidate
    return glob


def watches(route: Route) -> str:
    """Say when a route launches, in one phrase: ``on ...`` or ``when ...``."""
    if route.event is EventKind.RUN_ENDED:
        return f"when {upstream_ends(route)}"
    return f"on {_watched(route)}"


def _watched(route: Route) -> str:
    """Say what an object or drift route launches on."""
    if route.event is EventKind.DRIFT_ALERT:
        conditions = [f"{k}={v}" for k, v in route.match.items()]
        conditions += [f"policy label {k}={v}" for k, v in route.policy_labels.items()]
        if route.min_deviation is not None:
            conditions.append(f"a feature deviating >= {route.min_deviation:g}")
        if route.cooldown is not None:
            conditions.append(f"at most one run per model per {route.cooldown:g}s")
        return "drift alerts" + (f" ({', '.join(conditions)})" if conditions else "")
    name = f"{route.prefix}*{route.suffix}"
    if route.batch is None:
        return f"new objects gs://{route.bucket}/{name}"
    return f"folders of objects gs://{route.bucket}/{name}, once {_complete(route)}"


def how_to_trigger(route: Route, config: Config, buckets: Path, pubsub_host: str) -> list[str]:
    """Return the commands that make this route launch on the local stack."""
    if route.event is EventKind.RUN_ENDED:
        return [f"(nothing to send: it is launched when {upstream_ends(route)})"]
    if route.event is EventKind.DRIFT_ALERT:
        return [_alert_command(route, config, pubsub_host)]
    folder = f"{_shown(buckets / route.bucket)}/{route.prefix}"
    if route.batch is None:
        return [f"cp YOUR_FILE {folder}NAME{route.suffix}"]
    return [
        f"mkdir -p {folder}FOLDER && cp YOUR_PART {folder}FOLDER/part-1{route.suffix}",
        f"(the run starts once {_complete(route)})",
    ]


def upstream_ends(route: Route) -> str:
    """Say which run ends launch a run_ended route: ``a run of route 'R' ends SUCCEEDED``."""
    after = route.after
    assert after is not None
    states = " or ".join(sorted(state.value for state in after.states))
    return f"a run of {after.describe()} ends {states}"


def _complete(route: Route) -> str:
    """Say when a batch route's folder is complete."""
    spec = route.batch
    assert spec is not None
    rule = spec.rule.value
    if rule == "marker":
        return f"the marker FOLDER/{spec.control} is written (write it last)"
    if rule == "manifest":
        return f"every object the manifest FOLDER/{spec.control} lists is there"
    if rule == "min_objects":
        return f"the folder holds {spec.min_objects} data objects"
    return f"nothing new arrived for {spec.quiet:g}s (the sweeper launches it: POST sweep)"


def _alert_command(route: Route, config: Config, pubsub_host: str) -> str:
    fallback = EXAMPLE_MODEL.format(project=config.project, region=config.region)
    model = example_of(route.match.get("model", "*"), fallback)
    deviation = max(0.5, (route.min_deviation or 0.0) + 0.1)
    command = (
        f"PUBSUB_EMULATOR_HOST={pubsub_host} .venv/bin/python -m local.send_alert "
        f"--model {model} --feature my_feature={deviation:g}"
    )
    if route.policy_labels:
        labels = " ".join(
            f"--label {k}={example_of(v, 'x')}" for k, v in route.policy_labels.items()
        )
        command += f" --form incident {labels}"
    form = route.match.get("form")
    if form and not fnmatch.fnmatchcase("canonical", form):
        command += f"   (this route takes {form} alerts: --form, docs/drift.md)"
    return command


def _shown(path: Path) -> str:
    """Return a path relative to the working directory when it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def routes_banner(config: Config, buckets: Path, pubsub_host: str) -> str:
    """Return, per route, what it watches and how to trigger it here."""
    lines = [f"routes of {_shown(config.path)}:"]
    for route in config.routes:
        lines.append(f"  {route.name} ({route.event.value}) launches {watches(route)}")
        lines += [f"      {command}" for command in how_to_trigger(route, config, buckets,
                                                                   pubsub_host)]  # fmt: skip
    return "\n".join(lines)
