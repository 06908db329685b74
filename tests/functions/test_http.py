"""The functions' HTTP client against loopback servers: keep-alive, threads, failures, HTTPS."""

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from vertex_trigger.google.http import (
    BodyTooLargeError,
    HttpClient,
    HttpConnectionError,
    HttpTimeoutError,
)

from tests.functions.helpers import Certificate, LoopbackServer


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    loopback = LoopbackServer()
    yield loopback
    loopback.stop()


def test_a_get_with_params_and_a_json_post_are_sent_as_written(server: LoopbackServer) -> None:
    client = HttpClient()
    got = client.request("GET", f"{server.url}/v1/jobs?a=1", params={"filter": 'labels.x="y z"'})
    posted = client.request("POST", f"{server.url}/v1/jobs", json={"name": "é"}, timeout=5)
    assert got.status == 200
    assert got.json()["path"] == "/v1/jobs?a=1&filter=labels.x%3D%22y+z%22"
    assert got.headers.get("content-type") == "application/json; charset=utf-8"
    sent = posted.json()
    assert (sent["method"], json.loads(sent["body"])) == ("POST", {"name": "é"})
    assert sent["headers"]["Content-Type"] == "application/json"
    assert json.loads(posted.text)["body"] == sent["body"]


def test_one_connection_is_kept_alive_across_requests(server: LoopbackServer) -> None:
    client = HttpClient()
    for n in range(5):
        assert client.request("GET", f"{server.url}/{n}", timeout=5).status == 200
    assert server.connections == 1


def test_threads_share_the_pool_and_each_gets_its_own_answer(server: LoopbackServer) -> None:
    client = HttpClient()

    def fetch(n: int) -> str:
        return client.request("GET", f"{server.url}/thread/{n}", timeout=5).json()["path"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            paths = list(pool.map(fetch, range(40)))
            assert paths == [f"/thread/{n}" for n in range(40)]
    assert len(server.requests) == 120
    assert server.connections <= 8 * 3  # connections are reused, not opened per request


def test_a_kept_alive_connection_the_server_closed_is_retried_once_on_a_new_one(
    server: LoopbackServer,
) -> None:
    client = HttpClient()
    server.script = ["close"]
    assert client.request("GET", f"{server.url}/first", timeout=5).status == 200
    answer = client.request("POST", f"{server.url}/second", json={"n": 2}, timeout=5)
    assert answer.json()["path"] == "/second"
    assert [r["path"] for r in server.requests] == ["/first", "/second"]  # sent once
    assert server.connections == 2


def test_a_new_connection_closed_without_an_answer_is_not_sent_again(
    server: LoopbackServer,
) -> None:
    server.script = ["drop"]
    with pytest.raises(HttpConnectionError) as caught:
        HttpClient().request("POST", f"{server.url}/create", json={}, timeout=5)
    assert str(caught.value).startswith(f"{server.url}: RemoteDisconnected: ")
    assert len(server.requests) == 1


def test_no_answer_within_the_timeout(server: LoopbackServer) -> None:
    server.script = ["hang"]
    with pytest.raises(HttpTimeoutError) as caught:
        HttpClient().request("GET", f"{server.url}/slow", timeout=0.2)
    assert str(caught.value) == f"no answer from {server.url} within 0.2s"


def test_a_refused_connection_names_the_origin_not_the_path() -> None:
    with pytest.raises(HttpConnectionError) as caught:
        HttpClient().request("GET", "http://127.0.0.1:9/hooks/SECRET", timeout=1)
    assert str(caught.value).startswith("http://127.0.0.1:9: ConnectionRefusedError: ")
    assert "SECRET" not in str(caught.value)


def test_a_body_over_the_limit_is_refused_and_its_connection_dropped() -> None:
    server = LoopbackServer(lambda _: (200, b"x" * 100_000))
    client = HttpClient()
    try:
        with pytest.raises(BodyTooLargeError):
            client.request("GET", f"{server.url}/big", timeout=5, max_body=65_536)
        for limit in (None, 100_000):
            answer = client.request("GET", f"{server.url}/big", timeout=5, max_body=limit)
            assert len(answer.body) == 100_000
    finally:
        server.stop()
    assert server.connections == 2  # the refused body's connection was not reused


@pytest.fixture
def https_server(certificate: Certificate) -> Iterator[LoopbackServer]:
    loopback = LoopbackServer(tls=certificate.server_context())
    yield loopback
    loopback.stop()


def test_https_verifies_certificates_by_default(https_server: LoopbackServer) -> None:
    with pytest.raises(HttpConnectionError) as caught:
        HttpClient().request("GET", f"{https_server.url}/", timeout=5)
    assert "SSLCertVerificationError" in str(caught.value)
    assert "certificate verify failed: self-signed certificate" in str(caught.value)
    assert https_server.requests == []


def test_https_with_a_trusted_certificate_keeps_its_connection_alive(
    https_server: LoopbackServer, certificate: Certificate
) -> None:
    client = HttpClient(ssl_context=certificate.trusting())
    answers = [client.request("GET", f"{https_server.url}/tls/{n}", timeout=5) for n in range(3)]
    assert [a.json()["path"] for a in answers] == ["/tls/0", "/tls/1", "/tls/2"]
    assert https_server.connections == 1


def test_a_get_follows_a_redirect_on_its_origin_with_its_credentials() -> None:
    server = LoopbackServer(headers={"Location": "/moved?x=1"})
    server.script = [301]
    try:
        answer = HttpClient().request(
            "GET", f"{server.url}/a", headers={"Authorization": "Bearer t"}, timeout=5
        )
    finally:
        server.stop()
    assert (answer.status, answer.json()["path"]) == (200, "/moved?x=1")
    assert [r["headers"].get("Authorization") for r in server.requests] == ["Bearer t"] * 2


def test_a_redirect_to_another_origin_drops_the_credentials_and_a_post_is_not_redirected(
    server: LoopbackServer,
) -> None:
    redirecting = LoopbackServer(headers={"Location": f"{server.url}/elsewhere"})
    client = HttpClient()
    try:
        redirecting.script = [302]
        got = client.request("GET", f"{redirecting.url}/a", headers={"Authorization": "Bearer t"},
                             timeout=5)  # fmt: skip
        redirecting.script = [307]
        posted = client.request("POST", f"{redirecting.url}/b", json={}, timeout=5)
    finally:
        redirecting.stop()
    assert got.json()["path"] == "/elsewhere"
    assert "Authorization" not in got.json()["headers"]
    assert posted.status == 307
    assert len(server.requests) == 1
