"""The names the operator's tools (``triggers_cli``) may use: the functions' own code, run as is.

Tools import from here only (an import contract in ``make lint`` holds it), so the package's
modules can move without breaking them. The deployed functions never import this module: it
loads every handler at once, which an instance serving one entry point must not.
"""

from vertex_trigger.config.durations import parse_duration
from vertex_trigger.config.labels import ROUTE_LABEL
from vertex_trigger.config.loader import load_config
from vertex_trigger.config.model import Config, EventKind, Route
from vertex_trigger.config.route_fields import read_route
from vertex_trigger.config.template_ref import resolve_ref
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import ConfigError, DeploymentError, TransientError
from vertex_trigger.events.run_state_log import RESOURCE_TYPE
from vertex_trigger.google.pipeline_states import EndState, state_of
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.storage import Storage
from vertex_trigger.google.times import filter_time, parse_rfc3339
from vertex_trigger.google.vertex import CancelResult, CreateOutcome, CreateResult, PipelineJobs
from vertex_trigger.launch.identity import trigger_of
from vertex_trigger.launch.route_fit import fitting_placeholders
from vertex_trigger.launch.services import Services
from vertex_trigger.launch.templates import Template, parse_template
from vertex_trigger.startup import (
    RUN_STATE_TARGET,
    Environment,
    build_services,
    connect_vertex,
    environment_from,
)
from vertex_trigger.triggers.drift import handle_drift_event
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.run_state import handle_run_state_event
from vertex_trigger.triggers.serving import Handler, serve
from vertex_trigger.triggers.sweep import (
    attempt_outcome,
    candidates,
    listed_events,
    route_runs,
)

__all__ = [
    "RESOURCE_TYPE",
    "ROUTE_LABEL",
    "RUN_STATE_TARGET",
    "CancelResult",
    "Config",
    "ConfigError",
    "CreateOutcome",
    "CreateResult",
    "Decision",
    "DeploymentError",
    "EndState",
    "Environment",
    "EventKind",
    "Handler",
    "Outcome",
    "PipelineJobs",
    "Route",
    "Services",
    "Storage",
    "Template",
    "Trace",
    "TransientError",
    "attempt_outcome",
    "build_services",
    "candidates",
    "connect_vertex",
    "environment_from",
    "filter_time",
    "fitting_placeholders",
    "handle_drift_event",
    "handle_object_event",
    "handle_run_state_event",
    "job_id_of",
    "listed_events",
    "load_config",
    "parse_duration",
    "parse_rfc3339",
    "parse_template",
    "read_route",
    "resolve_ref",
    "route_runs",
    "serve",
    "state_of",
    "trigger_of",
]
