"""A Cloud Storage JSON API stand-in serving a fixed set of objects, for tests that pin literals.

gcp-storage-emulator stamps every upload with ``generation = time.time_ns()`` and the current
time, so a batch's job id (route, folder and the marker's generation) would change on every run.
This server answers ``objects.list`` (prefix, delimiter ``/``) and media reads of the objects it is
given, in the JSON API's shape, with the generations and creation times the test chose.
"""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class FixedObject:
    """One live object: its name, generation, creation time (RFC 3339) and content."""

    bucket: str
    name: str
    generation: int
    time_created: str
    content: bytes = b"a,b\n1,2\n"
    content_type: str = "text/csv"

    def resource(self) -> dict[str, Any]:
        """Return the object's JSON API resource (int64 fields as strings, as GCS sends them)."""
        return {
            "kind": "storage#object",
            "id": f"{self.bucket}/{self.name}/{self.generation}",
            "bucket": self.bucket,
            "name": self.name,
            "generation": str(self.generation),
            "metageneration": "1",
            "contentType": self.content_type,
            "size": str(len(self.content)),
            "timeCreated": self.time_created,
            "updated": self.time_created,
            "storageClass": "STANDARD",
        }


class FixedBucket:
    """A loopback HTTP server answering objects.list and media reads over ``objects``."""

    def __init__(self, objects: list[FixedObject]) -> None:
        self.objects = list(objects)
        self.requests: list[str] = []
        self.refusals: list[tuple[int, bytes, str]] = []  # the next GETs answer these first
        bucket = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                bucket.requests.append(self.path)
                refused = bucket.refusals.pop(0) if bucket.refusals else None
                status, body, content_type = refused or bucket.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, path: str) -> tuple[int, bytes, str]:
        """Return status, body and content type for one GET."""
        url = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        parts = url.path.split("/")  # '', storage, v1, b, BUCKET, o[, OBJECT]
        if parts[1:4] != ["storage", "v1", "b"] or len(parts) < 6 or parts[5] != "o":
            return _error(404, f"No such API: {url.path}")
        bucket = unquote(parts[4])
        if len(parts) == 6:
            return 200, json.dumps(self._listing(bucket, query)).encode(), "application/json"
        name = unquote("/".join(parts[6:]))
        found = next((o for o in self.objects if (o.bucket, o.name) == (bucket, name)), None)
        if found is None:
            return _error(404, f"No such object: {bucket}/{name}")
        if query.get("alt") == "media":
            return 200, found.content, found.content_type
        return 200, json.dumps(found.resource()).encode(), "application/json"

    def _listing(self, bucket: str, query: dict[str, str]) -> dict[str, Any]:
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        items, prefixes = [], set()
        for found in sorted(self.objects, key=lambda o: o.name):
            if found.bucket != bucket or not found.name.startswith(prefix):
                continue
            rest = found.name[len(prefix) :]
            if delimiter and delimiter in rest:
                prefixes.add(prefix + rest[: rest.index(delimiter) + len(delimiter)])
            else:
                items.append(found.resource())
        listing: dict[str, Any] = {"kind": "storage#objects", "items": items}
        if prefixes:
            listing["prefixes"] = sorted(prefixes)
        return listing

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _error(status: int, message: str) -> tuple[int, bytes, str]:
    body = {"error": {"code": status, "message": message, "errors": [{"message": message}]}}
    return status, json.dumps(body).encode(), "application/json"
