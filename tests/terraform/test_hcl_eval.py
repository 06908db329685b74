"""The HCL evaluator behind test_rendering agrees with Terraform on the constructs it supports."""

from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl_eval import (
    Evaluator,
    HclError,
    Module,
    UnknownValueError,
    ValidationFailedError,
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
        evaluate('templatefile("x", {})')
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


# Module calls, unknown values and rendering: what the four functions' module calls need.

CHILD = '''
variable "name" {
  type = string
  validation {
    condition     = can(regex("^[a-z0-9]+$", var.name))
    error_message = "name must be lowercase."
  }
}
variable "size" {
  type    = number
  default = 1
}
variable "tags" {
  type    = map(string)
  default = {}
}
resource "t" "this" {
  name = var.name
  none = null
  block {
    size    = var.size
    version = "v1"
  }
  dynamic "tag" {
    for_each = var.tags
    content {
      key   = tag.key
      value = tag.value
    }
  }
  dynamic "empty" {
    for_each = []
    content {
      x = 1
    }
  }
  lifecycle {
    precondition {
      condition     = var.size < 10
      error_message = "size must stay below 10."
    }
  }
}
output "name" {
  value = t.this.name
}
output "id" {
  value = t.this.id
}
'''
ROOT = '''
variable "copies" {
  type    = number
  default = 2
}
resource "r" "source" {
  name = "src"
}
resource "r" "counted" {
  count = 2
  name  = "c${count.index}"
}
module "one" {
  source = "./child"
  name   = r.source.name
  size   = 2
  tags   = { b = "2", a = "1" }
}
module "many" {
  source = "./child"
  count  = var.copies
  name   = "m${count.index}"
  size   = r.source.id
}
locals {
  one_name   = module.one.name
  many_names = [for m in module.many : m.name]
  second     = r.counted[1].name
}
'''


@pytest.fixture
def caller(tmp_path: Path) -> Module:
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "main.tf").write_text(CHILD)
    (tmp_path / "main.tf").write_text(ROOT)
    return Module.load(tmp_path)


def test_module_outputs_come_through_the_child_from_the_callers_arguments(caller: Module) -> None:
    evaluator = Evaluator(caller, {}, caller.path)
    assert evaluator.local("one_name") == "src"
    assert evaluator.local("many_names") == ["m0", "m1"]  # one instance per count, count.index
    assert evaluator.local("second") == "c1"  # a counted resource's instance
    assert [i.index for i in evaluator.module_instances("many")] == [0, 1]
    assert caller.calls["one"].source == "./child"


def test_an_unknown_argument_stops_only_what_reads_it(caller: Module) -> None:
    evaluator = Evaluator(caller, {}, caller.path)
    many = evaluator.module_instance("many", 0)
    assert many.vars["name"] == "m0"
    with pytest.raises(UnknownValueError, match=r"r\.source\.id is not known"):
        many.vars["size"]
    evaluator.check_preconditions()  # what reads r.source.id waits for apply, as in Terraform
    assert evaluator.deferred == [
        "module.many[0].t.this: r.source.id is not known at plan time here",
        "module.many[1].t.this: r.source.id is not known at plan time here",
    ]


def test_module_checks_run_with_the_callers_values(caller: Module) -> None:
    computed = {("r", "source", "id"): lambda _: 20}
    with pytest.raises(ValidationFailedError, match=r"^module\.many\[0\]\.t\.this: size must stay"):
        Evaluator(caller, {}, caller.path, computed=computed).check_preconditions()
    bad_name = {("r", "source", "id"): lambda _: 3, ("r", "source", "name"): lambda _: "SRC"}
    lowercase = r"^module\.one\.var\.name: name must be lowercase"
    with pytest.raises(ValidationFailedError, match=lowercase):
        Evaluator(caller, {}, caller.path, computed=bad_name).check_preconditions()
    zero = Evaluator(caller, {"copies": 0}, caller.path, computed=computed)
    zero.check_preconditions()  # no instance, nothing to check
    assert zero.module_instances("many") == []


def test_values_supplied_for_a_childs_resources_are_prefixed_with_the_call(caller: Module) -> None:
    computed = {("module.one.t", "this", "id"): lambda _: "projects/p/things/src"}
    evaluator = Evaluator(caller, {}, caller.path, computed=computed)
    assert evaluator.module_output("one", "id") == "projects/p/things/src"
    with pytest.raises(UnknownValueError):
        evaluator.module_output("many", "id", 0)


def test_resources_render_as_the_provider_receives_them(caller: Module) -> None:
    child = Evaluator(caller, {}, caller.path).module_instance("one")
    assert child.render_resource("t", "this") == {
        None: {"name": "src", "block": [{"size": 2, "version": "v1"}],
               "tag": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]},
    }  # fmt: skip
    # A nested block's `version` is the provider's; the lifecycle block is Terraform's, left out.
    root = Evaluator(caller, {}, caller.path)
    assert root.render_resource("r", "counted") == {0: {"name": "c0"}, 1: {"name": "c1"}}


def test_can_of_an_unknown_value_is_unknown_not_false(caller: Module) -> None:
    evaluator = Evaluator(caller, {}, caller.path)
    with pytest.raises(UnknownValueError):
        evaluator.evaluate(parse_expression("can(r.source.id)"), {})
    with pytest.raises(HclError, match=r"no resource r\.missing"):
        evaluator.evaluate(parse_expression("r.missing.id"), {})


def test_only_local_module_sources_are_followed(tmp_path: Path) -> None:
    registry = 'module "x" {\n  source = "terraform-google-modules/x/google"\n}\n'
    (tmp_path / "main.tf").write_text(registry)
    with pytest.raises(HclError, match="only local module sources"):
        Module.load(tmp_path)


def test_try_returns_the_first_argument_that_evaluates() -> None:
    assert evaluate('try({a = 1}.b, {a = 1}.a, 3)') == 1
    assert evaluate("try({}.missing, null)") is None
    with pytest.raises(HclError, match="no argument could be evaluated"):
        evaluate("try({}.missing)")


def test_files_decode_as_terraform_reads_them(tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "triggers.yaml").write_text("routes:\n  - {name: a, min: 0.5}\n")
    module = Module()
    evaluator = Evaluator(module, {}, tmp_path)  # relative paths: from the root module

    def run(source: str) -> Any:
        return evaluator.evaluate(parse_expression(source), {})

    assert run('yamldecode(file("routes/triggers.yaml")).routes[0].min') == 0.5
    assert run('fileexists("routes/triggers.yaml")') is True
    assert run('fileexists("routes/missing.yaml")') is False
    routes = str(tmp_path / "routes" / "triggers.yaml")
    assert run('abspath("routes/../routes/triggers.yaml")') == routes
    assert run('dirname("a/b/c.yaml")') == "a/b"
    assert run('basename("a/b/c.yaml")') == "c.yaml"
    assert run('jsondecode(jsonencode({b = [1, "x"], a = toset(["z", "y"])}))') == {
        "b": [1, "x"], "a": ["y", "z"]}
    assert run('one([])') is None and run('one(["x"])') == "x"
    with pytest.raises(HclError, match="file"):
        run('file("routes/missing.yaml")')


def test_a_counted_data_source_is_a_list_of_instances(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "on" {\n  type = bool\n}\n'
        'data "external" "check" {\n  count   = var.on ? 1 : 0\n  program = ["true"]\n}\n'
        'locals {\n  ok = alltrue([for c in data.external.check : c.result.ok == "true"])\n}\n'
    )
    module = Module.load(tmp_path)
    computed = {("data.external", "check", "result"): lambda _: {"ok": "false"}}

    assert Evaluator(module, {"on": False}, tmp_path, computed=computed).local("ok") is True
    assert Evaluator(module, {"on": True}, tmp_path, computed=computed).local("ok") is False
