"""The demo's summary row, from runs the emulator recorded during `make demo` (tests/data/local)."""

import json
from pathlib import Path

from local.demo import SummaryRow, gate_decision, gate_text, metrics_of, print_table
from local.progress import task_states

DATA = Path(__file__).resolve().parents[1] / "data" / "local"


def run(name: str) -> dict:
    return json.loads((DATA / f"{name}_run.json").read_text())


def test_metrics_come_from_the_metrics_artifact():
    metrics = metrics_of(run("arrival"))
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert 0 < metrics["r2"] < 1


def test_gate_decisions_of_both_runs():
    assert gate_decision(run("arrival")) == "promote"
    assert gate_decision(run("drift")) == "keep-champion"


def test_gate_text_compares_with_the_champion_before_the_run():
    drift = run("drift")
    champion = {"version": 1, "metrics": {"rmse": 82347.4}}
    text = gate_text(drift, metrics_of(drift), champion)
    assert text.startswith("keep-champion (challenger rmse 114,")
    assert text.endswith("vs champion v1 82,347)")
    assert gate_text(run("arrival"), metrics_of(run("arrival")), None) == (
        "promote (no champion yet)"
    )


def test_progress_shows_the_untriggered_promotion_branch():
    states = task_states(run("drift"))
    assert states["condition-1"] == "NOT_TRIGGERED"
    assert "register-model" not in states
    assert task_states(run("arrival"))["register-model"] == "SUCCEEDED"


def test_table_aligns_columns(capsys):
    rows = [SummaryRow("object gs://b/a.csv", "job-1", "PIPELINE_STATE_SUCCEEDED", "rmse=1",
                       "promote", "v1: x")]  # fmt: skip
    print_table(rows)
    header, rule, line = capsys.readouterr().out.splitlines()
    assert header.index("| job id") == line.index("| job-1") == rule.index("+")
