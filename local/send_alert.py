"""Publish a drift alert to the drift topic on the Pub/Sub emulator (google-cloud-pubsub).

    PUBSUB_EMULATOR_HOST=127.0.0.1:8085 python -m local.send_alert \
        --model projects/p/models/house-prices --feature sqft=0.41 [--threshold 0.3] \
        [--endpoint E] [--topic projects/P/topics/T]
    python -m local.send_alert --emulator 127.0.0.1:8085 --file alert.json   # any accepted form

The alert is the message data, published as `python -m pipelines.drift check --publish` does; the
emulator pushes it through the Eventarc adapter (`local.eventarc_push`) to on_drift_alert.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from local.object_events import rfc3339_millis
from pipelines.drift.publish import publish_alert

DEFAULT_TOPIC = "projects/local-project/topics/drift-alerts"
EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"


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
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="alert JSON in any accepted form")
    source.add_argument("--model", help="model resource name (builds a canonical alert)")
    parser.add_argument("--feature", type=feature_deviation, action="append", default=[])
    parser.add_argument("--threshold", type=float, default=0.3)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--topic", default=DEFAULT_TOPIC)
    parser.add_argument(
        "--emulator", metavar="HOST:PORT", default=os.environ.get(EMULATOR_ENV, ""),
        help=f"the Pub/Sub emulator (default: ${EMULATOR_ENV})",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds, retries included")
    return parser.parse_args(argv)


def alert_from(args: argparse.Namespace) -> dict[str, Any]:
    """Return the alert the arguments describe."""
    if not args.emulator:
        raise AlertInputError(
            f"no Pub/Sub emulator: set {EMULATOR_ENV} (`make up` prints it) or give --emulator"
        )
    if args.file:
        return read_alert_file(args.file)
    if not args.feature:
        raise AlertInputError("--model needs at least one --feature NAME=DEVIATION")
    return canonical_alert(args.model, dict(args.feature), args.threshold, args.endpoint)


def main(argv: list[str] | None = None) -> int:
    """Publish one alert; exit 0 once published, 1 if publishing failed, 2 on bad input."""
    from google.api_core.exceptions import GoogleAPIError

    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        alert = alert_from(args)
    except AlertInputError as err:
        print(f"send_alert: {err}", file=sys.stderr)
        return 2
    try:
        # google-cloud-pubsub's client reads the emulator's address from the environment.
        with mock.patch.dict(os.environ, {EMULATOR_ENV: args.emulator}):
            message_id = publish_alert(args.topic, alert, args.timeout)
    except (GoogleAPIError, TimeoutError, ValueError) as err:
        print(f"send_alert: publishing to {args.topic} failed: {err}", file=sys.stderr)
        return 1
    print(f"alert published to {args.topic} on the Pub/Sub emulator at {args.emulator}: "
          f"message {message_id}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
