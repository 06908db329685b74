"""Publish a drift alert to the drift topic on the Pub/Sub emulator (google-cloud-pubsub).

    PUBSUB_EMULATOR_HOST=127.0.0.1:8085 python -m local.send_alert \
        --model projects/p/models/house-prices --feature sqft=0.41 [--threshold 0.3] \
        [--endpoint E] [--topic projects/P/topics/T]
    python -m local.send_alert --form incident --feature sqft=0.41 \
        --label retrain=house-prices [--state closed] [--observed 0.5] [--policy NAME]
    python -m local.send_alert --form stats-anomalies|log-entry|v2 \
        --feature sqft=0.41 [--monitoring-job NAME] [--deployed-model-id ID]
    python -m local.send_alert --emulator 127.0.0.1:8085 --file alert.json   # any form, as is

`--form` builds the alert in one of the shapes Google Cloud sends (local/alert_forms.py):
canonical (our drift check), incident (a Cloud Monitoring Pub/Sub notification channel),
log-entry, stats-anomalies and v2 (Model Monitoring's anomaly logs as a log sink publishes them).
The alert is the message data, published as `python -m pipelines.drift check --publish` does; the
emulator pushes it through the Eventarc adapter (`local.eventarc_push`) to on_drift_alert.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

from local import alert_forms
from local.alert_forms import AlertSpec, Form
from pipelines.drift.publish import publish_alert

DEFAULT_TOPIC = "projects/local-project/topics/drift-alerts"
EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"


class AlertInputError(ValueError):
    """The alert given on the command line or in a file is unusable (retrying cannot help)."""


def canonical_alert(
    model: str, features: dict[str, float], threshold: float, endpoint: str = ""
) -> dict[str, Any]:
    """Build an alert in the canonical form our drift check publishes."""
    spec = AlertSpec(features=features, threshold=threshold, model=model, endpoint=endpoint)
    return alert_forms.canonical(spec)


def built_alert(args: argparse.Namespace) -> dict[str, Any]:
    """Build the alert the command line describes, in the form it names."""
    form = Form(args.form)
    if form is Form.CANONICAL and not args.model:
        raise AlertInputError("--form canonical needs --model")
    if not args.feature and not (form is Form.INCIDENT and args.observed is not None):
        what = "--model" if form is Form.CANONICAL else f"--form {form}"
        raise AlertInputError(f"{what} needs at least one --feature NAME=DEVIATION")
    spec = AlertSpec(
        features=dict(args.feature),
        threshold=args.threshold,
        model=args.model or "",
        endpoint=args.endpoint,
        monitoring_job=args.monitoring_job,
        deployed_model_id=args.deployed_model_id,
        policy=args.policy,
        state=args.state,
        observed=args.observed,
        policy_labels=dict(args.label),
    )
    return alert_forms.build(form, spec)


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


def label(text: str) -> tuple[str, str]:
    """Parse KEY=VALUE."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m local.send_alert",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--file", type=Path, help="alert JSON in any accepted form, sent as is")
    source.add_argument(
        "--form", choices=[f.value for f in Form], default=Form.CANONICAL.value,
        help="build the alert in this form from the flags below (default: canonical)",
    )  # fmt: skip
    parser.add_argument("--model", help="model resource name (required by the canonical form)")
    parser.add_argument("--feature", type=feature_deviation, action="append", default=[])
    parser.add_argument("--threshold", type=float, default=0.3)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--monitoring-job", default="", help="v1 or v2 monitoring job name")
    parser.add_argument("--deployed-model-id", default="1")
    parser.add_argument("--policy", default="house-prices drift", help="incident: policy name")
    parser.add_argument("--state", choices=["open", "closed"], default="open", help="incident")
    parser.add_argument("--observed", type=float, help="incident: observed value")
    parser.add_argument(
        "--label", type=label, action="append", default=[], help="incident: policy user label"
    )
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
    return read_alert_file(args.file) if args.file else built_alert(args)


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
