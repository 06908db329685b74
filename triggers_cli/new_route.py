"""``new-route``: scaffold a route for a compiled template, every required input filled.

Each required input gets the placeholder whose name it shares (``data_uri`` gets ``{uri}``) when
that placeholder fits its type whatever it stands for, the functions' own start-up check deciding
what fits (``fitting_placeholders``); an input that no placeholder fills is ``null`` with a
``# decide:`` comment, so ``check`` fails until someone decides. Optional inputs are listed as
comments with their defaults.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from vertex_trigger.public import (
    ConfigError,
    EventKind,
    Route,
    Template,
    fitting_placeholders,
    parse_template,
    read_route,
    resolve_ref,
)

from triggers_cli.arguments import Commands

# The routes it scaffolds: a run_ended route names its upstream (`after`), which no template says.
EVENTS = (EventKind.OBJECT_FINALIZED, EventKind.DRIFT_ALERT)

# A new routes file's header: what the local stack needs; Terraform replaces every value of it
# with the deployment's (docs/your-own-pipeline.md).
HEADER = """\
# Routes: docs/configuration.md. `vertex-triggers check --config {file}` checks them,
# `make up CONFIG={file}` runs them locally, Terraform deploys this file (routes_file) and
# sets project, region, pipeline_root, service_account and outcomes_topic for the deployment.
project: local-project
region: us-central1
pipeline_root: gs://local-pipelines/runs
routes:
"""


def scaffold(template_path: Path, event: EventKind, where: Path, **keys: Any) -> str:
    """Return the route's YAML text (a list item); the template path is relative to ``where``."""
    relative = Path(_relative(template_path, where))
    raw = {"name": keys["name"], "event": event.value, "template": str(relative),
           **{k: keys[k] for k in ("bucket", "prefix", "suffix") if keys.get(k)}}  # fmt: skip
    try:
        route = read_route(where / "triggers.yaml", 0, {**raw, "parameters": {}})
    except ConfigError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1]) from None
    ref = resolve_ref(str(template_path.resolve()), where)
    template = parse_template(ref, template_path.read_bytes(), "scaffold")
    lines = [f"  - name: {route.name}", f"    event: {event.value}"]
    keys = [k for k in ("bucket", "prefix", "suffix") if k in raw]
    lines += [f"    {k}: {json.dumps(raw[k])}" for k in keys]
    if event is EventKind.DRIFT_ALERT:
        lines += [
            '    # match: {model: "projects/*/models/MODEL*"}   # decide: which alerts launch it',
            "    # cooldown: 6h   # at most one run per route and model per 6 hours",
        ]
    lines.append(f"    template: {relative}   # relative to the routes file")
    lines += ["    parameters:", *_parameters(route, template)]
    return "\n".join(lines) + "\n"


def _relative(path: Path, where: Path) -> str:
    try:
        return str(path.resolve().relative_to(where.resolve()))
    except ValueError:
        return str(path.resolve())


def _parameters(route: Route, template: Template) -> list[str]:
    declared = template.spec["root"].get("inputDefinitions", {}).get("parameters", {})
    lines = []
    for name, spec in template.inputs.items():
        if not spec.settable:
            continue
        fitting = fitting_placeholders(route, spec)
        fits = _fits_text(spec.type, fitting)
        if spec.optional:
            default = json.dumps(_default(declared.get(name, {}), spec.type))
            lines.append(f"      # {name}: {default}   # optional, {spec.type}; fits: {fits}")
            continue
        chosen = _by_name(name, fitting)
        if chosen:
            lines.append(f'      {name}: "{{{chosen}}}"   # {spec.type}; fits: {fits}')
        else:
            lines.append(f"      {name}: null   # decide: a {spec.type}; fits: {fits}, or a value")
    return lines or ["      {}"]


def _fits_text(kind: Any, fitting: list[str]) -> str:
    if kind == "STRING":
        return "any placeholder"
    return ", ".join(f"{{{p}}}" for p in fitting) or "no placeholder"


def _default(definition: dict[str, Any], kind: Any) -> Any:
    """Return an input's default as written in Python (KFP writes an int default as 1.0)."""
    value = definition.get("defaultValue")
    if kind == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _by_name(name: str, fitting: list[str]) -> str:
    """Return the fitting placeholder the input is named after (data_uri: uri), or ''."""
    words = set(name.lower().split("_"))
    for placeholder in fitting:
        if placeholder == name or placeholder.split("_")[-1] in words:
            return placeholder
    return ""


def write_route(path: Path, text: str) -> str:
    """Add the route to a routes file (a new one gets a header); return what was done."""
    if not path.exists():
        path.write_text(HEADER.format(file=path) + text)
        return f"wrote {path} (a new routes file)"
    before = path.read_text()
    after = before + ("" if before.endswith("\n") else "\n") + text
    try:
        document = yaml.safe_load(after)
    except yaml.YAMLError:
        document = None
    routes = document.get("routes") if isinstance(document, dict) else None
    if not isinstance(routes, list) or not routes or not isinstance(routes[-1], dict):
        raise ValueError(f"{path}: its routes: list must come last to add a route to it")
    path.write_text(after)
    return f"added route {routes[-1].get('name')!r} to {path}"


def _event(text: str) -> EventKind:
    """Parse ``--event``: one of EVENTS."""
    if text in {event.value for event in EVENTS}:
        return EventKind(text)
    problem = f"expected {' or '.join(event.value for event in EVENTS)}, got {text!r}"
    if text == EventKind.RUN_ENDED.value:
        problem += " (a run_ended route names its upstream, `after`: write it by hand)"
    raise argparse.ArgumentTypeError(problem)


def register(commands: Commands) -> None:
    """Add ``new-route``."""
    summary = "scaffold a route for a compiled template (printed, or added to --file)"
    parser = commands.add_parser("new-route", help=summary, description=summary)
    parser.add_argument("--template", type=Path, required=True, help="the compiled template")
    parser.add_argument(
        "--event", type=_event, required=True, metavar="EVENT",
        help=" or ".join(event.value for event in EVENTS),
    )  # fmt: skip
    parser.add_argument("--name", help="the route's name (default: the template's file stem)")
    parser.add_argument("--bucket", help="object routes: the bucket to watch")
    parser.add_argument("--prefix", default="", help="object routes: object names start so")
    parser.add_argument("--suffix", default="", help="object routes: object names end so")
    parser.add_argument(
        "--file", type=Path,
        help="add the route to this routes file (a missing one is created with a header)",
    )  # fmt: skip
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Scaffold the route; print it, or add it to --file."""
    if args.event is EventKind.OBJECT_FINALIZED and not args.bucket:
        print("new-route: an object_finalized route needs --bucket", file=sys.stderr)
        return 2
    name = args.name or args.template.stem.lower().replace("_", "-")
    where = args.file.parent if args.file else Path.cwd()
    try:
        text = scaffold(args.template, args.event, where, name=name, bucket=args.bucket,
                        prefix=args.prefix, suffix=args.suffix)  # fmt: skip
        if args.file is None:
            print(text, end="")
        else:
            print(write_route(args.file, text))
    except (OSError, ValueError) as exc:
        print(f"new-route: {exc}", file=sys.stderr)
        return 1
    return 0
