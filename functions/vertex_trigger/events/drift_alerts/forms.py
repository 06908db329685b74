"""How the dispatcher recognises a form, and the rejection that lists every form it tried."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vertex_trigger.errors import RejectedEvent
from vertex_trigger.events.drift_alerts.alert import NO_NAMES, DriftAlert, VertexNames
from vertex_trigger.events.drift_alerts.fields import has


@dataclass(frozen=True)
class Context:
    """What an enclosing Cloud Logging LogEntry says about the payload inside it."""

    names: VertexNames = NO_NAMES
    in_log_entry: bool = False


NO_CONTEXT = Context()
Parser = Callable[[Mapping[str, Any], Context], DriftAlert]


@dataclass(frozen=True)
class Form:
    """One accepted shape: its name, the keys that mark it, and its parser."""

    title: str
    keys: tuple[str, ...]  # any one of them (in either spelling) marks the shape; first is named
    parse: Parser

    def recognises(self, payload: Mapping[str, Any]) -> bool:
        """Tell whether ``payload`` carries one of this form's marking keys."""
        return any(has(payload, key) for key in self.keys)


def parse_first(
    payload: Mapping[str, Any], forms: tuple[Form, ...], what: str, context: Context
) -> DriftAlert:
    """Parse ``payload`` with the first form that recognises it; else say what each lacked."""
    for form in forms:
        if form.recognises(payload):
            return form.parse(payload, context)
    tried = "; ".join(f"{form.title}: no {form.keys[0]!r}" for form in forms)
    raise RejectedEvent(f"not {what}: no accepted form matches (tried {tried})")
