"""What a run carries to name its trigger (display name and labels), and reading it back.

Vertex keeps no free text on a PipelineJob besides ``displayName`` (at most 128 characters), and
label values are at most 63 characters of ``[a-z0-9_-]``. So the readable source goes in the
display name (elided in the middle when longer) and the event id in a label, escaped so that it
reads back exactly when it fits; the route and kind are labels already.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.labels import EVENT_LABEL, KIND_LABEL, ROUTE_LABEL, short_hash

DISPLAY_NAME_LIMIT = 128
ELISION = "…"
_HEAD = (DISPLAY_NAME_LIMIT - len(ELISION)) // 2
_TAIL = DISPLAY_NAME_LIMIT - len(ELISION) - _HEAD
LABEL_VALUE_LIMIT = 63
# Characters an event id keeps in its label; any other byte is written `_xx` (lowercase hex).
_KEPT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
# An escape is `_` and two hex digits, so `_h` never starts one: this marks a hashed id.
HASHED_EVENT = "_hash-"
_ESCAPE = re.compile(r"_([0-9a-f]{2})")


@dataclass(frozen=True)
class RunTrigger:
    """The trigger a run names: route, kind, readable source and event id."""

    route: str
    kind: str
    source: str
    event_id: str


def display_name(source: str) -> str:
    """Return the run's display name: the source, printable, elided in the middle to fit."""
    # Control, format (bidi) and lone surrogate characters would mislead or break the console.
    readable = "".join(ch if ch.isprintable() else "\ufffd" for ch in source)
    if len(readable) <= DISPLAY_NAME_LIMIT:
        return readable
    # Keep the start (bucket, folder) and the end (file name, #generation): what people read.
    return f"{readable[:_HEAD]}{ELISION}{readable[-_TAIL:]}"


def event_label(event_id: str) -> str:
    """Return the event id as a label value: as is, escaped, or (too long) a hash of it."""
    encoded = "".join(ch if ch in _KEPT else _escaped(ch) for ch in event_id)
    if len(encoded) <= LABEL_VALUE_LIMIT:
        return encoded
    return HASHED_EVENT + short_hash(event_id)


def event_id_from_label(value: str) -> str:
    """Return the event id an ``event_label`` value stands for (``sha256:...`` when hashed)."""
    if value.startswith(HASHED_EVENT):
        return f"sha256:{value.removeprefix(HASHED_EVENT)}"
    raw = bytearray()
    position = 0
    while position < len(value):
        escape = _ESCAPE.match(value, position)
        if escape:
            raw.append(int(escape.group(1), 16))
            position = escape.end()
        else:
            raw.extend(value[position].encode("utf-8"))
            position += 1
    return raw.decode("utf-8", errors="replace")


def trigger_of(job: Mapping[str, Any]) -> RunTrigger | None:
    """Return the trigger a PipelineJob names, or None when no route of ours created it."""
    labels = job.get("labels")
    if not isinstance(labels, dict):
        return None
    route, kind = labels.get(ROUTE_LABEL), labels.get(KIND_LABEL)
    if not isinstance(route, str) or not route or not isinstance(kind, str):
        return None
    name = str(job.get("displayName") or "")
    # Runs launched before display names carried the source were named after their job id.
    source = "" if name == str(job.get("name", "")).rsplit("/", 1)[-1] else name
    return RunTrigger(route, kind, source, event_id_from_label(str(labels.get(EVENT_LABEL, ""))))


def _escaped(character: str) -> str:
    return "".join(f"_{byte:02x}" for byte in character.encode("utf-8", "surrogatepass"))
