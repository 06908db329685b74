"""terraform/README.md, "What the deployment needs", lists exactly the module's grants and roles.

The module's grants include the invoker grants its calls of modules/cloud_function make, listed at
their addresses: module.CALL.google_cloud_run_v2_service_iam_member.invoker["KEY"].
"""

import re
from typing import Any

from tests.terraform.hcl_config import MODULE_DIR, TERRAFORM_DIR, attr, merge_config

SECTION = "## What the deployment needs"
ADDRESS = r'(?:module\.[a-z0-9_]+\.)?google_[a-z0-9_]+_iam_member\.[a-z0-9_]+(?:\["[a-z0-9_]+"\])?'
ROW_RESOURCE = re.compile(rf"^\| `({ADDRESS})` \|")


def section_rows() -> dict[str, str]:
    """Resource address -> its table row, from the README section."""
    text = (TERRAFORM_DIR / "README.md").read_text()
    assert SECTION in text, f"terraform/README.md has no {SECTION!r} section"
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        match = ROW_RESOURCE.match(line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
            rows[match.group(1)] = line
    return rows


def module_grants(tf: dict[str, Any]) -> dict[str, str]:
    """Resource address -> role, for every IAM member resource of the module and its calls."""
    grants = {
        f"{rtype}.{name}": attr(body, "role")
        for rtype, resources in tf["resource"].items() if rtype.endswith("_iam_member")
        for name, body in resources.items()
    }
    function = merge_config(sorted(MODULE_DIR.glob("*.tf")))["resource"]
    invoker = function["google_cloud_run_v2_service_iam_member"]["invoker"]
    for call, body in tf["module"].items():
        for key in body.get("invoker_members", {}):
            address = f'module.{call}.google_cloud_run_v2_service_iam_member.invoker["{key}"]'
            grants[address] = attr(invoker, "role")
    return grants


def test_every_grant_is_listed_and_nothing_else(tf: dict[str, Any]) -> None:
    assert set(section_rows()) == set(module_grants(tf))


CUSTOM_ROLE = re.compile(r"^\$\{(google_project_iam_custom_role\.[a-z0-9_]+)\.name\}$")


def test_each_listed_grant_names_its_role(tf: dict[str, Any]) -> None:
    rows = section_rows()
    for address, role in module_grants(tf).items():
        custom = CUSTOM_ROLE.match(role)
        if custom:  # a custom role of the module: the row names it and lists its permissions
            assert f"| custom role `{custom.group(1)}`" in rows[address], address
            body = tf["resource"]["google_project_iam_custom_role"][custom.group(1).split(".")[1]]
            for permission in attr(body, "permissions"):
                assert f"`{permission}`" in rows[address], f"{address}: {permission} not listed"
            continue
        assert f"| `{role}` |" in rows[address], f"{address}: the row does not name {role}"


def test_each_row_says_who_on_what_and_why() -> None:
    for address, row in section_rows().items():
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert len(cells) == 5 and all(cells), f"{address}: {row}"
