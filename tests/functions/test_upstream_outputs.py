"""An upstream run's outputs, read from Vertex AI's GET answer as the SDK reads them."""

import copy
import json
from typing import Any

import pytest
from google.cloud import aiplatform_v1
from vertex_trigger.config.output_refs import OutputKind, output_ref
from vertex_trigger.errors import RejectedEvent
from vertex_trigger.launch.upstream_outputs import as_text, output_values

from tests.functions.helpers import DATA

ANSWER = DATA / "run_state" / "pipeline_job_succeeded.json"
JOB = "prices-arrival-4f1c0d2a9b8e7f6a5b4c"


def answer() -> dict[str, Any]:
    return json.loads(ANSWER.read_text())


def ref(name: str) -> Any:
    found = output_ref(name)
    assert found is not None, name
    return found


def test_the_sample_is_what_the_official_type_reads() -> None:
    """Google's own message type takes the sample whole, unknown fields refused."""
    job = aiplatform_v1.PipelineJob.from_json(ANSWER.read_text(), ignore_unknown_fields=False)
    [train] = [t for t in job.job_detail.task_details if t.task_name == "train-model"]
    model = train.outputs["model"].artifacts[0]
    assert model.uri.endswith("/train-model_1693664337390731264/model")
    assert train.execution.metadata["output:validation_rmse"] == 21843.67


def test_a_parameter_an_artifact_uri_and_an_artifact_are_read_where_vertex_keeps_them() -> None:
    refs = [
        ref("tasks.train-model.outputs.artifacts.model.uri"),
        ref("tasks.train-model.outputs.artifacts.model"),
        ref("tasks.train-model.outputs.parameters.validation_rmse"),
        ref("tasks.evaluate-model.outputs.parameters.r2"),
    ]
    assert [r.kind for r in refs[:3]] == [
        OutputKind.ARTIFACT_URI, OutputKind.ARTIFACT, OutputKind.PARAMETER
    ]
    assert output_values(answer(), refs) == {
        "tasks.train-model.outputs.artifacts.model.uri": (
            "gs://my-project-pipelines/runs/123456789012/prices-arrival-4f1c0d2a9b8e7f6a5b4c/"
            "train-model_1693664337390731264/model"
        ),
        "tasks.train-model.outputs.artifacts.model": (
            "projects/123456789012/locations/us-central1/metadataStores/default/artifacts/"
            "2879408233591462941"
        ),
        "tasks.train-model.outputs.parameters.validation_rmse": "21843.67",
        "tasks.evaluate-model.outputs.parameters.r2": "0.8712",
    }


def test_a_cached_task_has_its_outputs_too() -> None:
    """A cache hit is SKIPPED, with the outputs of the run it reused (the SDK reads them too)."""
    cached = answer()
    cached["jobDetail"]["taskDetails"][1]["state"] = "SKIPPED"
    values = output_values(cached, [ref("tasks.train-model.outputs.parameters.validation_rmse")])
    assert values == {"tasks.train-model.outputs.parameters.validation_rmse": "21843.67"}


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("tasks.promoted.outputs.parameters.Output",
         f"task 'promoted' of upstream run {JOB} is NOT_TRIGGERED, so it has no outputs"),
        ("tasks.deploy.outputs.parameters.Output",
         f"upstream run {JOB} has no task 'deploy' (tasks: evaluate-model, "
         f"{JOB}, promoted, train-model)"),
        ("tasks.train-model.outputs.parameters.rmse",
         f"task 'train-model' of upstream run {JOB} has no output parameter 'rmse'"),
        ("tasks.train-model.outputs.artifacts.metrics.uri",
         f"task 'train-model' of upstream run {JOB} has no output artifact 'metrics'"),
    ],
)  # fmt: skip
def test_what_the_run_did_not_output_is_rejected_naming_it(name: str, problem: str) -> None:
    with pytest.raises(RejectedEvent) as caught:
        output_values(answer(), [ref(name)])
    assert str(caught.value) == f"{{{name}}}: {problem}"


def test_a_run_without_task_details_names_no_task() -> None:
    bare = copy.deepcopy(answer())
    del bare["jobDetail"]
    with pytest.raises(RejectedEvent, match=r"has no task 'train-model' \(tasks: none\)"):
        output_values(bare, [ref("tasks.train-model.outputs.artifacts.model.uri")])


@pytest.mark.parametrize(
    ("value", "text"),
    [(3.0, "3"), (1.5, "1.5"), (True, "true"), (False, "false"), ("a b", "a b"),
     (["a", 1], '["a", 1]'), ({"k": 1.5}, '{"k": 1.5}'), (2.0**60, "1.152921504606847e+18")],
)  # fmt: skip
def test_metadata_values_become_the_text_an_input_converts(value: Any, text: str) -> None:
    """Struct numbers are doubles: a whole one loses its .0 so an integer input takes it."""
    assert as_text(value) == text
