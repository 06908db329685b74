"""Run gcp-storage-emulator (in memory) in its own process on an ephemeral port.

python -m local.storage_emulator_process   # prints: storage emulator listening on http://...
"""

import argparse
import subprocess
import sys
import time
from typing import Any

from gcp_storage_emulator.server import create_server

from local.processes import start_announcing

STORAGE_EMULATOR_COMMAND = [sys.executable, "-m", "local.storage_emulator_process"]


def serve_in_memory() -> tuple[Any, str]:
    """Start an in-memory emulator in this process on 127.0.0.1:0; return it and its URL."""
    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    # The package does not expose the bound port; with port 0 it must be read from the socket.
    port = server._api._httpd.server_address[1]
    return server, f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> None:
    """Start the emulator on 127.0.0.1:0, print its URL, serve until killed."""
    argparse.ArgumentParser(
        prog="python -m local.storage_emulator_process",
        description="Serve gcp-storage-emulator in memory on 127.0.0.1 (a free port) until "
        "killed; prints: storage emulator listening on http://127.0.0.1:PORT",
    ).parse_args(sys.argv[1:] if argv is None else argv)
    _, url = serve_in_memory()
    print(f"storage emulator listening on {url}", flush=True)
    while True:
        time.sleep(3600)


def start_storage_emulator_process() -> tuple[str, subprocess.Popen[str]]:
    """Start this program as a child process; return the emulator's URL and the process."""
    return start_announcing(STORAGE_EMULATOR_COMMAND, "storage emulator")


if __name__ == "__main__":
    main()
