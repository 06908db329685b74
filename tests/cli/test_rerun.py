"""``rerun JOB``: a run like JOB under ``ORIGINAL-rerun-N``; ``--dry-run`` creates nothing."""

import pytest

from tests.functions.helpers import object_route, storage_event, write_config


@pytest.fixture
def config(tmp_path):
    routes = [object_route(), object_route(name="budget", prefix="budget/", max_runs_per_day=2)]
    return write_config(tmp_path, routes)


@pytest.fixture
def launched(servers, config, clean_vertex):
    """A run launched by on_object_finalized for incoming/a.csv, ended FAILED."""
    function = servers.start("on_object_finalized", config)

    def launch(name: str) -> str:
        event = storage_event(name)
        assert function.send(event).status_code == 200
        job = function.log_for(event["id"])["job"]
        clean_vertex.end_run(job, "PIPELINE_STATE_FAILED", "preempted")
        return job

    return launch


def rerun(cli, config, vertex, *args):
    return cli("rerun", *args, "--config", config, VERTEX_AI_EMULATOR_HOST=vertex.host)


def test_dry_run_prints_the_request_and_creates_nothing(cli, config, launched, clean_vertex):
    job = launched("incoming/a.csv")
    ran = rerun(cli, config, clean_vertex, job, "--dry-run", "--json")
    human = rerun(cli, config, clean_vertex, job, "--dry-run")

    assert ran.code == 0, ran.err
    plan = ran.json()
    assert (plan["job"], plan["rerun_of"], plan["decision"]) == (
        f"{job}-rerun-1", job, "would_launch"
    )
    original = clean_vertex.job(job)
    assert plan["body"]["runtimeConfig"] == original["runtimeConfig"]
    assert plan["body"]["labels"] == {**original["labels"], "trigger-rerun-of": job}
    assert human.out.startswith(f"POST .../pipelineJobs?pipelineJobId={job}-rerun-1\n{{")
    assert "<pipeline 'typed-trigger-fixture': " in human.out
    assert [r["job_id"] for r in clean_vertex.create_requests()] == [job]  # nothing created


def test_rerun_launches_under_the_next_rerun_id_of_the_original(
    cli, config, launched, clean_vertex
):
    job = launched("incoming/b.csv")
    first = rerun(cli, config, clean_vertex, job, "--json")
    second = rerun(cli, config, clean_vertex, job, "--json")
    of_rerun = rerun(cli, config, clean_vertex, f"{job}-rerun-1", "--json")

    assert first.code == 0, first.err
    assert (first.json()["job"], first.json()["decision"]) == (f"{job}-rerun-1", "launched")
    assert first.json()["reason"] == f"rerun of {job}: launched by vertex-triggers rerun"
    assert second.json()["job"] == f"{job}-rerun-2"
    assert of_rerun.json()["job"] == f"{job}-rerun-3"  # numbered from the original
    copy = clean_vertex.job(f"{job}-rerun-1")
    original = clean_vertex.job(job)
    assert copy["pipelineSpec"] == original["pipelineSpec"]
    assert copy["runtimeConfig"] == original["runtimeConfig"]
    assert copy["labels"]["trigger-rerun-of"] == job
    assert clean_vertex.job(f"{job}-rerun-3")["labels"]["trigger-rerun-of"] == f"{job}-rerun-1"


def test_a_rerun_counts_toward_the_route_limits(cli, config, launched, clean_vertex):
    job = launched("budget/a.csv")
    assert rerun(cli, config, clean_vertex, job).code == 0
    over = rerun(cli, config, clean_vertex, job, "--json")
    assert over.code == 1
    assert over.json()["decision"] == "skipped"
    assert over.json()["reason"] == (
        "daily budget reached: 2 run(s) of route 'budget' created in the last 24 h "
        "(max_runs_per_day 2)"
    )


def test_a_run_that_is_not_ours_or_not_there_is_refused(cli, config, clean_vertex):
    clean_vertex.create_raw("someone-else", {"team": "pricing"})
    theirs = rerun(cli, config, clean_vertex, "someone-else")
    missing = rerun(cli, config, clean_vertex, "no-such-run")
    assert (theirs.code, theirs.err.strip()) == (
        2, "someone-else is not a run of this configuration's routes"
    )
    assert (missing.code, missing.err.strip()) == (2, "Vertex AI has no run no-such-run")
