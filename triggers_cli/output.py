"""Readable tables and JSON for the subcommands' output."""

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

CELL_LIMIT = 80  # a table stays readable; --json carries every character
SPEC_SHOWN = "pipelineSpec"  # summarised in a request body's text: --json carries all of it


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Return rows as an aligned text table with a header line (``-`` for empty cells)."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max(len(c) for c in [column, *(r[i] for r in cells)]) for i, column in enumerate(columns)
    ]
    lines = [_line(columns, widths), _line(["-" * w for w in widths], widths)]
    lines += [_line(row, widths) for row in cells]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def _cell(value: Any) -> str:
    text = "-" if value is None or value == "" else str(value)
    text = " ".join(text.split())  # one line per row, whatever an error message holds
    return text if len(text) <= CELL_LIMIT else f"{text[: CELL_LIMIT - 1]}…"


def print_json(value: Any, stream: TextIO | None = None) -> None:
    """Print one JSON document."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str), file=stream or sys.stdout)


def body_text(job: str, body: Mapping[str, Any]) -> str:
    """Return a create request's line and body, the pipeline spec summarised (--json has all)."""
    shown = dict(body)
    spec = shown.get(SPEC_SHOWN) or {}
    name = (spec.get("pipelineInfo") or {}).get("name", "?")
    size = len(json.dumps(spec))
    shown[SPEC_SHOWN] = f"<pipeline {name!r}: {size} bytes of JSON, in full with --json>"
    request = f"POST .../pipelineJobs?pipelineJobId={job}"
    return f"{request}\n{json.dumps(shown, indent=2, ensure_ascii=False)}"
