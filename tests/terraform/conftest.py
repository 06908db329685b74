"""Fixtures for the Terraform checks: terraform/ parsed once per session."""

from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl_config import TERRAFORM_DIR, merge_config
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
