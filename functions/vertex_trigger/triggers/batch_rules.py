"""Batch routes: an object's folder is a batch, launched once when its completion rule holds.

GCS is the state: every decision comes from listing the folder (and reading its manifest), so two
instances, or an instance and the sweeper, decide alike and their creates meet on one job id.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from vertex_trigger.config.batch import BatchRule, BatchSpec
from vertex_trigger.config.model import Route
from vertex_trigger.google.storage import ObjectInfo
from vertex_trigger.launch.identity import job_id


def folder_of(name: str) -> str:
    """Return the batch of an object: its name up to and including the last ``/``."""
    return name[: name.rfind("/") + 1]


def is_hidden(name: str) -> bool:
    """Tell whether an object is hidden (``.`` or ``_`` first, as Hadoop and Spark write them)."""
    return name[name.rfind("/") + 1 :].startswith((".", "_"))


def is_control(spec: BatchSpec | None, name: str) -> bool:
    """Tell whether ``name`` is its folder's marker or manifest."""
    return spec is not None and bool(spec.control) and name[name.rfind("/") + 1 :] == spec.control


@dataclass(frozen=True)
class Batch:
    """One folder of a batch route as its listing showed it."""

    bucket: str
    folder: str
    listed: tuple[ObjectInfo, ...]  # every object directly in the folder
    data: tuple[ObjectInfo, ...]  # those that count: not hidden, not the control, suffix fits

    @property
    def uri(self) -> str:
        """Return ``gs://bucket/folder``."""
        return f"gs://{self.bucket}/{self.folder}"

    def control(self, spec: BatchSpec) -> ObjectInfo | None:
        """Return the folder's marker or manifest, if it exists."""
        return next((o for o in self.listed if is_control(spec, o.name)), None)


def batch_of(
    spec: BatchSpec, suffix: str, bucket: str, folder: str, listed: list[ObjectInfo]
) -> Batch:
    """Keep the objects directly in ``folder`` and pick the data objects among them."""
    here = tuple(o for o in listed if o.name.startswith(folder) and folder_of(o.name) == folder)
    data = tuple(
        o
        for o in here
        if o.name != folder
        and not is_hidden(o.name)
        and not is_control(spec, o.name)
        and o.name.endswith(suffix)
    )
    return Batch(bucket, folder, here, data)


@dataclass(frozen=True)
class Completion:
    """Whether a batch is complete: its objects, what names its run, or what it waits for."""

    objects: tuple[ObjectInfo, ...]
    identity: str = ""  # with route, bucket and folder, names the run ("" : the folder alone)
    waiting: str = ""  # why it is not complete; empty when it is

    @property
    def complete(self) -> bool:
        """Tell whether the batch may launch."""
        return not self.waiting


def completion(
    spec: BatchSpec, batch: Batch, now: datetime, manifest: tuple[str, ...] = ()
) -> Completion:
    """Decide ``batch`` by its rule; ``manifest`` is the manifest's names, when it has one."""
    if spec.rule is BatchRule.MANIFEST:
        return _by_manifest(spec, batch, manifest)
    if not batch.data:
        return Completion((), waiting=f"batch {batch.uri} is empty: no data objects yet")
    if spec.rule is BatchRule.MARKER:
        return _by_marker(spec, batch)
    if spec.rule is BatchRule.MIN_OBJECTS:
        return _by_count(spec, batch)
    return _by_quiet(spec, batch, now)


def _by_marker(spec: BatchSpec, batch: Batch) -> Completion:
    marker = batch.control(spec)
    if marker is None:
        why = f"{len(batch.data)} object(s), no marker {spec.control} yet"
        return Completion(batch.data, waiting=f"batch {batch.uri} incomplete: {why}")
    # A marker announces the data written before it: data newer than the marker means the
    # marker came early (or the folder is being rewritten), so launching now would use part of it.
    late = [o for o in batch.data if o.time_created > marker.time_created]
    if late:
        newest = max(late, key=lambda o: o.time_created)
        why = (
            f"{newest.name} is newer than the marker {spec.control}; "
            "waiting for a marker written after the data"
        )
        return Completion(batch.data, waiting=f"batch {batch.uri} incomplete: {why}")
    return Completion(batch.data, identity=f"marker-{marker.generation}")


def _by_count(spec: BatchSpec, batch: Batch) -> Completion:
    if len(batch.data) < spec.min_objects:
        why = f"{len(batch.data)} of {spec.min_objects} objects"
        return Completion(batch.data, waiting=f"batch {batch.uri} incomplete: {why}")
    return Completion(batch.data)


def _by_manifest(spec: BatchSpec, batch: Batch, names: tuple[str, ...]) -> Completion:
    manifest = batch.control(spec)
    if manifest is None:
        why = f"no manifest {spec.control} yet"
        return Completion((), waiting=f"batch {batch.uri} incomplete: {why}")
    present = {o.name: o for o in batch.listed}
    listed = tuple(present[n] for n in names if n in present)
    if len(listed) < len(names):
        why = f"{len(listed)} of {len(names)} objects listed in {spec.control}"
        return Completion(listed, waiting=f"batch {batch.uri} incomplete: {why}")
    return Completion(listed, identity=f"manifest-{manifest.generation}")


def _by_quiet(spec: BatchSpec, batch: Batch, now: datetime) -> Completion:
    newest = max(batch.listed, key=lambda o: o.time_created)
    due = newest.time_created + timedelta(seconds=spec.quiet)
    if now < due:
        why = f"{newest.name} is newer than quiet {spec.quiet:g}s"
        return Completion(batch.data, waiting=f"batch {batch.uri} is not quiet yet: {why}")
    latest = max(batch.data, key=lambda o: (o.time_created, o.generation))
    return Completion(batch.data, identity=f"quiet-{latest.generation}")


def batch_job_id(route: str, batch: Batch, done: Completion) -> str:
    """Return the deterministic job id of a complete batch."""
    return job_id(route, "batch", batch.bucket, batch.folder, done.identity)


def batch_job_ids(route: Route, batch: Batch, done: Completion) -> tuple[str, ...]:
    """Return the batch's job id under each name of the route, the current one first."""
    return tuple(batch_job_id(name, batch, done) for name in route.names)


def batch_values(spec: BatchSpec, batch: Batch, done: Completion) -> dict[str, str]:
    """Return the text each batch placeholder stands for."""
    values = {
        "bucket": batch.bucket,
        "batch_uri": batch.uri,
        "batch_folder": batch.folder,
        "batch_objects": str(len(done.objects)),
        "batch_bytes": str(sum(o.size for o in done.objects)),
    }
    if spec.rule is BatchRule.MANIFEST:
        values["batch_manifest_uri"] = batch.uri + spec.control
    return values
