"""List and read a bucket's objects through the Cloud Storage JSON API (batches, the sweeper)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from vertex_trigger.errors import RejectedEvent
from vertex_trigger.templates import HttpSession, checked_get
from vertex_trigger.times import parse_rfc3339

PAGE_SIZE = 1000  # the JSON API's largest page


@dataclass(frozen=True)
class ObjectInfo:
    """One live object as a listing shows it."""

    name: str
    generation: int
    size: int
    time_created: datetime
    content_type: str = ""


class GcsObjects:
    """Objects.list and bounded media reads, against production or STORAGE_EMULATOR_HOST."""

    def __init__(self, session: HttpSession, base_url: str, timeout: float) -> None:
        """Use ``session`` against ``base_url`` (e.g. https://storage.googleapis.com)."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def list(
        self, bucket: str, prefix: str, *, max_objects: int, delimiter: str = ""
    ) -> list[ObjectInfo]:
        """Return the live objects under ``prefix`` (one level with delimiter ``/``), paging."""
        url = f"{self._base_url}/storage/v1/b/{quote(bucket, safe='')}/o"
        params: dict[str, Any] = {"prefix": prefix, "maxResults": PAGE_SIZE}
        if delimiter:
            params["delimiter"] = delimiter
        found: list[ObjectInfo] = []
        while True:
            page = checked_get(self._session, url, self._timeout, params=params).json()
            found.extend(filter(None, map(_object_info, page.get("items") or [])))
            if len(found) > max_objects:
                raise RejectedEvent(
                    f"gs://{bucket}/{prefix} holds more than {max_objects} objects: "
                    "too many to evaluate in one call"
                )
            if not page.get("nextPageToken"):
                return found
            params["pageToken"] = page["nextPageToken"]

    def read(self, bucket: str, name: str, generation: int, limit: int) -> bytes:
        """Return the bytes of one generation, refusing (RejectedEvent) more than ``limit``."""
        url = f"{self._base_url}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        params = {"alt": "media", "generation": str(generation)}
        response = checked_get(self._session, url, self._timeout, params=params, stream=True)
        data = bytearray()
        with response:
            for chunk in response.iter_content(64 * 1024):
                data.extend(chunk)
                if len(data) > limit:
                    raise RejectedEvent(
                        f"gs://{bucket}/{name} is larger than the {limit}-byte limit"
                    )
        return bytes(data)


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
