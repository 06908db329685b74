"""The drift check's inputs: a baseline JSON and a CSV, at a gs:// URI or a local path.

Bytes come through `pipelines.uri_io` (google-cloud-storage, honours STORAGE_EMULATOR_HOST).
Self-contained functions so the KFP component can embed them with `additional_funcs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelines.uri_io import read_uri_bytes


def read_input_bytes(uri: str) -> bytes:
    """Return the bytes at uri; a missing file or object is a FileNotFoundError naming it."""
    try:
        return read_uri_bytes(uri)
    except FileNotFoundError:
        raise FileNotFoundError(f"{uri}: no such file or object") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{uri}: is a directory, not a file") from None


def read_json_uri(uri: str) -> Any:
    """Return the JSON document at uri; ValueError names it if it is not JSON."""
    import json

    data = read_input_bytes(uri)
    try:
        return json.loads(data)
    except ValueError as error:
        raise ValueError(f"{uri}: not JSON ({error})") from None


def read_csv_columns(
    uri: str, numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, list[Any]]:
    """Return the named columns of a CSV; ValueError names an empty file or missing columns."""
    import io

    import pandas as pd

    data = read_input_bytes(uri)
    if not data.strip():
        raise ValueError(f"{uri}: file is empty")
    try:
        # Categories are compared as text on both sides, whatever they look like.
        frame = pd.read_csv(io.BytesIO(data), dtype={name: str for name in categorical})
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{uri}: not a readable CSV ({error})") from None
    missing = [name for name in [*numeric, *categorical] if name not in frame.columns]
    if missing:
        raise ValueError(f"{uri}: missing column(s): {', '.join(missing)}")
    if frame.empty:
        raise ValueError(f"{uri}: no data rows, only a header")
    return {name: frame[name].tolist() for name in [*numeric, *categorical]}
