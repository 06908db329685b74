"""Fixtures for the Terraform checks: terraform/ parsed once per session, the example's inputs."""

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl_config import REPO_ROOT, TERRAFORM_DIR, merge_config, parse_file
from tests.terraform.hcl_eval import Module


@pytest.fixture(scope="session")
def tf_files() -> list[Path]:
    files = sorted(TERRAFORM_DIR.glob("*.tf"))
    assert files, f"no .tf files under {TERRAFORM_DIR}"
    return files


@pytest.fixture(scope="session")
def tf(tf_files: list[Path]) -> dict[str, dict[str, Any]]:
    return merge_config(tf_files)


@pytest.fixture(scope="session")
def tf_module() -> Module:
    """The module as expression trees, for what the dictionary form cannot tell apart."""
    return Module.load(TERRAFORM_DIR)


@pytest.fixture(scope="module")
def module() -> Module:
    return Module.load(TERRAFORM_DIR)


@pytest.fixture
def compiled_dir(tmp_path: Path) -> Path:
    """A copy of compiled/, so a test may add or remove templates."""
    return Path(shutil.copytree(REPO_ROOT / "compiled", tmp_path / "compiled"))


@pytest.fixture
def example(compiled_dir: Path) -> dict[str, Any]:
    """terraform.tfvars.example as input variables, pointed at the test's compiled/."""
    parsed = parse_file(TERRAFORM_DIR / "terraform.tfvars.example")
    inputs = {key: value for key, value in parsed.items() if not key.startswith("__")}
    inputs["compiled_templates_dir"] = str(compiled_dir)
    return inputs
