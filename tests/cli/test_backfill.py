"""``backfill`` on gcp-storage-emulator and the Vertex emulator: each missing run once, paced."""

import pytest
from vertex_trigger.launch.identity import job_id

from tests.functions.helpers import drift_route, object_route, storage_event, write_config
from tests.pubsub_fixtures import unique_id
from triggers_cli.pacing import Pacer, per_second

BATCH_PARAMETERS = {"data_uri": "{batch_uri}", "generation": "{batch_objects}"}
# gcp-storage-emulator's generations pass 2**53, beyond what an integer parameter carries intact.
OBJECT_PARAMETERS = {"data_uri": "{uri}", "generation": 1, "note": "{name}"}


@pytest.fixture
def bucket(gcs):
    """A fresh bucket holding three CSVs under incoming/, and two objects no route launches."""
    name = unique_id("backfill")
    generations = {
        f"incoming/{stem}.csv": gcs.upload(name, f"incoming/{stem}.csv", b"a,b\n1,2\n")
        for stem in ("jan", "feb", "mar")
    }
    gcs.upload(name, "incoming/notes.txt", b"not a csv")
    gcs.upload(name, "other/apr.csv", b"a,b\n")
    return name, generations


@pytest.fixture
def config(tmp_path, bucket):
    routes = [
        object_route(bucket=bucket[0], parameters=OBJECT_PARAMETERS),
        object_route(
            name="exports",
            bucket=bucket[0],
            prefix="exports/",
            suffix="",
            batch={"complete_when": {"marker": "_SUCCESS"}},
            parameters=BATCH_PARAMETERS,
        ),
        drift_route(),
    ]
    return write_config(tmp_path, routes)


def backfill(cli, config, gcs, vertex, *options):
    ran = cli("backfill", "--config", config, "--json", *options,
              STORAGE_EMULATOR_HOST=gcs.url, VERTEX_AI_EMULATOR_HOST=vertex.host)  # fmt: skip
    return ran


def test_twice_creates_each_run_once(cli, config, gcs, clean_vertex, bucket):
    name, generations = bucket
    first = backfill(cli, config, gcs, clean_vertex, "--route", "arrival", "--rate", "600/s")
    second = backfill(cli, config, gcs, clean_vertex, "--route", "arrival", "--rate", "600/s")

    assert first.code == 0, first.err
    assert first.json()["decisions"] == {"launched": 3}
    expected = {job_id("arrival", name, obj, gen) for obj, gen in generations.items()}
    assert {row["job"] for row in first.json()["candidates"]} == expected
    assert {row["source"] for row in first.json()["candidates"]} == {
        f"gs://{name}/{obj}#{gen}" for obj, gen in generations.items()
    }
    assert second.code == 0
    assert second.json()["decisions"] == {"duplicate": 3}
    created = [r["job_id"] for r in clean_vertex.create_requests()]
    assert sorted(created) == sorted(expected)  # one create each, none from the second backfill


def test_a_run_the_event_launched_is_not_launched_again(servers, cli, config, gcs, clean_vertex,
                                                        bucket):  # fmt: skip
    name, generations = bucket
    function = servers.start("on_object_finalized", config)
    event = storage_event("incoming/jan.csv", bucket=name,
                          generation=generations["incoming/jan.csv"])  # fmt: skip
    assert function.send(event).status_code == 200

    ran = backfill(cli, config, gcs, clean_vertex, "--route", "arrival", "--rate", "600/s")

    assert ran.json()["decisions"] == {"launched": 2, "duplicate": 1}
    assert len(clean_vertex.create_requests()) == 3


def test_dry_run_creates_nothing(cli, config, gcs, clean_vertex):
    ran = backfill(cli, config, gcs, clean_vertex, "--route", "arrival", "--dry-run")

    assert ran.code == 0
    assert ran.json()["decisions"] == {"would_launch": 3}
    assert clean_vertex.create_requests() == []


def test_since_and_until_bound_the_objects(cli, config, gcs, clean_vertex):
    old = backfill(cli, config, gcs, clean_vertex, "--route", "arrival", "--until", "1h",
                   "--dry-run")  # fmt: skip
    recent = backfill(cli, config, gcs, clean_vertex, "--route", "arrival", "--since", "1h",
                      "--dry-run")  # fmt: skip

    assert old.json()["decisions"] == {}
    assert recent.json()["decisions"] == {"would_launch": 3}


def test_a_batch_route_backfills_per_complete_folder(cli, config, gcs, clean_vertex, bucket):
    name, _ = bucket
    for part in ("part-0", "part-1"):
        gcs.upload(name, f"exports/2026-11-01/{part}", b"x")
    gcs.upload(name, "exports/2026-11-01/_SUCCESS", b"ok")  # the emulator refuses empty uploads
    gcs.upload(name, "exports/2026-11-02/part-0", b"x")  # no marker yet: incomplete

    first = backfill(cli, config, gcs, clean_vertex, "--route", "exports", "--rate", "600/s")
    second = backfill(cli, config, gcs, clean_vertex, "--route", "exports", "--rate", "600/s")

    rows = {row["source"]: row for row in first.json()["candidates"]}
    assert rows[f"gs://{name}/exports/2026-11-01/"]["decision"] == "launched"
    assert rows[f"gs://{name}/exports/2026-11-02/"]["decision"] == "skipped"
    assert second.json()["decisions"] == {"duplicate": 1, "skipped": 1}
    assert len(clean_vertex.create_requests()) == 1


def test_ctrl_c_stops_cleanly_and_the_next_backfill_goes_on(cli, config, gcs, clean_vertex,
                                                            monkeypatch):  # fmt: skip
    waits = []

    def wait(self):
        waits.append(1)
        if len(waits) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Pacer, "wait", wait)
    hosts = {"STORAGE_EMULATOR_HOST": gcs.url, "VERTEX_AI_EMULATOR_HOST": clean_vertex.host}
    stopped = cli("backfill", "--config", config, "--route", "arrival", **hosts)
    monkeypatch.undo()
    rest = backfill(cli, config, gcs, clean_vertex, "--route", "arrival", "--rate", "600/s")

    assert stopped.code == 130
    assert "launched  1" in stopped.out
    assert "interrupted with 2 left: run it again to go on" in stopped.out
    assert rest.json()["decisions"] == {"duplicate": 1, "launched": 2}
    assert len(clean_vertex.create_requests()) == 3


def test_the_human_summary(cli, config, gcs, clean_vertex):
    ran = cli("backfill", "--config", config, "--route", "arrival", "--rate", "600/s",
              STORAGE_EMULATOR_HOST=gcs.url, VERTEX_AI_EMULATOR_HOST=clean_vertex.host)  # fmt: skip

    assert ran.code == 0
    lines = ran.out.splitlines()
    assert lines[0].split() == ["source", "decision", "job", "reason"]
    assert sum(" launched " in line for line in lines) == 3
    assert lines[-3:] == ["decision  count", "--------  -----", "launched  3"]


def test_only_object_routes(cli, config, gcs, clean_vertex):
    ran = backfill(cli, config, gcs, clean_vertex, "--route", "drift")

    assert ran.code == 2
    assert ran.err.strip() == f"{config}: not an object_finalized route: 'drift'"


def test_pacing_spaces_creates_by_the_rate():
    now = [100.0]
    slept = []
    pacer = Pacer(per_second("30/min"), clock=lambda: now[0], sleep=slept.append)

    assert pacer.wait() == 0  # the first create goes at once
    pacer.spent()
    now[0] += 0.5
    assert pacer.wait() == pytest.approx(1.5)  # 2 s apart at 30/min
    now[0] += 1.5
    pacer.spent()
    now[0] += 5
    assert pacer.wait() == 0  # slow enough already
    assert slept == [pytest.approx(1.5)]


@pytest.mark.parametrize(("text", "per_s"), [("30/min", 0.5), ("60", 1.0), ("2/s", 2.0),
                                             ("3600/h", 1.0)])  # fmt: skip
def test_rates(text, per_s):
    assert per_second(text) == per_s


def test_a_bad_rate_says_what_it_expects():
    with pytest.raises(ValueError, match=r"expected a rate such as 30/min, 1/s or 600/h, got '0'"):
        per_second("0")


def test_with_partitions_since_and_until_list_only_the_partitions_they_cover(
    cli, clean_vertex, tmp_path
):
    from datetime import UTC, datetime, timedelta

    from local.storage_stand_in import serve_in_thread

    stand_in = serve_in_thread()  # counts what a listing returned (gcp-storage-emulator cannot)
    newest = datetime.now(UTC).replace(minute=30, second=0, microsecond=0) - timedelta(hours=1)
    # Ten days of history, one object every 10 minutes, named incoming/YYYY/MM/DD/HH/.
    stand_in.add_history("lake", "incoming/", 1_440, every_seconds=600, end=newest)
    route = object_route(bucket="lake", parameters=OBJECT_PARAMETERS,
                         partitions="incoming/%Y/%m/%d/%H/")  # fmt: skip
    config = write_config(tmp_path, [route])
    since, until = newest - timedelta(hours=5), newest - timedelta(hours=2)
    try:
        stand_in.reset_counts()
        ran = cli("backfill", "--config", config, "--json", "--route", "arrival", "--rate", "600/s",
                  "--since", since.isoformat(), "--until", until.isoformat(),
                  STORAGE_EMULATOR_HOST=stand_in.url, VERTEX_AI_EMULATOR_HOST=clean_vertex.host)
        counts = stand_in.counts()
    finally:
        stand_in.stop()
    assert ran.code == 0, ran.err
    assert ran.json()["decisions"] == {"launched": 18}  # 3 hours of one object every 10 minutes
    # The hours 5 to 2 before the newest object, from the start of the first: 4 hours' objects,
    # in one call, instead of the 1,440 of the whole prefix.
    assert (counts["list_calls"], counts["items_listed"]) == (1, 24)
