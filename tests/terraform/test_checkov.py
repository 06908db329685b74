"""Checkov's Terraform policies pass offline, and every skip carries its reason beside it.

Checkov runs from its own venv, .venv/checkov (requirements-checkov.txt): its bc-python-hcl2 and
the tests' python-hcl2 both install a top-level `hcl2` package, so they cannot share one. It scans
terraform/ (the root module with the modules it calls, as deployed) and modules/cloud_function on
its own (with its defaults, as another caller would start).
"""

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl_config import MODULE_DIR, REPO_ROOT, TERRAFORM_DIR

CHECKOV = REPO_ROOT / ".venv" / "checkov" / "bin" / "checkov"
PINNED = re.compile(r"^checkov==(\S+)$", re.MULTILINE)
SKIP_COMMENT = re.compile(r"#checkov:skip=(CKV2?_[A-Z0-9_]+)(?::(.*))?$")


def checkov(directory: Path) -> dict[str, Any]:
    """Checkov's JSON report on one directory."""
    if not CHECKOV.is_file():
        pytest.fail(
            f"{CHECKOV} is missing: run `make test`, which builds .venv/checkov from "
            "requirements-checkov.txt"
        )
    # Without PYTHONPATH: an hcl2 on it would shadow the bc-python-hcl2 of checkov's own venv.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # --skip-download: no network here, and no platform account; the bundled policies suffice.
    result = subprocess.run(
        [str(CHECKOV), "--skip-download", "--framework", "terraform", "--directory",
         str(directory), "--output", "json"],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    return checkov(TERRAFORM_DIR)


@pytest.fixture(scope="module")
def checkov_module_report() -> dict[str, Any]:
    return checkov(MODULE_DIR)


def test_checkov_finds_no_failed_checks(checkov_report: dict[str, Any]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert failed == []
    assert checkov_report["summary"]["parsing_errors"] == 0


def test_checkov_evaluated_the_module(checkov_report: dict[str, Any]) -> None:
    resources = {c["resource"].split(".")[0] for c in checkov_report["results"]["passed_checks"]}
    assert checkov_report["summary"]["passed"] > 0
    pinned = PINNED.search((REPO_ROOT / "requirements-checkov.txt").read_text())
    assert pinned, "requirements-checkov.txt pins no checkov version"
    assert checkov_report["summary"]["checkov_version"] == pinned.group(1)  # not a stale venv
    assert {"google_storage_bucket", "google_project_iam_member"} <= resources


def test_checkov_evaluated_each_function_through_its_module_call(
    checkov_report: dict[str, Any],
) -> None:
    # A check whose input checkov cannot resolve is UNKNOWN and silently left out of the report:
    # source_archive as one local object of resource attributes, shared by the four calls, did
    # that to all four (their ingress went unchecked). Each call must be seen.
    passed = {
        (c["check_id"], c["resource"], c["file_path"])
        for c in checkov_report["results"]["passed_checks"]
    }
    for call in ("on_object_finalized", "on_drift_alert", "on_run_state", "sweep"):
        resource = f"module.{call}.google_cloudfunctions2_function.this"
        assert ("CKV_GCP_124", resource, "/modules/cloud_function/main.tf") in passed, call


def test_every_skip_is_justified(checkov_report: dict[str, Any]) -> None:
    for check in checkov_report["results"]["skipped_checks"]:
        reason = check.get("check_result", {}).get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} on {check['resource']}: {reason!r}"


def test_the_function_module_passes_on_its_own(checkov_module_report: dict[str, Any]) -> None:
    results = checkov_module_report["results"]
    assert results["failed_checks"] == [] and results["skipped_checks"] == []
    assert checkov_module_report["summary"]["parsing_errors"] == 0
    passed = {(c["check_id"], c["resource"]) for c in results["passed_checks"]}
    # Its default ingress is internal only: a caller that sets nothing gets no public function.
    assert ("CKV_GCP_124", "google_cloudfunctions2_function.this") in passed


def test_skip_comments_name_a_check_and_a_reason() -> None:
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "checkov:skip" not in line:
                continue
            match = SKIP_COMMENT.search(line.strip())
            assert match and match.group(2) and len(match.group(2).split()) >= 5, (
                f"{path.name}:{number}: skip without a reason"
            )
