"""Small objects in Cloud Storage that hold operators' state (route pauses): read, write, list.

Through the one request path, against production or STORAGE_EMULATOR_HOST. Reading first asks
for the live generation only (a few bytes), and the body only when the generation changed, so a
cached reader pays one cheap read per check. A missing object (404) is "no such state": None.
"""

from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from vertex_trigger.errors import RejectedEvent
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import BodyTooLargeError, Requester, Response

SERVICE = "Cloud Storage"
MAX_STATE_BYTES = 64 * 1024  # a pause record is a few hundred bytes
PAGE_SIZE = 1000
STATE_CONTENT_TYPE = "text/plain; charset=utf-8"


class StateObjects:
    """Generation checks, bounded reads, writes and listings of small objects."""

    def __init__(self, session: Requester, base_url: str, calls: ApiCalls) -> None:
        """Use ``session`` against ``base_url`` (e.g. https://storage.googleapis.com)."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._calls = calls

    def generation(self, bucket: str, name: str) -> str | None:
        """Return the live generation of gs://bucket/name, or None when there is none."""
        response = self._send("GET", self._object_url(bucket, name), f"read gs://{bucket}/{name}",
                              {404}, params={"fields": "generation"})  # fmt: skip
        return None if response.status == 404 else str(response.json()["generation"])

    def read(self, bucket: str, name: str, generation: str) -> bytes | None:
        """Return the bytes of one generation (None: gone since), refusing a large object."""
        params = {"alt": "media", "generation": generation}
        try:
            response = self._send("GET", self._object_url(bucket, name),
                                  f"read gs://{bucket}/{name}", {404}, params=params,
                                  max_body=MAX_STATE_BYTES)  # fmt: skip
        except BodyTooLargeError:
            raise RejectedEvent(
                f"gs://{bucket}/{name} is larger than the {MAX_STATE_BYTES}-byte limit"
            ) from None
        return None if response.status == 404 else response.body

    def write(self, bucket: str, name: str, data: bytes) -> str:
        """Write (or replace) gs://bucket/name with JSON ``data``; return its new generation."""
        url = f"{self._base_url}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
        response = self._send(
            "POST", url, f"write gs://{bucket}/{name}", (),
            params={"uploadType": "media", "name": name}, data=data,
            # JSON text, stored as text: gcp-storage-emulator parses an application/json media
            # upload as object metadata (server.py, _read_data), which Cloud Storage never does.
            headers={"Content-Type": STATE_CONTENT_TYPE},
        )  # fmt: skip
        return str(response.json()["generation"])

    def names(self, bucket: str, prefix: str) -> list[str]:
        """Return the names of the live objects under ``prefix`` (every page)."""
        url = f"{self._base_url}/storage/v1/b/{quote(bucket, safe='')}/o"
        params: dict[str, Any] = {"prefix": prefix, "maxResults": PAGE_SIZE}
        found: list[str] = []
        while True:
            page = self._send("GET", url, f"list gs://{bucket}/{prefix}", {404},
                              params=params)  # fmt: skip
            if page.status == 404:
                return found  # no such bucket yet: nothing paused
            body = page.json()
            found += [str(item["name"]) for item in body.get("items") or [] if "name" in item]
            if not body.get("nextPageToken"):
                return found
            params["pageToken"] = body["nextPageToken"]

    def _object_url(self, bucket: str, name: str) -> str:
        return f"{self._base_url}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"

    def _send(
        self, method: str, url: str, action: str, handled: Collection[int], **request: Any
    ) -> Response:
        return self._calls.send(
            self._session, method, url, service=SERVICE, action=action, handled=handled,
            **request,
        ).response  # fmt: skip
