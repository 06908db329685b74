"""Cloud Functions entry points: events launch runs, run ends are reported, sweep recovers.

Each deployment serves one entry point ($FUNCTION_TARGET), so each imports its handler on its
first call: an instance loads only the modules of the events it serves.
"""

import os
from pathlib import Path

import flask
import functions_framework
from vertex_trigger.errors import DeferredEvent
from vertex_trigger.startup import build_services, environment_from
from vertex_trigger.triggers.serving import refused_request, serve, unparsed_request

# Read once per instance: a bad configuration stops the instance here, not on an event.
SERVICES = build_services(environment_from(os.environ, Path(__file__).with_name("triggers.yaml")))


@functions_framework.cloud_event
def on_object_finalized(cloud_event: object) -> None:
    """Launch the route's pipeline for a finalized Cloud Storage object."""
    from vertex_trigger.triggers.objects import handle_object_event

    serve(handle_object_event, cloud_event, SERVICES)


@functions_framework.cloud_event
def on_drift_alert(cloud_event: object) -> None:
    """Launch a retraining pipeline for a drift alert published on Pub/Sub."""
    from vertex_trigger.triggers.drift import handle_drift_event

    serve(handle_drift_event, cloud_event, SERVICES)


@functions_framework.cloud_event
def on_run_state(cloud_event: object) -> None:
    """Report how a run of ours ended, nudged by its PipelineJob log entry on Pub/Sub."""
    from vertex_trigger.triggers.run_state import handle_run_state_event

    serve(handle_run_state_event, cloud_event, SERVICES)


@functions_framework.http
def sweep(request: flask.Request) -> tuple[dict[str, object], int]:
    """Launch what object events missed (Cloud Scheduler POSTs); 500 if something failed."""
    if request.method != "POST":  # a probe or a browser must not start a sweep
        return {"error": "POST to sweep"}, 405
    from vertex_trigger.triggers.sweep import sweep as sweep_routes

    summary = sweep_routes(SERVICES)
    return summary, 500 if summary["failed"] else 200


@functions_framework.errorhandler(DeferredEvent)
def deferred(error: DeferredEvent) -> tuple[str, int]:
    """Answer 429 without a traceback: Eventarc redelivers the event later; nothing failed."""
    return str(error), 429


# The CloudEvent targets answer what functions-framework cannot parse with a line and a 400.
if os.environ.get("FUNCTION_TARGET") != "sweep":

    @functions_framework.errorhandler(400)
    def not_a_cloud_event(error: Exception) -> tuple[str, int]:
        """Give functions-framework's 400 (no CloudEvent in the request) a decision line."""
        return refused_request(flask.request.headers.get("ce-id", ""))

    @functions_framework.errorhandler(500)
    def crashed(error: Exception) -> object:
        """Answer a body functions-framework could not parse with 400 and a line; else 500."""
        original = getattr(error, "original_exception", None)
        answer = unparsed_request(flask.request.headers.get("ce-id", ""), original)
        # Else the framework's own 500 (its crash header), as if this handler were not here.
        return answer or functions_framework.crash_handler(error)  # type: ignore[no-untyped-call]
