"""HTTP front of the emulator: Vertex AI v1 REST routes for PipelineJobs, /emulator/ controls."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from local.vertex_emulator.clock import parse_scale
from local.vertex_emulator.errors import ApiError, invalid_argument, not_found
from local.vertex_emulator.faults import FaultInjector, parse_fault
from local.vertex_emulator.quota import parse_quota
from local.vertex_emulator.service import PipelineService
from local.vertex_emulator.task_faults import parse_task_fault

log = logging.getLogger(__name__)
PARENT = r"/v1/(projects/[^/]+/locations/[^/]+)"
COLLECTION_RE = re.compile(PARENT + r"/pipelineJobs$")
JOB_RE = re.compile(PARENT + r"/pipelineJobs/([^/:]+)$")
CANCEL_RE = re.compile(PARENT + r"/pipelineJobs/([^/:]+):cancel$")
BATCH_RE = re.compile(PARENT + r"/pipelineJobs:(batchDelete|batchCancel)$")
OPERATION_RE = re.compile(r"/v1/(projects/[^/]+/locations/[^/]+/operations/[^/:]+)$")
Response = tuple[int, Any]


class EmulatorHandler(BaseHTTPRequestHandler):
    """Route one request to the service and answer JSON (errors in Google's shape)."""

    service: PipelineService  # set on the subclass made by make_server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY the body waits for the
    # client's delayed ACK (40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    _body = b""  # this request's body, read by _respond before any route runs

    def do_GET(self) -> None:
        """Handle get, list and the request log."""
        self._respond(self._route_get)

    def do_POST(self) -> None:
        """Handle create, cancel, batchDelete, batchCancel and the control endpoints."""
        self._respond(self._route_post)

    def do_DELETE(self) -> None:
        """Handle delete, and clearing faults and the quota."""
        self._respond(self._route_delete)

    def _route_get(self, path: str, query: dict[str, str]) -> Response:
        if match := COLLECTION_RE.match(path):
            return 200, self.service.list(match.group(1), query)
        if match := JOB_RE.match(path):
            return 200, self.service.get(f"{match.group(1)}/pipelineJobs/{match.group(2)}")
        if match := OPERATION_RE.match(path):
            return 200, self.service.operations.get(match.group(1))
        return self._control_get(path)

    def _control_get(self, path: str) -> Response:
        """Answer the emulator's own GET endpoints (the request log, the quota)."""
        if path == "/emulator/requests":
            return 200, self.service.store.requests()
        if path == "/emulator/quota":
            settings = self.service.quota.settings
            return 200, vars(settings) if settings else {}
        if path == "/emulator/clock":
            return 200, {"scale": self.service.clock.scale}
        raise not_found(f"No route for GET {path}.")

    def _route_post(self, path: str, query: dict[str, str]) -> Response:
        if match := COLLECTION_RE.match(path):
            job_id = query.get("pipelineJobId") or query.get("pipeline_job_id")
            return 200, self.service.create(match.group(1), job_id, self._json_body())
        if match := CANCEL_RE.match(path):
            return 200, self.service.cancel(f"{match.group(1)}/pipelineJobs/{match.group(2)}")
        if match := BATCH_RE.match(path):
            batch = self.service.batch_delete if match.group(2) == "batchDelete" else (
                self.service.batch_cancel)  # fmt: skip
            return 200, batch(match.group(1), self._json_body())
        return self._control_post(path)

    def _control_post(self, path: str) -> Response:
        """Handle the /emulator/ controls: faults, end states, reset, quota, task faults, clock."""
        if path == "/emulator/faults":
            body = self._json_body()
            self._injector(body).add(parse_fault(body))
            return 200, {}
        if path == "/emulator/state":
            body = self._json_body()
            body = body if isinstance(body, dict) else {}
            return 200, self.service.set_state(
                str(body.get("name", "")),
                body.get("state"),
                body.get("message", ""),
                body.get("tasks"),
            )
        if path == "/emulator/reset":
            self.service.reset()
            return 200, {}
        if path == "/emulator/quota":
            self.service.quota.configure(parse_quota(self._json_body()))
            return 200, {}
        if path == "/emulator/task-faults":
            self.service.task_faults.add(parse_task_fault(self._json_body()))
            return 200, {}
        if path == "/emulator/clock":
            self.service.clock.set(parse_scale(self._json_body()))
            return 200, {"scale": self.service.clock.scale}
        raise not_found(f"No route for POST {path}.")

    def _route_delete(self, path: str, query: dict[str, str]) -> Response:
        if match := JOB_RE.match(path):
            return 200, self.service.delete(f"{match.group(1)}/pipelineJobs/{match.group(2)}")
        if path == "/emulator/faults":
            self.service.clear_faults()
            return 200, {}
        if path == "/emulator/quota":
            self.service.quota.configure(None)
            return 200, {}
        raise not_found(f"No route for DELETE {path}.")

    def _injector(self, body: Any) -> FaultInjector:
        """Pick the faults for creates (the default) or, with `"on"`, for cancels or lists."""
        target = body.get("on", "create") if isinstance(body, dict) else "create"
        injectors = {
            "create": self.service.faults,
            "cancel": self.service.cancel_faults,
            "list": self.service.list_faults,
        }
        if target not in injectors:
            raise invalid_argument(
                f"fault 'on' must be 'create', 'cancel' or 'list', got {target!r}"
            )
        return injectors[target]

    def _json_body(self) -> Any:
        """Return the request body as JSON; an empty body is an empty object."""
        if not self._body.strip():
            return {}
        try:
            return json.loads(self._body)
        except ValueError as err:
            raise invalid_argument(f"Invalid JSON payload received. {err}") from err

    def _read_body(self) -> bytes:
        """Read the whole request body, sized by Content-Length or sent chunked."""
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError(f"negative Content-Length {length}")
            return self.rfile.read(length)
        except ValueError as err:
            # Where the next request starts is unknown: answer this one and close.
            self.close_connection = True
            raise invalid_argument(f"Unreadable request body framing. {err}") from err

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF closing each chunk
        while self.rfile.readline().strip():  # trailer fields, up to the blank line
            pass
        return b"".join(chunks)

    def _respond(self, route: Callable[[str, dict[str, str]], Response]) -> None:
        """Read the body, run a route and write its JSON answer."""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        headers: dict[str, str] = {}
        try:
            # Read before routing, whatever the method or route: a body left unread on a
            # keep-alive connection is parsed as the next request (GAPIC's :cancel sends {}).
            self._body = self._read_body()
            status, body = route(unquote(url.path), query)
        except ApiError as err:
            status, body, headers = err.code, err.to_json(), err.headers
        except Exception as err:  # an emulator bug still answers in Google's shape
            log.exception("internal error on %s %s", self.command, self.path)
            status, body = 500, ApiError(500, f"Internal emulator error: {err}").to_json()
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Send access logs to logging instead of stderr."""
        log.debug(format, *args)


def make_server(host: str, port: int, service: PipelineService) -> ThreadingHTTPServer:
    """Bind an HTTP server whose handler talks to `service`."""
    handler = type("BoundEmulatorHandler", (EmulatorHandler,), {"service": service})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
