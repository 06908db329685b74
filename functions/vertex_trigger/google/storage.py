"""Cloud Storage JSON API: list a bucket's objects, read, create and delete one, generations.

The one Cloud Storage client: batches and the sweeper list and read, the template store reads
generations and downloads, all through the one request path (against production or
STORAGE_EMULATOR_HOST). An answer naming the deployment (401/403: the runtime account may not
read the bucket; 404: no such bucket or object) is a DeploymentError; another 4xx rejects.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from vertex_trigger.errors import RejectedEvent
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import BodyTooLargeError, Requester, Response
from vertex_trigger.google.times import parse_rfc3339

SERVICE = "Cloud Storage"
PRECONDITION_FAILED = 412  # ifGenerationMatch did not hold: the object is there, or was replaced
PAGE_SIZE = 1000  # the JSON API's largest page


@dataclass(frozen=True)
class ObjectInfo:
    """One live object as a listing shows it."""

    name: str
    generation: int
    size: int
    time_created: datetime
    content_type: str = ""


class Storage:
    """Objects.list, object metadata and bounded media reads."""

    def __init__(self, session: Requester, base_url: str, calls: ApiCalls) -> None:
        """Use ``session`` against ``base_url`` (e.g. https://storage.googleapis.com)."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._calls = calls

    def list(
        self, bucket: str, prefix: str, *, max_objects: int, delimiter: str = ""
    ) -> list[ObjectInfo]:
        """Return the live objects under ``prefix`` (one level with delimiter ``/``), paging."""
        url = f"{self._bucket_url(bucket)}/o"
        params: dict[str, Any] = {"prefix": prefix, "maxResults": PAGE_SIZE}
        if delimiter:
            params["delimiter"] = delimiter
        found: list[ObjectInfo] = []
        while True:
            page = self._get(url, params, f"list gs://{bucket}/{prefix}").json()
            found.extend(filter(None, map(_object_info, page.get("items") or [])))
            if len(found) > max_objects:
                raise RejectedEvent(
                    f"gs://{bucket}/{prefix} holds more than {max_objects} objects: "
                    "too many to evaluate in one call"
                )
            if not page.get("nextPageToken"):
                return found
            params["pageToken"] = page["nextPageToken"]

    def read(
        self, bucket: str, name: str, generation: int | str, limit: int | None = None
    ) -> bytes:
        """Return the bytes of one generation, refusing (RejectedEvent) more than ``limit``."""
        params = {"alt": "media", "generation": str(generation)}
        try:
            return self._get(
                self._object_url(bucket, name), params, f"read gs://{bucket}/{name}", limit
            ).body
        except BodyTooLargeError:
            raise RejectedEvent(
                f"gs://{bucket}/{name} is larger than the {limit}-byte limit"
            ) from None

    def generation(self, bucket: str, name: str) -> str:
        """Return the live generation of gs://bucket/name."""
        params = {"fields": "generation"}
        response = self._get(self._object_url(bucket, name), params, f"read gs://{bucket}/{name}")
        return str(response.json()["generation"])

    def create(self, bucket: str, name: str, data: bytes, content_type: str) -> bool:
        """Create gs://bucket/name unless it exists (``ifGenerationMatch=0``); tell if created."""
        url = f"{self._base_url}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
        answer = self._calls.send(
            self._session, "POST", url,
            service=SERVICE, action=f"write gs://{bucket}/{name}", handled={PRECONDITION_FAILED},
            params={"uploadType": "media", "name": name, "ifGenerationMatch": "0"},
            data=data, headers={"Content-Type": content_type},
        )  # fmt: skip
        return answer.response.status != PRECONDITION_FAILED

    def delete(self, bucket: str, name: str, generation: int) -> bool:
        """Delete that generation of gs://bucket/name; False if it is gone or was replaced."""
        answer = self._calls.send(
            self._session, "DELETE", self._object_url(bucket, name), service=SERVICE,
            action=f"delete gs://{bucket}/{name}", handled={404, PRECONDITION_FAILED},
            params={"ifGenerationMatch": str(generation)},
        )  # fmt: skip
        return answer.response.status < 400

    def _bucket_url(self, bucket: str) -> str:
        return f"{self._base_url}/storage/v1/b/{quote(bucket, safe='')}"

    def _object_url(self, bucket: str, name: str) -> str:
        return f"{self._bucket_url(bucket)}/o/{quote(name, safe='')}"

    def _get(
        self, url: str, params: dict[str, Any], action: str, max_body: int | None = None
    ) -> Response:
        """GET through the request path; an error answer raises what fixes it."""
        return self._calls.send(
            self._session, "GET", url, service=SERVICE, action=action, params=params,
            max_body=max_body,
        ).response  # fmt: skip


def _object_info(item: Any) -> ObjectInfo | None:
    """Read one listed item; one without a name, generation or creation time is left out."""
    if not isinstance(item, dict):
        return None
    created = parse_rfc3339(str(item.get("timeCreated") or ""))
    try:
        generation, size = int(item["generation"]), int(item.get("size") or 0)
    except (KeyError, TypeError, ValueError):
        return None
    if created is None or not isinstance(item.get("name"), str):
        return None
    content_type = str(item.get("contentType") or "")
    return ObjectInfo(item["name"], generation, size, created, content_type)
