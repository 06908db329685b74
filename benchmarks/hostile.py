"""Hostile CloudEvents: a hand-written corpus and hypothesis strategies, checked over real HTTP.

Each event goes once to the real functions-framework server. A case passes when the answer is a
2xx (the emulator is healthy, so nothing a retry could fix is wrong) or the deliberate 400 of a
request that is not a CloudEvent, a malformed event launches nothing, a well-formed one with hostile
text launches with that text literally in its parameters, the function logs exactly one decision
line for every event (with a reason when it does not launch), that line fits in a Cloud Logging
entry, and the server still answers afterwards.

    .venv/bin/python -m benchmarks.hostile --examples 1000
"""

from __future__ import annotations

import argparse
import base64
import enum
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cloudevents.http import CloudEvent

from benchmarks.events import PUBSUB_PUBLISHED, STORAGE_FINALIZED, pubsub_data
from benchmarks.stack import Stack, dumps, running_stack
from local.cloud_event_http import encode, post_binary

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "hostile"
# Cloud Logging rejects a LogEntry above 256 KB: a longer line is a lost line.
MAX_LOG_LINE_BYTES = 256 * 1024
NO_RUN_DECISIONS = {"rejected", "skipped"}
RUN_DECISIONS = {"launched", "duplicate"}


class Expect(enum.Enum):
    """What a hostile event may do."""

    NO_RUN = "no_run"  # malformed or ineligible: never a run
    RUN = "run"  # well-formed and eligible: a run whose parameters carry the text literally
    LITERAL_IF_RUN = "literal_if_run"  # the product may refuse it, but a run must be literal


@dataclass(frozen=True)
class HostileEvent:
    """One HTTP delivery: a target function, headers, body and what it may do."""

    name: str
    target: str  # "object" or "drift"
    event_id: str
    headers: dict[str, str]
    body: bytes
    expect: Expect
    parameters: dict[str, Any] = field(default_factory=dict)  # expected literal parameters
    expect_status: int | None = None  # a framework-level status (e.g. 400): not a CloudEvent


def _set_path(document: Any, path: list, value: Any) -> None:
    """Set document[path[0]][path[1]]... = value."""
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


_NEST = "\u0000nest\u0000"


def _document_text(case: dict, document: Any) -> str:
    """Serialize a case's document, applying `pad` (a huge string) and `nest` (deep JSON).

    Deep nesting is spliced in as text: the json module cannot encode 100,000 levels.
    """
    document = json.loads(json.dumps(document))
    if pad := case.get("pad"):
        _set_path(document, pad["path"], pad.get("prefix", "") + pad["repeat"] * pad["times"])
    if nest := case.get("nest"):
        _set_path(document, nest["path"], _NEST)
    text = json.dumps(document, allow_nan=True, ensure_ascii=False)
    if nest:
        depth = nest["depth"]
        text = text.replace(json.dumps(_NEST), "[" * depth + "0" + "]" * depth)
    return text


def _drift_data(case: dict, event_id: str) -> Any:
    """Return MessagePublishedData for a drift case from its alert, alert text or message data."""
    if "alert" in case:
        return pubsub_data(_document_text(case, case["alert"]), event_id)
    if "alert_text" in case:
        return pubsub_data(case["alert_text"], event_id)
    if "alert_base64" in case:
        return pubsub_data(base64.b64decode(case["alert_base64"]), event_id)
    data = pubsub_data(b"", event_id)
    data["message"]["data"] = case["message_data"]
    return data


def _attributes(case: dict, event_id: str) -> dict[str, Any]:
    """Return the CloudEvent attributes Eventarc would set, with the case's overrides."""
    default_type = STORAGE_FINALIZED if case["target"] == "object" else PUBSUB_PUBLISHED
    attributes = {
        "id": event_id,
        "type": default_type,
        "source": "//hostile.example/corpus",
        "datacontenttype": "application/json",
    }
    attributes.update(case.get("attributes", {}))
    return attributes


def _data(case: dict, event_id: str) -> Any:
    """Return the case's CloudEvent data: a JSON value, or its text as bytes when padded/nested."""
    if case["target"] == "drift" and "data" not in case:
        return _drift_data(case, event_id)
    if "pad" in case or "nest" in case:
        return _document_text(case, case["data"]).encode("utf-8")
    return case.get("data")


def _raw_body(case: dict) -> tuple[bytes] | None:
    """Return the case's literal HTTP body (text, base64 or a repeated text), if it has one."""
    if "body" in case:
        return (case["body"].encode("utf-8"),)
    if "body_base64" in case:
        return (base64.b64decode(case["body_base64"]),)
    if repeat := case.get("body_repeat"):
        return ((repeat["text"] * repeat["times"]).encode("utf-8"),)
    return None


def _encode(case: dict, event_id: str) -> tuple[dict[str, str], bytes]:
    """Return HTTP headers and body for a case, as the `cloudevents` client encodes them."""
    attributes = _attributes(case, event_id)
    if raw := _raw_body(case):
        headers = {f"ce-{k}": str(v) for k, v in attributes.items()}
        return headers | {"ce-specversion": "1.0", "content-type": "application/json"}, raw[0]
    event = CloudEvent(attributes, _data(case, event_id))
    return encode(event, structured=case.get("mode") == "structured")


def load_corpus(directory: Path = CORPUS_DIR) -> list[HostileEvent]:
    """Read every `*.json` case of the hand-written corpus."""
    events = []
    for path in sorted(directory.glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        event_id = case.get("event_id", f"hostile-{path.stem}")
        headers, body = _encode(case, event_id)
        for name in case.get("drop_headers", []):
            headers.pop(name, None)
        headers.update(case.get("headers", {}))
        events.append(
            HostileEvent(
                path.stem,
                case["target"],
                event_id,
                headers,
                body,
                Expect(case["expect"]),
                case.get("parameters", {}),
                case.get("expect_status"),
            )
        )
    return events


@dataclass
class Verdict:
    """What one hostile event did and what was wrong with it."""

    event: HostileEvent
    status: int | str
    decision: str = ""
    problems: list[str] = field(default_factory=list)


class HostileRunner:
    """Send hostile events one at a time and check each against the stack's logs and runs."""

    def __init__(self, stack: Stack, log_timeout: float = 3.0) -> None:
        """Check events against `stack`; wait up to `log_timeout` s for each log line."""
        self.stack = stack
        self.session = requests.Session()
        self.log_timeout = log_timeout
        self._seen_requests = len(stack.emulator.requests_received())

    def _server(self, target: str):
        return self.stack.objects if target == "object" else self.stack.drift

    def send(self, event: HostileEvent) -> Verdict:
        """Deliver one event and judge it."""
        server = self._server(event.target)
        logged = len(server.log_records())
        try:
            response = self.session.post(
                server.url, headers=event.headers, data=event.body, timeout=60
            )
            verdict = Verdict(event, response.status_code)
        except requests.RequestException as exc:
            return Verdict(event, type(exc).__name__, problems=[f"no HTTP answer: {exc}"])
        self._judge_status(verdict)
        records = self._records_for(server, logged, event, verdict)
        self._judge_log(verdict, records)
        self._judge_runs(verdict, self._new_creates())
        return verdict

    def _judge_status(self, verdict: Verdict) -> None:
        expected = verdict.event.expect_status
        if expected is not None and verdict.status != expected:
            verdict.problems.append(f"HTTP {verdict.status}, expected {expected}")
        elif expected is None and not (isinstance(verdict.status, int) and verdict.status < 300):
            verdict.problems.append(f"HTTP {verdict.status} for an event no retry can fix")

    def _records_for(self, server, logged: int, event: HostileEvent, verdict: Verdict) -> list:
        """Wait for the function's log line for this event.

        A framework-level answer (no CloudEvent, so maybe no id) is matched as the line written
        since this event was sent: events are sent one at a time.
        """
        framework = event.expect_status is not None
        deadline = time.monotonic() + self.log_timeout
        while True:
            fresh = server.log_records()[logged:]
            mine = [r for r in fresh if framework or r.get("event_id") == event.event_id]
            if mine or time.monotonic() > deadline:
                return mine
            time.sleep(0.01)

    def _judge_log(self, verdict: Verdict, records: list[dict]) -> None:
        if len(records) != 1:
            verdict.problems.append(f"{len(records)} log lines for the event, expected 1")
            return
        record = records[0]
        verdict.decision = str(record.get("decision"))
        size = len(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        if size > MAX_LOG_LINE_BYTES:
            verdict.problems.append(f"log line of {size} bytes exceeds Cloud Logging's 256 KB")
        if verdict.decision in NO_RUN_DECISIONS and not record.get("reason"):
            verdict.problems.append(f"decision {verdict.decision} without a reason")
        if verdict.decision not in NO_RUN_DECISIONS | RUN_DECISIONS:
            verdict.problems.append(f"decision {verdict.decision!r}: {record.get('reason')!r}")
        if verdict.event.expect is Expect.NO_RUN and verdict.decision in RUN_DECISIONS:
            verdict.problems.append(f"malformed event {verdict.decision}: {record.get('job')}")
        if verdict.event.expect is Expect.RUN and verdict.decision not in RUN_DECISIONS:
            verdict.problems.append(
                f"expected a run, got {verdict.decision}: {record.get('reason')}"
            )

    def _new_creates(self) -> list[dict]:
        """Return the create requests the emulator received since the last call."""
        received = self.stack.emulator.requests_received()
        fresh, self._seen_requests = received[self._seen_requests :], len(received)
        return fresh

    def _judge_runs(self, verdict: Verdict, creates: list[dict]) -> None:
        created = [c for c in creates if _succeeded(c)]
        if verdict.event.expect is Expect.NO_RUN and created:
            verdict.problems.append(f"malformed event created {[c['job_id'] for c in created]}")
        for create in created:
            values = create.get("body", {}).get("runtimeConfig", {}).get("parameterValues", {})
            for key, expected in verdict.event.parameters.items():
                if values.get(key) != expected:
                    verdict.problems.append(
                        f"parameter {key}: {_short(values.get(key))} != literal {_short(expected)}"
                    )


def _succeeded(create: dict) -> bool:
    """Tell whether a create request recorded by the emulator made a job."""
    status = create.get("status")
    return isinstance(status, int) and 200 <= status < 300


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 120 else f"{text[:100]}...({len(text)} chars)"


def server_answers(stack: Stack) -> bool:
    """Tell whether both functions still answer a well-formed (ineligible) event with a 2xx."""
    from benchmarks.events import drift_alert, pubsub_event, storage_event, storage_object

    # Events each function answers 200 without launching: another bucket, a deviation below 0.3.
    object_probe = storage_event(storage_object("elsewhere", "probe.txt", "1"), "liveness-probe")
    alert = drift_alert("liveness-probe-model", deviation=0.01)
    drift_probe = pubsub_event(pubsub_data(alert, "liveness-probe"), "liveness-probe")
    answers = [
        post_binary(stack.objects.url, object_probe, timeout=30),
        post_binary(stack.drift.url, drift_probe, timeout=30),
    ]
    return (
        all(a.status_code == 200 for a in answers) and stack.objects.alive() and stack.drift.alive()
    )


def summarize(verdicts: list[Verdict]) -> dict[str, Any]:
    """Return the counts to print for a batch of verdicts."""
    return {
        "events": len(verdicts),
        "failures": sum(1 for v in verdicts if v.problems),
        "http_statuses": dict(Counter(str(v.status) for v in verdicts)),
        "decisions": dict(Counter(v.decision or "(framework)" for v in verdicts)),
    }


def run_generated(runner: HostileRunner, examples: int, seed: int) -> list[Verdict]:
    """Send `examples` hypothesis-generated events, an equal share from each family."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fix_seed

    from benchmarks.hostile_strategies import FAMILIES

    verdicts: list[Verdict] = []
    # One run per family: a single one_of over them lets hypothesis favour some families.
    for strategy in FAMILIES.values():

        @fix_seed(seed)
        @settings(
            max_examples=examples // len(FAMILIES),
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy())
        def check(event: HostileEvent) -> None:
            verdicts.append(runner.send(event))

        check()
    return verdicts


def main(argv: list[str] | None = None) -> int:
    """Send the corpus and the generated events, print figures and every failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--examples", type=int, default=1000, help="hypothesis-generated events")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    with running_stack() as stack:
        runner = HostileRunner(stack)
        started = time.perf_counter()
        corpus = [runner.send(event) for event in load_corpus()]
        generated = run_generated(runner, args.examples, args.seed)
        wall = time.perf_counter() - started
        alive = server_answers(stack)
    for verdict in corpus + generated:
        for problem in verdict.problems:
            print(f"FAIL {verdict.event.name} ({verdict.event.event_id}): {problem}")
    print(dumps({"corpus": summarize(corpus), "generated": summarize(generated)}))
    print(f"server still answering: {alive}; wall {wall:.1f} s")
    failed = any(v.problems for v in corpus + generated)
    return 0 if alive and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
