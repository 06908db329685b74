"""RFC 3339 timestamps as Google APIs write and filter them (Vertex AI, Cloud Storage)."""

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"(\.\d{6})\d+")  # RFC 3339 allows nanoseconds; datetime holds micro


def parse_rfc3339(text: str) -> datetime | None:
    """Return the moment ``text`` names (UTC when it has no offset), or None if it names none."""
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def filter_time(moment: datetime) -> str:
    """Return ``moment`` as an AIP-160 filter timestamp (UTC, seconds, ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
