"""A batch route's object: decide its folder by the route's rule, and launch the batch once.

What an event costs does not grow with its folder. An event of a ``marker`` or ``manifest`` route
reads the control object's metadata (one objects.get): no marker or manifest yet, or a data object
newer than the marker, and it is decided. Otherwise the batch's job id is known (the control
object's generation names it): if its run exists the event is a duplicate, and only if not does it
list the folder, once, page by page. ``min_objects`` lists until the count is reached; the
listing goes on to the end only for the event that launches, so the run's counts are exact.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from vertex_trigger.config.batch import BatchRule, BatchSpec, is_control
from vertex_trigger.config.labels import SOURCE_LABEL
from vertex_trigger.config.model import Route
from vertex_trigger.decisions import Decision, Outcome, Trace
from vertex_trigger.errors import TransientError
from vertex_trigger.events.storage import ObjectEvent
from vertex_trigger.google.resource_names import job_id_of
from vertex_trigger.google.storage import PAGE_SIZE, ListingStoppedError, ObjectInfo, Span
from vertex_trigger.google.times import parse_rfc3339
from vertex_trigger.launch.identity import run_labels, short_hash
from vertex_trigger.launch.launcher import launch
from vertex_trigger.launch.overlap import replaces
from vertex_trigger.launch.route_runs import route_runs
from vertex_trigger.launch.services import Services
from vertex_trigger.triggers.batch_rules import (
    Batch,
    Completion,
    FolderScan,
    batch_job_ids,
    batch_values,
    completion,
    folder_of,
    is_hidden,
    manifest_identity,
    marker_identity,
    newer_than_marker,
    waiting,
)
from vertex_trigger.triggers.manifests import Presence, read_manifest, split_at, walk

EXISTS = "the batch's run exists: already launched"
_LISTING_LIMIT = (
    "the event's time for Google API calls (retry.deadline) ran out while listing {uri}: "
    "raise retry.deadline (and the function's timeout above it) for folders this large"
)
# Pages of a walk that may stop at once (a manifest's names): the first small, then tenfold.
_FIRST_PAGE = 10


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
    return launch_batch(services, route, Batch(event.bucket, folder), trace, event=event)


def launch_batch(
    services: Services,
    route: Route,
    batch: Batch,
    trace: Trace,
    *,
    event: ObjectEvent | None = None,
    runs: set[str] | None = None,
) -> Outcome:
    """Decide ``batch`` by its route's rule and launch it unless incomplete or launched.

    ``event``: the object event deciding (None for the sweeper); ``runs``: the route's job ids
    when already listed (the sweeper's), else the batch's runs are asked of Vertex.
    """
    spec = route.batch
    assert spec is not None  # only batch routes come here
    decide = {
        BatchRule.MARKER: _by_marker,
        BatchRule.MANIFEST: _by_manifest,
        BatchRule.MIN_OBJECTS: _by_count,
        BatchRule.QUIET: _by_quiet,
    }[spec.rule]
    return decide(_Deciding(services, route, batch, trace, event, runs))


@dataclass(frozen=True)
class _Deciding:
    """One batch being decided: what every rule needs, and the steps they share."""

    services: Services
    route: Route
    batch: Batch
    trace: Trace
    event: ObjectEvent | None  # None: the sweeper
    runs: set[str] | None  # None: ask Vertex

    @property
    def spec(self) -> BatchSpec:
        """Return the route's batch rule."""
        assert self.route.batch is not None  # only batch routes are decided
        return self.route.batch

    def skip(self, done: Completion) -> Outcome:
        """Say what the batch waits for."""
        return self.trace.outcome(Decision.SKIPPED, done.waiting)

    def duplicate(self, identity: str) -> Outcome | None:
        """Return a duplicate when the run of this identity exists (nothing listed yet).

        Under any of the route's names (``renamed_from``): a run launched before a rename counts.
        """
        jobs = batch_job_ids(self.route, self.batch, identity)
        if self.runs is not None:
            job = next((j for j in jobs if j in self.runs), None)
            if job is None:
                return None
            self.trace.job = job
            return self.trace.outcome(Decision.DUPLICATE, "its run exists")
        # Every late event of a complete batch lands here: asking Vertex with a list (the CRUD
        # quota, 600/min) spares the create quota (60/min) the 409s all but one would spend, and
        # the folder a listing per event. A replacing route goes on to its 409, which settles the
        # overlap again.
        if replaces(self.route):
            return None
        runs = _batch_runs(self.services, self.route, self.batch)
        job = next((j for j in jobs if j in runs), None)
        if job is None:
            return None
        self.trace.job = job
        return self.trace.outcome(Decision.DUPLICATE, EXISTS)

    def listing(self, span: Span, first_page: int = PAGE_SIZE) -> Iterator[ObjectInfo]:
        """Yield the folder's objects in ``span``, page by page; say which limit a timeout is."""
        storage, bucket = self.services.storage, self.batch.bucket
        try:
            yield from storage.list(bucket, span, delimiter="/", first_page=first_page)
        except ListingStoppedError as exc:
            if not exc.pages:  # nothing listed: a fault, not the folder's size
                raise
            raise TransientError(f"{exc}; {_LISTING_LIMIT.format(uri=self.batch.uri)}") from None

    def scan(self) -> FolderScan:
        """Read the folder's whole listing into counts, page by page."""
        found = FolderScan(self.spec, self.route.suffix, self.batch.folder)
        for obj in self.listing(Span(self.batch.folder)):
            found.add(obj)
        return found

    def control(self) -> ObjectInfo | None:
        """Return the folder's marker or manifest (one metadata read), if it exists."""
        return self.services.storage.stat(self.batch.bucket, self.batch.folder + self.spec.control)

    def data_event(self) -> ObjectEvent | None:
        """Return the deciding event when it is a data object's, not the control object's."""
        event = self.event
        return event if event is not None and not is_control(self.spec, event.name) else None

    def launch(self, done: Completion) -> Outcome:
        """Launch a complete batch under its deterministic job id."""
        trace = self.trace
        current, *former = batch_job_ids(self.route, self.batch, done.identity)
        trace.job = current
        trace.source = self.batch.uri  # what the run is for, and its display name
        source = short_hash(self.batch.bucket, self.batch.folder)
        labels = run_labels(self.route, "batch", source, trace.event_id)
        return launch(self.services, self.route, batch_values(self.spec, self.batch, done),
                      labels, trace, former_ids=former)  # fmt: skip


def _by_marker(deciding: _Deciding) -> Outcome:
    batch, spec = deciding.batch, deciding.spec
    marker = deciding.control()
    if marker is None:
        return deciding.skip(waiting(batch, f"no marker {spec.control} yet"))
    data = deciding.data_event()
    created = parse_rfc3339(data.time_created) if data else None
    if data is not None and created is not None and created > marker.time_created:
        # Written after the marker: the batch waits for the next one, whatever else is there.
        return deciding.skip(waiting(batch, newer_than_marker(data.name, spec)))
    known = deciding.duplicate(marker_identity(marker.generation))
    if known:
        return known
    done = completion(batch, deciding.scan(), deciding.services.now())
    return deciding.launch(done) if done.complete else deciding.skip(done)


def _by_manifest(deciding: _Deciding) -> Outcome:
    batch, spec = deciding.batch, deciding.spec
    manifest = deciding.control()
    if manifest is None:
        return deciding.skip(waiting(batch, f"no manifest {spec.control} yet"))
    identity = manifest_identity(manifest.generation)
    known = deciding.duplicate(identity)
    if known:
        return known
    names = read_manifest(deciding.services.storage, manifest, batch.bucket, batch.folder)
    data = deciding.data_event()
    found = _present(deciding, names, data.name if data else "")
    if found.missing:
        why = f"{found.missing} is listed in {spec.control} but does not exist yet"
        return deciding.skip(waiting(batch, f"{why} ({len(names)} objects listed)"))
    return deciding.launch(Completion(found.objects, found.bytes, identity=identity))


def _present(deciding: _Deciding, names: tuple[str, ...], start: str) -> Presence:
    """Walk the manifest's names along the listing, from ``start`` on, then those before it.

    A data event starts at its own object: the names after it are the ones a writer going in
    name order has not written yet, so the walk usually stops on the first page.
    """
    folder = deciding.batch.folder
    before, after = split_at(names, start)
    first = walk(after, deciding.listing(Span(folder, start_offset=start), _FIRST_PAGE))
    if first.missing or not before:
        return first
    second = walk(before, deciding.listing(Span(folder, end_offset=start), _FIRST_PAGE))
    return Presence(second.missing, first.objects + second.objects, first.bytes + second.bytes)


def _by_count(deciding: _Deciding) -> Outcome:
    wanted = deciding.spec.min_objects
    objects = deciding.listing(Span(deciding.batch.folder), first_page=wanted)
    counted = FolderScan(deciding.spec, deciding.route.suffix, deciding.batch.folder)
    for obj in objects:  # until the count is reached: the cost of an early event
        counted.add(obj)
        if counted.data >= wanted:
            break
    done = completion(deciding.batch, counted, deciding.services.now())
    if not done.complete:
        return deciding.skip(done)
    known = deciding.duplicate(done.identity)
    if known:
        return known
    for obj in objects:  # the rest, so that {batch_objects} and {batch_bytes} are exact
        counted.add(obj)
    return deciding.launch(completion(deciding.batch, counted, deciding.services.now()))


def _by_quiet(deciding: _Deciding) -> Outcome:
    done = completion(deciding.batch, deciding.scan(), deciding.services.now())
    if not done.complete:
        return deciding.skip(done)
    return deciding.duplicate(done.identity) or deciding.launch(done)


def _batch_runs(services: Services, route: Route, batch: Batch) -> set[str]:
    """Return the job ids of the runs this route made for this folder (one per export)."""
    source = short_hash(batch.bucket, batch.folder)
    runs = route_runs(services, route, f'labels.{SOURCE_LABEL}="{source}"', page_size=100)
    return {job_id_of(run) for run in runs}
