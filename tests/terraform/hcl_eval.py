"""Evaluate the HCL this module's variables, locals and preconditions use, without Terraform.

Terraform cannot be installed here, so the rendering of triggers.yaml, the variable validations and
the preconditions are evaluated by this small interpreter over python-hcl2's raw Lark parse tree
(`hcl2.parses_to_tree`; its grammar already nests operators by HCL's precedence). It covers the
subset of the language the module uses (literals, templates, references, indexes, for-expressions,
conditionals, operators, and the functions listed in FUNCTIONS) and raises on anything else, so a
construct it does not know cannot pass silently.

Calls of local modules (`source = "./..."`) are followed: a call's arguments are evaluated in the
caller when the child reads them, its outputs through the child, and its validations and
preconditions with the caller's plan. A resource attribute the provider computes (an id, an email)
is unknown unless a test supplies it: a check that reads one is deferred, as Terraform defers it
to apply, and listed in Evaluator.deferred.
"""

import base64
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import yaml
from hcl2.utils import process_escape_sequences
from lark import Token, Tree

# Operator token types of the grammar's binary_operator rule (a newline before an operator is
# merged into its token, so the token's text is not the operator alone).
_OPERATORS = {
    "DOUBLE_EQ": "==", "NEQ": "!=", "LT": "<", "GT": ">", "LEQ": "<=", "GEQ": ">=", "PLUS": "+",
    "MINUS": "-", "ASTERISK": "*", "SLASH": "/", "PERCENT": "%", "DOUBLE_AMP": "&&",
    "DOUBLE_PIPE": "||",
}
_DIRECTIVES = {
    "template_if_start", "template_else", "template_endif", "template_for_start", "template_endfor",
}


class HclError(Exception):
    """An expression failed to evaluate (what Terraform reports as an error)."""


class ValidationFailedError(HclError):
    """A variable validation or a precondition did not hold; carries its error_message."""


class UnknownValueError(HclError):
    """A value only the provider knows (after apply, or unless a test supplies it)."""


# Arguments and blocks of a resource or module block that are Terraform's, not the provider's or
# the module's (nested blocks have none).
RESOURCE_META_ARGUMENTS = {"count", "for_each", "depends_on", "provider"}
MODULE_META_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}


def parse_body(text: str) -> Tree:
    """Parse a whole file (or a snippet of attributes) into its top-level body."""
    return hcl2.parses_to_tree(text).children[0]


def parse_expression(source: str) -> Tree:
    """Parse one expression by wrapping it in an attribute."""
    return attributes_of(parse_body(f"x = {source}\n"))["x"]


def blocks_of(body: Tree, kind: str) -> list[tuple[list[str], Tree]]:
    """Blocks of one kind in a body: (labels, block body) pairs."""
    found = []
    for node in _trees(body, "block"):
        names = [_name(c) for c in _trees(node) if c.data != "body"]
        if names[0] == kind:
            found.append((names[1:], next(_trees(node, "body"))))
    return found


def attributes_of(body: Tree) -> dict[str, Tree]:
    """Attribute name -> expression tree of one body."""
    return {_name(node.children[0]): node.children[-1] for node in _trees(body, "attribute")}


def nested_blocks(body: Tree) -> list[tuple[str, list[str], Tree]]:
    """Every block of a body, in order: (type, labels, block body)."""
    found = []
    for node in _trees(body, "block"):
        names = [_name(c) for c in _trees(node) if c.data != "body"]
        found.append((names[0], names[1:], next(_trees(node, "body"))))
    return found


def _trees(node: Tree, data: str | None = None) -> Any:
    """Child trees of a node (all, or those of one rule), skipping newlines and comments."""
    return (
        c for c in node.children
        if isinstance(c, Tree) and c.data != "new_line_or_comment" and data in (None, c.data)
    )


def _name(node: Tree) -> str:
    """An attribute name, block type or label: identifier, keyword, literal or quoted string."""
    if node.data == "string":
        return "".join(_literal_parts(node))
    return str(node.children[0])


def _literal_parts(node: Tree) -> list[str]:
    """The text of a string without interpolations (block labels, object type keys)."""
    parts = []
    for part in node.children:
        if isinstance(part, Tree):
            (piece,) = part.children
            if not isinstance(piece, Token) or piece.type != "STRING_CHARS":
                raise HclError(f"expected a literal string, got {piece}")
            parts.append(process_escape_sequences(str(piece)))
    return parts


@dataclass
class ModuleCall:
    """A `module` block: the child it calls, its arguments and its count, as expression trees."""

    source: str
    module: "Module"
    arguments: dict[str, Tree]
    count: Tree | None


@dataclass
class Module:
    """A module's declarations: variables, locals, resources, outputs and module calls."""

    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Tree] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Tree] = field(default_factory=dict)
    calls: dict[str, ModuleCall] = field(default_factory=dict)
    path: Path = Path(".")

    @classmethod
    def load(cls, directory: Path) -> "Module":
        """Read every .tf file of a directory, and the local modules it calls."""
        module = cls(path=directory)
        for path in sorted(directory.glob("*.tf")):
            body = parse_body(path.read_text())
            for (name,), block in blocks_of(body, "variable"):
                module.variables[name] = {
                    "attributes": attributes_of(block),
                    "validations": [attributes_of(b) for _, b in blocks_of(block, "validation")],
                }
            for _, block in blocks_of(body, "locals"):
                module.locals.update(attributes_of(block))
            blocks = [(labels, block) for labels, block in blocks_of(body, "resource")]
            # Data sources as resources of type data.TYPE (their count, preconditions, values).
            blocks += [((f"data.{t}", n), block) for (t, n), block in blocks_of(body, "data")]
            for (rtype, name), block in blocks:
                lifecycle = blocks_of(block, "lifecycle")
                conditions = [
                    attributes_of(b)
                    for _, life in lifecycle
                    for _, b in blocks_of(life, "precondition")
                ]
                module.resources[(rtype, name)] = {
                    "attributes": attributes_of(block),
                    "preconditions": conditions,
                    "body": block,
                }
            for (name,), block in blocks_of(body, "output"):
                module.outputs[name] = attributes_of(block)["value"]
            for (name,), block in blocks_of(body, "module"):
                module.calls[name] = _module_call(directory, attributes_of(block))
        return module


def _module_call(directory: Path, attributes: dict[str, Tree]) -> ModuleCall:
    source = Evaluator(Module(), {}, directory).evaluate(attributes["source"], {})
    if not source.startswith(("./", "../")):
        raise HclError(f"only local module sources are supported, not {source!r}")
    if "for_each" in attributes:
        raise HclError("for_each on a module call is not supported by this evaluator")
    return ModuleCall(
        source=source,
        module=Module.load((directory / source).resolve()),
        arguments={k: v for k, v in attributes.items() if k not in MODULE_META_ARGUMENTS},
        count=attributes.get("count"),
    )


class _Arguments(Mapping[str, Any]):
    """A module call's arguments, each evaluated in the caller when the child first reads it."""

    def __init__(self, names: list[str], evaluate: Callable[[str], Any]) -> None:
        self._names = names
        self._evaluate = evaluate

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        return self._evaluate(name)

    def __contains__(self, name: object) -> bool:
        return name in self._names  # without evaluating it

    def __iter__(self) -> Any:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _Variables(Mapping[str, Any]):
    """Input variables, converted to their declared types when first read."""

    def __init__(self, evaluator: "Evaluator", inputs: Mapping[str, Any]) -> None:
        declared = evaluator.module.variables
        unknown = set(inputs) - set(declared)
        if unknown:
            raise HclError(f"undeclared variables: {sorted(unknown)}")
        for name, variable in declared.items():
            if name not in inputs and "default" not in variable["attributes"]:
                raise HclError(f"variable {name!r} is required")
        self._evaluator, self._inputs, self._values = evaluator, inputs, {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            attributes = self._evaluator.module.variables[name]["attributes"]
            if name in self._inputs:
                raw = self._inputs[name]
            else:
                raw = self._evaluator.evaluate(attributes["default"], {})
            self._values[name] = convert(raw, attributes.get("type"), self._evaluator, name)
        return self._values[name]

    def __iter__(self) -> Any:
        return iter(self._evaluator.module.variables)

    def __len__(self) -> int:
        return len(self._evaluator.module.variables)


class Evaluator:
    """Evaluates a Module's expressions for one set of input variables, as `terraform plan` does."""

    def __init__(
        self,
        module: Module,
        inputs: Mapping[str, Any],
        module_path: Path,
        computed: Mapping[tuple[str, str, str], Callable[["Evaluator"], Any]] | None = None,
    ) -> None:
        self.module = module
        self.module_path = module_path
        self.computed = dict(computed or {})
        self._locals: dict[str, Any] = {}
        self._instances: dict[tuple[str, int | None], Evaluator] = {}
        self.deferred: list[str] = []  # checks that read a value unknown at plan time
        self.vars = _Variables(self, inputs)
        if not isinstance(inputs, _Arguments):
            dict(self.vars)  # the root's inputs are all given: convert them now, as plan does

    # -- variables -------------------------------------------------------------------------------

    def validate_variables(self) -> None:
        """Raise ValidationFailedError with the error_message of the first failing validation."""
        for name, declared in self.module.variables.items():
            for validation in declared["validations"]:
                self._check(validation, f"var.{name}")

    def check_preconditions(self) -> None:
        """Raise ValidationFailedError for the first precondition that does not hold.

        The module's own resources first, then each instance of each module call: its variables'
        validations and its resources' preconditions, with the arguments this module passes.
        """
        for (rtype, name), resource in self.module.resources.items():
            for condition in resource["preconditions"]:
                self._check(condition, f"{rtype}.{name}")
        for name in self.module.calls:
            for child in self.module_instances(name):
                where = f"module.{name}" if child.index is None else f"module.{name}[{child.index}]"
                try:
                    child.evaluator.validate_variables()
                    child.evaluator.check_preconditions()
                except ValidationFailedError as failure:
                    raise ValidationFailedError(f"{where}.{failure}") from None
                self.deferred += [f"{where}.{d}" for d in child.evaluator.deferred]

    def _check(self, rule: Mapping[str, Tree], where: str) -> None:
        try:
            holds = self.evaluate(rule["condition"], {})
        except UnknownValueError as exc:
            self.deferred.append(f"{where}: {exc}")  # Terraform checks it once the value is known
            return
        except HclError as exc:
            raise HclError(f"{where}: condition failed to evaluate: {exc}") from exc
        if holds is not True:
            raise ValidationFailedError(f"{where}: {self.evaluate(rule['error_message'], {})}")

    # -- module calls ----------------------------------------------------------------------------

    def module_instances(self, name: str) -> list["Instance"]:
        """The instances of a module call: one, or as many as its count."""
        call = self.module.calls[name]
        if call.count is None:
            return [Instance(None, self._instance(name, None))]
        count = self.evaluate(call.count, {})
        return [Instance(i, self._instance(name, i)) for i in range(int(_number(count)))]

    def module_instance(self, name: str, index: int | None = None) -> "Evaluator":
        """The evaluator of one instance of a module call (index: its count.index)."""
        return self._instance(name, index)

    def _instance(self, name: str, index: int | None) -> "Evaluator":
        if (name, index) not in self._instances:
            call = self.module.calls[name]
            scope = {} if index is None else {"count": {"index": index}}
            arguments = _Arguments(
                list(call.arguments), lambda arg: self.evaluate(call.arguments[arg], scope)
            )
            prefix = f"module.{name}."
            computed = {
                (rtype.removeprefix(prefix), rname, attribute): value
                for (rtype, rname, attribute), value in self.computed.items()
                if rtype.startswith(prefix)
            }
            self._instances[(name, index)] = Evaluator(call.module, arguments, call.module.path,
                                                       computed)  # fmt: skip
        return self._instances[(name, index)]

    def module_output(self, name: str, output: str, index: int | None = None) -> Any:
        """module.NAME.OUTPUT: a value a test supplies, or the child's output expression."""
        key = ("module", name, output)
        if key in self.computed:
            return self.computed[key](self)
        child = self._instance(name, index)
        if output not in child.module.outputs:
            raise HclError(f"module.{name} has no output {output!r}")
        return child.evaluate(child.module.outputs[output], {})

    def _module_reference(self, name: str) -> Any:
        call = self.module.calls.get(name)
        if call is None:
            raise HclError(f"no module call named {name!r}")
        if call.count is None:
            return _Lazy(lambda output: self.module_output(name, output))
        return [
            _Lazy(lambda output, i=i: self.module_output(name, output, i))
            for i in range(len(self.module_instances(name)))
        ]

    # -- rendering -------------------------------------------------------------------------------

    def render_resource(self, rtype: str, name: str) -> dict[str, Any]:
        """A resource's arguments as the provider receives them, keyed by instance.

        Instance keys are None (no count or for_each), count indexes or for_each keys. Nested blocks
        become lists of objects (dynamic blocks expanded, a dynamic block that makes none left out);
        null arguments are left out, as Terraform treats them as unset; meta-arguments and lifecycle
        are not the provider's and are left out.
        """
        resource = self.module.resources[(rtype, name)]
        attributes = resource["attributes"]
        if "for_each" in attributes:
            each = self.evaluate(attributes["for_each"], {})
            pairs = each.items() if isinstance(each, Mapping) else [(v, v) for v in sorted(each)]
            scopes = {k: {"each": {"key": k, "value": v}} for k, v in pairs}
        elif "count" in attributes:
            count = int(_number(self.evaluate(attributes["count"], {})))
            scopes = {i: {"count": {"index": i}} for i in range(count)}
        else:
            scopes = {None: {}}
        return {
            key: self.render_block(resource["body"], scope, top_level=True)
            for key, scope in scopes.items()
        }

    def render_block(
        self, body: Tree, scope: Mapping[str, Any], top_level: bool = False
    ) -> dict[str, Any]:
        """One block body's arguments and nested blocks (see render_resource)."""
        result: dict[str, Any] = {}
        for name, expression in attributes_of(body).items():
            if not (top_level and name in RESOURCE_META_ARGUMENTS):
                value = self.evaluate(expression, scope)
                if value is not None:
                    result[name] = value
        for kind, labels, block in nested_blocks(body):
            if top_level and kind in META_BLOCKS:
                continue
            if kind == "dynamic":
                generated = self._dynamic(labels[0], block, scope)
                if generated:  # no blocks is what leaving the block out means
                    result.setdefault(labels[0], []).extend(generated)
            else:
                result.setdefault(kind, []).append(self.render_block(block, scope))
        return result

    def _dynamic(self, label: str, body: Tree, scope: Mapping[str, Any]) -> list[dict[str, Any]]:
        attributes = attributes_of(body)
        iterator = _type_of(attributes["iterator"])[0] if "iterator" in attributes else label
        collection = self.evaluate(attributes["for_each"], scope)
        if isinstance(collection, Mapping):
            pairs = list(sorted(collection.items()))
        elif isinstance(collection, (set, frozenset)):
            pairs = [(v, v) for v in sorted(collection)]
        else:
            pairs = list(enumerate(collection))
        ((_, content),) = blocks_of(body, "content")
        return [
            self.render_block(content, {**scope, iterator: {"key": key, "value": value}})
            for key, value in pairs
        ]

    # -- references ------------------------------------------------------------------------------

    def local(self, name: str) -> Any:
        """Value of local.NAME, evaluated once."""
        if name not in self._locals:
            if name not in self.module.locals:
                raise HclError(f"no local named {name!r}")
            self._locals[name] = self.evaluate(self.module.locals[name], {})
        return self._locals[name]

    def resource_attribute(
        self, rtype: str, name: str, attribute: str, index: int | None = None
    ) -> Any:
        """A resource attribute: its configured expression, or a computed value a test supplies.

        index is a counted resource's instance (its count.index); a computed value a test supplies
        stands for every instance.
        """
        key = (rtype, name, attribute)
        if key in self.computed:
            return self.computed[key](self)
        resource = self.module.resources.get((rtype, name))
        if resource is None and not rtype.startswith("data."):
            raise HclError(f"no resource {rtype}.{name}")
        if resource is None or attribute not in resource["attributes"]:
            raise UnknownValueError(f"{rtype}.{name}.{attribute} is not known at plan time here")
        scope = {} if index is None else {"count": {"index": index}}
        return self.evaluate(resource["attributes"][attribute], scope)

    def _resource_reference(self, rtype: str, name: str) -> Any:
        """TYPE.NAME: its attributes, or with count a list of its instances' attributes."""
        resource = self.module.resources.get((rtype, name))
        if resource is None or "count" not in resource["attributes"]:
            return _Lazy(lambda a: self.resource_attribute(rtype, name, a))
        count = int(_number(self.evaluate(resource["attributes"]["count"], {})))
        return [
            _Lazy(lambda a, i=i: self.resource_attribute(rtype, name, a, i)) for i in range(count)
        ]

    def _root(self, name: str, scope: Mapping[str, Any]) -> Any:
        if name in scope:
            return scope[name]
        if name == "var":
            return self.vars
        if name == "local":
            return _Lazy(self.local)
        if name == "path":
            return {"module": str(self.module_path)}
        if name in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[name]
        if name == "module":
            return _Lazy(self._module_reference)
        if name == "data":
            return _Lazy(
                lambda dtype: _Lazy(lambda n: self._resource_reference(f"data.{dtype}", n))
            )
        if any(rtype == name for rtype, _ in self.module.resources):
            return _Lazy(lambda n: self._resource_reference(name, n))
        raise HclError(f"unknown reference {name!r}")

    # -- expressions -----------------------------------------------------------------------------

    def evaluate(self, node: Any, scope: Mapping[str, Any]) -> Any:
        """Value of one expression tree node."""
        if not isinstance(node, Tree):
            raise HclError(f"unsupported token {node!r}")
        handler = getattr(self, f"_{node.data}", None)
        if handler is None:
            raise HclError(f"unsupported expression: {node.data}")
        return handler(node, scope)

    def _expr_term(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        (inner,) = _trees(node)  # a term, or the expression inside parentheses
        return self.evaluate(inner, scope)

    def _identifier(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        return self._root(str(node.children[0]), scope)

    def _literal_value(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        return {"TRUE": True, "FALSE": False, "NULL": None}[node.children[0].type]

    def _int_lit(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        return int(str(node.children[0]))

    def _float_lit(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        return float(str(node.children[0]))

    def _tuple(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        return [self.evaluate(c, scope) for c in _trees(node)]

    def _object(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        result = {}
        for elem in _trees(node, "object_elem"):
            key = self._object_key(elem.children[0], scope)
            result[key] = self.evaluate(elem.children[-1], scope)
        return result

    def _object_key(self, node: Tree, scope: Mapping[str, Any]) -> str:
        bare = _bare_name(node)
        if bare is not None:
            return bare  # a bare name is the key itself, never a reference
        return _string(self.evaluate(node.children[0], scope))

    def _heredoc_template_trim(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        lines = str(node.children[0]).rstrip("\n").split("\n")[1:-1]  # between the markers
        if any("${" in line or "%{" in line for line in lines):
            raise HclError("templates in heredocs are not supported")
        indent = min(len(x) - len(x.lstrip()) for x in lines if x.strip())
        return "".join(line[indent:] + "\n" for line in lines)

    def _get_attr_expr_term(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        target, get_attr = _trees(node)
        (name,) = _trees(get_attr)
        return _index(self.evaluate(target, scope), str(name.children[0]))

    def _index_expr_term(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        target, index = _trees(node)
        if index.data == "short_index":  # legacy `list.0`
            key = int(str(index.children[-1]))
        else:
            (expression,) = _trees(index)
            key = self.evaluate(expression, scope)
        return _index(self.evaluate(target, scope), key)

    def _function_call(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        names = list(_trees(node, "identifier"))
        if len(names) > 1:
            raise HclError("provider-defined functions are not implemented by this evaluator")
        name = str(names[0].children[0])
        given = next(_trees(node, "arguments"), None)
        if given is not None and any(
            isinstance(c, Token) and c.type == "ELLIPSIS" for c in given.children
        ):
            raise HclError(f"expanding arguments with ... is not supported in {name}()")
        arguments = list(_trees(given)) if given is not None else []
        if name == "can":
            try:
                self.evaluate(arguments[0], scope)
            except UnknownValueError:
                raise  # can(unknown) is unknown in Terraform, not false
            except HclError:
                return False
            return True
        if name == "try":  # the first argument that evaluates without an error
            for argument in arguments:
                try:
                    return self.evaluate(argument, scope)
                except UnknownValueError:
                    raise
                except HclError:
                    continue
            raise HclError("try(): no argument could be evaluated")
        if name not in FUNCTIONS:
            raise HclError(f"function {name}() is not implemented by this evaluator")
        values = [self.evaluate(a, scope) for a in arguments]
        try:
            return FUNCTIONS[name](self, *values)
        except (TypeError, ValueError, AttributeError, KeyError, re.error) as exc:
            raise HclError(f"{name}({values!r}): {exc}") from None

    def _unary_op(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        operator, operand = node.children[0].type, self.evaluate(node.children[1], scope)
        if operator == "NOT":
            return not _bool(operand)
        return -_number(operand)

    def _conditional(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        condition, when_true, when_false = _trees(node)
        chosen = when_true if _bool(self.evaluate(condition, scope)) else when_false
        return self.evaluate(chosen, scope)

    def _binary_op(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        # The grammar nests by precedence and associates left: `a - b - c` is ((a - b) - c).
        left, term = _trees(node)
        operator, right = _trees(term)
        symbol = _OPERATORS[operator.children[0].type]
        return _apply(symbol, self.evaluate(left, scope), self.evaluate(right, scope))

    def _for_tuple_expr(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        intro, body, condition = _for_parts(node)
        return [
            self.evaluate(body[0], inner)
            for inner in self._iterations(intro, scope)
            if condition is None or _bool(self.evaluate(condition, inner))
        ]

    def _for_object_expr(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        if any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in node.children):
            raise HclError("grouping for-expressions (...) are not supported")
        intro, body, condition = _for_parts(node)
        result = {}
        for inner in self._iterations(intro, scope):
            if condition is None or _bool(self.evaluate(condition, inner)):
                key = self.evaluate(body[0], inner)
                if not isinstance(key, str):
                    raise HclError(f"object key must be a string, got {key!r}")
                if key in result:
                    raise HclError(f"duplicate object key {key!r}")
                result[key] = self.evaluate(body[1], inner)
        return dict(sorted(result.items()))

    def _iterations(self, intro: Tree, scope: Mapping[str, Any]) -> list[dict[str, Any]]:
        names = [str(c.children[0]) for c in _trees(intro, "identifier")]
        collection = self.evaluate(list(_trees(intro))[-1], scope)
        if isinstance(collection, Mapping):
            pairs = sorted(collection.items())
        elif isinstance(collection, (set, frozenset)):
            pairs = [(v, v) for v in sorted(collection)]
        else:
            pairs = list(enumerate(collection))
        if len(names) == 1:
            return [{**scope, names[0]: value} for _, value in pairs]
        return [{**scope, names[0]: key, names[1]: value} for key, value in pairs]

    # -- string templates ------------------------------------------------------------------------

    def _string(self, node: Tree, scope: Mapping[str, Any]) -> Any:
        parts = [part.children[0] for part in _trees(node, "string_part")]
        if len(parts) == 1 and isinstance(parts[0], Tree) and parts[0].data == "interpolation":
            return self.evaluate(_interpolated(parts[0]), scope)  # "${x}" alone keeps x's type
        pieces = []
        for part in parts:
            if isinstance(part, Tree) and part.data in _DIRECTIVES:
                raise HclError(f"template directives are not supported: {part.data}")
            if isinstance(part, Tree):
                value = self.evaluate(_interpolated(part), scope)
                if value is None:
                    raise HclError("cannot interpolate null into a string")
                pieces.append(_string(value))
            elif part.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                pieces.append(str(part)[1:])  # $${ and %%{ stand for the literal ${ and %{
            else:
                pieces.append(process_escape_sequences(str(part)))
        return "".join(pieces)


@dataclass(frozen=True)
class Instance:
    """One instance of a module call: its count.index (None without count) and its evaluator."""

    index: int | None
    evaluator: Evaluator


class _Lazy:
    """A reference root whose attributes are looked up on demand (local.x, resource.name.attr)."""

    def __init__(self, lookup: Callable[[str], Any]) -> None:
        self.lookup = lookup


def _bare_name(key: Tree) -> str | None:
    """The name of an object key written as a bare identifier or keyword, else None."""
    (inner,) = key.children
    if isinstance(inner, Tree) and inner.data == "keyword":
        return str(inner.children[0])
    if isinstance(inner, Tree) and inner.data == "expr_term":
        (term,) = _trees(inner)
        if term.data == "identifier":
            return str(term.children[0])
    return None


def _interpolated(interpolation: Tree) -> Tree:
    (expression,) = _trees(interpolation)
    return expression


def _index(target: Any, key: Any) -> Any:
    if isinstance(target, _Lazy):
        return target.lookup(key)
    if isinstance(target, Mapping):
        if key not in target:
            raise HclError(f"no attribute or key {key!r}")
        return target[key]
    if isinstance(target, list):
        if not isinstance(key, int) or not 0 <= key < len(target):
            raise HclError(f"index {key!r} out of range")
        return target[key]
    raise HclError(f"cannot index {type(target).__name__} with {key!r}")


def _for_parts(node: Tree) -> tuple[Tree, list[Tree], Any]:
    trees = list(_trees(node))
    intro = trees[0]
    condition = None
    if trees[-1].data == "for_cond":
        (condition,) = _trees(trees[-1])
        trees = trees[:-1]
    return intro, trees[1:], condition


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise HclError(f"expected a bool, got {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HclError(f"expected a number, got {value!r}")
    return value


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise HclError(f"cannot use {value!r} as a string")


def _apply(operator: str, left: Any, right: Any) -> Any:
    if operator == "&&":
        return _bool(left) and _bool(right)
    if operator == "||":
        return _bool(left) or _bool(right)
    if operator == "==":
        return left == right
    if operator == "!=":
        return left != right
    a, b = _number(left), _number(right)
    arithmetic = {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
        "%": lambda: a % b, ">": lambda: a > b, ">=": lambda: a >= b, "<": lambda: a < b,
        "<=": lambda: a <= b,
    }
    return arithmetic[operator]()


# -- type constraints: Terraform converts input variables to their declared types -----------------


def convert(value: Any, type_node: Any, evaluator: Evaluator, where: str) -> Any:
    """Convert a variable value to its declared type, filling optional() attributes' defaults."""
    if type_node is None or value is None:
        return value
    kind, arguments = _type_of(type_node)
    if kind == "any":
        return value
    if kind in ("string", "number", "bool"):
        return _primitive(value, kind, where)
    if kind in ("list", "set"):
        if not isinstance(value, list | set | tuple):
            raise HclError(f"{where}: expected a {kind}, got {value!r}")
        items = [convert(v, arguments[0], evaluator, f"{where}[{i}]") for i, v in enumerate(value)]
        return set(items) if kind == "set" else items
    if kind == "map":
        if not isinstance(value, Mapping):
            raise HclError(f"{where}: expected a map, got {value!r}")
        return {k: convert(v, arguments[0], evaluator, f"{where}.{k}") for k, v in value.items()}
    if kind == "object":
        return _object(value, arguments[0], evaluator, where)
    raise HclError(f"{where}: unsupported type constraint {kind}")


def type_constraint(node: Tree) -> str:
    """The type keyword of a `type` attribute (number, list, object...); raises if not a type."""
    return _type_of(node)[0]


def _type_of(node: Any) -> tuple[str, list[Any]]:
    term = next(_trees(node)) if isinstance(node, Tree) and node.data == "expr_term" else node
    if isinstance(term, Tree) and term.data == "identifier":
        return str(term.children[0]), []
    if isinstance(term, Tree) and term.data == "function_call":
        given = next(_trees(term, "arguments"), None)
        return str(term.children[0].children[0]), list(_trees(given)) if given else []
    raise HclError(f"unsupported type constraint {term}")


def _primitive(value: Any, kind: str, where: str) -> Any:
    if kind == "string" and isinstance(value, str | int | float) and not isinstance(value, bool):
        return value if isinstance(value, str) else _string(value)
    if kind == "string" and isinstance(value, bool):
        return _string(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    raise HclError(f"{where}: expected a {kind}, got {value!r}")


def _object(value: Any, spec_node: Tree, evaluator: Evaluator, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise HclError(f"{where}: expected an object, got {value!r}")
    spec = _object_type_attributes(spec_node)
    unknown = set(value) - set(spec)
    if unknown:  # Terraform drops them silently; a test should hear about a misspelt key
        raise HclError(f"{where}: attribute(s) not in the type: {sorted(unknown)}")
    result = {}
    for name, type_node in spec.items():
        kind, arguments = _type_of(type_node)
        if kind == "optional":
            if name in value and value[name] is not None:
                result[name] = convert(value[name], arguments[0], evaluator, f"{where}.{name}")
            elif len(arguments) > 1:
                default = evaluator.evaluate(arguments[1], {})
                result[name] = convert(default, arguments[0], evaluator, f"{where}.{name}")
            else:
                result[name] = None
        elif name not in value:
            raise HclError(f"{where}: attribute {name!r} is required")
        else:
            result[name] = convert(value[name], type_node, evaluator, f"{where}.{name}")
    return result


def _object_type_attributes(node: Tree) -> dict[str, Any]:
    """Attribute name -> type expression of an object({...}) type constraint."""
    term = next(_trees(node)) if node.data == "expr_term" else node
    return {
        _attribute_name(elem.children[0]): elem.children[-1]
        for elem in _trees(term, "object_elem")
    }


def _attribute_name(key: Tree) -> str:
    """An object type's attribute name: bare, or a quoted literal."""
    bare = _bare_name(key)
    if bare is not None:
        return bare
    (term,) = _trees(key)
    (string,) = _trees(term, "string")
    return "".join(_literal_parts(string))


# -- functions ---------------------------------------------------------------------------------


def _regex(_: Evaluator, pattern: str, text: str) -> Any:
    match = re.search(pattern, text)
    if match is None:
        raise HclError(f"pattern {pattern!r} did not match {text!r}")
    if not match.groups():
        return match.group(0)
    return list(match.groups())


def _coalesce(_: Evaluator, *values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise HclError("no non-null, non-empty argument to coalesce()")


def _fileset(_: Evaluator, directory: str, pattern: str) -> set[str]:
    base = Path(directory)
    if not base.is_dir():
        return set()
    glob = pattern.replace("**", "*") if pattern == "**" else pattern
    paths = base.rglob("*") if pattern == "**" else base.glob(glob)
    return {p.relative_to(base).as_posix() for p in paths if p.is_file()}


def _path(evaluator: Evaluator, path: str) -> Path:
    """A path as Terraform resolves it: relative ones from where it runs, the root module."""
    resolved = Path(path)
    return resolved if resolved.is_absolute() else evaluator.module_path / resolved


def _file(evaluator: Evaluator, path: str) -> str:
    try:
        return _path(evaluator, path).read_text(encoding="utf-8")
    except OSError as exc:
        raise HclError(f"file({path!r}): {exc.strerror}") from None


def _yamldecode(_: Evaluator, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HclError(f"yamldecode: {exc}") from None


def _jsondecode(_: Evaluator, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise HclError(f"jsondecode: {exc}") from None


def _plain(value: Any) -> Any:
    """A value as JSON holds it: sets become sorted lists, as Terraform encodes a set."""
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _one(_: Evaluator, values: Any) -> Any:
    if len(values) > 1:
        raise HclError("one(): the collection has more than one element")
    return next(iter(values), None)


def _tonumber(_: Evaluator, value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise HclError(f"cannot convert {value!r} to a number") from None
    return int(number) if number.is_integer() and "." not in str(value) else number


def _yamlencode(_: Evaluator, value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False)


def _merge(_: Evaluator, *objects: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for obj in objects:
        if obj is not None:
            result.update(obj)
    return result


def _flatten_lists(values: Any) -> list[Any]:
    flat = []
    for value in values:
        flat.extend(_flatten_lists(value) if isinstance(value, list) else [value])
    return flat


def _format(_: Any, spec: str, *values: Any) -> str:
    """Terraform's format() for the verbs %s and %%, the only ones this module uses."""
    pieces = iter(values)
    return re.sub(r"%[%s]", lambda m: "%" if m.group() == "%%" else _string(next(pieces)), spec)


def _replace(_: Any, text: str, search: str, replacement: str) -> str:
    """Terraform's replace(): a plain search, or a slash-wrapped /regex/ ($1 in the replacement)."""
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        return re.sub(search[1:-1], re.sub(r"\$(\d+)", r"\\\1", replacement), text)
    return text.replace(search, replacement)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abspath": lambda ev, p: os.path.normpath(_path(ev, p)),  # filepath.Abs: symlinks kept
    "alltrue": lambda _, xs: all(_bool(x) for x in xs),
    "base64decode": lambda _, s: base64.b64decode(s).decode("utf-8"),
    "base64encode": lambda _, s: base64.b64encode(s.encode("utf-8")).decode("ascii"),
    "basename": lambda _, p: p.rstrip("/").rsplit("/", 1)[-1],
    "dirname": lambda _, p: p.rstrip("/").rsplit("/", 1)[0] if "/" in p.rstrip("/") else ".",
    "file": _file,
    "fileexists": lambda ev, p: _path(ev, p).is_file(),
    "jsondecode": _jsondecode,
    "jsonencode": lambda _, v: json.dumps(_plain(v), separators=(",", ":")),
    "lookup": lambda _, m, key, default: m.get(key, default),
    "one": _one,
    "tolist": lambda _, xs: sorted(xs) if isinstance(xs, (set, frozenset)) else list(xs),
    "tomap": lambda _, m: dict(m),
    "yamldecode": _yamldecode,
    "anytrue": lambda _, xs: any(_bool(x) for x in xs),
    "coalesce": _coalesce,
    "concat": lambda _, *lists: [x for xs in lists for x in xs],
    "contains": lambda _, xs, v: v in xs,
    "distinct": lambda _, xs: [x for i, x in enumerate(xs) if x not in xs[:i]],
    "element": lambda _, xs, i: xs[i % len(xs)],
    "endswith": lambda _, s, suffix: s.endswith(suffix),
    "fileset": _fileset,
    "flatten": lambda _, xs: _flatten_lists(xs),
    "format": _format,
    "floor": lambda _, x: math.floor(_number(x)),
    "keys": lambda _, m: sorted(m),
    "join": lambda _, sep, xs: sep.join(xs),
    "length": lambda _, x: len(x),
    "lower": lambda _, s: s.lower(),
    "merge": _merge,
    "regex": _regex,
    "replace": _replace,
    "setsubtract": lambda _, a, b: set(a) - set(b),
    "split": lambda _, sep, s: s.split(sep),
    "startswith": lambda _, s, prefix: s.startswith(prefix),
    "strcontains": lambda _, s, part: part in s,
    "tonumber": _tonumber,
    "toset": lambda _, xs: set(xs),
    "trimsuffix": lambda _, s, suffix: s[: -len(suffix)] if suffix and s.endswith(suffix) else s,
    "upper": lambda _, s: s.upper(),
    "values": lambda _, m: [m[k] for k in sorted(m)],
    "yamlencode": _yamlencode,
}
