"""Every .tf file parses, and the module is laid out the way `terraform fmt` writes it."""

from pathlib import Path

import pytest

from tests.terraform.hcl_config import TERRAFORM_DIR, format_errors, parse_file

EXPECTED_FILES = {
    "versions.tf", "variables.tf", "main.tf", "config.tf", "storage.tf",
    "functions.tf", "sweeper.tf", "pubsub.tf", "iam.tf", "outputs.tf", "outcomes.tf", "moved.tf",
    "alerting.tf",
}


def test_module_has_the_standard_files(tf_files: list[Path]) -> None:
    assert {f.name for f in tf_files} == EXPECTED_FILES
    assert (TERRAFORM_DIR / "terraform.tfvars.example").is_file()
    assert (TERRAFORM_DIR / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED_FILES))
def test_file_parses(name: str) -> None:
    parsed = parse_file(TERRAFORM_DIR / name)
    assert parsed, f"{name} parsed to nothing"


def test_tfvars_example_parses() -> None:
    parsed = parse_file(TERRAFORM_DIR / "terraform.tfvars.example")
    assert parsed["project_id"] == ["my-project"] or parsed["project_id"] == "my-project"


@pytest.mark.parametrize("name", [*sorted(EXPECTED_FILES), "terraform.tfvars.example"])
def test_file_is_fmt_clean(name: str) -> None:
    assert format_errors((TERRAFORM_DIR / name).read_text()) == []


# The layout checker itself: each rule must catch its own kind of departure.

GOOD = '''resource "x" "y" {
  name     = "a"
  location = "b" # why

  nested {
    key = "v"
  }
  tags = {
    team = "t"
  }
}
'''


def test_checker_accepts_fmt_output() -> None:
    assert format_errors(GOOD) == []


def test_checker_catches_misaligned_equals() -> None:
    bad = GOOD.replace('location = "b"', 'location  = "b"')
    assert format_errors(bad) == ["line 3: `=` at column 12, expected 11"]


def test_checker_catches_equals_aligned_across_a_blank_line() -> None:
    bad = GOOD.replace("    key = ", "    key      = ")
    assert format_errors(bad) == ["line 6: `=` at column 13, expected 8"]


def test_checker_catches_bad_indent() -> None:
    bad = GOOD.replace('    team = "t"', '   team = "t"')
    assert format_errors(bad) == ["line 9: indent 3, expected 4"]


def test_checker_catches_trailing_space_and_final_newlines() -> None:
    bad = GOOD.replace('"a"\n', '"a" \n') + "\n"
    assert format_errors(bad) == [
        "line 2: trailing whitespace",
        "file must end with exactly one newline",
    ]


def test_checker_aligns_across_heredocs_but_ignores_equals_inside_strings() -> None:
    source = '''locals {
  a  = "x=${join("=", ["y"])}"
  b  = <<-EOT
    not = aligned
  EOT
  cc = a == b
}
'''
    assert format_errors(source) == []
    assert format_errors(source.replace("  cc = a", "  c = a")) == [
        "line 2: `=` at column 5, expected 4",
        "line 3: `=` at column 5, expected 4",
    ]
