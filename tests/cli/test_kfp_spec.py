"""``check`` reads templates as KFP does (tools side): KFP's PipelineSpec proto, references to
components and executors, and what happens to a second YAML document.

KFP's own test pipelines (tests/functions/data/templates/README.md names their source).
"""

import copy

import yaml

from tests.functions.helpers import DATA, object_route, write_config
from triggers_cli.check import shown
from triggers_cli.kfp_spec import dangling_references, spec_problems

INVALID = DATA / "templates" / "invalid" / "invalid_yaml.yaml"
PLATFORMS = DATA / "templates" / "pipeline_with_secret_as_env.yaml"
HOUSE_PRICES = DATA.parents[2] / "compiled" / "house_prices.yaml"


def first_document(path):
    return next(yaml.safe_load_all(path.read_text()))


def test_kfps_invalid_pipeline_is_refused_by_its_proto():
    [problem] = spec_problems(first_document(INVALID))

    assert problem == ("KFP's PipelineSpec proto refuses it: Message type "
                       '"ml_pipelines.PipelineSpec" has no field named "components_1" at '
                       '"PipelineSpec".')  # fmt: skip


def test_a_task_naming_a_missing_component_is_named():
    spec = first_document(INVALID)
    del spec["components_1"]  # the proto reads it now; the task's component is still missing

    assert spec_problems(spec) == [
        "task 'echo' of root names component 'comp-echo', which the spec does not define "
        "(components: none)"
    ]


def test_a_component_naming_a_missing_executor_is_named():
    spec = copy.deepcopy(first_document(HOUSE_PRICES))
    del spec["deploymentSpec"]["executors"]["exec-ingest"]

    assert dangling_references(spec) == [
        "component 'comp-ingest' names executor 'exec-ingest', which is not defined"
    ]


def test_the_projects_and_kfps_valid_pipelines_pass():
    for path in [*sorted((DATA / "templates").glob("*.yaml")), HOUSE_PRICES]:
        assert spec_problems(first_document(path)) == [], path


def test_check_refuses_kfps_invalid_pipeline(tmp_path, cli):
    config = write_config(tmp_path, [object_route(template=str(INVALID), parameters={})])

    ran = cli("check", "--config", config)

    assert ran.code == 1
    where = f"{config}: route 'arrival': key 'template': {shown(str(INVALID))}"
    assert ran.err.strip() == (
        f"{where} is not a pipeline KFP can read: "
        "KFP's PipelineSpec proto refuses it: Message type \"ml_pipelines.PipelineSpec\" has no "
        "field named \"components_1\" at \"PipelineSpec\". (an instance would start, but Vertex "
        "AI cannot run it)"
    )
    assert cli("check", "--config", config, "--json").json()["ok"] is False


def test_check_says_what_happens_to_a_second_document(tmp_path, cli):
    config = write_config(tmp_path, [object_route(template=str(PLATFORMS), parameters={})])

    ran = cli("check", "--config", config, "--json")

    assert ran.code == 0
    [warning] = ran.json()["warnings"]
    where = f"{config}: route 'arrival': key 'template': {shown(str(PLATFORMS))}"
    assert warning.startswith(
        f"{where} has a second YAML document (platforms): Vertex AI does not apply it"
    )
    assert "the aiplatform SDK refuses such a file" in warning


def test_the_aiplatform_sdk_refuses_a_second_document_as_check_says():
    import pytest
    from google.cloud.aiplatform.utils import yaml_utils

    with pytest.raises(yaml.composer.ComposerError, match="expected a single document"):
        yaml_utils.load_yaml(str(PLATFORMS))
