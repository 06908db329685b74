"""Route pauses: one small JSON object per route under the ``state`` location, read with a cache.

``vertex-triggers pause`` writes the record (who, when, why); ``resume`` rewrites it as resumed
(who, when, whether the missed objects are caught up or skipped, and then the window the sweeper
must leave alone). Every instance reads a route's record at most once per ``pause_check``: the
live generation first (a few bytes), the record only when it changed; so a pause takes effect on
every instance within ``pause_check`` (30 s by default, a minute at most), costs at most one cheap
read per event, survives restarts and needs no redeploy. No record means never paused.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from vertex_trigger.config.state_location import StateLocation
from vertex_trigger.errors import DeploymentError
from vertex_trigger.google.state_objects import StateObjects
from vertex_trigger.google.times import parse_rfc3339

CATCH_UP = "catch_up"
SKIP_MISSED = "skip_missed"


@dataclass(frozen=True)
class SkipWindow:
    """Objects created in [start, end) are left to nobody: resumed with ``--skip-missed``."""

    start: str  # RFC 3339
    end: str

    def holds(self, moment: datetime) -> bool:
        """Tell whether ``moment`` falls in the window."""
        start, end = parse_rfc3339(self.start), parse_rfc3339(self.end)
        return start is not None and end is not None and start <= moment < end


@dataclass(frozen=True)
class PauseRecord:
    """A route's pause: who paused it, when and why; and, once resumed, who, when and how."""

    route: str
    paused: bool
    by: str
    at: str  # RFC 3339, when it was paused
    reason: str
    resumed_by: str = ""
    resumed_at: str = ""
    missed: str = ""  # catch_up or skip_missed, once resumed
    skip_windows: tuple[SkipWindow, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """Return ``route paused by WHO at WHEN: WHY``."""
        return f"route paused by {self.by} at {self.at}: {self.reason}"

    def skips(self, moment: datetime) -> bool:
        """Tell whether an object created at ``moment`` was missed on purpose (--skip-missed)."""
        return any(window.holds(moment) for window in self.skip_windows)

    def to_json(self) -> bytes:
        """Return the record as the JSON object stored."""
        return json.dumps(record_fields(self), ensure_ascii=False, indent=1).encode("utf-8")


def parse_record(data: bytes, uri: str) -> PauseRecord:
    """Read a stored record; a record that is not one is the deployment's to fix."""
    try:
        fields = json.loads(data)
        windows = tuple(SkipWindow(**window) for window in fields.pop("skip_windows", []))
        record = PauseRecord(**fields, skip_windows=windows)
    except (ValueError, TypeError) as exc:
        raise DeploymentError(f"pause record {uri} is not a pause record: {exc}") from None
    if not isinstance(record.paused, bool) or not all(
        isinstance(value, str) for value in (record.by, record.at, record.reason)
    ):
        raise DeploymentError(f"pause record {uri} is not a pause record: wrong field types")
    return record


def resumed(record: PauseRecord, by: str, at: str, missed: str) -> PauseRecord:
    """Return the record of a pause ended by ``by`` at ``at``; skipping keeps its window."""
    windows = record.skip_windows
    if missed == SKIP_MISSED:
        windows = (*windows, SkipWindow(record.at, at))
    return replace(
        record, paused=False, resumed_by=by, resumed_at=at, missed=missed, skip_windows=windows
    )


class PauseBoard:
    """Every route's pause record, each read at most once per ``ttl`` seconds (thread-safe)."""

    def __init__(
        self,
        objects: StateObjects,
        location: StateLocation,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Read the records under ``location`` through ``objects``."""
        self.location = location
        self._objects = objects
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        # route -> (generation, record, when checked)
        self._cache: dict[str, tuple[str | None, PauseRecord | None, float]] = {}

    def record(self, route: str) -> PauseRecord | None:
        """Return the route's pause record (None: never paused), re-checked after ``ttl``."""
        with self._lock:
            cached = self._cache.get(route)
        if cached and self._clock() - cached[2] < self._ttl:
            return cached[1]
        name = self.location.pause_object(route)
        generation = self._objects.generation(self.location.bucket, name)
        record = cached[1] if cached and cached[0] == generation else None
        if generation is not None and record is None:
            record = self._read(name, generation)
        with self._lock:
            self._cache[route] = (generation, record, self._clock())
        return record

    def paused(self, route: str) -> PauseRecord | None:
        """Return the route's record if it is paused now."""
        record = self.record(route)
        return record if record is not None and record.paused else None

    def paused_reason(self, route: str) -> str:
        """Return why the route may not launch now (it is paused), or ''."""
        record = self.paused(route)
        return record.describe() if record else ""

    def write(self, record: PauseRecord) -> None:
        """Store a route's record (the operator's tools; the functions never write)."""
        name = self.location.pause_object(record.route)
        self._objects.write(self.location.bucket, name, record.to_json())
        with self._lock:
            self._cache.pop(record.route, None)

    def routes(self) -> list[str]:
        """Return the routes that have a record (listing the pauses folder)."""
        folder = self.location.pauses_folder
        names = self._objects.names(self.location.bucket, folder)
        return sorted(n[len(folder) : -len(".json")] for n in names if n.endswith(".json"))

    def _read(self, name: str, generation: str) -> PauseRecord | None:
        data = self._objects.read(self.location.bucket, name, generation)
        return None if data is None else parse_record(data, f"gs://{self.location.bucket}/{name}")


def record_fields(record: PauseRecord) -> dict[str, Any]:
    """Return the record as plain fields (the CLI's JSON output)."""
    fields = asdict(record)
    fields["skip_windows"] = [asdict(window) for window in record.skip_windows]
    return fields
