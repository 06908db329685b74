"""``status`` lists the runs the routes created, through their labels on the Vertex emulator."""

import pytest

from tests.functions.helpers import (
    drift_route,
    object_route,
    pubsub_event,
    storage_event,
    write_config,
)

MODEL = "projects/test-project/locations/us-central1/models/house-prices"


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    directory = tmp_path_factory.mktemp("status")
    return write_config(directory, [object_route(), drift_route()])


@pytest.fixture(scope="module")
def functions(servers, config):
    targets = ("on_object_finalized", "on_drift_alert")
    return {target: servers.start(target, config) for target in targets}


def launched(server, event) -> str:
    assert server.send(event).status_code == 200
    entry = server.log_for(event["id"])
    assert entry["decision"] == "launched", entry
    return entry["job"]


@pytest.fixture
def runs(functions, clean_vertex):
    """Three runs made by the functions (one of them failed) and one made by someone else."""
    ok = launched(functions["on_object_finalized"],
                  storage_event("incoming/a.csv", generation="11"))  # fmt: skip
    bad = launched(functions["on_object_finalized"],
                   storage_event("incoming/b.csv", generation="12"))  # fmt: skip
    alert = {"model": MODEL, "features": [{"name": "sqft", "deviation": 0.5}]}
    drift = launched(functions["on_drift_alert"], pubsub_event(alert))
    clean_vertex.end_run(ok, "PIPELINE_STATE_SUCCEEDED")
    clean_vertex.end_run(bad, "PIPELINE_STATE_FAILED", "ingest: ValueError: no price column")
    clean_vertex.create_raw("someone-else", {"team": "pricing"})
    return {"ok": ok, "bad": bad, "drift": drift}


def test_json_lists_each_run_of_the_routes_with_its_trigger_and_state(runs, cli, config, vertex):
    ran = cli("status", "--config", config, "--json", VERTEX_AI_EMULATOR_HOST=vertex.host)

    assert ran.code == 0, ran.err
    rows = {row["job"]: row for row in ran.json()}
    assert set(rows) == set(runs.values())  # not someone-else's run
    assert rows[runs["ok"]]["source"] == "gs://data/incoming/a.csv#11"
    assert (rows[runs["ok"]]["route"], rows[runs["ok"]]["kind"]) == ("arrival", "object")
    assert rows[runs["ok"]]["state"] == "SUCCEEDED"
    assert rows[runs["ok"]]["error"] == ""
    assert rows[runs["bad"]]["state"] == "FAILED"
    assert rows[runs["bad"]]["error"] == "ingest: ValueError: no price column"
    assert (rows[runs["drift"]]["route"], rows[runs["drift"]]["source"]) == ("drift", MODEL)
    assert rows[runs["drift"]]["state"] == "PENDING"
    assert rows[runs["drift"]]["duration"].endswith("+")  # still going
    assert not rows[runs["ok"]]["duration"].endswith("+")
    created = [row["created"] for row in ran.json()]
    assert created == sorted(created, reverse=True)  # newest first


def test_route_picks_one_route(runs, cli, config, vertex):
    ran = cli("status", "--config", config, "--route", "drift", "--json",
              VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip

    assert [row["job"] for row in ran.json()] == [runs["drift"]]


def test_the_table_has_a_row_per_run(runs, cli, config, vertex):
    ran = cli("status", "--config", config, VERTEX_AI_EMULATOR_HOST=vertex.host)

    header, _rule, *rows = ran.out.splitlines()
    assert header.split() == ["route", "kind", "source", "job", "state", "created", "duration",
                              "error"]  # fmt: skip
    assert len(rows) == 3
    [failed] = [row for row in rows if runs["bad"] in row]
    assert failed.endswith("ingest: ValueError: no price column")


def test_an_unknown_route_is_a_usage_error(cli, config, vertex):
    ran = cli("status", "--config", config, "--route", "nope", VERTEX_AI_EMULATOR_HOST=vertex.host)

    assert ran.code == 2
    assert ran.err.strip() == f"{config}: no route named 'nope'"


def test_nothing_since_says_so(functions, clean_vertex, cli, config):
    ran = cli("status", "--config", config, "--since", "1h",
              VERTEX_AI_EMULATOR_HOST=clean_vertex.host)  # fmt: skip

    assert ran.code == 0
    assert ran.out.startswith("no runs since ")


def test_watch_prints_again_until_ctrl_c(runs, cli, config, vertex, monkeypatch):
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("triggers_cli.status.time.sleep", sleep)
    ran = cli("status", "--config", config, "--watch", "3", VERTEX_AI_EMULATOR_HOST=vertex.host)

    assert ran.code == 0
    assert pauses == [3, 3]
    assert ran.out.count(runs["bad"]) == 2
    assert "again in 3s, Ctrl-C stops" in ran.out
