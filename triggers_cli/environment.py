"""The CLI's view of the functions' environment: the same variables, mapped the same way."""

import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import vertex_trigger
from vertex_trigger.public import Environment, Services, build_services, environment_from

# As the functions: $TRIGGERS_CONFIG, else triggers.yaml beside main.py (functions/).
DEFAULT_CONFIG = Path(vertex_trigger.__file__).resolve().parent.parent / "triggers.yaml"


def cli_environment(
    config: str | None, target: str, variables: Mapping[str, str] | None = None
) -> Environment:
    """Return the Environment the function ``target`` would get here; ``config`` overrides."""
    env = environment_from(os.environ if variables is None else variables, DEFAULT_CONFIG)
    return replace(
        env,
        config_path=Path(config) if config else env.config_path,
        function_target=target,
    )


def cli_services(env: Environment) -> Services:
    """Build the services as an instance does; its start-up warnings go to stderr, not stdout.

    An instance logs them as JSON lines on stdout (Cloud Logging); here stdout is the command's
    own output (a table, or --json for scripts), which they must not interleave.
    """
    return build_services(env, warn=lambda text: print(f"warning: {text}", file=sys.stderr))
