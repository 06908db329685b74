"""Publish a canonical drift alert to Pub/Sub (google-cloud-pubsub, honours PUBSUB_EMULATOR_HOST).

Self-contained so the KFP component can embed it with `additional_funcs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def publish_alert(topic: str, alert: Mapping[str, Any], timeout: float = 60.0) -> str:
    """Publish the alert as JSON, its model and objective (if any) as attributes; return the id."""
    import json
    import re

    from google.api_core.retry import Retry
    from google.cloud import pubsub_v1

    if not re.fullmatch(r"projects/[^/]+/topics/[^/]+", topic):
        raise ValueError(f"{topic}: not a Pub/Sub topic name (projects/PROJECT/topics/TOPIC)")
    data = json.dumps(alert).encode("utf-8")
    # Every alert form is accepted (local.send_alert publishes them too); ours has both keys.
    attributes = {key: str(alert[key]) for key in ("model", "objective") if key in alert}
    publisher = pubsub_v1.PublisherClient()
    try:
        # Bounded retries: the default keeps retrying a transient error for ten minutes.
        future = publisher.publish(
            topic, data, retry=Retry(timeout=timeout), timeout=timeout, **attributes
        )
        return future.result(timeout=timeout)
    finally:
        publisher.stop()
