"""Start Google's Cloud Pub/Sub emulator (the gcloud SDK's `cloud-pubsub-emulator`, Java).

It serves gRPC (google-cloud-pubsub through PUBSUB_EMULATOR_HOST) and the v1 REST API on one port.
It cannot report a port it chose itself (`--port=0` binds two random ports and logs "listening
on 0"), and on a taken port it logs a BindException and hangs instead of exiting; so a free port is
picked here, and a launch that lost the port to another process is stopped and retried.
It keeps everything in memory: its folder under the stack's root holds only `env.yaml`, the file
`gcloud beta emulators pubsub env-init --data-dir=FOLDER` reads.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from local.processes import ProcessGroup, Service, StartupError
from local.pubsub_rest import PubsubRest

PACKAGE = "google-cloud-cli-pubsub-emulator"
BINARY_ENV = "PUBSUB_EMULATOR_BINARY"  # overrides the search in the gcloud SDK
IN_SDK = Path("platform/pubsub-emulator/bin/cloud-pubsub-emulator")
DEBIAN_SDK = Path("/usr/lib/google-cloud-sdk")
STARTED = re.compile(r"Server started, listening on (\d+)")
PORT_TAKEN = re.compile(r"BindException")
LAUNCH_ATTEMPTS = 3


class EmulatorMissingError(StartupError):
    """The emulator or the Java it needs is not installed; the message says what to install."""


@dataclass(frozen=True)
class PubsubEmulator:
    """A running emulator."""

    host: str
    data_dir: Path

    @property
    def url(self) -> str:
        """Return the REST API's base URL."""
        return f"http://{self.host}"

    def rest(self) -> PubsubRest:
        """Return a REST client for it."""
        return PubsubRest(self.host)


def find_emulator(env: Mapping[str, str] = os.environ) -> Path:
    """Return the emulator's launcher: $PUBSUB_EMULATOR_BINARY, else the gcloud SDK's."""
    if override := env.get(BINARY_ENV):
        if not _executable(Path(override)):
            raise EmulatorMissingError(
                f"{BINARY_ENV}={override} is not an executable file; unset it to use the "
                f"gcloud SDK's emulator (Debian package {PACKAGE})"
            )
        return Path(override)
    searched = []
    for root in _sdk_roots(env):
        searched.append(str(root))
        if _executable(root / IN_SDK):
            return root / IN_SDK
    raise EmulatorMissingError(
        f"Google's Cloud Pub/Sub emulator is not installed: no {IN_SDK} in the gcloud SDK "
        f"(looked in {', '.join(searched)}). Install the Debian package {PACKAGE} "
        f"(apt-get install {PACKAGE}; or `gcloud components install pubsub-emulator`), "
        f"or set {BINARY_ENV} to its cloud-pubsub-emulator launcher."
    )


def find_java(env: Mapping[str, str] = os.environ) -> Path:
    """Return the java the launcher will run ($JAVA_HOME/bin/java, else java on PATH)."""
    if home := env.get("JAVA_HOME"):
        java = Path(home) / "bin" / "java"
        if _executable(java):
            return java
    if found := shutil.which("java", path=env.get("PATH", "")):
        return Path(found)
    raise EmulatorMissingError(
        f"Java is missing: the Cloud Pub/Sub emulator (Debian package {PACKAGE}) is a Java "
        "program and no java was found in $JAVA_HOME/bin or on PATH. Install a Java 11+ "
        "runtime (apt-get install default-jre-headless)."
    )


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _sdk_roots(env: Mapping[str, str]) -> Iterator[Path]:
    """Yield the places the gcloud SDK may be, cheapest first (`gcloud info` takes seconds)."""
    gcloud = shutil.which("gcloud", path=env.get("PATH", ""))
    if gcloud:
        yield Path(os.path.realpath(gcloud)).parents[1]  # SDK/bin/gcloud
    yield DEBIAN_SDK
    if gcloud:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            info = subprocess.run(
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True, text=True, timeout=60, check=True,
            )  # fmt: skip
            if info.stdout.strip():
                yield Path(info.stdout.strip())


def free_port() -> int:
    """Return a port nothing listens on now (another process may still take it: see launch)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def emulator_command(binary: Path, port: int) -> list[str]:
    """Return the command serving gRPC and REST on 127.0.0.1:port."""
    return [str(binary), "--host=127.0.0.1", f"--port={port}"]


@dataclass
class EmulatorLaunch:
    """An emulator process started but maybe not serving yet (Java starts in seconds)."""

    group: ProcessGroup
    data_dir: Path
    binary: Path
    port: int
    service: Service

    def ready(self, timeout: float = 90.0) -> PubsubEmulator:
        """Wait until it serves REST; relaunch on another port if the port was taken."""
        for _ in range(LAUNCH_ATTEMPTS):
            if self._started(timeout):
                emulator = PubsubEmulator(f"127.0.0.1:{self.port}", self.data_dir)
                _wait_for_rest(self.service, emulator.url, timeout)
                _write_env_yaml(self.data_dir, emulator.host)
                return emulator
            self.group.discard(self.service)
            self.port = free_port()
            self.service = _start(self.group, self.data_dir, self.binary, self.port)
        raise StartupError(
            f"pubsub-emulator could not bind a free port in {LAUNCH_ATTEMPTS} attempts:\n"
            f"{self.service.log_tail()}"
        )

    def _started(self, timeout: float) -> bool:
        """Wait for its "Server started" line (True) or a BindException (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.service.log_path.read_text(errors="replace")
            if STARTED.search(log):
                return True
            if PORT_TAKEN.search(log):
                return False
            self.service.check_alive()
            time.sleep(0.1)
        raise StartupError(
            f"pubsub-emulator did not start in {timeout:.0f}s:\n{self.service.log_tail()}"
        )


def launch_pubsub_emulator(group: ProcessGroup, data_dir: Path) -> EmulatorLaunch:
    """Check the emulator and Java are installed and start it; `ready()` waits for it."""
    binary = find_emulator()
    find_java()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    return EmulatorLaunch(group, data_dir, binary, port, _start(group, data_dir, binary, port))


def start_pubsub_emulator(
    group: ProcessGroup, data_dir: Path, timeout: float = 90.0
) -> PubsubEmulator:
    """Start the emulator in `group` and wait until it serves."""
    return launch_pubsub_emulator(group, data_dir).ready(timeout)


@contextlib.contextmanager
def running_pubsub_emulator(data_dir: Path) -> Iterator[PubsubEmulator]:
    """Run an emulator for the duration of a `with` block (tests, tools); logs in data_dir."""
    group = ProcessGroup(data_dir / "logs")
    try:
        yield start_pubsub_emulator(group, data_dir)
    finally:
        group.stop()


def _start(group: ProcessGroup, data_dir: Path, binary: Path, port: int) -> Service:
    return group.start("pubsub-emulator", emulator_command(binary, port), {}, cwd=data_dir)


def _wait_for_rest(service: Service, url: str, timeout: float) -> None:
    """Wait until the REST side answers its root ("Ok"): the log line comes a little earlier."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service.check_alive()
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).ok:
                return
        time.sleep(0.1)
    raise StartupError(f"pubsub-emulator does not answer {url}:\n{service.log_tail()}")


def _write_env_yaml(data_dir: Path, host: str) -> None:
    """Write what `gcloud beta emulators pubsub env-init --data-dir=DATA_DIR` prints from."""
    (data_dir / "env.yaml").write_text(f"PUBSUB_EMULATOR_HOST: {host}\n")
