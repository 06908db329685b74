"""``compile``: a pipeline file of yours becomes a template beside it, with KFP's compiler."""

import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PIPELINE = '''
from kfp import dsl

from helpers import greeting  # a module beside the pipeline: the file's folder is importable


@dsl.component(base_image="python:3.11")
def count(data_uri: str, min_rows: int) -> int:
    return min_rows


@dsl.pipeline(name="row-count")
def row_count(data_uri: str, min_rows: int = 1, label: str = greeting):
    count(data_uri=data_uri, min_rows=min_rows)
'''


def write_pipeline(folder: Path, text: str = PIPELINE) -> Path:
    (folder / "helpers.py").write_text('greeting = "hello"\n')
    path = folder / "my_pipeline.py"
    path.write_text(text)
    return path


def test_a_pipeline_file_compiles_to_a_template_beside_it(tmp_path, cli):
    path = write_pipeline(tmp_path)

    ran = cli("compile", path)

    assert ran.code == 0, ran.err
    template = yaml.safe_load((tmp_path / "my_pipeline.yaml").read_text())
    assert template["pipelineInfo"]["name"] == "row-count"
    assert template["root"]["inputDefinitions"]["parameters"]["label"]["defaultValue"] == "hello"
    lines = ran.out.splitlines()
    assert lines[0] == f"compiled {path} -> {tmp_path / 'my_pipeline.yaml'}"
    assert ["data_uri", "STRING", "yes"] in [line.split() for line in lines]
    assert ["min_rows", "NUMBER_INTEGER", "no"] in [line.split() for line in lines]


def test_output_and_a_choice_among_several_pipelines(tmp_path, cli):
    text = PIPELINE + '''

@dsl.pipeline(name="other")
def other(data_uri: str):
    count(data_uri=data_uri, min_rows=2)
'''
    path = write_pipeline(tmp_path, text)

    several = cli("compile", path)
    chosen = cli("compile", path, "--pipeline", "other", "--output", tmp_path / "o.yaml", "--json")

    assert several.code == 1
    assert several.err.strip() == (
        f"{path}: several pipelines (other, row_count): choose with --pipeline"
    )
    assert chosen.code == 0
    assert chosen.json() == {"template": str(tmp_path / "o.yaml"),
                             "inputs": [{"input": "data_uri", "type": "STRING", "required": "yes"}]}


def test_a_file_without_a_pipeline_or_that_fails_to_import_says_so(tmp_path, cli):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n")

    assert cli("compile", empty).err.strip() == f"{empty}: no function decorated with @dsl.pipeline"
    assert cli("compile", broken).err.strip() == (
        f"{broken}: importing it failed: ModuleNotFoundError: No module named "
        "'no_such_module_here'")  # fmt: skip
    missing = tmp_path / "missing.py"
    assert cli("compile", missing).err.strip() == f"{missing}: no such file"


def test_make_compile_takes_your_pipeline(tmp_path):
    path = write_pipeline(tmp_path)

    ran = subprocess.run(["make", "-s", "compile", f"PIPELINE={path}"], cwd=REPO,
                         capture_output=True, text=True, check=False)  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "my_pipeline.yaml").exists()
    assert f"compiled {path} -> " in ran.stdout  # yours only: compiled/ is not rebuilt
