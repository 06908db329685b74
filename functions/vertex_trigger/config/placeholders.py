"""Plain-text ``{placeholder}`` substitution: no attribute access, indexing or evaluation.

A structured value (a mapping or a list, as YAML or as JSON text parsed first) gets its
placeholders substituted in its string leaves only: inserted text is always one string value,
never syntax, whatever it contains.
"""

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from vertex_trigger.config.output_refs import REFERENCE, OutputKind, output_ref, ref_problem
from vertex_trigger.events.drift_alerts.match_fields import MATCH_FIELDS

OBJECT_PLACEHOLDERS = frozenset(
    {
        "bucket",
        "name",
        "uri",
        "generation",
        "content_type",
        "size",
        "time_created",
        "event_id",
        "event_time",
    }
)
# Batch routes launch for a folder, also from the sweeper with no event: only the batch's own
# values (and its bucket) are the same whoever launches it.
BATCH_PLACEHOLDERS = frozenset(
    {"bucket", "batch_uri", "batch_folder", "batch_objects", "batch_bytes"}
)
MANIFEST_PLACEHOLDERS = BATCH_PLACEHOLDERS | {"batch_manifest_uri"}
# Every drift match field, plus what an alert adds as text (features, max_deviation) and the event.
DRIFT_PLACEHOLDERS = MATCH_FIELDS | {"features", "max_deviation", "event_id", "event_time"}
# run_ended routes: the upstream run that ended. `event_time` is its end time, and there is no
# `event_id`: the log entry's and the sweeper's launches must send the same body.
RUN_PLACEHOLDERS = frozenset(
    {
        "upstream_job",
        "upstream_route",
        "upstream_state",
        "upstream_pipeline",
        "upstream_source",
        "upstream_event_id",
        "event_time",
    }
)

_NAME = rf"[A-Za-z_][A-Za-z0-9_]*|{REFERENCE}"
PLACEHOLDER_IN_KEY = (
    "a placeholder in a mapping key: keys are taken as written, placeholders are substituted in "
    "string values only"
)
# `{{name}}` is an escaped literal `{name}`; other braces are plain text (JSON stays valid).
# A name is a placeholder or, on run_ended routes, an output reference (config/output_refs.py).
_TOKEN = re.compile(rf"\{{\{{({_NAME})\}}\}}|\{{({_NAME})\}}")


def placeholders_in(text: str) -> set[str]:
    """Return the placeholder names used in ``text`` (escaped ones excluded)."""
    return {m.group(2) for m in _TOKEN.finditer(text) if m.group(2)}


def unknown_placeholder(
    text: str, allowed: frozenset[str], routes: str, refs: Collection[OutputKind] = ()
) -> str:
    """Return what is wrong with the placeholders of a configured ``text``, or ''.

    ``refs``: the kinds of output reference the text may hold (none but on run_ended routes).
    """
    used = placeholders_in(text)
    for name in sorted(used):
        ref = output_ref(name)
        problem = ref_problem(ref, refs) if ref else ""
        if problem:
            return problem
    unknown = {name for name in used if output_ref(name) is None} - allowed
    if not unknown:
        return ""
    return (
        f"unknown placeholder {{{sorted(unknown)[0]}}} for {routes} routes "
        f"(known: {', '.join(sorted(allowed))}; write {{{{x}}}} for a literal {{x}})"
    )


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``{name}`` with ``values[name]`` in one pass; inserted text is not rescanned."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "{" + match.group(1) + "}"
        return values[match.group(2)]

    return _TOKEN.sub(replace, text)


def substitute_leaves(value: Any, values: Mapping[str, str]) -> Any:
    """Return ``value`` with each string leaf substituted; keys and other leaves as they are."""
    if isinstance(value, str):
        return substitute(value, values)
    if isinstance(value, list):
        return [substitute_leaves(item, values) for item in value]
    if isinstance(value, dict):
        return {key: substitute_leaves(item, values) for key, item in value.items()}
    return value


def string_leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (path, text) for each string leaf of a value (``a.b``, ``a[0]``), itself included."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, f"{path}.{key}" if path else str(key))


def keys_with_placeholders(value: Any, path: str = "") -> Iterator[str]:
    """Yield the path of each mapping key, at any depth, that holds a placeholder."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from keys_with_placeholders(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and placeholders_in(key):
                yield where
            yield from keys_with_placeholders(item, where)
