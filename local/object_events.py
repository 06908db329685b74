"""Cloud Storage finalize CloudEvents built from a local file, as Eventarc delivers them."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import google_crc32c
from cloudevents.http import CloudEvent

from triggers_cli.eventarc import object_finalized_event, rfc3339_millis

API_ROOT = "https://www.googleapis.com/storage/v1"
DOWNLOAD_ROOT = "https://www.googleapis.com/download/storage/v1"


@dataclass(frozen=True)
class StoredObject:
    """One generation of an object: where it is, what it holds, when it was written."""

    bucket: str
    name: str
    generation: int
    content: bytes
    written_at: datetime


def content_type_of(name: str) -> str:
    """Guess the content type from the name, as `gcloud storage cp` does."""
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def crc32c_base64(content: bytes) -> str:
    """Return the CRC32C checksum, big-endian, base64 (GCS's `crc32c` field)."""
    return base64.b64encode(google_crc32c.value(content).to_bytes(4, "big")).decode()


def md5_base64(content: bytes) -> str:
    """Return the MD5 digest, base64 (GCS's `md5Hash` field)."""
    return base64.b64encode(hashlib.md5(content).digest()).decode()


def storage_object_data(obj: StoredObject) -> dict[str, str]:
    """Return StorageObjectData for one generation (int64 fields as strings, as GCS sends them)."""
    written = rfc3339_millis(obj.written_at)
    quoted = quote(obj.name, safe="")
    etag = base64.b64encode(f"{obj.generation}/1".encode()).decode()
    return {
        "kind": "storage#object",
        "id": f"{obj.bucket}/{obj.name}/{obj.generation}",
        "selfLink": f"{API_ROOT}/b/{obj.bucket}/o/{quoted}",
        "mediaLink": f"{DOWNLOAD_ROOT}/b/{obj.bucket}/o/{quoted}"
        f"?generation={obj.generation}&alt=media",
        "name": obj.name,
        "bucket": obj.bucket,
        "generation": str(obj.generation),
        "metageneration": "1",
        "contentType": content_type_of(obj.name),
        "storageClass": "STANDARD",
        "size": str(len(obj.content)),
        "md5Hash": md5_base64(obj.content),
        "crc32c": crc32c_base64(obj.content),
        "etag": etag,
        "timeCreated": written,
        "updated": written,
        "timeStorageClassUpdated": written,
    }


def event_id_for(obj: StoredObject) -> str:
    """Return a numeric event id fixed per generation (a redelivery keeps it, as Eventarc's)."""
    digest = hashlib.sha256(f"{obj.bucket}/{obj.name}#{obj.generation}".encode()).hexdigest()
    return str(int(digest[:15], 16))


def finalized_event(obj: StoredObject) -> CloudEvent:
    """Return the `google.cloud.storage.object.v1.finalized` CloudEvent for one generation."""
    data = storage_object_data(obj)
    return object_finalized_event(data, event_id_for(obj), rfc3339_millis(obj.written_at))
