"""Where run outcomes go: the ``outcomes_topic`` key and a route's ``notify`` webhook."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vertex_trigger.google.pipeline_states import EndState

# Pub/Sub topic ids: 3-255 characters, a letter first (Pub/Sub's resource name rules).
TOPIC = re.compile(r"^projects/[a-z][a-z0-9.:-]*[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")
VARIABLE_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
NOTIFY_KEYS = frozenset({"webhook", "on"})
DEFAULT_ON = frozenset({EndState.FAILED})


class SettingError(ValueError):
    """A notification setting is wrong; ``key`` names it (below the route)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


@dataclass(frozen=True)
class Notify:
    """A route's webhook: the environment variable holding its URL, and the states it hears."""

    webhook_variable: str
    on: frozenset[EndState] = DEFAULT_ON


def parse_topic(value: Any) -> str:
    """Return ``projects/P/topics/T`` or raise SettingError."""
    if not isinstance(value, str) or not TOPIC.match(value):
        raise SettingError(
            "outcomes_topic", f"expected a topic name projects/PROJECT/topics/TOPIC, got {value!r}"
        )
    return value


def parse_notify(raw: Any) -> Notify:
    """Read a route's ``notify`` mapping; the URL itself stays out of the file."""
    if not isinstance(raw, dict):
        raise SettingError("notify", f"expected a mapping with 'webhook' and 'on', got {raw!r}")
    unknown = sorted(str(key) for key in raw if key not in NOTIFY_KEYS)
    if unknown:
        raise SettingError(f"notify.{unknown[0]}", "unknown key (allowed: on, webhook)")
    return Notify(_webhook_variable(raw.get("webhook")), _states(raw.get("on", sorted(DEFAULT_ON))))


def _webhook_variable(value: Any) -> str:
    reference = VARIABLE_REFERENCE.match(value) if isinstance(value, str) else None
    if reference is None:
        # A URL written here would sit in the repository and the deployed source in clear.
        raise SettingError(
            "notify.webhook",
            "expected ${ENV_VAR}, the environment variable holding the webhook URL (set it from "
            "Secret Manager); the URL itself must not be written in the configuration",
        )
    return reference.group(1)


def _states(value: Any) -> frozenset[EndState]:
    allowed = ", ".join(state.value for state in EndState)
    if not isinstance(value, list) or not value:
        raise SettingError("notify.on", f"expected a non-empty list of {allowed}, got {value!r}")
    try:
        return frozenset(EndState(state) for state in value)
    except ValueError:
        raise SettingError("notify.on", f"states must be {allowed}, got {value!r}") from None


def webhook_url(notify: Notify, variables: Mapping[str, str]) -> str:
    """Return the https:// URL the variable holds, or raise SettingError saying what is wrong.

    The messages never echo the value, nor any part of it: the URL is a secret.
    """
    url = variables.get(notify.webhook_variable, "")
    if not url:
        raise SettingError(
            "notify.webhook", f"environment variable {notify.webhook_variable} is not set"
        )
    problem = _url_problem(url)
    if problem:
        raise SettingError(
            "notify.webhook", f"environment variable {notify.webhook_variable} {problem}"
        )
    return url


def _url_problem(url: str) -> str:
    """Say what keeps ``url`` from being a webhook URL the functions may post to, or ''."""
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        return "holds spaces, control or non-ASCII characters: not a URL (percent-encode them)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read for its check: a port that is not a number raises
    except ValueError:
        return "does not hold a well-formed URL"
    if parts.scheme != "https":
        # The text and the URL (a credential) must not cross the network in clear.
        return "does not hold an https:// URL: only https webhooks are accepted"
    if not parts.hostname:
        return "holds a URL without a host"
    if parts.username is not None or parts.password is not None:
        return "holds a URL with user:password@, which the functions never send"
    return ""
