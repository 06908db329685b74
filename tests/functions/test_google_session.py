"""Requests with Google credentials: google-auth's credentials over the functions' HTTP client.

Token endpoints and APIs are loopback servers (HTTPS with a self-signed certificate the tests
trust explicitly); Google's metadata server is a loopback stand-in named by GCE_METADATA_HOST.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from vertex_trigger.errors import CredentialError, DeploymentError
from vertex_trigger.google.http import HttpClient
from vertex_trigger.google.session import GoogleSession

from local.function_server import FUNCTIONS_DIR
from tests.functions.helpers import Certificate, LoopbackServer, write_service_account_key

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class TokenEndpoint(LoopbackServer):
    """An OAuth 2.0 token endpoint on loopback HTTPS: each grant gets a new token."""

    def __init__(self, certificate: Certificate) -> None:
        super().__init__(self._grant, tls=certificate.server_context())
        self.grants = 0

    def _grant(self, received: dict[str, Any]) -> tuple[int, bytes]:
        self.grants += 1
        token = {"access_token": f"token-{self.grants}", "expires_in": 3600, "token_type": "Bearer"}
        return 200, json.dumps(token).encode()


@pytest.fixture
def tokens(certificate: Certificate) -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint(certificate)
    yield endpoint
    endpoint.stop()


@pytest.fixture
def api(certificate: Certificate) -> Iterator[LoopbackServer]:
    server = LoopbackServer(tls=certificate.server_context())
    yield server
    server.stop()


@pytest.fixture
def key_file(tmp_path: Path, tokens: TokenEndpoint, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Application Default Credentials: a service account key whose token endpoint is ours."""
    path = write_service_account_key(tmp_path / "key.json", f"{tokens.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    return path


def authorization(server: LoopbackServer) -> list[str]:
    """Return the Authorization header of each request the server received ("" if none)."""
    headers = [{k.lower(): v for k, v in r["headers"].items()} for r in server.requests]
    return [h.get("authorization", "") for h in headers]


def test_requests_carry_a_token_fetched_once_and_refreshed_after_a_401(
    key_file: Path, tokens: TokenEndpoint, api: LoopbackServer, certificate: Certificate
) -> None:
    session = GoogleSession(HttpClient(ssl_context=certificate.trusting()))
    assert session.request("GET", f"{api.url}/v1/a", timeout=5).status == 200
    assert session.request("POST", f"{api.url}/v1/b", json={"n": 1}, timeout=5).status == 200
    api.script = [401]  # the token expired on its way: refresh it and send again
    assert session.request("GET", f"{api.url}/v1/c", timeout=5).status == 200
    assert authorization(api) == ["Bearer token-1"] * 3 + ["Bearer token-2"]
    assert [r["path"] for r in api.requests] == ["/v1/a", "/v1/b", "/v1/c", "/v1/c"]
    grant = parse_qs(tokens.requests[0]["body"])
    assert grant["grant_type"] == [JWT_BEARER]
    assert tokens.grants == 2


def test_a_401_after_every_refresh_is_returned_as_the_answer(
    key_file: Path, tokens: TokenEndpoint, api: LoopbackServer, certificate: Certificate
) -> None:
    session = GoogleSession(HttpClient(ssl_context=certificate.trusting()))
    api.script = [401, 401, 401]
    assert session.request("GET", f"{api.url}/v1/a", timeout=5).status == 401
    assert len(api.requests) == 3  # as google-auth's AuthorizedSession: two refreshes at most
    assert tokens.grants == 3


def test_an_untrusted_token_endpoint_is_a_credential_error(
    key_file: Path, tokens: TokenEndpoint, api: LoopbackServer
) -> None:
    """Certificates are verified by default: google-auth's TransportError, retried as transient."""
    with pytest.raises(CredentialError) as caught:
        GoogleSession(HttpClient()).request("GET", f"{api.url}/v1/a", timeout=5)
    message = str(caught.value)
    assert message.startswith(
        f"cannot get an access token: TransportError: HttpConnectionError: {tokens.url}: "
        "SSLCertVerificationError: "
    )
    assert api.requests == [] and tokens.requests == []


def test_no_credentials_is_a_deployment_problem(
    tmp_path: Path, api: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(DeploymentError) as caught:
        GoogleSession(HttpClient()).request("GET", f"{api.url}/v1/a", timeout=5)
    assert str(caught.value).startswith("no Google credentials (and no emulator host set): File ")
    assert api.requests == []


def metadata_server(received: dict[str, Any]) -> tuple[int, bytes]:
    """Answer as Google's metadata server does for a function's default service account."""
    path = received["path"]
    account = {"email": "trigger@test-project.iam.gserviceaccount.com", "aliases": ["default"],
               "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}  # fmt: skip
    answers = {
        "/": "",
        "/computeMetadata/v1/project/project-id": "test-project",
        "/computeMetadata/v1/instance/service-accounts/default/": json.dumps(account),
    }
    if "/token" in path:
        token = {"access_token": "metadata-token", "expires_in": 3599, "token_type": "Bearer"}
        return 200, json.dumps(token).encode()
    answer = answers.get(path.partition("?")[0])
    return (404, b"not found") if answer is None else (200, answer.encode())


def test_on_google_cloud_the_metadata_server_token_is_sent(tmp_path: Path) -> None:
    """How Cloud Functions authenticate, in a new process (google-auth reads the host once).

    google-auth's Compute Engine credentials import ``requests`` themselves
    (google/auth/compute_engine/_metadata.py), which is why functions/requirements.txt keeps it.
    """
    metadata = LoopbackServer(metadata_server, headers={"Metadata-Flavor": "Google"})
    api = LoopbackServer()
    script = (
        "import json, sys\n"
        "from vertex_trigger.google.session import GoogleSession\n"
        "from vertex_trigger.google.http import HttpClient\n"
        f"answer = GoogleSession(HttpClient()).request('GET', '{api.url}/v1/a', timeout=5)\n"
        "print(json.dumps({'status': answer.status, 'requests': 'requests' in sys.modules}))\n"
    )
    host = metadata.url.removeprefix("http://")
    env = {**os.environ, "GCE_METADATA_HOST": host, "GCE_METADATA_IP": host,
           "CLOUDSDK_CONFIG": str(tmp_path), "PYTHONPATH": str(FUNCTIONS_DIR)}  # fmt: skip
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    try:
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                                text=True, timeout=60, check=True)  # fmt: skip
    finally:
        metadata.stop()
        api.stop()
    assert json.loads(result.stdout) == {"status": 200, "requests": True}
    assert authorization(api) == ["Bearer metadata-token"]
    paths = [r["path"] for r in metadata.requests]
    assert "/computeMetadata/v1/instance/service-accounts/default/?recursive=true" in paths
    assert all(r["headers"].get("metadata-flavor") == "Google" for r in metadata.requests), paths
