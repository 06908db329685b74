"""Only intended files ship: the deployed zip is main.py, the package, the pinned requirements and
the rendered routes file, whatever else lies in functions/.

The zip is built as the archive provider builds data.archive_file.function_source: one entry per
`source` block (dynamic ones expanded), rendered by hcl_eval from the module itself.
"""

import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

import yaml

from tests.terraform.hcl_config import REPO_ROOT
from tests.terraform.hcl_eval import Module
from tests.terraform.helpers import plan

FUNCTIONS = REPO_ROOT / "functions"
STRAYS = (
    "triggers.test.yaml", "notes.md", ".env", "scratch.py", "tests/test_local.py",
    "vertex_trigger/__pycache__/startup.cpython-311.pyc", "vertex_trigger/config/notes.txt",
    ".venv/lib/site.py",
)  # fmt: skip


def deployed_zip(module: Module, inputs: dict[str, Any]) -> zipfile.ZipFile:
    """The archive Terraform would upload, built from the module's own source blocks."""
    evaluator = plan(module, inputs)
    [archive] = evaluator.render_resource("data.archive_file", "function_source").values()
    assert archive["type"] == "zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as built:
        for source in archive["source"]:
            built.writestr(source["filename"], source["content"])
    return zipfile.ZipFile(buffer)


def package_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in (root / "vertex_trigger").rglob("*.py")
            if "__pycache__" not in p.parts}  # fmt: skip


def test_the_zip_holds_exactly_the_intended_files(module: Module, example, tmp_path):
    source = Path(shutil.copytree(FUNCTIONS, tmp_path / "functions",
                                  ignore=shutil.ignore_patterns("__pycache__")))  # fmt: skip
    for stray in STRAYS:
        (source / stray).parent.mkdir(parents=True, exist_ok=True)
        (source / stray).write_text("not for the deployment\n")

    shipped = deployed_zip(module, {**example, "functions_source_dir": str(source)})

    assert set(shipped.namelist()) == {"main.py", "requirements.txt", "triggers.yaml",
                                       *package_files(source)}  # fmt: skip
    assert "vertex_trigger/startup.py" in shipped.namelist()
    assert shipped.read("main.py") == (FUNCTIONS / "main.py").read_bytes()
    assert shipped.read("requirements.txt") == (FUNCTIONS / "requirements.txt").read_bytes()


def test_the_shipped_routes_file_is_the_rendered_one_not_the_local_demos(module: Module, example):
    shipped = deployed_zip(module, example)

    config = yaml.safe_load(shipped.read("triggers.yaml"))
    assert config["project"] == "my-project"  # functions/triggers.yaml says local-project
    assert shipped.namelist().count("triggers.yaml") == 1
