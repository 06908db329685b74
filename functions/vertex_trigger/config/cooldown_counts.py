"""Route key ``cooldown_counts``: which of a route's recent runs hold the next drift alert back."""

import enum
from typing import Any

KEY = "cooldown_counts"


class CooldownCounts(enum.StrEnum):
    """The runs that count for a cooldown."""

    LIVE = "live"  # every run not cancelled: a failed run also holds the next alert back
    SUCCEEDED_OR_RUNNING = "succeeded_or_running"  # a failed run does not: the drift retrains


# A retrain that failed (bad data, quota, a bug) left the drifted model serving: the next alert
# should retrain again rather than wait out the cooldown.
DEFAULT = CooldownCounts.SUCCEEDED_OR_RUNNING


def parse_cooldown_counts(value: Any) -> CooldownCounts:
    """Return the configured choice; raise ValueError listing the allowed ones."""
    try:
        return CooldownCounts(value)
    except ValueError:
        allowed = " or ".join(c.value for c in CooldownCounts)
        raise ValueError(f"expected {allowed}, got {value!r}") from None
