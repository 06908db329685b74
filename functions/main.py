"""Cloud Functions entry points: objects and drift alerts launch runs; run ends are reported."""

import os
from pathlib import Path

import functions_framework
from vertex_trigger.dispatch import dispatch
from vertex_trigger.drift_trigger import handle_drift_event
from vertex_trigger.object_trigger import handle_object_event
from vertex_trigger.run_state_trigger import handle_run_state_event
from vertex_trigger.startup import build_services, environment_from

# Read once per instance: a bad configuration stops the instance here, not on an event.
SERVICES = build_services(environment_from(os.environ, Path(__file__).with_name("triggers.yaml")))


@functions_framework.cloud_event
def on_object_finalized(cloud_event: object) -> None:
    """Launch the route's pipeline for a finalized Cloud Storage object."""
    dispatch(handle_object_event, cloud_event, SERVICES)


@functions_framework.cloud_event
def on_drift_alert(cloud_event: object) -> None:
    """Launch a retraining pipeline for a drift alert published on Pub/Sub."""
    dispatch(handle_drift_event, cloud_event, SERVICES)


@functions_framework.cloud_event
def on_run_state(cloud_event: object) -> None:
    """Report how a run of ours ended, nudged by its PipelineJob log entry on Pub/Sub."""
    dispatch(handle_run_state_event, cloud_event, SERVICES)
