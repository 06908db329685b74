"""A batch route's object: list its folder, decide by the route's rule, launch the batch once."""

from vertex_trigger.config.batch import BatchRule
from vertex_trigger.config.labels import SOURCE_LABEL
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import RejectedEvent
from vertex_trigger.events.storage import ObjectEvent
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.launch.identity import run_labels, short_hash
from vertex_trigger.launch.launcher import launch
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.batch_rules import (
    Batch,
    Completion,
    batch_job_id,
    batch_job_ids,
    batch_of,
    batch_values,
    completion,
    folder_of,
    is_control,
    is_hidden,
)
from vertex_trigger.triggers.manifests import MANIFEST_LIMIT, manifest_names

FOLDER_LIMIT = 10_000  # objects one call lists in a folder (ten pages of the JSON API)


def handle_batch_object(
    services: Services, route: Route, event: ObjectEvent, trace: Trace
) -> Outcome:
    """Launch the object's folder if its batch is complete, or say what it waits for."""
    spec = route.batch
    assert spec is not None  # the caller routes only batch routes here
    if is_hidden(event.name) and not is_control(spec, event.name):
        return trace.outcome(
            Decision.SKIPPED, "hidden object (name starts with . or _): never part of a batch"
        )
    folder = folder_of(event.name)
    if spec.rule is BatchRule.QUIET:  # its own object is new: only later can it be quiet
        return trace.outcome(
            Decision.SKIPPED,
            f"batch gs://{event.bucket}/{folder} completes {spec.quiet:g}s after its newest "
            "object: the sweeper launches it",
        )
    return launch_batch(services, route, event.bucket, folder, trace)


def launch_batch(
    services: Services, route: Route, bucket: str, folder: str, trace: Trace
) -> Outcome:
    """List the folder, decide its batch, and launch it unless it is incomplete or launched."""
    batch, done = decide_batch(services, route, bucket, folder)
    if not done.complete:
        return trace.outcome(Decision.SKIPPED, done.waiting)
    trace.job = batch_job_id(route.name, batch, done)
    # Every object of a complete batch lands here: asking Vertex with a list (the CRUD quota,
    # 600/min) spares the create quota (60/min) the 409s that all but one would spend.
    existing = _batch_runs(services, route, batch)
    launched = next((j for j in batch_job_ids(route, batch, done) if j in existing), None)
    if launched:
        trace.job = launched
        return trace.outcome(Decision.DUPLICATE, "the batch's run exists: already launched")
    return launch_complete_batch(services, route, batch, done, trace)


def _batch_runs(services: Services, route: Route, batch: Batch) -> set[str]:
    """Return the job ids of the runs this route made for this folder (one per export)."""
    source = short_hash(batch.bucket, batch.folder)
    runs = route_runs(services, route, f'labels.{SOURCE_LABEL}="{source}"', page_size=100)
    return {job_id_of(run) for run in runs}


def decide_batch(
    services: Services, route: Route, bucket: str, folder: str
) -> tuple[Batch, Completion]:
    """List the folder (and read its manifest) and decide it by the route's rule."""
    spec = route.batch
    assert spec is not None  # only batch routes come here
    listed = services.storage.list(bucket, folder, delimiter="/", max_objects=FOLDER_LIMIT)
    batch = batch_of(spec, route.suffix, bucket, folder, listed)
    names = _manifest_names(services, route, batch) if spec.rule is BatchRule.MANIFEST else ()
    return batch, completion(spec, batch, services.now(), names)


def launch_complete_batch(
    services: Services, route: Route, batch: Batch, done: Completion, trace: Trace
) -> Outcome:
    """Launch a complete batch under its deterministic job id (the event path and the sweeper)."""
    assert route.batch is not None
    trace.job = batch_job_id(route.name, batch, done)  # the sweeper's candidates know it too
    trace.source = batch.uri  # what the run is for, and its display name
    labels = run_labels(route, "batch", short_hash(batch.bucket, batch.folder), trace.event_id)
    values = batch_values(route.batch, batch, done)
    former = batch_job_ids(route, batch, done)[1:]
    return launch(services, route, values, labels, trace, former_ids=former)


def _manifest_names(services: Services, route: Route, batch: Batch) -> tuple[str, ...]:
    """Read the folder's manifest (bounded) and return the object names it lists."""
    manifest = batch.control(route.batch) if route.batch else None
    if manifest is None:
        return ()
    uri = f"gs://{batch.bucket}/{manifest.name}"
    if manifest.size > MANIFEST_LIMIT:  # refused before reading a byte
        raise RejectedEvent(
            f"manifest {uri} is {manifest.size} bytes, above the {MANIFEST_LIMIT}-byte limit"
        )
    data = services.storage.read(batch.bucket, manifest.name, manifest.generation, MANIFEST_LIMIT)
    return manifest_names(data, uri, batch.bucket, batch.folder)
