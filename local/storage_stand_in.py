"""A Cloud Storage JSON API stand-in that counts what it is asked: lists, items, metadata reads.

gcp-storage-emulator (the local stack's bucket) answers objects.list with every object in one
page: it implements ``prefix``, ``delimiter`` and ``matchGlob``, and ignores ``maxResults``,
``pageToken``, ``startOffset`` and ``endOffset`` (gcp_storage_emulator/handlers/objects.py, ``ls``;
version 2026.7.19). This stand-in implements the listing as Google documents it for
``objects.list`` (https://cloud.google.com/storage/docs/json_api/v1/objects/list):

- names in lexicographic order; ``prefix``; ``delimiter`` (names with it after the prefix are
  rolled up into ``prefixes``, each once);
- ``startOffset`` (inclusive) and ``endOffset`` (exclusive);
- ``maxResults``: items plus prefixes per page, "this parameter or 1,000 items, whichever is
  smaller"; ``pageToken``/``nextPageToken`` (opaque; a token it did not issue is a 400);
- ``fields``, partial responses of the form ``items(name,size,...),nextPageToken,prefixes``;

plus ``objects.get`` (metadata, and ``alt=media`` of a given ``generation``), media uploads and
deletes. A parameter it does not implement (``matchGlob``, ``versions``,
``includeTrailingDelimiter``, ...) is answered 400 naming it, so a caller never passes a test
against a parameter silently ignored. It holds a million objects (names sorted once, bisected per
page) and counts, for a benchmark: list calls, items and prefixes listed, metadata reads, media
reads. Control endpoints under ``/_stand_in/``: ``POST objects`` (bulk), ``POST history`` (a
synthetic history of objects, one every few seconds, named by a date pattern), ``POST listings``
(every list call slowed, or answered with an error status), ``POST drop`` (a bucket),
``GET counts``, ``POST counts/reset``.

    python -m local.storage_stand_in    # prints: storage stand-in listening on http://...
"""

from __future__ import annotations

import argparse
import base64
import bisect
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from local.processes import start_announcing
from triggers_cli.eventarc import rfc3339_millis

PAGE_LIMIT = 1000  # the JSON API's largest page
COMMAND = [sys.executable, "-m", "local.storage_stand_in"]
_LIST_PARAMETERS = frozenset(
    {"prefix", "delimiter", "startOffset", "endOffset", "maxResults", "pageToken", "fields",
     "alt", "prettyPrint", "projection"}
)  # fmt: skip
_GET_PARAMETERS = frozenset({"alt", "generation", "fields", "prettyPrint", "projection"})
_FIELDS = re.compile(r"([A-Za-z]+)(?:\(([^()]*)\))?")


@dataclass(slots=True)  # a million of them: about 350 bytes each
class StoredObject:
    """One live object."""

    name: str
    generation: int
    size: int
    time_created: str  # RFC 3339, milliseconds, as Cloud Storage writes it
    content: bytes | None = None  # None: synthetic (a benchmark's history), read as zeros
    content_type: str = "text/csv"

    def resource(self, bucket: str) -> dict[str, Any]:
        """Return the object's JSON API resource (int64 fields as strings, as GCS sends them)."""
        return {
            "kind": "storage#object",
            "id": f"{bucket}/{self.name}/{self.generation}",
            "bucket": bucket,
            "name": self.name,
            "generation": str(self.generation),
            "metageneration": "1",
            "contentType": self.content_type,
            "size": str(self.size),
            "timeCreated": self.time_created,
            "updated": self.time_created,
            "storageClass": "STANDARD",
        }


@dataclass
class _Bucket:
    names: list[str] = field(default_factory=list)  # sorted
    objects: dict[str, StoredObject] = field(default_factory=dict)

    def put(self, obj: StoredObject) -> None:
        if obj.name not in self.objects:
            bisect.insort(self.names, obj.name)
        self.objects[obj.name] = obj

    def put_many(self, objects: list[StoredObject]) -> None:
        for obj in objects:
            self.objects[obj.name] = obj
        self.names = sorted(self.objects)

    def delete(self, name: str) -> bool:
        if self.objects.pop(name, None) is None:
            return False
        del self.names[bisect.bisect_left(self.names, name)]
        return True


class ApiError(Exception):
    """An error answer in the JSON API's shape."""

    def __init__(self, status: int, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason

    def body(self) -> dict[str, Any]:
        error = {"domain": "global", "reason": self.reason, "message": self.message}
        return {"error": {"code": self.status, "message": self.message, "errors": [error]}}


class StandInStore:
    """The buckets, and the counts of what was asked of them."""

    def __init__(self) -> None:
        self.buckets: dict[str, _Bucket] = {}
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._last_generation = 0
        self.list_delay = 0.0  # seconds each list call waits (a slow bucket)
        self.list_status = 0  # answer every list call with this error status (0: none)

    def new_generation(self) -> int:
        """Return a generation after every earlier one (microseconds, as Cloud Storage's are)."""
        self._last_generation = max(self._last_generation + 1, time.time_ns() // 1000)
        return self._last_generation

    def bucket(self, name: str) -> _Bucket:
        return self.buckets.setdefault(name, _Bucket())

    def existing(self, name: str) -> _Bucket:
        if name not in self.buckets:
            raise ApiError(404, "The specified bucket does not exist.", "notFound")
        return self.buckets[name]

    # --- objects.list -------------------------------------------------------------------------

    def listing(self, bucket: str, query: dict[str, str]) -> dict[str, Any]:
        """Answer objects.list for ``query``; count the call and what it returned."""
        _refuse_unknown(query, _LIST_PARAMETERS)
        if self.list_delay:
            time.sleep(self.list_delay)
        if self.list_status:
            raise ApiError(self.list_status, f"Injected: HTTP {self.list_status}", "injected")
        stored = self.existing(bucket)
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        limit = _max_results(query.get("maxResults"))
        start = max(prefix, query.get("startOffset", ""))
        index = bisect.bisect_left(stored.names, start)
        if "pageToken" in query:
            index = max(index, _token_index(stored.names, query["pageToken"]))
        end = query.get("endOffset", "")
        items, prefixes, last = _page(stored, index, prefix, delimiter=delimiter, end=end,
                                      limit=limit)  # fmt: skip
        listing: dict[str, Any] = {"kind": "storage#objects"}
        if prefixes:
            listing["prefixes"] = prefixes
        listing["items"] = [stored.objects[name].resource(bucket) for name in items]
        if last is not None:
            listing["nextPageToken"] = _token(last, rolled=bool(prefixes) and last == prefixes[-1])
        with self.lock:
            self.counts["list_calls"] += 1
            self.counts["items_listed"] += len(items) + len(prefixes)
        return _partial(listing, query.get("fields"))

    # --- objects.get, media, upload, delete ---------------------------------------------------

    def metadata(self, bucket: str, name: str, query: dict[str, str]) -> dict[str, Any]:
        """Answer objects.get (metadata); count it."""
        _refuse_unknown(query, _GET_PARAMETERS)
        with self.lock:
            self.counts["metadata_reads"] += 1
        found = self._object(bucket, name, query.get("generation"))
        return _partial(found.resource(bucket), query.get("fields"))

    def media(self, bucket: str, name: str, query: dict[str, str]) -> bytes:
        """Answer objects.get with alt=media; count it."""
        _refuse_unknown(query, _GET_PARAMETERS)
        with self.lock:
            self.counts["media_reads"] += 1
        found = self._object(bucket, name, query.get("generation"))
        return found.content if found.content is not None else bytes(found.size)

    def upload(self, bucket: str, name: str, content: bytes, content_type: str) -> dict[str, Any]:
        """Store a new generation of ``name`` (the bucket is created on first use)."""
        with self.lock:
            generation = self.new_generation()
            created = rfc3339_millis(datetime.fromtimestamp(generation / 1e6, UTC))
            obj = StoredObject(name, generation, len(content), created, content, content_type)
            self.bucket(bucket).put(obj)
        return obj.resource(bucket)

    def delete(self, bucket: str, name: str) -> None:
        """Delete the live generation of ``name``."""
        with self.lock:
            if not self.existing(bucket).delete(name):
                raise ApiError(404, f"No such object: {bucket}/{name}", "notFound")

    def _object(self, bucket: str, name: str, generation: str | None) -> StoredObject:
        found = self.existing(bucket).objects.get(name)
        if found is None or (generation is not None and generation != str(found.generation)):
            raise ApiError(404, f"No such object: {bucket}/{name}", "notFound")
        return found

    # --- control ------------------------------------------------------------------------------

    def add_objects(self, bucket: str, objects: list[dict[str, Any]]) -> int:
        """Store objects given as {name, size?, timeCreated?, generation?, content?}."""
        with self.lock:
            stored = [self._stored(entry) for entry in objects]
            self.bucket(bucket).put_many(stored)
        return len(stored)

    def _stored(self, entry: dict[str, Any]) -> StoredObject:
        content = entry.get("content")
        data = content.encode() if isinstance(content, str) else None
        created = entry.get("timeCreated")
        generation = int(entry.get("generation") or self.new_generation())
        if created is None:
            created = rfc3339_millis(datetime.fromtimestamp(generation / 1e6, UTC))
        size = len(data) if data is not None else int(entry.get("size", 0))
        return StoredObject(entry["name"], generation, size, created, data)

    def add_history(self, spec: dict[str, Any]) -> int:
        """Store ``count`` objects, one every ``every_seconds`` up to ``end``, named by date."""
        end = datetime.fromisoformat(spec["end"])
        every, count = float(spec["every_seconds"]), int(spec["count"])
        prefix, pattern = spec["prefix"], spec.get("pattern", "%Y/%m/%d/%H/")
        objects = []
        for n in range(count):
            created = end - timedelta(seconds=every * (count - 1 - n))
            name = f"{prefix}{created.strftime(pattern)}part-{n:07d}.csv"
            generation = int(created.timestamp() * 1e6)
            objects.append(StoredObject(name, generation, 1024, rfc3339_millis(created)))
        with self.lock:
            self.bucket(spec["bucket"]).put_many(objects)
        return count

    def snapshot_counts(self) -> dict[str, int]:
        with self.lock:
            return {key: self.counts[key] for key in
                    ("list_calls", "items_listed", "metadata_reads", "media_reads")}  # fmt: skip

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()


def _refuse_unknown(query: dict[str, str], known: frozenset[str]) -> None:
    unknown = sorted(set(query) - known)
    if unknown:
        raise ApiError(400, f"this stand-in does not implement the parameter {unknown[0]!r}")


def _max_results(value: str | None) -> int:
    if value is None:
        return PAGE_LIMIT
    if not value.isdigit() or int(value) < 1 or int(value) >= 2**32:
        raise ApiError(400, f"Invalid value for maxResults: {value!r}")
    return min(int(value), PAGE_LIMIT)


def _page(
    stored: _Bucket, index: int, prefix: str, *, delimiter: str, end: str, limit: int
) -> tuple[list[str], list[str], str | None]:
    """Return one page's item names and prefixes, and the last entry when more follow."""
    names, items, prefixes = stored.names, [], []
    last: str | None = None
    while index < len(names):
        name = names[index]
        if not name.startswith(prefix) or (end and name >= end):
            break
        if len(items) + len(prefixes) == limit:
            return items, prefixes, last
        cut = name.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            rolled = name[: cut + len(delimiter)]
            prefixes.append(rolled)
            last = rolled
            index = bisect.bisect_left(names, _after_all(rolled))
        else:
            items.append(name)
            last = name
            index += 1
    return items, prefixes, None


def _after_all(prefix: str) -> str:
    """Return the smallest string after every name that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _token(last: str, *, rolled: bool) -> str:
    document = {"after": last, "rolled": rolled}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


def _token_index(names: list[str], token: str) -> int:
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        last, rolled = document["after"], document["rolled"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "Invalid argument: pageToken") from None
    if not isinstance(last, str) or not last:
        raise ApiError(400, "Invalid argument: pageToken")
    # After a rolled-up prefix, the next page starts after every name under it.
    if rolled:
        return bisect.bisect_left(names, _after_all(last))
    return bisect.bisect_right(names, last)


def _partial(resource: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Keep only what ``fields`` selects (``a,b(c,d)``: the partial response syntax)."""
    if not fields:
        return resource
    kept: dict[str, Any] = {}
    for match in _FIELDS.finditer(fields):
        key, inner = match.group(1), match.group(2)
        if key not in resource:
            continue
        value = resource[key]
        if inner and isinstance(value, list):
            wanted = {part.strip() for part in inner.split(",")}
            value = [{k: v for k, v in item.items() if k in wanted} for item in value]
        kept[key] = value
    return kept


class _Handler(BaseHTTPRequestHandler):
    store: StandInStore
    protocol_version = "HTTP/1.1"  # keep-alive, as Google's front ends

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm holds the body
        # until the client's delayed ACK, 40 ms per request on Linux.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def do_DELETE(self) -> None:
        self._answer(self._delete)

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, handler: Any) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, payload, content_type = handler(url.path, query, body)
        except ApiError as exc:
            status, payload = exc.status, json.dumps(exc.body()).encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _get(self, path: str, query: dict[str, str], _: bytes) -> tuple[int, bytes, str]:
        if path == "/_stand_in/counts":
            return _json(self.store.snapshot_counts())
        bucket, name = _object_path(path, "/storage/v1/b/")
        if name is None:
            return _json(self.store.listing(bucket, query))
        if query.get("alt") == "media":
            return 200, self.store.media(bucket, name, query), "application/octet-stream"
        return _json(self.store.metadata(bucket, name, query))

    def _post(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        if path.startswith("/_stand_in/"):
            control = _CONTROLS.get(path.removeprefix("/_stand_in/"))
            if control is None:
                raise ApiError(404, f"No such control: {path}", "notFound")
            return _json(control(self.store, json.loads(body or b"{}")))
        if path == "/storage/v1/b":  # buckets.insert: buckets are created on first upload
            name = json.loads(body)["name"]
            self.store.bucket(name)
            return _json({"kind": "storage#bucket", "name": name})
        bucket, _ = _object_path(path, "/upload/storage/v1/b/")
        content_type = self.headers.get("Content-Type") or "application/octet-stream"
        return _json(self.store.upload(bucket, query["name"], body, content_type))

    def _delete(self, path: str, _: dict[str, str], __: bytes) -> tuple[int, bytes, str]:
        bucket, name = _object_path(path, "/storage/v1/b/")
        if name is None:
            raise ApiError(400, "DELETE needs an object")
        self.store.delete(bucket, name)
        return 204, b"", "application/json"


def _set_listings(store: StandInStore, document: dict[str, Any]) -> dict[str, Any]:
    store.list_delay = float(document.get("delay", 0))
    store.list_status = int(document.get("status", 0))
    return {}


def _reset_counts(store: StandInStore, _: dict[str, Any]) -> dict[str, Any]:
    store.reset_counts()
    return {}


def _drop(store: StandInStore, document: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        store.buckets.pop(document["bucket"], None)
    return {}


_CONTROLS: dict[str, Any] = {
    "counts/reset": _reset_counts,
    "objects": lambda store, doc: {"added": store.add_objects(doc["bucket"], doc["objects"])},
    "history": lambda store, doc: {"added": store.add_history(doc)},
    "listings": _set_listings,  # {"delay": seconds, "status": code}
    "drop": _drop,
}


def _object_path(path: str, root: str) -> tuple[str, str | None]:
    """Split ``ROOT/BUCKET/o[/OBJECT]`` into the bucket and the object name (None: a list)."""
    if not path.startswith(root):
        raise ApiError(404, f"No such API: {path}", "notFound")
    bucket, _, rest = path[len(root) :].partition("/")
    if not rest.startswith("o"):
        raise ApiError(404, f"No such API: {path}", "notFound")
    name = rest[2:] if rest.startswith("o/") else None
    return unquote(bucket), (unquote(name) if name else None)


def _json(value: Any) -> tuple[int, bytes, str]:
    return 200, json.dumps(value).encode(), "application/json"


class StorageStandIn:
    """The stand-in served on a loopback port (in a thread here, or in its own process)."""

    def __init__(self, url: str, process: subprocess.Popen[str] | None = None,
                 server: ThreadingHTTPServer | None = None) -> None:  # fmt: skip
        self.url = url
        self._process = process
        self._server = server

    @property
    def host(self) -> str:
        """Return ``host:port`` (for STORAGE_EMULATOR_HOST)."""
        return self.url.removeprefix("http://")

    def add_objects(self, bucket: str, objects: list[dict[str, Any]]) -> None:
        """Store objects in one call: {name, size?, timeCreated?, generation?, content?}."""
        self._control("objects", {"bucket": bucket, "objects": objects})

    def add_history(self, bucket: str, prefix: str, count: int, *, every_seconds: float,
                    end: datetime, pattern: str = "%Y/%m/%d/%H/") -> None:  # fmt: skip
        """Store ``count`` objects created every ``every_seconds`` up to ``end``, named by date."""
        spec = {"bucket": bucket, "prefix": prefix, "count": count, "pattern": pattern,
                "every_seconds": every_seconds, "end": end.isoformat()}  # fmt: skip
        self._control("history", spec)

    def drop(self, bucket: str) -> None:
        """Forget a bucket and every object in it."""
        self._control("drop", {"bucket": bucket})

    def upload(self, bucket: str, name: str, content: bytes) -> dict[str, Any]:
        """Write a new generation of an object; return its resource."""
        url = f"{self.url}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
        return _request("POST", url, {"uploadType": "media", "name": name}, content)

    def slow_listings(self, delay: float = 0.0, status: int = 0) -> None:
        """Make every list call wait ``delay`` seconds, or answer ``status`` (0: as usual)."""
        self._control("listings", {"delay": delay, "status": status})

    def counts(self) -> dict[str, int]:
        """Return list calls, items (and prefixes) listed, metadata reads and media reads."""
        return _request("GET", f"{self.url}/_stand_in/counts")

    def reset_counts(self) -> None:
        """Start counting from zero."""
        self._control("counts/reset", {})

    def stop(self) -> None:
        """Stop the server (and its process)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._process is not None:
            from local.processes import stop_process

            stop_process(self._process)

    def _control(self, what: str, document: dict[str, Any]) -> None:
        _request("POST", f"{self.url}/_stand_in/{what}", None, json.dumps(document).encode())


def _request(method: str, url: str, params: dict[str, str] | None = None,
             body: bytes | None = None) -> Any:  # fmt: skip
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.netloc, timeout=300)
    path = target.path + (f"?{urlencode(params)}" if params else "")
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    if response.status >= 400:
        raise RuntimeError(f"{method} {url}: HTTP {response.status} {payload[:200]!r}")
    return json.loads(payload) if payload else None


def serve_in_thread() -> StorageStandIn:
    """Serve a new stand-in on 127.0.0.1:0 from a thread of this process."""
    handler = type("Handler", (_Handler,), {"store": StandInStore()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return StorageStandIn(f"http://127.0.0.1:{server.server_address[1]}", server=server)


def start_storage_stand_in_process() -> StorageStandIn:
    """Start the stand-in in its own process (its own GIL: a benchmark measures only itself)."""
    url, process = start_announcing(COMMAND, "storage stand-in")
    return StorageStandIn(url, process=process)


def main(argv: list[str] | None = None) -> None:
    """Serve on 127.0.0.1:0 until killed; print the URL first (``--help`` starts nothing)."""
    argparse.ArgumentParser(
        prog="python -m local.storage_stand_in",
        description="A Cloud Storage JSON API stand-in that counts list calls, items listed and "
        "metadata reads (benchmarks/scale.py); serves on 127.0.0.1 until killed.",
    ).parse_args(argv)
    handler = type("Handler", (_Handler,), {"store": StandInStore()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    print(f"storage stand-in listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
