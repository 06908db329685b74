"""Publish a Cloud Logging entry for each PipelineJob state change, as a Vertex log sink would.

Vertex AI writes `aiplatform.googleapis.com/pipeline_job_events` entries on the
`aiplatform.googleapis.com/PipelineJob` resource; a log sink forwards them to a Pub/Sub topic as
JSON. The emulator publishes the same shape (see tests/functions/data/run_state/README.md) to the
Pub/Sub emulator, so `on_run_state` sees runs end locally as it would in Google Cloud.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import re
import secrets
import threading
from typing import Any

import requests

from local.vertex_emulator.store import Job, now_rfc3339

log = logging.getLogger(__name__)
RESOURCE_TYPE = "aiplatform.googleapis.com/PipelineJob"
LOG_ID = "aiplatform.googleapis.com%2Fpipeline_job_events"
PAYLOAD_TYPE = "type.googleapis.com/google.cloud.aiplatform.logging.PipelineJobLogEntry"
JOB_NAME = re.compile(r"^projects/([^/]+)/locations/([^/]+)/pipelineJobs/([^/]+)$")
TOPIC = re.compile(r"^projects/[^/]+/topics/[^/]+$")
PUBLISH_TIMEOUT = 10.0
_STOP = object()


def log_entry(job: Job) -> dict[str, Any]:
    """Return the LogEntry (JSON mapping) a state change of `job` produces."""
    project, location, job_id = JOB_NAME.match(job["name"]).groups()
    stamp = now_rfc3339()
    state = job.get("state", "PIPELINE_STATE_UNSPECIFIED")
    return {
        "insertId": secrets.token_hex(6),
        "jsonPayload": {"@type": PAYLOAD_TYPE, "state": state},
        "resource": {
            "type": RESOURCE_TYPE,
            "labels": {
                "pipeline_job_id": job_id,
                "location": location,
                "resource_container": project,
            },
        },
        "timestamp": stamp,
        "severity": "ERROR" if state == "PIPELINE_STATE_FAILED" else "INFO",
        "labels": {"pipeline_name": job.get("displayName", "")},
        "logName": f"projects/{project}/logs/{LOG_ID}",
        "receiveTimestamp": stamp,
    }


class StateLogPublisher:
    """Publishes each job's state-change entry to a topic, in order, from a background thread.

    Publishing never blocks or fails the emulator: an entry that cannot be published is logged
    and dropped (a real sink can drop entries too; the run itself is unaffected).
    """

    def __init__(self, topic: str, pubsub_host: str) -> None:
        """Publish to `topic` on the Pub/Sub emulator at `pubsub_host` (host:port or URL)."""
        if not TOPIC.match(topic):
            raise ValueError(f"--state-topic must be projects/PROJECT/topics/TOPIC, got {topic!r}")
        root = pubsub_host if "://" in pubsub_host else f"http://{pubsub_host}"
        self.url = f"{root.rstrip('/')}/v1/{topic}:publish"
        self._queue: queue.Queue[Any] = queue.Queue()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._work, name="state-log", daemon=True)
        self._thread.start()

    def __call__(self, job: Job) -> None:
        """Queue the entry for a job whose state just changed (the store's observer)."""
        self._queue.put(log_entry(job))

    def stop(self) -> None:
        """Publish what is queued, then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout=PUBLISH_TIMEOUT * 2)

    def _work(self) -> None:
        while (entry := self._queue.get()) is not _STOP:
            self._publish(entry)

    def _publish(self, entry: dict[str, Any]) -> None:
        data = base64.b64encode(json.dumps(entry).encode()).decode()
        name = entry["resource"]["labels"]["pipeline_job_id"]
        try:
            response = self._session.post(
                self.url, json={"messages": [{"data": data}]}, timeout=PUBLISH_TIMEOUT
            )
        except requests.RequestException as err:
            log.warning("state log entry for %s not published: %s", name, err)
            return
        if response.status_code != 200:
            log.warning("state log entry for %s not published: HTTP %s %s",
                        name, response.status_code, response.text[:300])  # fmt: skip
        else:
            log.info("state log entry for %s (%s) published", name, entry["jsonPayload"]["state"])
