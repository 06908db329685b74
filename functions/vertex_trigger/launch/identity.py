"""A run's identity: its deterministic job id, and what it carries to name its trigger.

Job ids are derived from the event's identity, so a redelivered event (or the sweeper) meets the
same id and Vertex's 409 says it was launched already; they must never change across versions
(docs/design.md#deterministic-job-ids). The display name and labels name the trigger; reading
them back tells which route made a run.

Vertex keeps no free text on a PipelineJob besides ``displayName`` (at most 128 characters), and
label values are at most 63 characters of ``[a-z0-9_-]``. So the readable source goes in the
display name (elided in the middle when longer) and the event id in a label, escaped so that it
reads back exactly when it fits; the route and kind are labels already.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.config.labels import (
    EVENT_LABEL,
    KIND_LABEL,
    ROUTE_LABEL,
    SOURCE_LABEL,
    UPSTREAM_LABEL,
)
from vertex_trigger.config.model import Route
from vertex_trigger.google.resource_names import job_id_of

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


def short_hash(*parts: str, length: int = 16) -> str:
    """Return a stable lowercase hex digest of ``parts`` (unambiguous joining)."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:length]


def job_id(route: str, *identity: str) -> str:
    """Return a deterministic PipelineJob id for ``route`` and the event's identity."""
    return f"{route}-{short_hash(route, *identity, length=20)}"


def former_job_ids(route: Route, *identity: str) -> tuple[str, ...]:
    """Return the ids the same run had under the route's former names (``renamed_from``)."""
    return tuple(job_id(name, *identity) for name in route.renamed_from)


def run_labels(route: Route, kind: str, source_id: str, event_id: str) -> dict[str, str]:
    """Return the route's labels plus the trigger's own (route, kind, source identity, event)."""
    return {
        **route.labels,
        ROUTE_LABEL: route.name,
        KIND_LABEL: kind,
        SOURCE_LABEL: source_id,
        EVENT_LABEL: event_label(event_id),
    }


def chain_labels(route: Route, source_id: str, event_id: str, upstream_job: str) -> dict[str, str]:
    """Return a run_ended route's run labels: the trigger's, and the upstream run's job id."""
    # Job ids are label characters already; one longer than a label value is hashed.
    labels = run_labels(route, "run", source_id, event_id)
    return {**labels, UPSTREAM_LABEL: event_label(upstream_job)}


@dataclass(frozen=True)
class RunTrigger:
    """The trigger a run names: route, kind, readable source, event id, and upstream run."""

    route: str
    kind: str
    source: str
    event_id: str
    upstream: str = ""  # run_ended routes: the job id of the run whose end launched this one


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
    source = "" if name == job_id_of(job) else name
    upstream = labels.get(UPSTREAM_LABEL)
    return RunTrigger(
        route,
        kind,
        source,
        event_id_from_label(str(labels.get(EVENT_LABEL, ""))),
        event_id_from_label(upstream) if isinstance(upstream, str) else "",
    )


def _escaped(character: str) -> str:
    return "".join(f"_{byte:02x}" for byte in character.encode("utf-8", "surrogatepass"))
