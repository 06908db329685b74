"""Helpers for the functions' tests: real servers, real CloudEvents, configs."""

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
import yaml
from cloudevents.http import CloudEvent

from local.function_server import FunctionServer, launch_function_server
from local.vertex_emulator_client import VertexEmulatorClient

DATA = Path(__file__).resolve().parent / "data"
TYPED_TEMPLATE = DATA / "typed_pipeline.yaml"
# The two ends of a run_ended route (tests/functions/data/chain_pipelines.py).
CHAIN_UPSTREAM = DATA / "chain_upstream.yaml"
CHAIN_DOWNSTREAM = DATA / "chain_downstream.yaml"
ERRORS = DATA / "google_errors"
FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
# Small budgets keep failure tests short, yet leave a loaded CI machine (2 cores, many servers)
# room for an event's several calls; the shipped defaults are in docs/operations.md.
FAST_RETRY = {
    "initial_delay": "0.05s",
    "max_delay": "0.2s",
    "deadline": "3s",
    "request_timeout": "1.5s",
}


def load_json(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def write_config(directory: Path, routes: list[dict[str, Any]], **top: Any) -> Path:
    """Write a triggers.yaml into ``directory`` and return its path."""
    document = {
        "project": "test-project",
        "region": "us-central1",
        "pipeline_root": "gs://test-pipelines/runs",
        "retry": FAST_RETRY,
        **top,
        "routes": routes,
    }
    path = directory / "triggers.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path


def object_route(**overrides: Any) -> dict[str, Any]:
    """An object route on bucket `data`, prefix `incoming/`, suffix `.csv`, typed template."""
    route = {
        "name": "arrival",
        "event": "object_finalized",
        "bucket": "data",
        "prefix": "incoming/",
        "suffix": ".csv",
        "template": str(TYPED_TEMPLATE),
        "parameters": {"data_uri": "{uri}", "generation": "{generation}", "note": "{name}"},
    }
    return {**route, **overrides}


# --- run chains: `train` (objects) and the run_ended routes after it --------------------------

SOURCE = "gs://data/incoming/prices.csv#1700000000000001"
MODEL_URI = "gs://test-pipelines/runs/123/upstream/train_1/model"
# What the upstream's `train` task output, as the emulator's state control records it.
TRAINED = [{
    "taskName": "train",
    "outputs": {
        "parameters": {"rmse": 1.5, "rows": 400, "tags": ["a"], "ok": True, "note": "trained"},
        "artifacts": {"model": [{"uri": MODEL_URI, "schemaTitle": "system.Model",
                                 "metadata": {"framework": "scikit-learn"}}]},
    },
}]  # fmt: skip


def chained_routes(hook: str | None = None) -> list[dict[str, Any]]:
    """`train` (objects), `score` after its successes, `cleanup` after its failures.

    ``hook``: the variable holding the webhook `score` posts its successes to (None: no webhook).
    """
    score = {
        "name": "score",
        "event": "run_ended",
        "after": {"route": "train"},
        "template": str(CHAIN_DOWNSTREAM),
        "parameters": {
            "model_uri": "{tasks.train.outputs.artifacts.model.uri}",
            "rmse": "{tasks.train.outputs.parameters.rmse}",
            "rows": "{tasks.train.outputs.parameters.rows}",
            "reason": "after {upstream_job} ({upstream_route} {upstream_state}, "
                      "{upstream_pipeline}) for {upstream_source} [{upstream_event_id}] "
                      "ended {event_time}",
        },
        "input_artifacts": {"model": "{tasks.train.outputs.artifacts.model}"},
        "labels": {"team": "pricing"},
        "max_running": 1,
        "sweep_lookback": "1h",
    }  # fmt: skip
    if hook:
        score["notify"] = {"webhook": f"${{{hook}}}", "on": ["SUCCEEDED"]}
    cleanup = {
        "name": "cleanup",
        "event": "run_ended",
        "after": {"route": "train", "states": ["FAILED", "CANCELLED"]},
        "template": str(CHAIN_DOWNSTREAM),
        "parameters": {"model_uri": "none", "reason": "{upstream_job} {upstream_state}"},
    }
    train = object_route(
        name="train", template=str(CHAIN_UPSTREAM), parameters={"data_uri": "{uri}"}
    )
    return [train, score, cleanup]


def drift_route(**overrides: Any) -> dict[str, Any]:
    """A drift route with the typed template."""
    route = {
        "name": "drift",
        "event": "drift_alert",
        "template": str(TYPED_TEMPLATE),
        "parameters": {
            "data_uri": "gs://data/training/latest.csv",
            "generation": 0,
            "note": "{objective} {features} {max_deviation} {model}",
        },
    }
    return {**route, **overrides}


def storage_event(
    name: str,
    *,
    bucket: str = "data",
    generation: Any = "1700000000000001",
    event_type: str = FINALIZED,
    event_id: str | None = None,
    **fields: Any,
) -> CloudEvent:
    """A storage CloudEvent built on the real StorageObjectData sample."""
    data = {**load_json("StorageObjectData-simple.json"), "bucket": bucket, "name": name,
            "generation": generation, **fields}  # fmt: skip
    attributes = {
        "type": event_type,
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        # HTTP binding: header values outside printable ASCII are percent-encoded.
        "subject": quote(f"objects/{name}", safe="/{}"),
        "id": event_id or f"evt-{time.monotonic_ns()}",
        "time": "2026-11-26T12:00:00.000Z",
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, data)


def pubsub_event(
    payload: Any,
    *,
    message_id: str | None = None,
    raw_data: str | None = None,
    event_time: str = "2026-11-26T12:00:00.000Z",
    id_key: str = "messageId",
) -> CloudEvent:
    """A Pub/Sub CloudEvent built on the real MessagePublishedData sample."""
    envelope = load_json("MessagePublishedData.json")
    message = dict(envelope["data"]["message"])
    message.pop("messageId")
    message_id = message_id or f"msg-{time.monotonic_ns()}"
    message[id_key] = message_id
    text = payload if isinstance(payload, str) else json.dumps(payload)
    message["data"] = raw_data if raw_data is not None else base64.b64encode(text.encode()).decode()
    message["publishTime"] = event_time
    attributes = {
        "type": envelope["type"],
        "source": envelope["source"],
        "id": message_id,
        "time": event_time,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, {**envelope["data"], "message": message})


class VertexStandIn(VertexEmulatorClient):
    """The Vertex emulator as project `test-project` sees it, with the tests' short names."""

    def __init__(self, emulator: Any) -> None:
        super().__init__(emulator.url, "test-project")

    def clean(self) -> None:
        """Drop queued faults and forget every job and request."""
        self.clear_faults()
        self.reset()

    def fault(self, **fault: Any) -> None:
        self.add_fault(fault)

    def create_requests(self) -> list[dict[str, Any]]:
        return self.requests_received()

    def jobs(self, filter_: str = "") -> list[dict[str, Any]]:
        return self.list_runs(filter_)

    def job(self, job_id: str) -> dict[str, Any]:
        return self.get_run(job_id)

    def create_raw(self, job_id: str, labels: dict[str, str]) -> None:
        """Create a run directly (not through a route), with the typed template's spec."""
        spec = yaml.safe_load(TYPED_TEMPLATE.read_text())
        values = {"data_uri": "gs://x/y", "generation": 1}
        body = {"displayName": job_id, "pipelineSpec": spec, "labels": labels,
                "runtimeConfig": {"parameterValues": values}}  # fmt: skip
        params = {"pipelineJobId": job_id}
        response = requests.post(self.jobs_url, params=params, json=body, timeout=10)
        response.raise_for_status()


class StartedServers:
    """Starts function servers for a test module and stops them all at the end."""

    def __init__(self, vertex: VertexStandIn) -> None:
        self.vertex = vertex
        self.servers: list[FunctionServer] = []

    def start(
        self, target: str, config: Path, signature: str = "cloudevent", **env: str
    ) -> FunctionServer:
        environment = {"TRIGGERS_CONFIG": str(config), "VERTEX_AI_EMULATOR_HOST": self.vertex.host,
                       **env}  # fmt: skip
        server = launch_function_server(target, environment, signature=signature)
        self.servers.append(server)
        return server.wait_ready()

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


class StorageStandIn:
    """gcp-storage-emulator in this process, driven through the GCS JSON API."""

    def __init__(self) -> None:
        from local.storage_emulator_process import serve_in_memory  # only tests that need it

        self._server, self.url = serve_in_memory()
        self._buckets: set[str] = set()

    def upload(self, bucket: str, name: str, content: bytes) -> str:
        """Write an object (creating its bucket) and return its new generation."""
        return str(self.upload_object(bucket, name, content)["generation"])

    def upload_object(self, bucket: str, name: str, content: bytes) -> dict[str, Any]:
        """Write an object (creating its bucket) and return its resource as the emulator sent it."""
        if bucket not in self._buckets:
            requests.post(f"{self.url}/storage/v1/b", params={"project": "test-project"},
                          json={"name": bucket}, timeout=10).raise_for_status()  # fmt: skip
            self._buckets.add(bucket)
        response = requests.post(
            f"{self.url}/upload/storage/v1/b/{bucket}/o",
            params={"uploadType": "media", "name": name},
            data=content,
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def delete(self, bucket: str, name: str) -> None:
        """Delete an object's live generation."""
        url = f"{self.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
        requests.delete(url, timeout=10).raise_for_status()

    def stop(self) -> None:
        self._server.stop()


class FaultyProxy:
    """An HTTP proxy in front of a real server that answers the next requests with errors.

    Stands between the functions and gcp-storage-emulator, which cannot inject faults: each
    queued status answers one request (Google's JSON error shape), then GETs pass through.
    """

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.faults: list[int] = []
        self.always: int | None = None  # answer every request with this status
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def do_GET(self) -> None:
                proxy.requests += 1
                status = proxy.always or (proxy.faults.pop(0) if proxy.faults else None)
                if status:
                    body = json.dumps({"error": {"code": status, "message": "Injected."}})
                    self._answer(status, body.encode(), "application/json")
                    return
                upstream = requests.get(proxy.target + self.path, timeout=10)
                self._answer(upstream.status_code, upstream.content,
                             upstream.headers.get("Content-Type", "application/json"))  # fmt: skip

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class WebhookReceiver:
    """A loopback HTTPS server recording each JSON body posted; answers `answers` first, then 200.

    Webhooks are https:// only. The functions trust its self-signed certificate the way any
    OpenSSL client is told to: start them with ``trust_env()`` (``SSL_CERT_FILE``: the test CA
    replaces the system's, which nothing on loopback needs). An ``answers`` entry is a status, or
    (status, headers, body) for a redirect or a long answer.
    """

    def __init__(self, certificate: "Certificate") -> None:
        self.bodies: list[Any] = []
        self.answers: list[int | tuple[int, dict[str, str], bytes]] = []
        self.cut = 0  # answers the client hung up on before their end
        self.certificate = certificate
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.bodies.append(json.loads(body))
                answer = receiver.answers.pop(0) if receiver.answers else 200
                status, headers, payload = answer if isinstance(answer, tuple) else (
                    answer, {}, b"ok")  # "ok": what Slack answers  # fmt: skip
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    receiver.cut += 1  # the client stopped reading and hung up
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.socket = certificate.server_context().wrap_socket(
            self._server.socket, server_side=True
        )
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/hooks/T000/B000/XXXX"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def trust_env(self) -> dict[str, str]:
        """The environment that makes a function trust this receiver's certificate."""
        return {"SSL_CERT_FILE": str(self.certificate.cert)}

    def clear(self) -> None:
        self.bodies.clear()
        self.answers.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def google_error(name: str) -> dict[str, Any]:
    """Return a fault answering with one of the recorded Google error bodies."""
    error = json.loads((ERRORS / name).read_text())["error"]
    fault = {"kind": "status", "status": error["code"], "error_status": error["status"],
             "message": error["message"]}  # fmt: skip
    return {**fault, "details": error["details"]} if "details" in error else fault


def run_state_entry(job_id: str, **resource_labels: str) -> dict[str, Any]:
    """The documented PipelineJob log entry, naming `job_id` (as a log sink publishes it)."""
    entry = json.loads((DATA / "run_state" / "pipeline_job_event.json").read_text())
    entry["resource"]["labels"] = {
        **entry["resource"]["labels"], "pipeline_job_id": job_id, **resource_labels
    }
    return entry


Answer = Callable[[dict[str, Any]], tuple[int, bytes]]  # a received request -> status, body


def echo(received: dict[str, Any]) -> tuple[int, bytes]:
    """Answer 200 with the request as JSON (method, path, headers, body)."""
    return 200, json.dumps(received).encode()


class LoopbackServer:
    """An HTTP/1.1 keep-alive server that records each request and answers it, or misbehaves.

    ``answer`` makes each answer (default: ``echo``). ``script`` holds what to do with the next
    requests, in order: a status answers with it; ``"close"`` answers, then closes the
    connection without saying so (as a server drops an idle keep-alive connection); ``"drop"``
    closes without answering; ``"hang"`` answers after ``hang_seconds``.
    """

    def __init__(
        self,
        answer: Answer = echo,
        *,
        tls: ssl.SSLContext | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.script: list[str | int] = []
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.hang_seconds = 1.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                server.connections += 1
                super().setup()

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = {"method": self.command, "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": self.rfile.read(length).decode()}  # fmt: skip
                server.requests.append(received)
                action = server.script.pop(0) if server.script else None
                if action == "drop":
                    self.close_connection = True
                    return
                if action == "hang":
                    time.sleep(server.hang_seconds)
                status, body = answer(received)
                self.send_response(action if isinstance(action, int) else status)
                for name, value in {"Content-Type": "application/json; charset=utf-8",
                                    **(headers or {})}.items():  # fmt: skip
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = action == "close"

            def do_POST(self) -> None:
                self.do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files: trusted by no one."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """Return a server context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def trusting(self) -> ssl.SSLContext:
        """Return the default client context that also trusts this certificate (tests only)."""
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=self.cert)
        return context


def write_certificate(directory: Path) -> Certificate:
    """Write a new self-signed certificate for 127.0.0.1 (valid for an hour) and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback test server")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate = Certificate(directory / "cert.pem", directory / "key.pem")
    certificate.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certificate.key.write_bytes(_private_pem(key))
    return certificate


def write_service_account_key(path: Path, token_uri: str) -> Path:
    """Write a service account key file whose token endpoint is ``token_uri`` (never Google's)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info = {"type": "service_account", "project_id": "test-project", "private_key_id": "k1",
            "private_key": _private_pem(key).decode(), "client_id": "1", "token_uri": token_uri,
            "client_email": "trigger@test-project.iam.gserviceaccount.com"}  # fmt: skip
    path.write_text(json.dumps(info))
    return path


def _private_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
