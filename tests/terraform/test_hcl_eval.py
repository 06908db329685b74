"""The HCL evaluator behind test_rendering agrees with Terraform on the constructs it supports."""

from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl_eval import (
    Evaluator,
    HclError,
    Module,
    attributes_of,
    blocks_of,
    parse_body,
    parse_expression,
)

VARIABLES = '''
variable "items" {
  type = list(object({
    name   = string
    labels = optional(map(string), {})
    size   = optional(number)
  }))
}
'''


def evaluate(source: str, **scope: Any) -> Any:
    return Evaluator(Module(), {}, Path(".")).evaluate(parse_expression(source), scope)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("10 - 4 - 3", 3),  # left-associative
        ("1 + 2 * 3 == 7 && !false", True),
        ('"a" == "b" || 2 > 1 && 1 == 1', True),
        ("2 > 1 ? \"yes\" : \"no\"", "yes"),
        ("1 == 2 || 3 == 3 ? 10 : 20", 10),
        ("null == null ? 45 : 2 * 3", 45),
        ("[for x in [1, 2, 3] : x * 2 if x != 2]", [2, 6]),
        ('{for k, v in {b = 1, a = 2} : k => v if v > 1}', {"a": 2}),
        ('"${1 + 1}"', 2),  # a lone interpolation keeps its type
        ('"n=${1 + 1}"', "n=2"),
        ('"$${literal}"', "${literal}"),
        ('can(regex("^a+$", "aaa"))', True),
        ('can(regex("^a+$", null))', False),
        ('regex("(ms|s|m|h|d)$", "500ms")[0]', "ms"),
        ('coalesce(null, "", "x")', "x"),
        ('merge({a = 1}, {b = null})', {"a": 1, "b": None}),
        ('trimsuffix("house_prices.yaml", ".yaml")', "house_prices"),
        ("(1 + 2) * 3", 9),
        ("1 == 1\n  && 2 > 3", False),  # an operator continuing the previous line
        ("[10, 20][1]", 20),
        ('{"quoted key" = 1, in = 2}', {"quoted key": 1, "in": 2}),
        ('"a\\"b\\tc\\\\"', 'a"b\tc\\'),  # HCL escapes: \" \t \\
        ("<<-EOT\n    a\n      b\n  EOT", "a\n  b\n"),
    ],
)
def test_expression_values(source: str, expected: Any) -> None:
    assert evaluate(source) == expected


def test_unsupported_functions_and_directives_raise() -> None:
    with pytest.raises(HclError, match="not implemented"):
        evaluate('jsonencode({})')
    with pytest.raises(HclError, match="directives"):
        evaluate('"%{if true}x%{endif}"')
    with pytest.raises(HclError, match="splat"):
        evaluate("[{a = 1}][*].a")


def test_variables_get_optional_defaults_and_reject_unknown_attributes(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(VARIABLES)
    module = Module.load(tmp_path)
    values = Evaluator(module, {"items": [{"name": "a"}]}, tmp_path).vars["items"]
    assert values == [{"name": "a", "labels": {}, "size": None}]
    with pytest.raises(HclError, match="not in the type"):
        Evaluator(module, {"items": [{"name": "a", "sise": 1}]}, tmp_path)
    with pytest.raises(HclError, match="'name' is required"):
        Evaluator(module, {"items": [{}]}, tmp_path)


def test_blocks_and_attributes_are_read_from_files() -> None:
    body = parse_body('locals {\n  a = 1\n}\nresource "t" "n" {\n  b = 2\n}\n')
    ((labels, locals_body),) = blocks_of(body, "locals")
    assert labels == []
    assert list(attributes_of(locals_body)) == ["a"]
    ((labels, resource_body),) = blocks_of(body, "resource")
    assert labels == ["t", "n"]
    evaluator = Evaluator(Module(), {}, Path("."))
    assert evaluator.evaluate(attributes_of(resource_body)["b"], {}) == 2
