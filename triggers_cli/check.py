"""``check``: the instances' start-up check, run here (config, templates, webhook variables)."""

import argparse
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vertex_trigger.public import (
    RUN_STATE_TARGET,
    ConfigError,
    Environment,
    Route,
    Services,
    build_services,
)

from triggers_cli.arguments import Commands, add_function, subcommand
from triggers_cli.environment import cli_environment
from triggers_cli.kfp_spec import SECOND_DOCUMENT, spec_problems
from triggers_cli.output import print_json, table


@dataclass(frozen=True)
class CheckResult:
    """What the start-up check said: each route checked, or the instance's error line."""

    config: str
    routes: list[dict[str, Any]]
    error: str = ""
    warnings: list[str] = field(default_factory=list)  # what an instance logs at WARNING

    @property
    def ok(self) -> bool:
        """Tell whether an instance would start and KFP reads every template."""
        return not self.error


# The run key is a secret the instances read from Secret Manager; checking a configuration needs
# no key, since nothing is launched or counted, so a missing one is not the check's failure.
CHECK_ONLY_RUN_KEY = "vertex-triggers check: no run key needed"


def run_check(env: Environment) -> CheckResult:
    """Build the services as an instance does at start-up; a ConfigError is the failure."""
    if not env.run_key:
        env = replace(env, run_key=CHECK_ONLY_RUN_KEY)
    warnings: list[str] = []
    try:
        services = build_services(env, warn=warnings.append)
    except ConfigError as exc:
        return CheckResult(str(env.config_path), [], error_line(exc), warnings)
    config = shown(str(env.config_path))
    problem = _kfp_problem(services, config, warnings, env.function_target)
    if problem:
        return CheckResult(config, [], problem, warnings)
    routes = [
        {
            "route": r.name,
            "event": r.event.value,
            "template": shown(r.template.uri),
            "checked": _checked(r, env.function_target),
        }
        for r in services.config.routes
    ]
    return CheckResult(config, routes, warnings=warnings)


def _checked(route: Route, function_target: str) -> str:
    """Say what the start-up check checked of a route, as the entry point checks it."""
    if route.after is not None:
        return f"fits its template and the outputs it reads of {route.after.describe()}"
    if function_target == RUN_STATE_TARGET:
        return "keys only (on_run_state launches only run_ended routes)"
    return "fits its template"


def _kfp_problem(
    services: Services, config: str, warnings: list[str], function_target: str
) -> str:
    """Read each checked route's template as KFP does; return the first problem, warn of extras.

    The instance has read every template it checks already (cached), so nothing is fetched twice.
    """
    for route in services.config.routes:
        if function_target == RUN_STATE_TARGET and route.after is None:
            continue  # on_run_state reads only run_ended routes' templates
        template = services.templates.get(route.template)
        where = f"{config}: route {route.name!r}: key 'template': {shown(route.template.uri)}"
        for keys in template.extra_documents:
            warnings.append(f"{where} has a second YAML document ({keys}): {SECOND_DOCUMENT}")
        problems = spec_problems(template.spec)
        if problems:
            return (
                f"{where} is not a pipeline KFP can read: {problems[0]} (an instance would start,"
                " but Vertex AI cannot run it)"
            )
    return ""


def shown(location: str) -> str:
    """Return a local path relative to the working directory when it lies below it."""
    path = Path(location)
    if "://" in location or not path.is_absolute() or not path.is_relative_to(Path.cwd()):
        return location
    return str(path.relative_to(Path.cwd()))


def error_line(exc: Exception) -> str:
    """Return the last line an instance logs when it stops on ``exc``: qualified name, text."""
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def register(commands: Commands) -> None:
    """Add ``check``."""
    parser = subcommand(
        commands, "check", run, "the instances' start-up check, here: exit 0, or 1 with its error"
    )
    add_function(parser, "check as this entry point starts (default: every entry point's checks)")


def run(args: argparse.Namespace) -> int:
    """Check the configuration; print the routes, or the error an instance would stop with."""
    target = args.function.value if args.function else ""
    result = run_check(cli_environment(args.config, target))
    if args.json:
        print_json(
            {
                "ok": result.ok,
                "config": result.config,
                "routes": result.routes,
                "error": result.error or None,
                "warnings": result.warnings,
            }
        )
    elif result.ok:
        print(table(result.routes, ["route", "event", "template", "checked"]))
        for text in result.warnings:
            print(f"\nwarning: {text}")
        print(f"\n{result.config}: {len(result.routes)} routes checked; an instance would start"
              + (f" (with {len(result.warnings)} warning(s))" if result.warnings else ""))
    if not result.ok:
        print(result.error, file=sys.stderr)
    return 0 if result.ok else 1
