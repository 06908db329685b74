"""List semantics: the AIP-160 filter subset, orderBy and page tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from local.vertex_emulator.errors import invalid_argument

Job = dict[str, Any]
Predicate = Callable[[Job], bool]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
TIME_FIELDS = {
    "create_time": "createTime",
    "update_time": "updateTime",
    "start_time": "startTime",
    "end_time": "endTime",
}
ORDER_FIELDS = {**TIME_FIELDS, "display_name": "displayName"}
# Filter and orderBy fields may be written in camelCase too (the SDK's list() says so).
CAMEL_FIELDS = {
    "createTime": "create_time",
    "updateTime": "update_time",
    "startTime": "start_time",
    "endTime": "end_time",
    "displayName": "display_name",
    "pipelineName": "pipeline_name",
    "pipelineJobUserId": "pipeline_job_user_id",
    "templateUri": "template_uri",
    "templateMetadata.version": "template_metadata.version",
}
# String fields Vertex documents for ListPipelineJobs: `=` and `!=` (a `*` in the value is a
# wildcard, as AIP-160 allows), and `:` (wildcard match) where Vertex lists it.
STRING_FIELDS = ("state", "display_name", "pipeline_name", "pipeline_job_user_id", "template_uri",
                 "template_metadata.version")  # fmt: skip
WILDCARD_FIELDS = {
    "display_name", "pipeline_job_user_id", "template_uri", "template_metadata.version",
}  # fmt: skip
STRING = r'"((?:[^"\\]|\\.)*)"'
COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
LABEL_EQ_RE = re.compile(r"^labels\.([a-z][a-z0-9_-]*)\s*(=|!=)\s*" + STRING + "$")
LABEL_HAS_RE = re.compile(r"^labels\.([a-z][a-z0-9_-]*)\s*:\s*\*$")
TIME_RE = re.compile(
    r"^(create_time|update_time|start_time|end_time)\s*(>=|<=|!=|=|>|<)\s*" + STRING + "$"
)
FIELD_RE = re.compile(
    r"^(" + "|".join(re.escape(f) for f in STRING_FIELDS) + r")\s*(=|!=|:)\s*(?:" + STRING
    + r"|([\w*.-]+))$"
)
FIELD_NAME_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (with Z or an offset)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise invalid_argument(f"filter: {text!r} is not an RFC 3339 timestamp.") from err


# Quoted strings, parentheses, a negating `-` that starts a term, and runs of anything else.
TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[()]|(?<![^\s(])-|[^\s()"]+')
KEYWORDS = {"AND", "OR", "NOT"}


def parse_filter(text: str) -> list[Predicate]:
    """Parse an AIP-160 filter into predicates that must all hold; errors name the bad term.

    Supported grammar (AIP-160's, as Vertex documents for ListPipelineJobs): terms combined with
    `AND` and `OR`, where `OR` binds tighter (`a AND b OR c` is `a AND (b OR c)`), `NOT` or `-`
    before a term, and parentheses.
    """
    if not text.strip():
        return []
    parser = _FilterParser(TOKEN_RE.findall(text))
    predicate = parser.expression()
    if not parser.done():
        raise invalid_argument(f"filter: unexpected {parser.peek()!r} in {text!r}.")
    return [predicate]


class _FilterParser:
    """Recursive descent: expression = factor {AND factor}; factor = term {OR term}."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = tokens
        self._at = 0

    def done(self) -> bool:
        return self._at == len(self._tokens)

    def peek(self) -> str:
        return self._tokens[self._at] if not self.done() else ""

    def _take(self) -> str:
        token = self.peek()
        self._at += 1
        return token

    def expression(self) -> Predicate:
        parts = [self._factor()]
        while self.peek() == "AND":
            self._take()
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else lambda job: all(p(job) for p in parts)

    def _factor(self) -> Predicate:
        parts = [self._term()]
        while self.peek() == "OR":
            self._take()
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else lambda job: any(p(job) for p in parts)

    def _term(self) -> Predicate:
        if self.peek() in ("NOT", "-"):
            self._take()
            inner = self._term()
            return lambda job: not inner(job)
        if self.peek() == "(":
            self._take()
            inner = self.expression()
            if self._take() != ")":
                raise invalid_argument("filter: a '(' is not closed.")
            return inner
        words = []
        while not self.done() and self.peek() not in KEYWORDS | {"(", ")"}:
            words.append(self._take())
        if not words:
            raise invalid_argument(f"filter: expected a term, got {self.peek() or 'the end'!r}.")
        return _parse_term(" ".join(words))


def _snake_case_field(term: str) -> str:
    """Rewrite a term's camelCase field (displayName, createTime) to its snake_case name."""
    match = FIELD_NAME_RE.match(term)
    if match and match.group(1) in CAMEL_FIELDS:
        return CAMEL_FIELDS[match.group(1)] + term[match.end() :]
    return term


def _parse_term(term: str) -> Predicate:
    """Parse one filter term."""
    term = _snake_case_field(term)
    if match := LABEL_EQ_RE.match(term):
        key, op, value = match.groups()
        return lambda job: COMPARATORS[op](job.get("labels", {}).get(key), _unescape(value))
    if match := LABEL_HAS_RE.match(term):
        key = match.group(1)
        return lambda job: key in job.get("labels", {})
    if match := TIME_RE.match(term):
        field, op, value = match.groups()
        bound = parse_time(_unescape(value))
        json_field = TIME_FIELDS[field]
        return lambda job: json_field in job and COMPARATORS[op](parse_time(job[json_field]), bound)
    if match := FIELD_RE.match(term):
        field, op, quoted, bare = match.groups()
        value = _unescape(quoted) if quoted is not None else bare
        return _string_predicate(field, op, value)
    raise invalid_argument(
        f'filter: unsupported term {term!r}. Supported: labels.KEY="V", labels.KEY:*, '
        'create_time|update_time|start_time|end_time (=, !=, >, >=, <, <=) "RFC3339", '
        'state=PIPELINE_STATE_..., pipeline_name="...", and display_name, pipeline_job_user_id, '
        'template_uri, template_metadata.version (=, != or : "wildcard*"), in snake_case or '
        "camelCase, combined with AND, OR, NOT and parentheses."
    )


def _string_predicate(field: str, op: str, value: str) -> Predicate:
    """Compare a string field: `=`/`!=` (a `*` in the value is a wildcard), `:` a wildcard match."""
    if op == ":" and field not in WILDCARD_FIELDS:
        raise invalid_argument(f"filter: {field} supports = and != only, not ':'.")
    if op == ":" and value == "*":  # AIP-160: `field:*` is presence
        return lambda job: _field_value(job, field) != ""
    if op == ":" or "*" in value:
        matches = re.compile(".*".join(re.escape(part) for part in value.split("*")) + r"\Z", re.S)
        if op == "!=":
            return lambda job: not matches.match(_field_value(job, field))
        return lambda job: bool(matches.match(_field_value(job, field)))
    return lambda job: COMPARATORS[op](_field_value(job, field), value)


def _unescape(value: str) -> str:
    """Undo backslash escapes inside a quoted filter string."""
    return re.sub(r"\\(.)", r"\1", value)


def _field_value(job: Job, field: str) -> str:
    """Return a plain field used by the filter."""
    values = {
        "state": lambda: job.get("state", ""),
        "display_name": lambda: job.get("displayName", ""),
        "pipeline_job_user_id": lambda: job["name"].rsplit("/", 1)[-1],
        "template_uri": lambda: job.get("templateUri", ""),
        "template_metadata.version": lambda: job.get("templateMetadata", {}).get("version", ""),
    }
    if field in values:
        return str(values[field]())
    return job.get("pipelineSpec", {}).get("pipelineInfo", {}).get("name", "")


def parse_read_mask(text: str) -> list[list[str]]:
    """Parse a readMask (FieldMask: comma-separated paths, camelCase or snake_case) to paths."""
    paths = []
    for path in filter(None, (part.strip() for part in text.split(","))):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", path):
            raise invalid_argument(f"readMask: {path!r} is not a field path.")
        paths.append([_camel(segment) for segment in path.split(".")])
    return paths


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def masked(job: Job, paths: list[list[str]]) -> Job:
    """Return only the fields a readMask names (the whole job without a mask)."""
    if not paths:
        return job
    kept: Job = {}
    for path in paths:
        source: Any = job
        for segment in path:
            source = source.get(segment) if isinstance(source, dict) else None
        if source is None:
            continue
        target = kept
        for segment in path[:-1]:
            target = target.setdefault(segment, {})
        target[path[-1]] = source
    return kept


def sort_jobs(jobs: list[Job], order_by: str) -> list[Job]:
    """Sort by `field [desc], ...`; the default is create_time desc, as Vertex does."""
    keys = [part.strip() for part in (order_by or "create_time desc").split(",") if part.strip()]
    ordered = sorted(jobs, key=lambda job: job["name"])
    for key in reversed(keys):
        words = key.split()
        field = CAMEL_FIELDS.get(words[0], words[0])
        if field not in ORDER_FIELDS or len(words) > 2 or words[1:] not in ([], ["desc"], ["asc"]):
            raise invalid_argument(
                f"orderBy: unsupported {key!r}; use one of {', '.join(ORDER_FIELDS)} "
                "optionally followed by desc."
            )
        json_field = ORDER_FIELDS[field]
        ordered.sort(key=lambda job, f=json_field: job.get(f, ""), reverse=words[1:] == ["desc"])
    return ordered


def page_window(page_size: str, page_token: str, query_key: str) -> tuple[int, int]:
    """Return the (offset, size) of the page asked for; the token must come from the same query."""
    offset = _decode_token(page_token, query_key) if page_token else 0
    return offset, _page_size(page_size)


def next_page_token(offset: int, size: int, more: bool, query_key: str) -> str:
    """Return the token for the page after (offset, size), or "" when nothing follows."""
    return _encode_token(offset + size, query_key) if more else ""


def _page_size(text: str) -> int:
    """Parse pageSize: 0 or absent means the default; values above the maximum are capped."""
    try:
        size = int(text or 0)
    except ValueError as err:
        raise invalid_argument(f"pageSize: {text!r} is not an integer.") from err
    if size < 0:
        raise invalid_argument(f"pageSize must not be negative, got {size}.")
    return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def query_key(filter_text: str, order_by: str) -> str:
    """Fingerprint a query so a page token is only valid for the query that made it."""
    return hashlib.sha256(f"{filter_text}\0{order_by}".encode()).hexdigest()[:16]


def _encode_token(offset: int, key: str) -> str:
    """Encode a page token."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": key}).encode()).decode()


def _decode_token(token: str, key: str) -> int:
    """Decode a page token made for the same query."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError) as err:
        raise invalid_argument(f"pageToken {token!r} is not valid.") from err
    if data.get("q") != key:
        raise invalid_argument("pageToken was issued for a different filter or orderBy.")
    return offset
