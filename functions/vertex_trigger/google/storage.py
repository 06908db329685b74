"""Cloud Storage JSON API: list a bucket's objects page by page, read, create and delete one.

The one Cloud Storage client: batches and the sweeper list and read, the template store reads
generations and downloads, all through the one request path (against production or
STORAGE_EMULATOR_HOST). An answer naming the deployment (401/403: the runtime account may not
read the bucket; 404: no such bucket or object) is a DeploymentError; another 4xx rejects.
A listing is streamed: one page at a time, however many objects the prefix holds.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from vertex_trigger.errors import RejectedEvent, TransientError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import BodyTooLargeError, Requester, Response
from vertex_trigger.google.times import parse_rfc3339

SERVICE = "Cloud Storage"
PRECONDITION_FAILED = 412  # ifGenerationMatch did not hold: the object is there, or was replaced
PAGE_SIZE = 1000  # the JSON API's largest page
# Partial responses (the `fields` parameter): an item is about 150 bytes instead of 700.
_OBJECT_FIELDS = "name,generation,size,timeCreated,contentType"
_LIST_FIELDS = f"items({_OBJECT_FIELDS}),nextPageToken"


class ListingStoppedError(TransientError):
    """A listing ended early on a transient failure (its retries, or the time budget, ran out)."""

    def __init__(self, message: str, pages: int) -> None:
        super().__init__(message)
        self.pages = pages  # read before it stopped: more than none means the prefix is large


@dataclass(frozen=True)
class ObjectInfo:
    """One live object as a listing or its metadata shows it."""

    name: str
    generation: int
    size: int
    time_created: datetime
    content_type: str = ""


@dataclass(frozen=True)
class Span:
    """Which names a listing covers: a prefix, and optionally [start_offset, end_offset)."""

    prefix: str
    start_offset: str = ""  # inclusive (the JSON API's startOffset)
    end_offset: str = ""  # exclusive (endOffset)

    def holds(self, name: str) -> bool:
        """Tell whether ``name`` falls inside the span."""
        return (
            name.startswith(self.prefix)
            and name >= self.start_offset
            and (not self.end_offset or name < self.end_offset)
        )


class Storage:
    """Objects.list, object metadata and bounded media reads."""

    def __init__(self, session: Requester, base_url: str, calls: ApiCalls) -> None:
        """Use ``session`` against ``base_url`` (e.g. https://storage.googleapis.com)."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._calls = calls

    def list(
        self,
        bucket: str,
        span: Span | str,
        *,
        delimiter: str = "",
        first_page: int = PAGE_SIZE,
    ) -> Iterator[ObjectInfo]:
        """Yield the live objects of ``span`` in name order (one level with delimiter ``/``).

        Pages are asked for as they are consumed: a caller that stops early asks for no more.
        The first page holds ``first_page`` entries, each next one ten times more, up to the
        JSON API's 1,000, so a caller that needs only a few objects lists only a few. Objects
        outside the span are dropped here too, whatever the server did with the offsets.
        """
        span = Span(span) if isinstance(span, str) else span
        url = f"{self._bucket_url(bucket)}/o"
        params = _list_params(span, delimiter)
        pages = listed = 0
        size = max(1, min(first_page, PAGE_SIZE))
        while True:
            params["maxResults"] = size
            try:
                page = self._get(url, params, f"list gs://{bucket}/{span.prefix}").json()
            except TransientError as exc:
                raise ListingStoppedError(
                    f"listing gs://{bucket}/{span.prefix} stopped after {listed} object(s) in "
                    f"{pages} page(s): {exc}",
                    pages,
                ) from None
            pages += 1
            items = [o for o in map(_object_info, page.get("items") or []) if o is not None]
            listed += len(items)
            yield from (o for o in items if span.holds(o.name))
            token = page.get("nextPageToken")
            if not token:
                return
            params["pageToken"] = token
            size = min(size * 10, PAGE_SIZE)

    def stat(self, bucket: str, name: str) -> ObjectInfo | None:
        """Return the live object's metadata (one objects.get), or None when there is none."""
        params = {"fields": _OBJECT_FIELDS}
        answer = self._calls.send(
            self._session, "GET", self._object_url(bucket, name), service=SERVICE,
            action=f"read gs://{bucket}/{name}", params=params, handled=(404,),
        )  # fmt: skip
        if answer.response.status == 404:
            return None
        return _object_info(answer.response.json())

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


def _list_params(span: Span, delimiter: str) -> dict[str, Any]:
    """Return objects.list's query for ``span`` (offsets only when set)."""
    params: dict[str, Any] = {"prefix": span.prefix, "fields": _LIST_FIELDS}
    if delimiter:
        params["delimiter"] = delimiter
    if span.start_offset:
        params["startOffset"] = span.start_offset
    if span.end_offset:
        params["endOffset"] = span.end_offset
    return params


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
