"""Post a CloudEvent to a function over HTTP with the `cloudevents` package."""

from __future__ import annotations

import requests
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent


def encode(event: CloudEvent, structured: bool = False) -> tuple[dict[str, str], bytes]:
    """Return the HTTP headers and body bytes for an event, binary mode unless `structured`."""
    headers, body = (to_structured if structured else to_binary)(event)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return dict(headers), body or b""


def post_binary(url: str, event: CloudEvent, timeout: float = 60.0) -> requests.Response:
    """Send in binary mode (attributes as ce- headers, data as the body), as Eventarc does."""
    headers, body = to_binary(event)
    return requests.post(url, headers=headers, data=body, timeout=timeout)


def post_structured(url: str, event: CloudEvent, timeout: float = 60.0) -> requests.Response:
    """Send in structured mode (the whole event as one JSON document)."""
    headers, body = to_structured(event)
    return requests.post(url, headers=headers, data=body, timeout=timeout)
