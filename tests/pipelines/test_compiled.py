"""compiled/ is a golden artifact: it must match a fresh compile of pipelines/."""

import re
from pathlib import Path

import pytest
import yaml

from pipelines.compile import compile_all, pipeline_functions
from pipelines.pins import pinned_versions

COMPILED_DIR = Path(__file__).resolve().parents[2] / "compiled"
SDK_VERSION = re.compile(r"^sdkVersion: .*$", re.MULTILINE)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compiled")
    compile_all(out)
    return out


def spec(name: str) -> dict:
    return yaml.safe_load((COMPILED_DIR / f"{name}.yaml").read_text())


def test_every_project_pipeline_has_its_compiled_file():
    """The golden set is the project's pipelines: a template of yours beside them is ignored."""
    assert set(pipeline_functions()) <= {path.stem for path in COMPILED_DIR.glob("*.yaml")}


@pytest.mark.parametrize("stem", sorted(pipeline_functions()))
def test_compiled_yaml_is_current(fresh, stem):
    golden = SDK_VERSION.sub("", (COMPILED_DIR / f"{stem}.yaml").read_text())
    recompiled = SDK_VERSION.sub("", (fresh / f"{stem}.yaml").read_text())
    assert recompiled == golden, f"compiled/{stem}.yaml is stale: run `make compile`"


def test_house_prices_inputs():
    parameters = spec("house_prices")["root"]["inputDefinitions"]["parameters"]
    assert parameters["data_uri"] == {"parameterType": "STRING"}   # required: no default
    assert parameters["deploy_target"]["defaultValue"] == "none"
    assert parameters["registry_uri"]["defaultValue"] == ""
    assert parameters["min_improvement"]["parameterType"] == "NUMBER_DOUBLE"
    assert parameters["min_r2"]["defaultValue"] == 0.5
    assert parameters["seed"]["parameterType"] == "NUMBER_INTEGER"
    assert parameters["reason"]["defaultValue"] == ""
    assert all("defaultValue" in value for name, value in parameters.items()
               if name != "data_uri")


def test_house_prices_has_only_lightweight_components_with_exact_pins():
    executors = spec("house_prices")["deploymentSpec"]["executors"]
    versions = pinned_versions()
    installs = {}
    for name, executor in executors.items():
        container = executor["container"]
        assert container["image"] == "python:3.11-slim", name
        command = "\n".join(container["command"])
        assert "kfp.dsl.executor_main" in command, name   # what kfp.local's runner requires
        installs[name] = dict(re.findall(r"'([A-Za-z0-9_.-]+)==([^' ]+)'", command))
        for package, version in installs[name].items():
            assert versions[package.lower()] == version, (name, package)
    # register-model appears twice: once per deploy branch.
    assert set(executors) == {f"exec-{task}" for task in (
        "check-run-inputs", "ingest", "preprocess", "engineer-features", "train-model",
        "evaluate-model", "score-champion", "gate", "monitoring-baseline", "register-model",
        "register-model-2", "deploy-to-vertex")}
    assert {"kfp", "pandas", "scikit-learn", "joblib"} <= set(installs["exec-train-model"])
    assert "google-cloud-aiplatform" in installs["exec-deploy-to-vertex"]


def test_batch_score_inputs_tasks_and_exact_pins():
    """What a run_ended route after house_prices passes: the model's URI and the data's."""
    pipeline = spec("batch_score")
    parameters = pipeline["root"]["inputDefinitions"]["parameters"]
    assert parameters["model_uri"] == {"parameterType": "STRING"}
    assert parameters["data_uri"] == {"parameterType": "STRING"}
    assert parameters["reason"]["defaultValue"] == ""
    executors = pipeline["deploymentSpec"]["executors"]
    assert set(executors) == {"exec-score-rows", "exec-summarize-predictions"}
    versions = pinned_versions()
    for name, executor in executors.items():
        assert executor["container"]["image"] == "python:3.11-slim", name
        command = "\n".join(executor["container"]["command"])
        for package, version in re.findall(r"'([A-Za-z0-9_.-]+)==([^' ]+)'", command):
            assert versions[package.lower()] == version, (name, package)
    outputs = pipeline["components"]["comp-score-rows"]["outputDefinitions"]
    assert outputs["artifacts"]["predictions"]["artifactType"]["schemaTitle"] == "system.Dataset"
    summary = pipeline["components"]["comp-summarize-predictions"]["outputDefinitions"]
    assert summary["artifacts"]["summary"]["artifactType"]["schemaTitle"] == "system.Metrics"


def test_automl_image_chains_its_four_tasks():
    pipeline = spec("automl_image")
    tasks = pipeline["root"]["dag"]["tasks"]
    assert set(tasks) == {"image-dataset-create", "automl-image-training-job",
                          "endpoint-create", "model-deploy"}
    training = tasks["automl-image-training-job"]["inputs"]
    assert training["artifacts"]["dataset"]["taskOutputArtifact"] == {
        "outputArtifactKey": "dataset", "producerTask": "image-dataset-create"}
    deploy = tasks["model-deploy"]["inputs"]["artifacts"]
    assert deploy["model"]["taskOutputArtifact"]["producerTask"] == "automl-image-training-job"
    assert deploy["endpoint"]["taskOutputArtifact"]["producerTask"] == "endpoint-create"
    dataset = tasks["image-dataset-create"]["inputs"]["parameters"]
    assert dataset["gcs_source"] == {"componentInputParameter": "gcs_source"}


def test_automl_image_inputs():
    parameters = spec("automl_image")["root"]["inputDefinitions"]["parameters"]
    assert {"project", "gcs_source", "dataset_display_name", "training_display_name",
            "model_display_name", "endpoint_display_name", "training_fraction_split",
            "validation_fraction_split", "test_fraction_split",
            "budget_milli_node_hours"} <= set(parameters)
    assert "defaultValue" not in parameters["project"]
    assert "defaultValue" not in parameters["gcs_source"]
    assert parameters["budget_milli_node_hours"]["parameterType"] == "NUMBER_INTEGER"
    splits = [parameters[f"{part}_fraction_split"]["defaultValue"]
              for part in ("training", "validation", "test")]
    assert sum(splits) == pytest.approx(1.0)


def without_star_imports(program: str) -> str:
    """Spell out `from module import *` (kfp adds two) so ruff can see undefined names."""
    import importlib

    def explicit(match: re.Match) -> str:
        module = importlib.import_module(match.group(1))
        names = getattr(module, "__all__", [name for name in dir(module) if name[0] != "_"])
        return f"from {match.group(1)} import {', '.join(names)}"

    return re.sub(r"^from ([\w.]+) import \*$", explicit, program, flags=re.MULTILINE)


@pytest.mark.parametrize("stem", ["house_prices", "drift_monitoring", "batch_score"])
def test_every_embedded_component_program_defines_the_names_it_uses(tmp_path, stem):
    """A helper missing from additional_funcs would only fail at run time, maybe only on Vertex."""
    import subprocess
    import sys

    programs = []
    for name, executor in spec(stem)["deploymentSpec"]["executors"].items():
        program = tmp_path / f"{name.replace('-', '_')}.py"
        # The helpers' pandas annotations are strings, never evaluated in the component.
        program.write_text("import pandas as pd\n"
                           + without_star_imports(executor["container"]["command"][-1]))
        programs.append(str(program))
    ruff = Path(sys.executable).with_name("ruff")
    # --ignore-noqa: the drift component's body marks its embedded names `noqa: F821` for the
    # source tree; in the compiled program they must really be defined.
    checked = subprocess.run([str(ruff), "check", "--isolated", "--ignore-noqa", "--select", "F821",
                              "--output-format", "concise", *programs],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout


def test_pinned_installs_are_satisfied_here_without_an_index():
    """kfp.local with use_venv=False pip-installs into this venv: that must download nothing."""
    import subprocess
    import sys

    specs = set()
    for executor in spec("house_prices")["deploymentSpec"]["executors"].values():
        command = "\n".join(executor["container"]["command"])
        specs.update(re.findall(r"'([A-Za-z0-9_.-]+==[^' ]+)'", command))
    checked = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps",
         "--disable-pip-version-check", *sorted(specs)],
        capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "Would install" not in checked.stdout
