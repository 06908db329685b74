"""Batch routes: an object's folder is a batch, launched once when its completion rule holds.

GCS is the state: every decision comes from the folder's control object (marker or manifest), its
listing and its manifest, so two instances, or an instance and the sweeper, decide alike and their
creates meet on one job id. A listing is read object by object into a FolderScan (counts and the
few objects a rule needs), never held whole: a folder of any size costs the same memory.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from vertex_trigger.config.batch import BatchRule, BatchSpec, is_control
from vertex_trigger.config.model import Route
from vertex_trigger.google.storage import ObjectInfo
from vertex_trigger.launch.identity import job_id


def folder_of(name: str) -> str:
    """Return the batch of an object: its name up to and including the last ``/``."""
    return name[: name.rfind("/") + 1]


def is_hidden(name: str) -> bool:
    """Tell whether an object is hidden (``.`` or ``_`` first, as Hadoop and Spark write them)."""
    return name[name.rfind("/") + 1 :].startswith((".", "_"))


@dataclass(frozen=True)
class Batch:
    """One folder of a batch route."""

    bucket: str
    folder: str

    @property
    def uri(self) -> str:
        """Return ``gs://bucket/folder``."""
        return f"gs://{self.bucket}/{self.folder}"


@dataclass
class FolderScan:
    """What a folder's listing showed so far: data objects' count and size, what rules compare."""

    spec: BatchSpec
    suffix: str
    folder: str
    data: int = 0  # not hidden, not the control, suffix fits
    bytes: int = 0
    newest_data: ObjectInfo | None = None  # by (time created, generation)
    newest: ObjectInfo | None = None  # of every object directly in the folder
    control: ObjectInfo | None = None

    def add(self, obj: ObjectInfo) -> None:
        """Count one listed object (one in a sub-folder belongs to that folder's batch)."""
        if folder_of(obj.name) != self.folder:
            return
        self.newest = _later(self.newest, obj)
        if is_control(self.spec, obj.name):
            self.control = obj
        elif obj.name != self.folder and not is_hidden(obj.name) and obj.name.endswith(self.suffix):
            self.data += 1
            self.bytes += obj.size
            self.newest_data = _later(self.newest_data, obj)


def _later(known: ObjectInfo | None, obj: ObjectInfo) -> ObjectInfo:
    if known is None or (obj.time_created, obj.generation) > (known.time_created, known.generation):
        return obj
    return known


@dataclass(frozen=True)
class Completion:
    """Whether a batch is complete: its objects' count and size and its run's name, or its wait."""

    objects: int = 0
    bytes: int = 0
    identity: str = ""  # with route, bucket and folder, names the run ("" : the folder alone)
    waiting: str = ""  # why it is not complete; empty when it is

    @property
    def complete(self) -> bool:
        """Tell whether the batch may launch."""
        return not self.waiting


def waiting(batch: Batch, why: str) -> Completion:
    """Return an incomplete batch's completion, saying what it waits for."""
    return Completion(waiting=f"batch {batch.uri} incomplete: {why}")


def completion(batch: Batch, scan: FolderScan, now: datetime) -> Completion:
    """Decide a listed folder by its route's rule (all but ``manifest``: batches._by_manifest)."""
    spec = scan.spec
    if not scan.data:
        return Completion(waiting=f"batch {batch.uri} is empty: no data objects yet")
    if spec.rule is BatchRule.MARKER:
        return _by_marker(batch, scan)
    if spec.rule is BatchRule.MIN_OBJECTS:
        if scan.data < spec.min_objects:
            return waiting(batch, f"{scan.data} of {spec.min_objects} objects")
        return Completion(scan.data, scan.bytes)
    return _by_quiet(batch, scan, now)


def _by_marker(batch: Batch, scan: FolderScan) -> Completion:
    marker, newest = scan.control, scan.newest_data
    if marker is None:
        return waiting(batch, f"{scan.data} object(s), no marker {scan.spec.control} yet")
    # A marker announces the data written before it: data newer than the marker means the
    # marker came early (or the folder is being rewritten), so launching now would use part of it.
    if newest is not None and newest.time_created > marker.time_created:
        return waiting(batch, newer_than_marker(newest.name, scan.spec))
    return Completion(scan.data, scan.bytes, identity=marker_identity(marker.generation))


def newer_than_marker(name: str, spec: BatchSpec) -> str:
    """Say that a data object came after the marker, so the batch waits for the next one."""
    return (
        f"{name} is newer than the marker {spec.control}; "
        "waiting for a marker written after the data"
    )


def marker_identity(generation: int) -> str:
    """Return what names a marker batch's run besides its folder: the marker's generation."""
    return f"marker-{generation}"


def manifest_identity(generation: int) -> str:
    """Return what names a manifest batch's run besides its folder: the manifest's generation."""
    return f"manifest-{generation}"


def _by_quiet(batch: Batch, scan: FolderScan, now: datetime) -> Completion:
    newest, latest = scan.newest, scan.newest_data
    assert newest is not None and latest is not None  # the folder has data objects
    due = newest.time_created + timedelta(seconds=scan.spec.quiet)
    if now < due:
        why = f"{newest.name} is newer than quiet {scan.spec.quiet:g}s"
        return Completion(waiting=f"batch {batch.uri} is not quiet yet: {why}")
    return Completion(scan.data, scan.bytes, identity=f"quiet-{latest.generation}")


def batch_job_id(route: str, batch: Batch, identity: str) -> str:
    """Return the deterministic job id of a complete batch."""
    return job_id(route, "batch", batch.bucket, batch.folder, identity)


def batch_job_ids(route: Route, batch: Batch, identity: str) -> tuple[str, ...]:
    """Return the batch's job id under each name of the route, the current one first."""
    return tuple(batch_job_id(name, batch, identity) for name in route.names)


def batch_values(spec: BatchSpec, batch: Batch, done: Completion) -> dict[str, str]:
    """Return the text each batch placeholder stands for."""
    values = {
        "bucket": batch.bucket,
        "batch_uri": batch.uri,
        "batch_folder": batch.folder,
        "batch_objects": str(done.objects),
        "batch_bytes": str(done.bytes),
    }
    if spec.rule is BatchRule.MANIFEST:
        values["batch_manifest_uri"] = batch.uri + spec.control
    return values
