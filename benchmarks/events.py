"""CloudEvents shaped like the ones Eventarc delivers (GCS finalize, Pub/Sub messagePublished)."""

from __future__ import annotations

import base64
import json

from cloudevents.http import CloudEvent

STORAGE_FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
PROJECT = "reliability-project"
TOPIC = f"projects/{PROJECT}/topics/drift-alerts"
EVENT_TIME = "2026-11-26T12:00:00.000Z"


def storage_object(bucket: str, name: str, generation: int | str, size: int | str = "352") -> dict:
    """Return StorageObjectData as GCS sends it (int64 fields as strings unless told otherwise)."""
    return {
        "bucket": bucket,
        "name": name,
        "generation": generation,
        "metageneration": "1",
        "contentType": "text/csv",
        "size": size,
        "id": f"{bucket}/{name}/{generation}",
        "kind": "storage#object",
        "storageClass": "STANDARD",
        "timeCreated": EVENT_TIME,
        "updated": EVENT_TIME,
    }


def storage_event(data: object, event_id: str, bucket: str = "", name: str = "") -> CloudEvent:
    """Wrap object data in a finalize CloudEvent with Eventarc's attributes."""
    attributes = {
        "id": event_id,
        "type": STORAGE_FINALIZED,
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "subject": f"objects/{name}",
        "time": EVENT_TIME,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, data)


def pubsub_data(payload: bytes | str, message_id: str, publish_time: str = EVENT_TIME) -> dict:
    """Return MessagePublishedData carrying `payload` base64-encoded, as Eventarc delivers it."""
    raw = payload.encode("utf-8") if isinstance(payload, str) else payload
    return {
        "message": {
            "data": base64.b64encode(raw).decode("ascii"),
            "messageId": message_id,
            "publishTime": publish_time,
        },
        "subscription": f"projects/{PROJECT}/subscriptions/eventarc-drift",
    }


def pubsub_event(data: object, event_id: str, time: str = EVENT_TIME) -> CloudEvent:
    """Wrap MessagePublishedData in a messagePublished CloudEvent."""
    attributes = {
        "id": event_id,
        "type": PUBSUB_PUBLISHED,
        "source": f"//pubsub.googleapis.com/{TOPIC}",
        "time": time,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, data)


def drift_alert(model: str, deviation: float = 0.5, objective: str = "RAW_FEATURE_DRIFT") -> str:
    """Return a canonical drift alert (design format 1) as JSON text."""
    return json.dumps(
        {
            "model": model,
            "endpoint": f"projects/{PROJECT}/locations/us-central1/endpoints/123",
            "objective": objective,
            "detected_at": EVENT_TIME,
            "features": [{"name": "sqft", "deviation": deviation, "threshold": 0.3}],
        }
    )
