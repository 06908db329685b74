import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from gcp_storage_emulator.server import create_server
from google.api_core.exceptions import Forbidden, NotFound, RetryError, ServiceUnavailable
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import storage

from pipelines.drift.cli import ExitCode, exit_code_for, main

ROOT = Path(__file__).resolve().parents[2]
WHEN = "2026-11-26T19:30:00.000Z"


def run_module(*args):
    return subprocess.run(
        [sys.executable, "-m", "pipelines.drift", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_main(*args):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, now=lambda: WHEN)
    return code, out.getvalue(), err.getvalue()


def test_baseline_then_check_from_the_command_line(data_dir, tmp_path, baseline, model):
    baseline_path = tmp_path / "baseline.json"
    made = run_module("baseline", str(data_dir / "train.csv"), "--out", str(baseline_path))
    assert made.returncode == 0, made.stderr
    # The command writes exactly what the shared monitoring_stats code computes.
    assert json.loads(baseline_path.read_text()) == baseline

    checked = run_module(
        "check",
        "--baseline",
        str(baseline_path),
        str(data_dir / "sqft_shift.csv"),
        "--model",
        model,
    )

    assert checked.returncode == ExitCode.OK, checked.stderr
    report = json.loads(checked.stdout)
    assert report["drifted"] is True
    assert [f["name"] for f in report["features"] if f["drifted"]] == ["sqft"]
    assert set(report["features"][0]) == {"name", "kind", "distance", "threshold", "drifted"}
    assert report["alert"]["features"][0]["name"] == "sqft"
    assert report["published"] is None
    table = checked.stderr.splitlines()
    assert table[0].split() == ["feature", "kind", "distance", "threshold", "verdict"]
    assert table[1].split()[::4] == ["sqft", "DRIFT"]
    assert table[-1] == "drift in 1 of 6 features: sqft"


def test_fail_on_drift_sets_exit_code_one_and_no_drift_stays_zero(data_dir):
    baseline = str(data_dir / "baseline.json")
    drifted = ("check", "--baseline", baseline, str(data_dir / "neighborhood_shift.csv"))
    same = ("check", "--baseline", baseline, str(data_dir / "same.csv"))
    assert run_main(*drifted, "--fail-on-drift")[0] == ExitCode.DRIFT == 1
    assert run_main(*drifted)[0] == ExitCode.OK
    code, out, err = run_main(*same, "--fail-on-drift")
    assert code == ExitCode.OK
    assert json.loads(out)["drifted"] is False
    assert err.splitlines()[-1] == "no drift in 6 features"


def test_a_missing_column_is_named_without_a_traceback(data_dir, tmp_path):
    csv = tmp_path / "no_sqft.csv"
    csv.write_text("bedrooms,bathrooms,year_built,lot_sqft,neighborhood\n3,2,1990,5000,hills\n")
    result = run_module("check", "--baseline", str(data_dir / "baseline.json"), str(csv))
    assert result.returncode == ExitCode.BAD_INPUT == 2
    assert result.stderr == f"drift check: error: {csv}: missing column(s): sqft\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty"),
        (
            "sqft,bedrooms,bathrooms,year_built,lot_sqft,neighborhood\n",
            "no data rows, only a header",
        ),
    ],
)
def test_an_empty_file_is_named(data_dir, tmp_path, content, message):
    csv = tmp_path / "new.csv"
    csv.write_text(content)
    code, out, err = run_main("check", "--baseline", str(data_dir / "baseline.json"), str(csv))
    assert (code, out) == (ExitCode.BAD_INPUT, "")
    assert err == f"drift check: error: {csv}: {message}\n"


def test_an_empty_training_file_is_named_by_baseline(tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text("")
    code, _, err = run_main("baseline", str(csv), "--out", str(tmp_path / "b.json"))
    assert code == ExitCode.BAD_INPUT
    assert err == f"drift baseline: error: {csv}: file is empty\n"
    assert not (tmp_path / "b.json").exists()


def test_missing_files_and_a_non_json_baseline_are_named(data_dir, tmp_path):
    baseline = str(data_dir / "baseline.json")
    code, _, err = run_main("check", "--baseline", baseline, str(tmp_path / "nope.csv"))
    assert (code, err) == (
        ExitCode.BAD_INPUT,
        f"drift check: error: {tmp_path}/nope.csv: no such file or object\n",
    )
    not_json = tmp_path / "baseline.json"
    not_json.write_text("sqft,bedrooms\n")
    code, _, err = run_main("check", "--baseline", str(not_json), str(data_dir / "same.csv"))
    assert code == ExitCode.BAD_INPUT
    assert err.startswith(f"drift check: error: {not_json}: not JSON")


def test_custom_feature_lists_and_thresholds(data_dir, tmp_path):
    out = tmp_path / "b.json"
    code, _, err = run_main(
        "baseline",
        str(data_dir / "train.csv"),
        "--out",
        str(out),
        "--numeric-features",
        "sqft,lot_sqft",
        "--categorical-features",
        "",
        "--bins",
        "5",
    )
    assert code == ExitCode.OK
    assert err == f"baseline of 2 features from 2000 rows written to {out}\n"
    document = json.loads(out.read_text())
    assert list(document["features"]) == ["sqft", "lot_sqft"]
    assert len(document["features"]["sqft"]["bin_edges"]) == 6
    code, report, _ = run_main(
        "check",
        "--baseline",
        str(out),
        str(data_dir / "sqft_shift.csv"),
        "--threshold",
        "0.2",
        "--feature-threshold",
        "sqft=0.9",
    )
    assert [(f["name"], f["threshold"], f["drifted"]) for f in json.loads(report)["features"]] == [
        ("sqft", 0.9, False),
        ("lot_sqft", 0.2, False),
    ]


def test_usage_errors_exit_two_with_the_reason(data_dir, capsys):
    baseline = str(data_dir / "baseline.json")
    with pytest.raises(SystemExit) as exited:
        main(["check", "--baseline", baseline, "x.csv", "--feature-threshold", "sqft"])
    assert exited.value.code == 2
    assert "expected NAME=VALUE with a number, got 'sqft'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["check", "--baseline", baseline, "x.csv", "--publish", "projects/p/topics/t"])
    assert exited.value.code == 2
    assert "--publish needs --model" in capsys.readouterr().err
    code, _, err = run_main(
        "check",
        "--baseline",
        baseline,
        str(data_dir / "same.csv"),
        "--feature-threshold",
        "garage=0.1",
    )
    assert (code, err) == (
        ExitCode.BAD_INPUT,
        "drift check: error: threshold given for feature(s) not in the baseline: garage\n",
    )


@pytest.fixture
def gcs(monkeypatch):
    """gcp-storage-emulator in this process, with STORAGE_EMULATOR_HOST pointing at it."""
    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    port = server._api._httpd.server_address[1]  # the emulator exposes no public accessor
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    client = storage.Client(project="demo-project")
    yield client.create_bucket("drift-data")
    server.stop()


def test_gcs_uris_for_data_and_baseline(gcs, data_dir):
    for name in ("train.csv", "sqft_shift.csv"):
        gcs.blob(f"in/{name}").upload_from_filename(str(data_dir / name))
    code, _, _ = run_main(
        "baseline", "gs://drift-data/in/train.csv", "--out", "gs://drift-data/b.json"
    )
    assert code == ExitCode.OK
    assert json.loads(gcs.blob("b.json").download_as_bytes()) == json.loads(
        (data_dir / "baseline.json").read_text()
    )
    code, out, _ = run_main(
        "check", "--baseline", "gs://drift-data/b.json", "gs://drift-data/in/sqft_shift.csv"
    )
    local = run_main(
        "check", "--baseline", str(data_dir / "baseline.json"), str(data_dir / "sqft_shift.csv")
    )[1]
    assert code == ExitCode.OK
    assert json.loads(out)["features"] == json.loads(local)["features"]
    code, _, err = run_main(
        "check", "--baseline", "gs://drift-data/b.json", "gs://drift-data/gone.csv"
    )
    assert (code, err) == (
        ExitCode.BAD_INPUT,
        "drift check: error: gs://drift-data/gone.csv: no such file or object\n",
    )


def test_help_documents_the_exit_codes():
    result = run_module("--help")
    assert result.returncode == 0
    assert "3  transient failure" in result.stdout


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ServiceUnavailable("busy"), ExitCode.TRANSIENT),
        (RetryError("gave up", cause=None), ExitCode.TRANSIENT),
        (requests.ConnectionError("refused"), ExitCode.TRANSIENT),
        (TimeoutError(), ExitCode.TRANSIENT),
        (NotFound("no topic"), ExitCode.BAD_INPUT),
        (Forbidden("no access"), ExitCode.BAD_INPUT),
        (DefaultCredentialsError("no credentials"), ExitCode.BAD_INPUT),
        (FileNotFoundError("x.csv: no such file or object"), ExitCode.BAD_INPUT),
        (ValueError("bad"), ExitCode.BAD_INPUT),
        (KeyError("bug"), None),
    ],
)
def test_errors_map_to_exit_codes_by_whether_a_retry_can_help(error, code):
    assert exit_code_for(error) is code
