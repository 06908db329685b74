"""Exceptions named by what the platform should do with the event."""

import reprlib
from typing import Any

# Event fields can be megabytes long or nested thousands deep: messages show a bounded excerpt.
_EXCERPT = reprlib.Repr()
_EXCERPT.maxlevel = 3
_EXCERPT.maxstring = 80
_EXCERPT.maxother = 80
_EXCERPT.maxlist = _EXCERPT.maxdict = 4

# HTTP answers of Google APIs that a later attempt may not get: timeouts, throttling, 5xx.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ConfigError(Exception):
    """The configuration is wrong: the instance must not start."""


class RejectedEvent(Exception):  # noqa: N818 - named by outcome, like the platform's words
    """Retrying cannot help: log, acknowledge and launch nothing."""


class TransientError(Exception):
    """A retry may help: raise so that Eventarc redelivers the event."""


class DeferredEvent(Exception):  # noqa: N818 - named by outcome, like RejectedEvent
    """Not now (a route's cap is reached): answer 429 so Eventarc redelivers it; nothing failed."""


def excerpt(value: Any) -> str:
    """Return a short repr of a value from an event, safe for any size or depth."""
    return _EXCERPT.repr(value)
