"""``status`` shows a chain's runs under their upstream; ``explain`` says what a run's end does."""

import json
from typing import Any

import pytest

from tests.functions.helpers import (
    MODEL_URI,
    TRAINED,
    chained_routes,
    pubsub_event,
    run_state_entry,
    storage_event,
    write_config,
)

PARENT = "projects/test-project/locations/us-central1"


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return write_config(tmp_path_factory.mktemp("chains-cli"), chained_routes())


@pytest.fixture(scope="module")
def functions(servers, config):
    targets = ("on_object_finalized", "on_run_state")
    return {target: servers.start(target, config) for target in targets}


def line(server, event) -> dict[str, Any]:
    assert server.send(event).status_code == 200
    return server.log_for(event["id"])


@pytest.fixture
def chain(functions, clean_vertex) -> dict[str, str]:
    """`train` ran and succeeded, its end launched `score`; a second `train` run still pending."""
    upstream = line(functions["on_object_finalized"], storage_event("incoming/a.csv"))["job"]
    clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    score = line(functions["on_run_state"], pubsub_event(run_state_entry(upstream)))
    assert (score["decision"], score["route"]) == ("launched", "score")
    other = line(functions["on_object_finalized"], storage_event("incoming/b.csv"))["job"]
    return {"upstream": upstream, "score": score["job"], "other": other}


def test_status_shows_a_downstream_run_under_its_upstream(chain, cli, config, vertex):
    ran = cli("status", "--config", config, "--json", VERTEX_AI_EMULATOR_HOST=vertex.host)

    assert ran.code == 0, ran.err
    rows = ran.json()
    jobs = [row["job"] for row in rows]
    assert jobs.index(chain["score"]) == jobs.index(chain["upstream"]) + 1
    score = rows[jobs.index(chain["score"])]
    assert (score["upstream"], score["depth"], score["kind"]) == (chain["upstream"], 1, "run")
    assert score["source"] == rows[jobs.index(chain["upstream"])]["source"]  # the first source
    assert rows[jobs.index(chain["other"])]["depth"] == 0
    table = cli("status", "--config", config, VERTEX_AI_EMULATOR_HOST=vertex.host).out
    [score_row] = [row for row in table.splitlines() if chain["score"] in row]
    assert f"└─ {chain['score']}" in score_row


def test_status_chain_follows_one_chain_from_its_first_run(chain, cli, config, vertex):
    for job in (chain["score"], chain["upstream"], f"{PARENT}/pipelineJobs/{chain['score']}"):
        ran = cli("status", "--config", config, "--chain", job, "--json",
                  VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip
        assert ran.code == 0, ran.err
        assert [(row["job"], row["depth"]) for row in ran.json()] == [
            (chain["upstream"], 0), (chain["score"], 1)
        ]
    missing = cli("status", "--config", config, "--chain", "no-such-run",
                  VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip
    assert missing.code == 2
    assert "no run 'no-such-run' in Vertex AI" in missing.err


def test_explain_a_runs_end_says_what_it_would_launch_and_creates_nothing(
    functions, clean_vertex, cli, config, tmp_path
):
    upstream = line(functions["on_object_finalized"], storage_event("incoming/c.csv"))["job"]
    clean_vertex.end_run(upstream, "PIPELINE_STATE_SUCCEEDED", tasks=TRAINED)
    entry = tmp_path / "entry.json"
    entry.write_text(json.dumps(run_state_entry(upstream)))
    before = len(clean_vertex.create_requests())

    for event in (entry, f"{PARENT}/pipelineJobs/{upstream}", upstream):
        ran = cli("explain", event, "--config", config, "--check-vertex", "--json",
                  VERTEX_AI_EMULATOR_HOST=clean_vertex.host)  # fmt: skip
        assert ran.code == 0, ran.err
        explained = ran.json()
        assert (explained["decision"], explained["function"]) == ("would_report", "on_run_state")
        score, cleanup = explained["launches"]
        assert (score["route"], score["decision"]) == ("score", "would_launch")
        assert score["parameters"]["model_uri"] == MODEL_URI
        assert score["labels"]["trigger-upstream"] == upstream
        assert score["body"]["runtimeConfig"]["inputArtifacts"]["model"]["artifactId"].isdigit()
        assert (cleanup["route"], cleanup["decision"]) == ("cleanup", "skipped")
        assert cleanup["body"] is None
        assert cleanup["reason"].endswith("route 'cleanup' runs after CANCELLED, FAILED only")
    assert len(clean_vertex.create_requests()) == before  # explain created nothing

    human = cli("explain", upstream, "--config", config, "--check-vertex",
                VERTEX_AI_EMULATOR_HOST=clean_vertex.host).out  # fmt: skip
    assert f"run_ended route score: would_launch {score['job']}" in human
    assert f"POST .../pipelineJobs?pipelineJobId={score['job']}" in human

    line(functions["on_run_state"], pubsub_event(run_state_entry(upstream)))  # launched for real
    again = cli("explain", upstream, "--config", config, "--check-vertex", "--json",
                VERTEX_AI_EMULATOR_HOST=clean_vertex.host).json()  # fmt: skip
    assert again["launches"][0]["decision"] == "duplicate"
