"""Task details: the layout of nested DAG groups, and each task's outputs as Vertex AI has them."""

import json
from pathlib import Path

import requests
from google.cloud import aiplatform_v1

from local.vertex_emulator.task_details import TaskLayout, job_detail
from tests.emulator.helpers import PARENT, body_for, create, jobs_url

# The shape the KFP compiler gives `with dsl.If(...)` nested in another `dsl.If` (tasks only).
SPEC = {
    "root": {"dag": {"tasks": {
        "gate": {"componentRef": {"name": "comp-gate"}},
        "condition-1": {"componentRef": {"name": "comp-condition-1"}},
    }}},
    "components": {
        "comp-gate": {"executorLabel": "exec-gate"},
        "comp-condition-1": {"dag": {"tasks": {
            "condition-2": {"componentRef": {"name": "comp-condition-2"}},
            "condition-3": {"componentRef": {"name": "comp-condition-3"}},
        }}},
        "comp-condition-2": {"dag": {"tasks": {"register": {"componentRef": {"name": "comp-r"}}}}},
        "comp-condition-3": {"dag": {"tasks": {"deploy": {"componentRef": {"name": "comp-d"}}}}},
        "comp-r": {"executorLabel": "exec-r"},
        "comp-d": {"executorLabel": "exec-d"},
    },
}  # fmt: skip


def states(executed: dict[str, str], root_state: str) -> dict[str, str | None]:
    layout = TaskLayout.of(SPEC)
    ran = {name: {"state": state} for name, state in executed.items()}
    return {group: layout.group_state(group, ran, root_state) for group in layout.groups}


def test_only_the_outermost_group_that_did_not_run_is_not_triggered():
    assert states({"gate": "SUCCEEDED"}, "SUCCEEDED") == {
        "condition-1": "NOT_TRIGGERED",
        "condition-2": None,
        "condition-3": None,
    }


def test_groups_take_the_state_of_what_ran_inside_them():
    executed = {"gate": "SUCCEEDED", "register": "SUCCEEDED"}
    assert states(executed, "SUCCEEDED") == {
        "condition-1": "SUCCEEDED",
        "condition-2": "SUCCEEDED",
        "condition-3": "NOT_TRIGGERED",
    }
    assert states({"gate": "SUCCEEDED", "register": "RUNNING"}, "RUNNING")["condition-1"] == (
        "RUNNING"
    )
    assert states({"gate": "SUCCEEDED", "register": "FAILED"}, "FAILED")["condition-2"] == "FAILED"


def test_groups_not_reached_by_a_failed_run_are_not_listed():
    assert states({"gate": "FAILED"}, "FAILED") == {
        "condition-1": None,
        "condition-2": None,
        "condition-3": None,
    }


def test_task_ids_follow_the_spec_and_parents_are_the_enclosing_group():
    layout = TaskLayout.of(SPEC)
    assert layout.parent_id("register") == layout.task_id("condition-2")
    assert layout.parent_id("gate") == 1
    ids = [layout.task_id(n) for n in ("gate", "condition-1", "condition-2", "register")]
    assert len(set(ids)) == 4
    assert layout.task_id("not-in-spec") not in ids


# --- outputs: the shape Vertex AI answers, and the state control that sets them ----------------

GOOGLE_SHAPED = Path(__file__).parents[1] / "functions" / "data" / "run_state"
JOB = {
    "name": "projects/test-project/locations/us-central1/pipelineJobs/run-1",
    "createTime": "2026-11-26T12:00:00.000000Z",
    "startTime": "2026-11-26T12:00:01.000000Z",
    "endTime": "2026-11-26T12:05:00.000000Z",
    "state": "PIPELINE_STATE_SUCCEEDED",
    "pipelineSpec": {"pipelineInfo": {"name": "two-outputs"}},
}
TRAINED = {
    "taskName": "train",
    "state": "SUCCEEDED",
    "startTime": "2026-11-26T12:00:02.000000Z",
    "endTime": "2026-11-26T12:03:00.000000Z",
    "outputs": {
        "parameters": {"Output": 0.25, "rows": 400},
        "artifacts": {"model": [{"name": "model", "uri": "/runs/run-1/train/model",
                                 "schemaTitle": "system.Model", "metadata": {"rmse": 1.5}}]},
    },
}  # fmt: skip
EVALUATED = {
    **TRAINED,
    "taskName": "evaluate",
    "outputs": {
        "parameters": {"Output": 0.5},
        "artifacts": {"model": [{"name": "model", "uri": "/runs/run-1/evaluate/model",
                                 "schemaTitle": "system.Model", "metadata": {}}]},
    },
}  # fmt: skip


def details_by_name(detail: dict) -> dict[str, dict]:
    return {task["taskName"]: task for task in detail["taskDetails"]}


def test_outputs_parse_as_the_official_type_and_read_as_the_sdk_reads_them():
    """Artifacts under outputs[NAME].artifacts, parameters as execution.metadata["output:NAME"]."""
    job = {**JOB, "jobDetail": job_detail(JOB, [TRAINED, EVALUATED], "SUCCEEDED")}
    parsed = aiplatform_v1.PipelineJob.from_json(json.dumps(job), ignore_unknown_fields=False)
    tasks = {task.task_name: task for task in parsed.job_detail.task_details}
    model = tasks["train"].outputs["model"].artifacts[0]
    assert (model.uri, model.schema_title, model.display_name) == (
        "/runs/run-1/train/model", "system.Model", "model"
    )
    assert dict(model.metadata) == {"rmse": 1.5}
    assert dict(tasks["train"].execution.metadata) == {"output:Output": 0.25, "output:rows": 400}
    assert tasks["train"].state.name == "SUCCEEDED"


def test_artifact_names_are_metadata_artifacts_with_ids_vertex_accepts_as_input_artifacts():
    """Decimal ids, fixed per run, task and output, distinct for outputs of the same name."""
    first = details_by_name(job_detail(JOB, [TRAINED, EVALUATED], "SUCCEEDED"))
    again = details_by_name(job_detail(JOB, [TRAINED, EVALUATED], "SUCCEEDED"))
    names = [first[t]["outputs"]["model"]["artifacts"][0]["name"] for t in ("train", "evaluate")]
    store = "projects/test-project/locations/us-central1/metadataStores/default/artifacts/"
    assert all(name.startswith(store) and name.removeprefix(store).isdigit() for name in names)
    assert names[0] != names[1]
    assert names[0] == again["train"]["outputs"]["model"]["artifacts"][0]["name"]


def test_task_details_have_the_fields_of_googles_shape_and_no_others():
    """Every field the emulator writes is one Vertex AI's answer has, at every level."""
    google = json.loads((GOOGLE_SHAPED / "pipeline_job_succeeded.json").read_text())
    google_tasks = details_by_name(google["jobDetail"])
    ours = details_by_name(job_detail(JOB, [TRAINED], "SUCCEEDED"))
    assert set(ours["train"]) <= set(google_tasks["train-model"])
    assert set(ours["two-outputs"]) <= set(google_tasks["prices-arrival-4f1c0d2a9b8e7f6a5b4c"])
    artifact = ours["train"]["outputs"]["model"]["artifacts"][0]
    assert set(artifact) <= set(google_tasks["train-model"]["outputs"]["model"]["artifacts"][0])
    assert set(ours["train"]["execution"]) <= set(google_tasks["train-model"]["execution"])


def end_with_tasks(emu, job_id: str, tasks: object) -> requests.Response:
    body = {"name": f"{PARENT}/pipelineJobs/{job_id}", "state": "PIPELINE_STATE_SUCCEEDED",
            "tasks": tasks}  # fmt: skip
    return requests.post(f"{emu.url}/emulator/state", json=body, timeout=10)


def test_the_state_control_ends_a_recorded_run_with_the_task_outputs_given(recorder, specs):
    create(recorder, "run-1", body_for(specs["tiny"], a=1))
    tasks = [{"taskName": "add", "outputs": TRAINED["outputs"]}]
    assert end_with_tasks(recorder, "run-1", tasks).ok
    job = requests.get(f"{jobs_url(recorder)}/run-1", timeout=10).json()
    add_task = details_by_name(job["jobDetail"])["add"]
    assert add_task["state"] == "SUCCEEDED"
    assert add_task["execution"]["metadata"] == {"output:Output": 0.25, "output:rows": 400}
    assert add_task["outputs"]["model"]["artifacts"][0]["uri"] == "/runs/run-1/train/model"
    aiplatform_v1.PipelineJob.from_json(json.dumps(job), ignore_unknown_fields=False)


def test_the_state_control_refuses_task_records_of_another_shape(recorder, specs):
    create(recorder, "run-2", body_for(specs["tiny"], a=1))
    for tasks in ({"taskName": "add"}, [{"name": "add"}], [{"taskName": "add", "outputs": []}]):
        answer = end_with_tasks(recorder, "run-2", tasks)
        assert answer.status_code == 400
        assert "tasks must be a list of" in answer.json()["error"]["message"]
