"""Serve the emulator until SIGINT or SIGTERM.

python -m local.vertex_emulator --state-dir DIR [--port 0] [--no-execute] [--isolated]
    [--create-quota N] [--clock-scale N]

With `--state-topic projects/P/topics/T` (and PUBSUB_EMULATOR_HOST) every job state change is
published as the Cloud Logging entry a Vertex AI log sink would forward.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from local.vertex_emulator import Emulator, QuotaSettings
from local.vertex_emulator.state_log import StateLogPublisher


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m local.vertex_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state-dir", required=True, help="folder for jobs and runs (kept)")
    parser.add_argument("--no-execute", action="store_true", help="record jobs, leave them PENDING")
    parser.add_argument(
        "--isolated", action="store_true",
        help="run each component in its own venv with only the packages it declares "
        "(packages_to_install, from PyPI), as its container on Vertex AI would: a missing "
        "package fails here too (slower: a venv and its installs per task)",
    )  # fmt: skip
    parser.add_argument(
        "--create-quota",
        type=int,
        default=0,
        metavar="N",
        help="answer 429 RESOURCE_EXHAUSTED beyond N creates per minute per region (Vertex: 60)",
    )
    parser.add_argument(
        "--quota-retry-info", action="store_true", help="add google.rpc.RetryInfo to quota 429s"
    )
    parser.add_argument(
        "--quota-window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="the quota's 'minute' (shorter only to scale a benchmark down)",
    )
    parser.add_argument(
        "--clock-scale",
        type=float,
        default=1.0,
        metavar="N",
        help="report times so that durations look N times longer (3600: a second reads as an "
        "hour), for the watchdog's max_duration",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--state-topic",
        help="publish each job state change's Cloud Logging entry to this Pub/Sub topic "
        "(projects/P/topics/T) on the emulator at $PUBSUB_EMULATOR_HOST",
    )
    args = parser.parse_args(argv)
    if args.clock_scale <= 0:
        parser.error("--clock-scale must be a positive number")
    if args.state_topic and not os.environ.get("PUBSUB_EMULATOR_HOST"):
        parser.error("--state-topic needs PUBSUB_EMULATOR_HOST (the Pub/Sub emulator's host:port)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s vertex-emulator %(levelname)s %(message)s",
    )
    state_log = None
    if args.state_topic:
        state_log = StateLogPublisher(args.state_topic, os.environ["PUBSUB_EMULATOR_HOST"])
    quota = (
        QuotaSettings(args.create_quota, args.quota_retry_info, args.quota_window)
        if args.create_quota > 0
        else None
    )
    emulator = Emulator(
        args.state_dir,
        args.host,
        args.port,
        execute=not args.no_execute,
        state_log=state_log,
        quota=quota,
        clock_scale=args.clock_scale,
        isolated=args.isolated,
    )
    # serve_forever runs in a thread so a signal handler can call stop() (shutdown would deadlock
    # if called from the serving thread).
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    emulator.start()
    print(f"vertex emulator listening on {emulator.url}", flush=True)
    done.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
