"""docs/your-own-pipeline.md, walked as written: a new pipeline (not the project's) compiled,
routed, checked, run by the local stack with `make up CONFIG=`, ending in a SUCCEEDED run; then
the page's Terraform inputs planned with your routes file and your bucket. No project file changes.

What the walk does that a reader does by hand: it keeps `$ACME` and the stack's folder (`ROOT=`) in
a temporary folder, takes the emulator hosts for the page's `export` line from the banner, runs
`make up` in the background and stops it with SIGTERM, and plans Terraform with hcl_eval (no
Terraform binary here) instead of `terraform plan`.
"""

import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

from tests.local.test_entry_points import processes_marked
from tests.terraform.hcl_config import TERRAFORM_DIR, parse_text
from tests.terraform.hcl_eval import Module
from tests.terraform.helpers import plan

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "your-own-pipeline.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
HOSTS = re.compile(r"(VERTEX_AI_EMULATOR_HOST|STORAGE_EMULATOR_HOST|PUBSUB_EMULATOR_HOST)=(\S+)")

pytestmark = pytest.mark.slow


def blocks(kind: str) -> list[str]:
    return [body for language, body in BLOCK.findall(PAGE.read_text()) if language == kind]


def commands() -> list[str]:
    return [line for body in blocks("sh") for line in body.splitlines() if line.strip()]


def run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run(["bash", "-c", command], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=600, check=False)  # fmt: skip
    assert ran.returncode == 0, f"$ {command}\n{ran.stdout}\n{ran.stderr}"
    return ran


def wait_for(path: Path, pattern: str, process: subprocess.Popen, attempts: int = 2400) -> str:
    for _ in range(attempts):
        text = path.read_text()
        if re.search(pattern, text):
            return text
        assert process.poll() is None, text
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared:\n{path.read_text()}")


def test_the_page_takes_a_new_pipeline_to_a_succeeded_run_and_a_deployment(tmp_path):
    before = run("git status --porcelain", dict(os.environ)).stdout
    acme, stack = tmp_path / "acme", tmp_path / "stack"
    marker = f"PAGE_MARKER_{uuid.uuid4().hex}"
    env = {**os.environ, "ACME": str(acme), marker: "1"}
    for name in ("VERTEX_AI_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST",
                 "TRIGGERS_CONFIG"):  # fmt: skip
        env.pop(name, None)
    [install, make_folder, compile_, new_route, check, up, drop, export, explain, status] = (
        commands())
    assert (install, make_folder) == ("make .venv/.installed",
                                      "export ACME=$HOME/acme && mkdir -p $ACME")  # fmt: skip
    run(install, env)
    acme.mkdir()
    [pipeline] = blocks("python")
    (acme / "rows.py").write_text(pipeline)

    compiled = run(compile_, env).stdout
    routed = run(new_route, env).stdout
    checked = run(check, env).stdout

    assert f"-> {acme / 'rows.yaml'}" in compiled and "min_rows  NUMBER_INTEGER  no" in compiled
    assert routed.strip() == f"wrote {acme / 'triggers.yaml'} (a new routes file)"
    assert yaml.safe_load((acme / "triggers.yaml").read_text())["routes"][0]["parameters"] == {
        "data_uri": "{uri}"}
    assert checked.rstrip().endswith("1 routes checked; an instance would start")

    assert up == "make up CONFIG=$ACME/triggers.yaml"
    log = (tmp_path / "up.log").open("w")
    stack_up = subprocess.Popen(["bash", "-c", f"{up} ROOT={stack}"], cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        banner = wait_for(tmp_path / "up.log", r"read dead letters", stack_up)
        assert f"cp YOUR_FILE {stack}/buckets/acme-raw/incoming/NAME.csv" in banner
        run(drop.replace(".demo/", f"{stack}/"), env)
        ran = wait_for(tmp_path / "up.log", r"PIPELINE_STATE_(SUCCEEDED|FAILED)", stack_up)
        assert re.search(r"run rows-[0-9a-f]+: PIPELINE_STATE_SUCCEEDED", ran), ran
        hosts = dict(HOSTS.findall(banner))
        assert set(hosts) == set(dict(HOSTS.findall(export)))  # the page exports what it printed
        env.update(hosts)
        explained = run(explain, env).stdout
        listed = run(status, env).stdout
    finally:
        stack_up.send_signal(signal.SIGTERM)  # make passes it on; the stack stops everything
        code = stack_up.wait(timeout=120)
    for _ in range(100):
        if not processes_marked(marker):
            break
        time.sleep(0.1)

    assert "decision  would_launch" in explained and "route     rows" in explained
    [row] = [line.split() for line in listed.splitlines() if line.startswith("rows ")]
    assert row[1] == "object" and "SUCCEEDED" in row
    # make passes SIGTERM to the stack, then dies of it itself; the stack stops every process.
    assert code == -signal.SIGTERM and processes_marked(marker) == []
    assert "stopped every process of the stack" in (tmp_path / "up.log").read_text()
    deploy(acme)
    assert run("git status --porcelain", dict(os.environ)).stdout == before  # no project file


def deploy(acme: Path) -> None:
    """Step 5: the page's Terraform inputs, planned (validations, preconditions, the check)."""
    [tfvars] = blocks("hcl")
    inputs = {k: v for k, v in parse_text(tfvars).items() if not k.startswith("__")}
    assert inputs["routes_file"] == "/home/you/acme/triggers.yaml"
    inputs["routes_file"] = str(acme / "triggers.yaml")

    evaluator = plan(Module.load(TERRAFORM_DIR), inputs)

    [route] = yaml.safe_load(evaluator.local("triggers_yaml"))["routes"]
    assert (route["bucket"], route["template"]) == ("acme-raw", "gs://acme-prod-templates/rows.yaml")
    assert evaluator.render_resource("google_storage_bucket", "data") == {}  # yours, unmanaged
    assert evaluator.local("template_uploads") == {"rows.yaml": str(acme / "rows.yaml")}
