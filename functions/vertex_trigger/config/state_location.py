"""Top-level ``state`` and ``pause_check``: where route pauses live, and how long one is trusted.

A pause is a small JSON object per route under ``state`` (Cloud Storage), written by the operator's
``vertex-triggers pause`` and read by every instance, at most once per ``pause_check`` per route.
"""

from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.durations import parse_duration
from vertex_trigger.config.notify import SettingError

STATE = "state"
PAUSE_CHECK = "pause_check"
# How long an instance trusts its last read of a route's pause: a pause or a resume takes effect on
# every instance within this long. The default keeps it within half a minute.
DEFAULT_PAUSE_CHECK = 30.0
MAX_PAUSE_CHECK = 60.0
PAUSES = "pauses"  # the folder of pause records under the state location


@dataclass(frozen=True)
class StateLocation:
    """``gs://BUCKET[/PREFIX]``: the objects the routes' operators write and the functions read."""

    bucket: str
    prefix: str = ""  # without a trailing slash

    @property
    def uri(self) -> str:
        """Return ``gs://BUCKET[/PREFIX]``."""
        return f"gs://{self.bucket}/{self.prefix}".rstrip("/")

    def pause_object(self, route: str) -> str:
        """Return the object name of a route's pause record."""
        return f"{self.pauses_folder}{route}.json"

    @property
    def pauses_folder(self) -> str:
        """Return the object-name prefix of every pause record."""
        return f"{self.prefix}/{PAUSES}/" if self.prefix else f"{PAUSES}/"


def parse_state(value: Any) -> StateLocation:
    """Return the state location or raise SettingError."""
    if not isinstance(value, str) or not value.startswith("gs://") or len(value) <= len("gs://"):
        raise SettingError(STATE, f"expected a gs://BUCKET[/PREFIX] URI, got {value!r}")
    bucket, _, prefix = value.removeprefix("gs://").partition("/")
    if not bucket:
        raise SettingError(STATE, f"expected a gs://BUCKET[/PREFIX] URI, got {value!r}")
    return StateLocation(bucket, prefix.strip("/"))


def parse_pause_check(value: Any) -> float:
    """Return how long a pause read is trusted, in seconds (at most a minute)."""
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise SettingError(PAUSE_CHECK, str(exc)) from None
    if seconds > MAX_PAUSE_CHECK:
        raise SettingError(
            PAUSE_CHECK,
            f"at most {MAX_PAUSE_CHECK:g}s, so that a pause takes effect within a minute, "
            f"got {value!r}",
        )
    return seconds
