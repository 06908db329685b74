"""Post a CloudEvent to a function over HTTP with the `cloudevents` package."""

from __future__ import annotations

import requests
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent


def post_binary(url: str, event: CloudEvent, timeout: float = 60.0) -> requests.Response:
    """Send in binary mode (attributes as ce- headers, data as the body), as Eventarc does."""
    headers, body = to_binary(event)
    return requests.post(url, headers=headers, data=body, timeout=timeout)


def post_structured(url: str, event: CloudEvent, timeout: float = 60.0) -> requests.Response:
    """Send in structured mode (the whole event as one JSON document)."""
    headers, body = to_structured(event)
    return requests.post(url, headers=headers, data=body, timeout=timeout)
