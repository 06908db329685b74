"""Read terraform/ for the tests: parse with hcl2, merge files, and check `terraform fmt` layout."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
BLOCK_KINDS = ("resource", "data", "variable", "output", "locals", "module")
MODULE_DIR = TERRAFORM_DIR / "modules" / "cloud_function"
BLOCK_MARKER = "__is_block__"

if not hasattr(hcl2, "SerializationOptions"):  # bc-python-hcl2 (checkov's) wrote over hcl2/
    raise ImportError(
        f"{hcl2.__file__} is not python-hcl2 8 (requirements.txt): checkov and its bc-python-hcl2 "
        "belong in .venv/checkov; `make test` repairs a .venv that still has them"
    )

# Strings as their values (no source quotes), no comment entries, and blocks marked so that an
# attribute holding a list of objects is never mistaken for a block.
OPTIONS = hcl2.SerializationOptions(with_comments=False, strip_string_quotes=True)


def parse_file(path: Path) -> dict[str, Any]:
    """Parse one .tf file into hcl2's dictionary form."""
    return parse_text(path.read_text())


def parse_text(text: str) -> dict[str, Any]:
    """Parse HCL source text into hcl2's dictionary form."""
    return hcl2.loads(text, serialization_options=OPTIONS)


def merge_config(files: list[Path]) -> dict[str, Any]:
    """Merge the files of a module into one mapping per top-level block kind.

    `moved` blocks, which have no label, are a list of {from, to} in file order.
    """
    merged: dict[str, Any] = {kind: {} for kind in BLOCK_KINDS}
    merged["moved"] = []
    for path in files:
        parsed = parse_file(path)
        for kind in ("resource", "data"):
            for entry in parsed.get(kind, []):
                for rtype, named in entry.items():
                    merged[kind].setdefault(rtype, {}).update(named)
        for kind in ("variable", "output", "locals", "module"):
            for entry in parsed.get(kind, []):
                merged[kind].update({k: v for k, v in entry.items() if not k.startswith("__")})
        merged["moved"] += [_unmarked(block) for block in parsed.get("moved", [])]
    return merged


def _is_block(value: Any) -> bool:
    """A block body (marked by hcl2), or a labelled block: label -> ... -> block body."""
    if not isinstance(value, dict):
        return False
    return value.get(BLOCK_MARKER) is True or (bool(value) and all(map(_is_block, value.values())))


def _unmarked(block: dict[str, Any]) -> dict[str, Any]:
    if BLOCK_MARKER in block:
        return {k: v for k, v in block.items() if k != BLOCK_MARKER}
    return {label: _unmarked(inner) for label, inner in block.items()}


def attr(block: dict[str, Any], name: str) -> Any:
    """Value of an attribute (never a nested block of that name)."""
    value = block[name]
    assert not (isinstance(value, list) and any(_is_block(v) for v in value)), (
        f"{name} is a nested block, not an attribute"
    )
    return value


def nested(block: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The nested blocks of one type inside a block (empty when there are none)."""
    blocks = block.get(name, [])
    assert isinstance(blocks, list) and all(_is_block(b) for b in blocks), (
        f"{name} is an attribute, not a nested block"
    )
    return [_unmarked(b) for b in blocks]


# terraform fmt layout: hclwrite's formatter rules (indent, `=` and comment alignment).

_OPENERS = "([{"
_CLOSERS = ")]}"
_COMPARISONS = ("==", "!=", "<=", ">=", "=>")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$")


@dataclass(frozen=True)
class Line:
    """One source line split the way hclwrite sees it."""

    number: int
    text: str
    net_brackets: int
    assign_at: int | None  # column of a single-line attribute's `=`, else None
    comment_at: int | None  # column of a trailing comment after code, else None


def _scan(text: str) -> tuple[list[int], list[int], int | None]:
    """Bracket changes, `=` columns and the trailing-comment column of one line, outside strings."""
    changes: list[int] = []
    equals: list[int] = []
    stack: list[str] = []  # "s" inside a quoted string, "i" inside ${ } within one
    i = 0
    while i < len(text):
        ch, pair = text[i], text[i : i + 2]
        in_string = bool(stack) and stack[-1] == "s"
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if pair in ("${", "%{"):
                stack.append("i")
                changes.append(1)
                i += 2
                continue
            if ch == '"':
                stack.pop()
            i += 1
            continue
        if ch == '"':
            stack.append("s")
        elif ch == "#" or pair == "//":
            return changes, equals, i
        elif ch in _OPENERS:
            if stack:  # inside ${ }: remember the bracket so its closer is not taken for the }
                stack.append("b")
            changes.append(1)
        elif ch in _CLOSERS:
            if stack and stack[-1] in "ib":
                stack.pop()
            changes.append(-1)
        elif ch == "=" and text[i - 1 : i + 1] not in _COMPARISONS and pair not in _COMPARISONS:
            equals.append(i)
        i += 1
    return changes, equals, None


def _bracket_total(text: str) -> int:
    return sum(_scan(text)[0])


def split_lines(source: str) -> list[Line]:
    """Lines outside heredoc bodies, each with its bracket change, `=` and comment columns."""
    lines: list[Line] = []
    heredoc_end: str | None = None
    for number, text in enumerate(source.split("\n"), start=1):
        if heredoc_end is not None:
            if text.strip() == heredoc_end:
                heredoc_end = None
            continue
        changes, equals, comment_at = _scan(text)
        code = text if comment_at is None else text[:comment_at]
        assign_at = None
        if equals and code[: equals[0]].strip():
            assign_at = equals[0] if _bracket_total(code[equals[0] :]) == 0 else None
        trailing = comment_at if comment_at is not None and code.strip() else None
        lines.append(Line(number, text, sum(changes), assign_at, trailing))
        marker = _HEREDOC.search(code)
        if marker:
            heredoc_end = marker.group(1)
    return lines


def indentation_errors(lines: list[Line]) -> list[str]:
    """Lines whose indent differs from two spaces per open bracket level (hclwrite's rule)."""
    errors, stack = [], []
    for line in lines:
        if not line.text.strip():
            continue
        if line.net_brackets < 0:
            closed = -line.net_brackets
            while closed > 0 and stack:
                top = stack.pop()
                if closed < top:
                    stack.append(top - closed)
                closed -= min(closed, top)
        expected = 2 * len(stack)
        actual = len(line.text) - len(line.text.lstrip(" "))
        if actual != expected or line.text.startswith("\t"):
            errors.append(f"line {line.number}: indent {actual}, expected {expected}")
        if line.net_brackets > 0:
            stack.append(line.net_brackets)
    return errors


def _chains(lines: list[Line], column: str) -> list[list[Line]]:
    """Runs of consecutive lines that all have the given column (hclwrite aligns each run)."""
    runs, run = [], []
    for line in lines:
        if getattr(line, column) is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(line)
    return runs + ([run] if run else [])


def alignment_errors(lines: list[Line]) -> list[str]:
    """Attribute `=` signs and trailing comments not aligned one space past their run's widest."""
    errors = []
    for run in _chains(lines, "assign_at"):
        width = max(len(line.text[: line.assign_at].rstrip()) for line in run)
        for line in run:
            after = line.text[line.assign_at + 1 :]
            if line.assign_at != width + 1 or (after and not re.match(r" \S", after)):
                errors.append(
                    f"line {line.number}: `=` at column {line.assign_at}, expected {width + 1}"
                )
    for run in _chains(lines, "comment_at"):
        width = max(len(line.text[: line.comment_at].rstrip()) for line in run)
        for line in run:
            if line.comment_at != width + 1:
                errors.append(
                    f"line {line.number}: comment at column {line.comment_at}, expected {width + 1}"
                )
    return errors


def format_errors(source: str) -> list[str]:
    """Every way the source departs from `terraform fmt` layout that these rules can see."""
    texts = source.split("\n")
    errors = [f"line {n}: trailing whitespace" for n, t in enumerate(texts, 1) if t != t.rstrip()]
    if not source.endswith("\n") or source.endswith("\n\n"):
        errors.append("file must end with exactly one newline")
    lines = split_lines(source)
    return errors + indentation_errors(lines) + alignment_errors(lines)
