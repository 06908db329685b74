"""The names the operator's tools (``triggers_cli``) may use: the functions' own code, run as is.

Tools import from here only (an import contract in ``make lint`` holds it), so the package's
modules can move without breaking them. The deployed functions never import this module: it
loads every handler at once, which an instance serving one entry point must not.
"""

from vertex_trigger.config.durations import parse_duration
from vertex_trigger.config.labels import ROUTE_LABEL, UPSTREAM_LABEL
from vertex_trigger.config.loader import load_config
from vertex_trigger.config.model import Config, EventKind, Route
from vertex_trigger.config.route_fields import read_route
from vertex_trigger.config.template_ref import resolve_ref
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import ConfigError, DeploymentError, RejectedEvent, TransientError
from vertex_trigger.events.run_state_log import RESOURCE_TYPE
from vertex_trigger.google.pipeline_states import EndState, state_of
from vertex_trigger.google.resource_names import JOB_ID, JOB_NAME, job_id_of
from vertex_trigger.google.storage import Storage
from vertex_trigger.google.times import filter_time, parse_rfc3339
from vertex_trigger.google.vertex import CancelResult, CreateOutcome, CreateResult, PipelineJobs
from vertex_trigger.launch.identity import event_label, trigger_of
from vertex_trigger.launch.pauses import (
    CATCH_UP,
    SKIP_MISSED,
    PauseBoard,
    PauseRecord,
    record_fields,
    resumed,
)
from vertex_trigger.launch.route_fit import fitting_placeholders
from vertex_trigger.launch.services import Services
from vertex_trigger.launch.templates import Template, parse_template
from vertex_trigger.startup import (
    RUN_STATE_TARGET,
    Environment,
    build_services,
    connect_pauses,
    connect_vertex,
    environment_from,
)
from vertex_trigger.triggers.drift import handle_drift_event
from vertex_trigger.triggers.objects import handle_object_event
from vertex_trigger.triggers.reruns import RerunError, RerunPlan, plan_rerun, rerun
from vertex_trigger.triggers.run_state import handle_run_state_event
from vertex_trigger.triggers.serving import Handler, serve
from vertex_trigger.triggers.sweep import (
    attempt_outcome,
    candidates,
    listed_events,
    route_runs,
    sweep,
)

__all__ = [
    "CATCH_UP",
    "JOB_ID",
    "JOB_NAME",
    "RESOURCE_TYPE",
    "ROUTE_LABEL",
    "RUN_STATE_TARGET",
    "SKIP_MISSED",
    "UPSTREAM_LABEL",
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
    "PauseBoard",
    "PauseRecord",
    "PipelineJobs",
    "RejectedEvent",
    "RerunError",
    "RerunPlan",
    "Route",
    "Services",
    "Storage",
    "Template",
    "Trace",
    "TransientError",
    "attempt_outcome",
    "build_services",
    "candidates",
    "connect_pauses",
    "connect_vertex",
    "environment_from",
    "event_label",
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
    "plan_rerun",
    "read_route",
    "record_fields",
    "rerun",
    "resolve_ref",
    "resumed",
    "route_runs",
    "serve",
    "state_of",
    "sweep",
    "trigger_of",
]
