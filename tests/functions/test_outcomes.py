"""The one log line per event stays within Cloud Logging's entry size, whatever the event holds."""

import io
import json

from vertex_trigger.decisions import FIELD_LIMIT, Decision, Trace, write_log


def test_huge_event_fields_are_clipped_in_the_log_line_and_say_how_much() -> None:
    name = "gs://data/" + "é" * 1_100_000
    trace = Trace(event_id="x" * 5_000, source=name, route="prices-arrival")
    stream = io.StringIO()
    write_log(trace.outcome(Decision.SKIPPED, f"object is outside prefix: {name}"), stream)
    line = stream.getvalue()
    entry = json.loads(line)
    assert line.count("\n") == 1 and len(line.encode()) < 8 * FIELD_LIMIT
    assert entry["source"].startswith("gs://data/éé")
    assert entry["source"].endswith(f"... ({len(name) - FIELD_LIMIT} more characters)")
    assert entry["event_id"].endswith(f"... ({5_000 - FIELD_LIMIT} more characters)")
    assert entry["reason"].startswith("object is outside prefix: gs://data/")
    assert (entry["decision"], entry["route"]) == ("skipped", "prices-arrival")


def test_short_fields_are_logged_whole() -> None:
    stream = io.StringIO()
    trace = Trace(event_id="e-1", source="gs://b/o.csv")
    write_log(trace.outcome(Decision.REJECTED, "bad"), stream)
    entry = json.loads(stream.getvalue())
    assert (entry["event_id"], entry["source"], entry["reason"]) == ("e-1", "gs://b/o.csv", "bad")
