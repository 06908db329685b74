"""Send a drift alert to the on_drift_alert server as a Pub/Sub messagePublished CloudEvent.

    python -m local.send_alert --target http://127.0.0.1:8082/ \
        --model projects/p/models/house-prices --feature sqft=0.41 [--threshold 0.3] \
        [--endpoint E] [--topic projects/P/topics/T]
    python -m local.send_alert --target http://127.0.0.1:8082/ --file alert.json  # any form

The alert is the Pub/Sub message data; the event is what Eventarc delivers for a push: binary
HTTP mode, `MessagePublishedData` with both `messageId` and `message_id` spellings.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cloudevents.http import CloudEvent

from local import pubsub_push
from local.cloud_event_http import post_binary, post_structured
from local.object_events import rfc3339_millis
from local.pubsub_publish_server import ReceivedMessage

DEFAULT_TOPIC = "projects/local-project/topics/drift-alerts"


class AlertInputError(ValueError):
    """The alert given on the command line or in a file is unusable (retrying cannot help)."""


def canonical_alert(
    model: str, features: dict[str, float], threshold: float, endpoint: str = ""
) -> dict[str, Any]:
    """Build an alert in the canonical form our drift check publishes."""
    return {
        "model": model,
        "endpoint": endpoint,
        "objective": "RAW_FEATURE_DRIFT",
        "detected_at": rfc3339_millis(datetime.now(UTC)),
        "features": [
            {"name": name, "deviation": deviation, "threshold": threshold}
            for name, deviation in features.items()
        ],
    }


def read_alert_file(path: Path) -> dict[str, Any]:
    """Read an alert (any accepted form) from a JSON file; the function does the parsing."""
    try:
        alert = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise AlertInputError(f"{path}: not a readable JSON file: {err}") from err
    if not isinstance(alert, dict):
        raise AlertInputError(
            f"{path}: the alert must be a JSON object, got {type(alert).__name__}"
        )
    return alert


def message_published_event(alert: dict[str, Any], topic: str) -> CloudEvent:
    """Wrap the alert as Pub/Sub message data in the messagePublished CloudEvent Eventarc sends."""
    message = ReceivedMessage(
        topic=topic,
        data=json.dumps(alert).encode(),
        attributes={},
        message_id=str(secrets.randbelow(10**16)),
        publish_time=datetime.now(UTC),
        ordering_key="",
    )
    return pubsub_push.message_published_event(message)


def send_alert(
    url: str, alert: dict[str, Any], topic: str = DEFAULT_TOPIC, structured: bool = False
) -> requests.Response:
    """Post the alert's messagePublished CloudEvent to `url`."""
    event = message_published_event(alert, topic)
    return (post_structured if structured else post_binary)(url, event)


def feature_deviation(text: str) -> tuple[str, float]:
    """Parse NAME=DEVIATION."""
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected NAME=DEVIATION, got {text!r}") from err


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m local.send_alert",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", required=True, help="URL of the on_drift_alert server")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="alert JSON in any accepted form")
    source.add_argument("--model", help="model resource name (builds a canonical alert)")
    parser.add_argument("--feature", type=feature_deviation, action="append", default=[])
    parser.add_argument("--threshold", type=float, default=0.3)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--topic", default=DEFAULT_TOPIC)
    parser.add_argument("--structured", action="store_true", help="structured mode, not binary")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Send one alert; exit 0 on a 2xx answer, 1 otherwise, 2 on bad input."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.file:
            alert = read_alert_file(args.file)
        elif not args.feature:
            raise AlertInputError("--model needs at least one --feature NAME=DEVIATION")
        else:
            alert = canonical_alert(args.model, dict(args.feature), args.threshold, args.endpoint)
    except AlertInputError as err:
        print(f"send_alert: {err}", file=sys.stderr)
        return 2
    response = send_alert(args.target, alert, args.topic, args.structured)
    print(f"alert sent to {args.target}: HTTP {response.status_code}")
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
