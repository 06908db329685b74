"""Batch manifests: a JSON list of object names, or one name per line; hostile ones are refused."""

import json

from vertex_trigger.errors import RejectedEvent, excerpt
from vertex_trigger.events.cloud_events import lone_surrogate_in

MANIFEST_LIMIT = 1024 * 1024  # bytes read at most: a manifest names files, it is not data
MAX_NAMES = 10_000


def manifest_names(data: bytes, uri: str, bucket: str, folder: str) -> tuple[str, ...]:
    """Return the full object names a manifest lists, in order; RejectedEvent says what is wrong.

    Each entry is a name in the manifest's folder (``part-0.csv``), the same as a full object name
    (``FOLDER/part-0.csv``) or as ``gs://BUCKET/FOLDER/part-0.csv``. An entry naming anything
    outside the folder (another folder, a subfolder, ``..``) refuses the whole manifest.
    """
    if len(data) > MANIFEST_LIMIT:
        raise RejectedEvent(f"manifest {uri} is larger than the {MANIFEST_LIMIT}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RejectedEvent(f"manifest {uri} is not UTF-8 text") from None
    entries = _json_entries(text, uri) if text.lstrip().startswith(("[", "{")) else _lines(text)
    if not entries:
        raise RejectedEvent(f"manifest {uri} lists no objects")
    if len(entries) > MAX_NAMES:
        raise RejectedEvent(f"manifest {uri} lists more than {MAX_NAMES} objects")
    names = [_in_folder(entry, uri, bucket, folder) for entry in entries]
    return tuple(dict.fromkeys(names))  # a name listed twice is one object


def _json_entries(text: str, uri: str) -> list[str]:
    try:
        entries = json.loads(text)
    except (ValueError, RecursionError):
        raise RejectedEvent(f"manifest {uri} starts like JSON but is not JSON") from None
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise RejectedEvent(
            f"manifest {uri} must be a JSON list of object names, got {excerpt(entries)}"
        )
    if lone_surrogate_in(entries):  # an escaped half of a UTF-16 pair: no object is named so
        raise RejectedEvent(f"manifest {uri} is not valid Unicode: it holds a lone surrogate")
    return entries


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _in_folder(entry: str, uri: str, bucket: str, folder: str) -> str:
    """Return the full object name of one entry, or refuse the manifest naming the entry."""
    name = entry.removeprefix(f"gs://{bucket}/")
    leaf = name.removeprefix(folder) if folder and name.startswith(folder) else name
    if not leaf or "/" in leaf or leaf in (".", "..") or name.startswith("gs://"):
        raise RejectedEvent(
            f"manifest {uri} names {excerpt(entry)}, which is not an object in its folder "
            f"gs://{bucket}/{folder}"
        )
    return folder + leaf
