"""`python -m pipelines.drift`: compute a training baseline, or check new data against one.

Exit codes (a scheduler retries only what can succeed on retry):
  0  the command completed; for `check`, with or without drift (see "drifted" in the report)
  1  drift found and --fail-on-drift was given
  2  bad usage or bad input (missing file or column, empty file, bad baseline): retrying won't help
  3  transient failure (Cloud Storage or Pub/Sub unavailable, timeout): a retry may succeed
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import TextIO

from pipelines.drift.inputs import read_csv_columns
from pipelines.drift.publish import publish_alert
from pipelines.drift.render import verdict_table
from pipelines.drift.report import drift_report, rfc3339_now
from pipelines.house_data import house_schema
from pipelines.monitoring_stats import compute_baseline
from pipelines.uri_io import write_uri_bytes

# Defaults: the house-price inputs, as the training pipeline's baseline step uses them.
NUMERIC_FEATURES = tuple(house_schema()["numeric"])
CATEGORICAL_FEATURES = tuple(house_schema()["categorical"])


class ExitCode(IntEnum):
    """What the process exit status tells a scheduler or a script."""

    OK = 0
    DRIFT = 1
    BAD_INPUT = 2
    TRANSIENT = 3


def feature_list(text: str) -> list[str]:
    """Parse a comma-separated feature list (empty means none)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def feature_threshold(text: str) -> tuple[str, float]:
    """Parse NAME=VALUE for --feature-threshold."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not name.strip() or number is None:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with a number, got {text!r}")
    return name.strip(), number


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for the baseline and check commands."""
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.drift",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    baseline = commands.add_parser("baseline", help="compute baseline statistics from a CSV")
    baseline.add_argument("train_csv", metavar="TRAIN_CSV", help="gs:// URI or local path")
    baseline.add_argument("--out", required=True, metavar="BASELINE_JSON")
    baseline.add_argument(
        "--numeric-features", type=feature_list, default=list(NUMERIC_FEATURES),
        metavar="A,B,...", help=f"default: {','.join(NUMERIC_FEATURES)}",
    )
    baseline.add_argument(
        "--categorical-features", type=feature_list, default=list(CATEGORICAL_FEATURES),
        metavar="A,B,...", help=f"default: {','.join(CATEGORICAL_FEATURES)}",
    )
    baseline.add_argument("--bins", type=int, default=10, help="numeric bins (default: 10)")
    check = commands.add_parser("check", help="compare a CSV with a baseline")
    check.add_argument("new_csv", metavar="NEW_CSV", help="gs:// URI or local path")
    check.add_argument("--baseline", required=True, metavar="BASELINE_JSON")
    check.add_argument("--threshold", type=float, default=0.3, help="default: 0.3")
    check.add_argument(
        "--feature-threshold", type=feature_threshold, action="append", default=[],
        metavar="NAME=VALUE", help="per-feature threshold (repeatable)",
    )
    check.add_argument("--model", default="", metavar="RESOURCE", help="model the data feeds")
    check.add_argument("--endpoint", default="", metavar="RESOURCE", help="endpoint (optional)")
    check.add_argument(
        "--publish", default="", metavar="projects/P/topics/T",
        help="publish a drift alert to this topic when drift is found (needs --model)",
    )
    check.add_argument(
        "--publish-timeout", type=float, default=60.0, metavar="SECONDS",
        help="give up publishing after this long, retries included (default: 60)",
    )
    check.add_argument("--fail-on-drift", action="store_true", help="exit 1 when drift is found")
    return parser


def run_baseline(args: argparse.Namespace, stderr: TextIO) -> ExitCode:
    """Compute the baseline of a training CSV and write it as JSON."""
    if args.bins < 1:
        raise ValueError(f"--bins must be at least 1, got {args.bins}")
    if not args.numeric_features and not args.categorical_features:
        raise ValueError("no features: give --numeric-features or --categorical-features")
    columns = read_csv_columns(args.train_csv, args.numeric_features, args.categorical_features)
    baseline = compute_baseline(
        columns, args.numeric_features, args.categorical_features, bins=args.bins
    )
    document = json.dumps(baseline, indent=2) + "\n"
    write_uri_bytes(args.out, document.encode("utf-8"))
    print(
        f"baseline of {len(baseline['features'])} features from {baseline['row_count']} rows"
        f" written to {args.out}",
        file=stderr,
    )
    return ExitCode.OK


def run_check(
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO, now: Callable[[], str]
) -> ExitCode:
    """Compare a CSV with a baseline, report, and publish an alert on drift if asked."""
    report = drift_report(
        args.baseline,
        args.new_csv,
        threshold=args.threshold,
        feature_thresholds=dict(args.feature_threshold),
        model=args.model,
        endpoint=args.endpoint,
        checked_at=now(),
    )
    try:
        if report["alert"] and args.publish:
            message_id = publish_alert(args.publish, report["alert"], args.publish_timeout)
            report["published"] = {"topic": args.publish, "message_id": message_id}
    finally:
        # The verdict is reported even when publishing it failed.
        print(json.dumps(report, indent=2), file=stdout)
        print(verdict_table(report), file=stderr)
    return ExitCode.DRIFT if report["drifted"] and args.fail_on_drift else ExitCode.OK


def exit_code_for(error: Exception) -> ExitCode | None:
    """Return the exit code for an expected failure, or None for a bug (shown with a traceback)."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    transient = (
        api.TooManyRequests, api.InternalServerError, api.ServiceUnavailable, api.GatewayTimeout,
        api.DeadlineExceeded, api.RetryError, auth.TransportError, TimeoutError, ConnectionError,
        requests.ConnectionError, requests.Timeout,
    )  # fmt: skip
    permanent = (ValueError, OSError, api.GoogleAPICallError, auth.DefaultCredentialsError)
    if isinstance(error, transient):
        return ExitCode.TRANSIENT
    if isinstance(error, permanent):
        return ExitCode.BAD_INPUT
    return None


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    now: Callable[[], str] = rfc3339_now,
) -> int:
    """Run one command; expected failures print one error line and set the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check" and args.publish and not args.model:
        parser.error("--publish needs --model (the alert names the model that drifted)")
    try:
        if args.command == "baseline":
            return run_baseline(args, stderr)
        return run_check(args, stdout, stderr, now)
    except Exception as error:
        code = exit_code_for(error)
        if code is None:
            raise
        kind = "transient error" if code is ExitCode.TRANSIENT else "error"
        print(f"drift {args.command}: {kind}: {error}", file=stderr)
        return code
