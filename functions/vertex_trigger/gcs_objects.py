"""List and read a bucket's objects through the Cloud Storage JSON API (batches, the sweeper)."""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from vertex_trigger.api_errors import Fix, fix_for, read_error
from vertex_trigger.errors import DeploymentError, RejectedEvent
from vertex_trigger.http import BodyTooLargeError, Requester, Response
from vertex_trigger.retrying import Budget, Retrier
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
    """Objects.list and bounded media reads, against production or STORAGE_EMULATOR_HOST.

    Calls are retried inside the event's budget. An answer naming the deployment (401/403: the
    runtime account may not list the bucket; 404: no such bucket or object) is a DeploymentError,
    so the event waits while an operator fixes it; another 4xx rejects the event.
    """

    def __init__(self, session: Requester, base_url: str, retrier: Retrier) -> None:
        """Use ``session`` against ``base_url`` (e.g. https://storage.googleapis.com)."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._retrier = retrier
        self._budget: Budget | None = None

    def with_budget(self, budget: Budget) -> "GcsObjects":
        """Return a view of this client whose calls draw on ``budget``."""
        budgeted = copy.copy(self)
        budgeted._budget = budget
        return budgeted

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

    def read(self, bucket: str, name: str, generation: int, limit: int) -> bytes:
        """Return the bytes of one generation, refusing (RejectedEvent) more than ``limit``."""
        url = f"{self._base_url}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        params = {"alt": "media", "generation": str(generation)}
        try:
            return self._get(url, params, f"read gs://{bucket}/{name}", max_body=limit).body
        except BodyTooLargeError:
            raise RejectedEvent(
                f"gs://{bucket}/{name} is larger than the {limit}-byte limit"
            ) from None

    def _get(
        self, url: str, params: Mapping[str, Any], what: str, max_body: int | None = None
    ) -> Response:
        """GET with retries inside the budget; classify an error answer by what fixes it."""
        budget = self._budget or self._retrier.budget()
        response = self._retrier.send(
            lambda timeout: self._session.request(
                "GET", url, timeout=timeout, params=params, max_body=max_body
            ),
            what,
            budget,
        ).response
        if response.status < 400:
            return response
        error = read_error(response)
        if fix_for(error) is Fix.DEPLOYMENT:
            raise DeploymentError(f"cannot {what}: {error.describe()}")
        raise RejectedEvent(f"cannot {what}: {error.describe()}")


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
