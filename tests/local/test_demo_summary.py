"""The demo's summary row, from runs the emulator recorded during `make demo` (tests/data/local)."""

import copy
import json
from pathlib import Path

from local.demo import (
    SummaryRow,
    chain_decision,
    gate_decision,
    gate_text,
    metrics_of,
    print_table,
    scoring_text,
    summary_row,
)
from local.progress import task_states

DATA = Path(__file__).resolve().parents[1] / "data" / "local"


def run(name: str) -> dict:
    return json.loads((DATA / f"{name}_run.json").read_text())


def task(job, name):
    [found] = [t for t in job["jobDetail"]["taskDetails"] if t["taskName"] == name]
    return found


def test_metrics_come_from_the_metrics_artifact():
    metrics = metrics_of(run("arrival"))
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert 0 < metrics["r2"] < 1


def test_metrics_are_the_challengers_not_the_champions():
    drift = run("drift")
    evaluated = task(drift, "evaluate-model")["execution"]["metadata"]
    expected = {name: evaluated[f"output:{name}"] for name in ("rmse", "mae", "r2")}
    assert metrics_of(drift) == expected
    assert "champion_metrics" in task(drift, "score-champion")["outputs"]


def test_gate_decisions_of_both_runs():
    assert gate_decision(run("arrival")) == "promote"
    # The drifted data's prices run higher: the retrain's rmse is above the first model's on its
    # own data, but far below the first model's on the drifted split, where the gate compares.
    assert gate_decision(run("drift")) == "promote"


def test_gate_text_compares_with_the_champion_on_the_same_split():
    drift = run("drift")
    assert gate_text(drift, metrics_of(drift)) == (
        "promote (challenger rmse 114,102 vs champion v1 247,752 on the same test split)"
    )
    assert gate_text(run("arrival"), metrics_of(run("arrival"))) == "promote (no champion yet)"


def test_gate_text_names_an_unusable_champion():
    drift = copy.deepcopy(run("drift"))
    task(drift, "gate")["execution"]["metadata"]["output:Output"] = "keep-champion"
    task(drift, "score-champion")["execution"]["metadata"].update(
        {"output:status": "unusable", "output:detail": "no model at r/versions/1/model.joblib"}
    )
    assert gate_text(drift, metrics_of(drift)) == (
        "keep-champion (champion v1 unusable: no model at r/versions/1/model.joblib)"
    )


def test_progress_shows_the_untriggered_vertex_branch():
    states = task_states(run("drift"))
    assert states["condition-1"] == states["condition-2"] == "SUCCEEDED"
    assert states["condition-3"] == "NOT_TRIGGERED"
    assert "deploy-to-vertex" not in states
    assert states["register-model"] == "SUCCEEDED"


def test_table_aligns_columns(capsys):
    rows = [SummaryRow("object gs://b/a.csv", "job-1", "PIPELINE_STATE_SUCCEEDED", "rmse=1",
                       "promote", "v1: x")]  # fmt: skip
    print_table(rows)
    header, rule, line = capsys.readouterr().out.splitlines()
    assert header.index("| job id") == line.index("| job-1") == rule.index("+")


def test_a_scoring_run_is_summarised_by_what_it_scored():
    """The run_ended route's run (recorded in `make demo`): no training metrics, its summary."""
    scoring = run("scoring")
    assert scoring["labels"]["trigger-kind"] == "run"
    row = summary_row("after prices-arrival-815d94a1ce8bc7a464f5", scoring)
    assert row.metrics == "scored 400 rows, predicted 201,570-1,083,168"
    assert (row.decision, row.model) == ("-", "-")
    assert scoring_text(run("arrival")) == "-"


def test_the_demo_prints_only_chain_decisions_of_on_run_state():
    """on_run_state writes a line per state change of every run; the demo shows its chains."""
    chain = {"decision": "launched", "route": "score-after-train", "reason": "upstream run x"}
    skipped = {**chain, "decision": "skipped", "reason": "upstream run x ended FAILED; ..."}
    running = {**chain, "decision": "skipped", "reason": "state RUNNING is not an end state"}
    reported = {**chain, "decision": "reported", "reason": "SUCCEEDED"}
    other = {**reported, "route": "prices-arrival"}
    cases = (chain, skipped, running, reported, other)
    assert [chain_decision("on_run_state", e) for e in cases] == [True, True, False, False, False]
    assert chain_decision("on_object_finalized", other)
