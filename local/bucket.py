"""A local bucket: watched folders whose new files send Cloud Storage finalize CloudEvents.

Each new or overwritten file, once stable, is mirrored to the storage emulator (when given) and
announced with a `google.cloud.storage.object.v1.finalized` CloudEvent in binary HTTP mode.

    python -m local.bucket --root .demo/buckets --target http://127.0.0.1:8081/ \
        [--storage-emulator http://127.0.0.1:9023] [--poll 0.5] [--fire-existing]

`--root/local-data/incoming/a.csv` is object `incoming/a.csv` of bucket `local-data`. A file fires
only when its size and mtime are unchanged across two polls, so a file still being written does
not fire early. Hidden files and `*.tmp`/`*.part` are ignored (editors and copiers write those).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import requests
from cloudevents.http import CloudEvent

from local.cloud_event_http import post_binary
from local.object_events import StoredObject, content_type_of, finalized_event

log = logging.getLogger("local.bucket")
IGNORED_SUFFIXES = (".tmp", ".part", "~")
Signature = tuple[int, int]  # (size, mtime_ns)
Deliver = Callable[[CloudEvent], int]
Mirror = Callable[[StoredObject], int | None]  # the generation the storage emulator gave it


@dataclass
class FileState:
    """What the watcher knows about one file."""

    last_seen: Signature | None = None
    delivered: Signature | None = None
    generation: int = 0
    pending: StoredObject | None = None


class BucketWatcher:
    """Poll `root/<bucket>/<name>` files; finalize each stable new version exactly once."""

    def __init__(self, root: Path, deliver: Deliver, mirror: Mirror | None = None) -> None:
        self.root = Path(root)
        self.deliver = deliver
        self.mirror = mirror
        self._files: dict[Path, FileState] = {}

    def prime(self) -> None:
        """Treat files already there as finalized before we started: mirrored, not announced."""
        for path, signature in self._scan():
            state = FileState(signature, signature, signature[1] // 1000)
            self._files[path] = state
            if self.mirror is not None:
                self.mirror(self._new_generation(path, signature, FileState()))

    def poll(self) -> list[StoredObject]:
        """Scan once; return the objects whose finalize event was delivered in this scan."""
        present = dict(self._scan())
        for gone in set(self._files) - set(present):
            del self._files[gone]
        delivered = []
        # In write order (mtime, then name), as Cloud Storage finalizes: an export's marker,
        # written last, is announced after its part files even when one poll sees them all.
        for path, signature in sorted(present.items(), key=lambda item: (item[1][1], item[0])):
            state = self._files.setdefault(path, FileState())
            if state.delivered == signature:
                continue
            if state.last_seen != signature:
                state.last_seen, state.pending = signature, None  # changed: wait one more poll
                continue
            obj = self._finalize(path, signature, state)
            if obj is not None:
                delivered.append(obj)
        return delivered

    def run(self, stop: threading.Event, interval: float) -> None:
        """Poll until `stop` is set."""
        while not stop.is_set():
            self.poll()
            stop.wait(interval)

    def _scan(self) -> Iterator[tuple[Path, Signature]]:
        """Yield every watched file with its signature."""
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root)
            if len(relative.parts) < 2 or _ignored(relative):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                yield path, (stat.st_size, stat.st_mtime_ns)

    def _finalize(self, path: Path, signature: Signature, state: FileState) -> StoredObject | None:
        """Mirror and announce one stable version; keep it pending when delivery fails."""
        if state.pending is None:
            state.pending = self._mirrored(self._new_generation(path, signature, state))
        obj = state.pending
        status = self.deliver(finalized_event(obj))
        log.info(
            "gs://%s/%s generation %s -> HTTP %s", obj.bucket, obj.name, obj.generation, status
        )
        if not 200 <= status < 300:
            return None  # Eventarc redelivers a non-2xx: retry the same event on the next poll
        state.delivered, state.generation, state.pending = signature, obj.generation, None
        return obj

    def _mirrored(self, obj: StoredObject) -> StoredObject:
        """Upload once (when mirroring): the event then carries the generation GCS assigned.

        A redelivery resends the same event, so a sweep (which lists the emulator) and the event
        path compute the same job id for the object, as against Cloud Storage.
        """
        generation = self.mirror(obj) if self.mirror is not None else None
        return replace(obj, generation=generation) if generation else obj

    def _new_generation(self, path: Path, signature: Signature, state: FileState) -> StoredObject:
        """Read the file as a new generation (microseconds, like GCS; always above the last)."""
        relative = path.relative_to(self.root)
        generation = max(signature[1] // 1000, state.generation + 1)
        return StoredObject(
            bucket=relative.parts[0],
            name="/".join(relative.parts[1:]),
            generation=generation,
            content=path.read_bytes(),
            written_at=datetime.now(UTC),
        )


def _ignored(relative: Path) -> bool:
    """Tell whether a path is a hidden or temporary file."""
    return any(part.startswith(".") for part in relative.parts) or relative.name.endswith(
        IGNORED_SUFFIXES
    )


class StorageEmulatorMirror:
    """Upload each finalized object to the GCS JSON API emulator so `gs://` reads find it."""

    def __init__(self, base_url: str, project: str = "local-project") -> None:
        self.base_url = base_url.rstrip("/")
        self.project = project
        self._buckets: set[str] = set()

    def __call__(self, obj: StoredObject) -> int:
        """Upload one object (creating its bucket on first use); return its new generation."""
        self._ensure_bucket(obj.bucket)
        response = requests.post(
            f"{self.base_url}/upload/storage/v1/b/{obj.bucket}/o",
            params={"uploadType": "media", "name": obj.name},
            data=obj.content,
            headers={"Content-Type": content_type_of(obj.name)},
            timeout=30,
        )
        response.raise_for_status()
        return int(response.json()["generation"])

    def _ensure_bucket(self, bucket: str) -> None:
        """Create the bucket unless it exists."""
        if bucket in self._buckets:
            return
        found = requests.get(f"{self.base_url}/storage/v1/b/{bucket}", timeout=30)
        if found.status_code == 404:
            created = requests.post(
                f"{self.base_url}/storage/v1/b",
                params={"project": self.project},
                json={"name": bucket},
                timeout=30,
            )
            created.raise_for_status()
        else:
            found.raise_for_status()
        self._buckets.add(bucket)


def http_deliverer(url: str) -> Deliver:
    """Return a deliver function posting binary-mode CloudEvents to `url` (0 = unreachable)."""

    def deliver(event: CloudEvent) -> int:
        try:
            return post_binary(url, event).status_code
        except requests.RequestException as err:
            log.warning("could not deliver %s to %s: %s", event["id"], url, err)
            return 0

    return deliver


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m local.bucket", description=__doc__)
    parser.add_argument(
        "--root", required=True, type=Path, help="folder holding one folder per bucket"
    )
    parser.add_argument("--target", required=True, help="URL of the on_object_finalized server")
    parser.add_argument(
        "--storage-emulator", default="", help="gcp-storage-emulator URL to mirror to"
    )
    parser.add_argument("--project", default="local-project", help="project for created buckets")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between scans")
    parser.add_argument("--fire-existing", action="store_true", help="announce files already there")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Watch until interrupted."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s local-bucket %(message)s")
    mirror = (
        StorageEmulatorMirror(args.storage_emulator, args.project)
        if args.storage_emulator
        else None
    )
    watcher = BucketWatcher(args.root, http_deliverer(args.target), mirror)
    if not args.fire_existing:
        watcher.prime()
    print(f"watching {args.root} -> {args.target}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    watcher.run(stop, args.poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
