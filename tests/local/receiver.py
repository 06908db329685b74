"""A loopback HTTP server that parses each request as a CloudEvent (the cloudevents package)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloudevents.http import from_http


class CloudEventReceiver:
    """Record every CloudEvent posted; answer the statuses queued in `answers` (then 204)."""

    def __init__(self) -> None:
        self.events = []
        self.headers = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                receiver.events.append(from_http(dict(self.headers), body))
                status = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for_events(self, count: int = 1, attempts: int = 600) -> list:
        """Wait (bounded by attempts, not time) until `count` events arrived; return them all."""
        for _ in range(attempts):
            if len(self.events) >= count:
                return self.events
            time.sleep(0.1)
        raise AssertionError(f"{len(self.events)} of {count} events arrived")

    def __enter__(self) -> "CloudEventReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
