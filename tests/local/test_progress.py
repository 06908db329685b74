"""Progress reporting against the real emulator and real function log lines."""

import json

import pytest
import requests

from local.progress import DecisionLog, RunMonitor
from local.vertex_emulator import start_emulator
from tests.emulator.helpers import PARENT, body_for, compile_spec, tiny_pipeline


@pytest.fixture
def emulator(tmp_path):
    with start_emulator(tmp_path / "state", execute=False) as emu:
        yield emu


def test_monitor_reports_new_runs_and_state_changes_once(emulator, tmp_path):
    spec = compile_spec(tiny_pipeline, tmp_path)
    lines: list[str] = []
    monitor = RunMonitor(emulator.url, PARENT, lines.append)
    body = {**body_for(spec, a=1), "labels": {"trigger-route": "arrival", "trigger-kind": "object"}}
    url = f"{emulator.url}/v1/{PARENT}/pipelineJobs"
    requests.post(url, params={"pipelineJobId": "run-1"}, json=body, timeout=10)
    monitor.poll()
    monitor.poll()
    requests.post(f"{url}/run-1:cancel", timeout=10)
    monitor.poll()
    assert lines == [
        "  run run-1 created by arrival (object)",
        "  run run-1: PIPELINE_STATE_PENDING",
        "  run run-1: PIPELINE_STATE_CANCELLED (CANCELED)",
    ]


def test_decision_log_prints_each_decision_line_once(tmp_path):
    log = tmp_path / "on_object_finalized.log"
    entry = {
        "severity": "INFO",
        "decision": "launched",
        "job": "projects/p/locations/l/pipelineJobs/j-1",
    }
    log.write_text("some startup banner\n" + json.dumps(entry) + "\n" + '{"decision": "skip')
    lines: list[str] = []
    follow = DecisionLog([log], lines.append)
    assert [e["decision"] for e in follow()] == ["launched"]
    with log.open("a") as out:
        out.write('ped", "reason": "outside prefix"}\n')
    follow()
    assert lines == [
        "  on_object_finalized: launched j-1",
        "  on_object_finalized: skipped (outside prefix)",
    ]


def test_decision_log_prints_only_what_it_is_told_to_and_returns_every_line(tmp_path):
    log = tmp_path / "on_run_state.log"
    lines_in = [{"decision": "skipped", "route": "a", "reason": "state RUNNING is not an end"},
                {"decision": "launched", "route": "chain", "job": "chain-1"}]  # fmt: skip
    log.write_text("".join(json.dumps(entry) + "\n" for entry in lines_in))
    printed: list[str] = []
    follow = DecisionLog([log], printed.append, shown=lambda fn, entry: entry["route"] == "chain")
    assert follow() == lines_in
    assert printed == ["  on_run_state: launched chain-1"]


def test_monitor_sees_runs_beyond_the_first_page(emulator, tmp_path):
    # `make up` keeps runs across sessions: the 101st run is past Vertex's default page of 100.
    body = body_for(compile_spec(tiny_pipeline, tmp_path), a=1)
    url = f"{emulator.url}/v1/{PARENT}/pipelineJobs"
    with requests.Session() as session:
        for n in range(101):
            session.post(url, params={"pipelineJobId": f"run-{n:03d}"}, json=body, timeout=10)
    jobs = RunMonitor(emulator.url, PARENT, lambda line: None).jobs()
    assert [job["name"].rsplit("/", 1)[-1] for job in jobs] == [f"run-{n:03d}" for n in range(101)]
