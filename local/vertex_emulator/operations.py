"""Long-running operations as Vertex AI returns them for deletes and batch calls: done at once."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from local.vertex_emulator.errors import not_found
from local.vertex_emulator.store import now_rfc3339

TYPES = "type.googleapis.com/google.cloud.aiplatform.v1."
EMPTY = "type.googleapis.com/google.protobuf.Empty"
DELETE_METADATA = TYPES + "DeleteOperationMetadata"
BATCH_CANCEL_METADATA = TYPES + "BatchCancelPipelineJobsOperationMetadata"
BATCH_DELETE_RESPONSE = TYPES + "BatchDeletePipelineJobsResponse"
BATCH_CANCEL_RESPONSE = TYPES + "BatchCancelPipelineJobsResponse"


class Operations:
    """Operations this emulator returned, kept in memory so GET on their name answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        self._done: dict[str, dict[str, Any]] = {}

    def finished(
        self, parent: str, metadata_type: str, response: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Record and return a finished operation (the work is done before it is answered)."""
        stamp = now_rfc3339()
        with self._lock:
            name = f"{parent}/operations/{next(self._ids)}"
            operation = {
                "name": name,
                "metadata": {
                    "@type": metadata_type,
                    "genericMetadata": {"createTime": stamp, "updateTime": stamp},
                },
                "done": True,
                "response": response or {"@type": EMPTY},
            }
            self._done[name] = operation
        return operation

    def get(self, name: str) -> dict[str, Any]:
        """Return an operation by name, or NOT_FOUND."""
        with self._lock:
            operation = self._done.get(name)
        if operation is None:
            raise not_found(f"Operation {name} is not found.")
        return operation
