"""Batch manifests: a JSON list of object names, or one name per line; hostile ones are refused.

A manifest may name any number of objects within its byte limit. Whether they all exist is told
by walking its names, sorted, along the folder's listing (in name order too), stopping at the
first one missing: a manifest written before its data costs its events a page or two each, not a
listing of the folder.
"""

import bisect
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass

from vertex_trigger.errors import RejectedEvent, excerpt
from vertex_trigger.events.cloud_events import lone_surrogate_in
from vertex_trigger.google.storage import ObjectInfo, Storage

# Bytes read at most: a manifest names files, it is not data. 4 MiB hold about 100,000 names of
# 40 characters; parsed, that is some 15 MiB of an instance's 256.
MANIFEST_LIMIT = 4 * 1024 * 1024


def manifest_names(data: bytes, uri: str, bucket: str, folder: str) -> tuple[str, ...]:
    """Return the full object names a manifest lists, in order; RejectedEvent says what is wrong.

    Each entry is a name in the manifest's folder (``part-0.csv``), the same as a full object name
    (``FOLDER/part-0.csv``) or as ``gs://BUCKET/FOLDER/part-0.csv``. An entry naming anything
    outside the folder (another folder, a subfolder, ``..``) refuses the whole manifest.
    """
    if len(data) > MANIFEST_LIMIT:
        raise RejectedEvent(too_large(uri, len(data)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RejectedEvent(f"manifest {uri} is not UTF-8 text") from None
    entries = _json_entries(text, uri) if text.lstrip().startswith(("[", "{")) else _lines(text)
    if not entries:
        raise RejectedEvent(f"manifest {uri} lists no objects")
    names = [_in_folder(entry, uri, bucket, folder) for entry in entries]
    return tuple(dict.fromkeys(names))  # a name listed twice is one object


def too_large(uri: str, size: int) -> str:
    """Say that a manifest is over the byte limit, and what to do instead."""
    return (
        f"manifest {uri} is {size} bytes, above the {MANIFEST_LIMIT}-byte limit of a manifest "
        "(about 100,000 names): write a marker instead (batch.complete_when.marker), which has "
        "no size limit"
    )


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


def read_manifest(
    storage: Storage, manifest: ObjectInfo, bucket: str, folder: str
) -> tuple[str, ...]:
    """Return the sorted names one generation of a manifest lists (read once per instance)."""
    uri = f"gs://{bucket}/{manifest.name}"
    if manifest.size > MANIFEST_LIMIT:  # refused before reading a byte
        raise RejectedEvent(too_large(uri, manifest.size))
    return _sorted_names(storage, bucket, manifest.name, manifest.generation, folder)


# A generation's content never changes: the events of one batch read its manifest once. Two
# entries: a folder being rewritten, and another batch in flight.
@functools.lru_cache(maxsize=2)
def _sorted_names(
    storage: Storage, bucket: str, name: str, generation: int, folder: str
) -> tuple[str, ...]:
    data = storage.read(bucket, name, generation, MANIFEST_LIMIT)
    return tuple(sorted(manifest_names(data, f"gs://{bucket}/{name}", bucket, folder)))


@dataclass(frozen=True)
class Presence:
    """How a walk of a manifest's names along a listing ended."""

    missing: str = ""  # the first name not listed; empty when every name was
    objects: int = 0  # the names found listed, and their bytes
    bytes: int = 0


def walk(names: tuple[str, ...], listed: Iterable[ObjectInfo]) -> Presence:
    """Walk sorted ``names`` along a name-ordered listing; stop at the first name missing."""
    found = size = 0
    if not names:
        return Presence()
    for obj in listed:
        if obj.name < names[found]:
            continue
        if obj.name > names[found]:
            return Presence(names[found], found, size)
        found, size = found + 1, size + obj.size
        if found == len(names):  # asks for no page beyond the last name
            return Presence("", found, size)
    return Presence(names[found], found, size)


def split_at(names: tuple[str, ...], name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split sorted ``names`` into those before ``name`` and those from it on."""
    at = bisect.bisect_left(names, name)
    return names[:at], names[at:]
