"""Reads and writes at gs:// URIs (google-cloud-storage, honours STORAGE_EMULATOR_HOST) or paths.

Self-contained functions so the KFP component can embed them with `additional_funcs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def split_gcs_uri(uri: str) -> tuple[str, str]:
    """Return (bucket, object name) of a gs://BUCKET/OBJECT URI, or raise ValueError naming it."""
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    if not uri.startswith("gs://") or not bucket or not name:
        raise ValueError(f"{uri}: not a gs://BUCKET/OBJECT URI")
    return bucket, name


def read_uri_bytes(uri: str) -> bytes:
    """Return the contents of a gs:// object or a local file; FileNotFoundError names it."""
    if uri.startswith("gs://"):
        from google.api_core.exceptions import NotFound
        from google.cloud import storage

        bucket, name = split_gcs_uri(uri)
        try:
            return storage.Client().bucket(bucket).blob(name).download_as_bytes()
        except NotFound:
            raise FileNotFoundError(f"{uri}: no such object") from None
    try:
        with open(uri, "rb") as file:
            return file.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{uri}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{uri}: is a directory, not a file") from None


def write_uri_bytes(uri: str, data: bytes, content_type: str) -> None:
    """Write bytes to a gs:// object or a local file (its folder must exist)."""
    if uri.startswith("gs://"):
        from google.cloud import storage

        bucket, name = split_gcs_uri(uri)
        storage.Client().bucket(bucket).blob(name).upload_from_string(
            data, content_type=content_type
        )
        return
    with open(uri, "wb") as file:
        file.write(data)


def read_json_uri(uri: str) -> Any:
    """Return the JSON document at a gs:// URI or path; ValueError names it if it is not JSON."""
    import json

    data = read_uri_bytes(uri)
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

    data = read_uri_bytes(uri)
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
