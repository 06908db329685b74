"""What happened to one event, and its one structured log line."""

import enum
import json
import re
import sys
from dataclasses import dataclass
from typing import TextIO


class Decision(enum.StrEnum):
    """The closed set of outcomes for an event."""

    LAUNCHED = "launched"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    FAILED = "failed"
    REPORTED = "reported"  # on_run_state: a run's end was published (and posted)
    CANCELLED = "cancelled"  # the sweeper's watchdog cancelled a run live past max_duration


# Cloud Logging drops entries over 256 KB; event fields are untrusted and may be megabytes long.
FIELD_LIMIT = 2_000


# Shown as \uXXXX text in log lines: lone surrogates (no UTF-8 can carry one: writing it raised
# UnicodeEncodeError and lost the line), DEL and C1 controls, the bidi controls and the line and
# paragraph separators (a reader's console would reorder or break the line). JSON escapes C0.
_UNPRINTABLE = re.compile(
    r"[\ud800-\udfff\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def printable(text: str) -> str:
    """Return ``text`` with each unprintable character written as backslash-uXXXX (see above)."""
    return _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def clipped(text: str, limit: int = FIELD_LIMIT) -> str:
    """Return text cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


_SEVERITY = {
    Decision.LAUNCHED: "INFO",
    Decision.DUPLICATE: "INFO",
    Decision.SKIPPED: "INFO",
    Decision.REJECTED: "WARNING",
    Decision.DEFERRED: "INFO",  # waiting for capacity is the cap working, not a failure
    Decision.FAILED: "ERROR",
    Decision.REPORTED: "INFO",
    Decision.CANCELLED: "WARNING",  # a run hung or ran away: someone should look at it
}


@dataclass
class Trace:
    """What is known about an event so far, so any outcome can be logged with it."""

    event_id: str = ""
    source: str = ""
    route: str = ""
    job: str = ""

    def outcome(self, decision: Decision, reason: str = "") -> "Outcome":
        """Freeze the trace into an outcome."""
        return Outcome(decision, self.event_id, self.source, self.route, self.job, reason)


@dataclass(frozen=True)
class Outcome:
    """The result of handling one event."""

    decision: Decision
    event_id: str
    source: str
    route: str
    job: str
    reason: str

    def log_entry(self) -> dict[str, str]:
        """Return the Cloud Logging structured entry for this outcome."""
        entry = {
            "severity": _SEVERITY[self.decision],
            "message": clipped(self._message()),
            "decision": self.decision.value,
            "route": self.route,
            "event_id": clipped(self.event_id),
            "source": clipped(self.source),
        }
        if self.job:
            entry["job"] = self.job
        if self.reason:
            entry["reason"] = clipped(self.reason)
        return {key: printable(value) for key, value in entry.items()}

    def _message(self) -> str:
        subject = f" {self.source}" if self.source else ""
        head = f"{self.decision.value}{subject}"
        if self.job:
            head += f" -> {self.job}"
        return f"{head}: {self.reason}" if self.reason else head


def write_log(outcome: Outcome, stream: TextIO | None = None) -> None:
    """Write the outcome as one JSON line (Cloud Logging parses stdout JSON lines)."""
    out = stream or sys.stdout
    out.write(json.dumps(outcome.log_entry(), ensure_ascii=False) + "\n")
    out.flush()
