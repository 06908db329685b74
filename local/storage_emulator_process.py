"""Run gcp-storage-emulator (in memory) in its own process on an ephemeral port.

python -m local.storage_emulator_process   # prints: storage emulator listening on http://...
"""

import time

from gcp_storage_emulator.server import create_server


def main() -> None:
    """Start the emulator on 127.0.0.1:0, print its URL, serve until killed."""
    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    # The package does not expose the bound port; with port 0 it must be read from the socket.
    port = server._api._httpd.server_address[1]
    print(f"storage emulator listening on http://127.0.0.1:{port}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
