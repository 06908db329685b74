"""How a run ended, read from the PipelineJob Vertex returns, as the message and text sent out."""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from vertex_trigger.decisions import clipped
from vertex_trigger.google.pipeline_states import EndState, state_of
from vertex_trigger.google.resource_names import job_name_parts
from vertex_trigger.launch.identity import RunTrigger

CONSOLE_RUN_URL = "https://console.cloud.google.com/vertex-ai/locations/{location}/pipelines/runs/{job}?project={project}"
WEBHOOK_ERROR_LIMIT = 500  # a chat line, not a report: the console link has the rest


@dataclass(frozen=True)
class RunEnd:
    """How one run ended and which event started it: the published message's fields."""

    job: str
    state: EndState
    route: str
    trigger_kind: str
    source: str
    event_id: str
    create_time: str
    end_time: str
    error: str | None
    console_url: str
    upstream: str | None = None  # a run_ended route's run: the run whose end launched it
    # What the trigger did about this end, or why it came: a retry, the last attempt, the
    # watchdog, a replacing run (None: nothing to say).
    note: str | None = None

    @property
    def outcome_id(self) -> str:
        """Return the id consumers drop repeats by: one per run and end state."""
        return f"{self.job}/{self.state}"

    def message_data(self) -> bytes:
        """Return the JSON message body."""
        fields = {"outcome_id": self.outcome_id, **asdict(self), "state": self.state.value}
        return json.dumps(fields, ensure_ascii=False).encode("utf-8")

    def attributes(self) -> dict[str, str]:
        """Return the message attributes subscribers can filter on."""
        return {"route": self.route, "state": self.state.value}

    def summary(self) -> str:
        """Return one line: ``run JOB STATE for SOURCE (event ID)``."""
        source = f" for {self.source}" if self.source else ""
        event = f" (event {self.event_id})" if self.event_id else ""
        after = f" after run {self.upstream}" if self.upstream else ""
        return f"run {self.job} {self.state}{source}{event}{after}"

    def webhook_text(self) -> str:
        """Return the short text posted to a webhook: the summary, the error, the console link."""
        error = f": {clipped(self.error, WEBHOOK_ERROR_LIMIT)}" if self.error else ""
        note = f"\n{self.note}" if self.note else ""
        return f"{self.summary()}{error}{note}\n{self.console_url}"


def run_end(job: Mapping[str, Any], trigger: RunTrigger) -> RunEnd | None:
    """Return the outcome of a run in an end state, or None while it has not ended."""
    try:
        state = EndState(state_of(job))
    except ValueError:
        return None
    project, location, job_id = job_name_parts(str(job.get("name", "")))
    error = job["error"] if isinstance(job.get("error"), dict) else {}
    return RunEnd(
        job=job_id,
        state=state,
        route=trigger.route,
        trigger_kind=trigger.kind,
        source=trigger.source,
        event_id=trigger.event_id,
        create_time=str(job.get("createTime", "")),
        end_time=str(job.get("endTime", "")),
        # A cancelled run's error is Vertex's "CANCELED": the state says it already.
        error=clipped(str(error.get("message", ""))) if state is EndState.FAILED else None,
        console_url=CONSOLE_RUN_URL.format(location=location, job=job_id, project=project),
        upstream=trigger.upstream or None,
    )
