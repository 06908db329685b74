"""`make up` / `python -m local.up` with a routes file of yours: the banner says what each route
watches and how to trigger it; SIGTERM (a CI timeout, `kill`) stops every process the stack
started, as Ctrl-C does, also in the middle of starting."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl
from vertex_trigger.public import EventKind

from local.routes import read_routes, routes_banner, start_up_check
from local.routes_demo import RoutesDemo
from local.stack import StackEndpoints, StackSettings
from tests.local.test_entry_points import processes_marked

REPO = Path(__file__).resolve().parents[2]


@dsl.component(base_image="python:3.11")
def echo(data_uri: str) -> str:
    """Return the URI it was launched for."""
    return data_uri


@dsl.pipeline(name="echo-uri")
def echo_uri(data_uri: str):
    echo(data_uri=data_uri)


def write_routes(folder: Path, **top) -> Path:
    compiler.Compiler().compile(echo_uri, str(folder / "echo.yaml"))
    routes = [
        {"name": "arrival", "event": "object_finalized", "bucket": "acme-raw",
         "prefix": "incoming/", "suffix": ".csv", "template": "echo.yaml",
         "parameters": {"data_uri": "{uri}"}},
        {"name": "retrain", "event": "drift_alert", "match": {"model": "*churn*"},
         "min_deviation": 0.3, "cooldown": "1h", "template": "echo.yaml",
         "parameters": {"data_uri": "gs://acme-raw/training/latest.csv"}},
    ]  # fmt: skip
    document = {"project": "acme-prod", "region": "europe-west4",
                "pipeline_root": "gs://acme-pipelines/runs", **top, "routes": routes}  # fmt: skip
    path = folder / "triggers.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_the_banner_says_what_each_route_watches_and_how_to_trigger_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = read_routes(write_routes(tmp_path))

    banner = routes_banner(config, tmp_path / ".demo" / "buckets", "127.0.0.1:8085").splitlines()

    assert banner == [
        "routes of triggers.yaml:",
        "  arrival (object_finalized) launches on new objects gs://acme-raw/incoming/*.csv",
        "      cp YOUR_FILE .demo/buckets/acme-raw/incoming/NAME.csv",
        "  retrain (drift_alert) launches on drift alerts (model=*churn*, a feature deviating >= "
        "0.3, at most one run per model per 3600s)",
        "      PUBSUB_EMULATOR_HOST=127.0.0.1:8085 .venv/bin/python -m local.send_alert --model "
        "churn --feature my_feature=0.5",
    ]


def test_the_demos_batch_route_says_how_to_complete_a_folder(monkeypatch):
    monkeypatch.chdir(REPO)
    config = read_routes(REPO / "functions" / "triggers.yaml")

    banner = routes_banner(config, REPO / ".demo" / "buckets", "h:1")

    assert ("  prices-export (object_finalized) launches on folders of objects "
            "gs://local-data/exports/*.csv, once the marker FOLDER/_SUCCESS is written (write it "
            "last)") in banner.splitlines()  # fmt: skip
    folder = ".demo/buckets/local-data/exports/FOLDER"
    assert f"      mkdir -p {folder} && cp YOUR_PART {folder}/part-1.csv" in banner.splitlines()


def test_a_run_ended_route_is_said_to_launch_when_its_upstream_run_ends(monkeypatch):
    monkeypatch.chdir(REPO)
    config = read_routes(REPO / "functions" / "triggers.yaml")

    banner = routes_banner(config, REPO / ".demo" / "buckets", "h:1").splitlines()

    line = banner.index("  score-after-train (run_ended) launches when a run of route "
                        "'prices-arrival' ends SUCCEEDED")  # fmt: skip
    assert banner[line + 1] == ("      (nothing to send: it is launched when a run of route "
                                "'prices-arrival' ends SUCCEEDED)")  # fmt: skip
    assert not any("gs:///" in text or "buckets/NAME" in text for text in banner)


def test_the_routes_demo_skips_a_run_ended_route(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    config = read_routes(REPO / "functions" / "triggers.yaml")
    route = next(r for r in config.routes if r.event is EventKind.RUN_ENDED)
    said: list[str] = []
    nowhere = "http://127.0.0.1:9"  # no stack: nothing may be asked of it
    endpoints = StackEndpoints(nowhere, nowhere, nowhere, nowhere, "127.0.0.1:9", nowhere,
                               tmp_path)  # fmt: skip
    demo = RoutesDemo(StackSettings(tmp_path / "stack"), endpoints, config, said.append)
    sample = tmp_path / "sample.csv"
    sample.write_text("x\n")

    demo.trigger(route, sample)

    assert said == [f"{route.name}: launched when a run of route 'prices-arrival' ends SUCCEEDED "
                    "only, skipped"]  # fmt: skip
    assert demo.runs == []
    assert not (tmp_path / "stack").exists()


def test_routes_that_would_stop_an_instance_stop_make_up_before_it_starts(tmp_path):
    path = write_routes(tmp_path)
    path.write_text(path.read_text().replace("data_uri: '{uri}'", "data_uri: null"))

    problem, _ = start_up_check(read_routes(path))
    ran = subprocess.run([sys.executable, "-m", "local.up", "--config", str(path), "--root",
                          str(tmp_path / "stack")], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=False)  # fmt: skip

    assert ran.returncode == 1
    assert ran.stderr.strip() == f"make up: the functions would not start: {problem}"
    assert "route 'arrival': key 'parameters.data_uri'" in problem
    assert not (tmp_path / "stack").exists()


def start_up(tmp_path: Path, marker: str, routes: Path) -> subprocess.Popen:
    """Start `python -m local.up` with the routes in $TRIGGERS_CONFIG (no --config)."""
    env = {**os.environ, marker: "1", "TRIGGERS_CONFIG": str(routes)}
    log = (tmp_path / "up.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "local.up", "--root", str(tmp_path / "stack")],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip


def wait_for_text(path: Path, text: str, process: subprocess.Popen, attempts: int = 1200) -> str:
    for _ in range(attempts):
        content = path.read_text()
        if text in content:
            return content
        assert process.poll() is None, content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared: {path.read_text()}")


def stopped(process: subprocess.Popen, marker: str) -> list[int]:
    """Wait for the stack to stop; return what is left running of it (nothing, if it works)."""
    assert process.wait(timeout=60) == 0
    for _ in range(100):  # children killed by the stack may take a moment to be reaped
        if not processes_marked(marker):
            break
        time.sleep(0.1)
    return processes_marked(marker)


@pytest.mark.slow
def test_sigterm_stops_every_process_the_stack_started(tmp_path):
    marker = f"UP_MARKER_{uuid.uuid4().hex}"
    process = start_up(tmp_path, marker, write_routes(tmp_path))

    banner = wait_for_text(tmp_path / "up.log", "stack is up", process)
    assert "routes of " in wait_for_text(tmp_path / "up.log", "read dead letters", process)
    assert (tmp_path / "stack" / "buckets" / "acme-raw" / "incoming").is_dir()
    assert len(processes_marked(marker)) >= 10, banner  # emulators, functions, adapters, bucket
    process.send_signal(signal.SIGTERM)

    assert stopped(process, marker) == []
    assert (tmp_path / "up.log").read_text().rstrip().endswith("stopped every process of the stack")


@pytest.mark.slow
def test_sigterm_while_the_stack_starts_stops_what_had_started(tmp_path):
    marker = f"UP_MARKER_{uuid.uuid4().hex}"
    process = start_up(tmp_path, marker, write_routes(tmp_path))
    for _ in range(600):  # until some services run, the stack not yet up
        if len(processes_marked(marker)) >= 4:
            break
        time.sleep(0.05)
    assert "stack is up" not in (tmp_path / "up.log").read_text()
    process.send_signal(signal.SIGTERM)

    assert stopped(process, marker) == []


@pytest.mark.slow
def test_make_demo_with_your_routes_triggers_each_once_and_follows_its_run(tmp_path):
    routes = write_routes(tmp_path)
    sample = tmp_path / "sample.csv"
    sample.write_text("a,b\n1,2\n")

    ran = subprocess.run([sys.executable, "-m", "local.demo", "--config", str(routes), "--sample",
                          str(sample), "--root", str(tmp_path / "stack")], cwd=REPO,
                         capture_output=True, text=True, timeout=600, check=False)  # fmt: skip

    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert any("arrival: dropping" in line and "gs://acme-raw/incoming/demo-sample.csv" in line
               for line in lines)  # fmt: skip
    assert any("retrain: sending a drift alert for churn" in line for line in lines)
    # The summary: one row per run (the stamped lines around it start with "[").
    rows = [line.split() for line in lines
            if line.split()[-1:] == ["SUCCEEDED"] and not line.startswith("[")]  # fmt: skip
    assert [row[0] for row in rows] == ["arrival", "retrain"]
    assert lines[-2].endswith("demo finished: 2 run(s) SUCCEEDED")
