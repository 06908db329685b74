"""Exceptions named by what the platform should do with the event."""

import reprlib
from typing import Any

# Event fields can be megabytes long or nested thousands deep: messages show a bounded excerpt.
_EXCERPT = reprlib.Repr()
_EXCERPT.maxlevel = 3
_EXCERPT.maxstring = 80
_EXCERPT.maxother = 80
_EXCERPT.maxlist = _EXCERPT.maxdict = 4


class ConfigError(Exception):
    """The configuration is wrong: the instance must not start."""


class RejectedEvent(Exception):  # noqa: N818 - named by outcome, like the platform's words
    """Retrying cannot help: log, acknowledge and launch nothing."""


class SkippedEvent(Exception):  # noqa: N818 - named by outcome, like RejectedEvent
    """Not an event for this function (another type): log it as skipped and acknowledge it."""


class TransientError(Exception):
    """A retry may help: raise so that Eventarc redelivers the event."""


class DeploymentError(Exception):
    """The deployment is wrong (IAM, project, location, KMS key, template), not the event.

    Raised so that the event waits in redelivery, then in the dead-letter topic, while an operator
    fixes the deployment: acknowledging it would lose an event that nothing was wrong with.
    """


class CredentialError(Exception):
    """No access token could be had (the metadata server unreachable, a refresh refused)."""


class DeferredEvent(Exception):  # noqa: N818 - named by outcome, like RejectedEvent
    """Not now (a route's cap is reached): answer 429 so Eventarc redelivers it; nothing failed."""


def excerpt(value: Any) -> str:
    """Return a short repr of a value from an event, safe for any size or depth."""
    return _EXCERPT.repr(value)
