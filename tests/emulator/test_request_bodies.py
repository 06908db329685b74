"""Every request's body is read, whatever its method, route or answer, so keep-alive works."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.emulator.helpers import PARENT, body_for

JOBS = f"/v1/{PARENT}/pipelineJobs"


@pytest.fixture
def connection(recorder):
    """One HTTP/1.1 connection to the emulator, reused by every request of a test."""
    address = urlsplit(recorder.url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    yield conn
    conn.close()


def send(conn: http.client.HTTPConnection, method: str, path: str, body: bytes = b"",
         **headers: str) -> tuple[int, dict]:
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", JOBS, 200),
    ("GET", f"{JOBS}/nothing-here", 404),
    ("DELETE", "/emulator/faults", 200),
    ("POST", "/v1/no/such/route", 404),
    ("POST", f"{JOBS}/nothing-here:cancel", 404),
    ("POST", "/emulator/reset", 200),
])
def test_a_body_on_any_route_leaves_the_connection_usable(connection, method, path, status):
    assert send(connection, method, path, b'{"ignored": true}')[0] == status
    answer, listed = send(connection, "GET", JOBS)
    assert answer == 200 and listed.get("pipelineJobs", []) == []


def test_a_chunked_body_is_read_whole(connection, specs):
    payload = json.dumps(body_for(specs["tiny"], a=1)).encode()
    chunks = [payload[:100], payload[100:]]
    framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    status, created = send(connection, "POST", f"{JOBS}?pipelineJobId=chunked", framed,
                           **{"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    assert status == 200, created
    assert created["name"] == f"{PARENT}/pipelineJobs/chunked"
    assert send(connection, "GET", f"{JOBS}/chunked")[0] == 200


@pytest.mark.parametrize("length", ["ten", "-1"])
def test_unreadable_framing_is_refused_and_the_connection_closed(connection, length):
    status, error = send(connection, "POST", "/emulator/reset", **{"Content-Length": length})
    assert status == 400
    assert error["error"]["message"].startswith("Unreadable request body framing.")
    assert connection.sock is None  # the emulator closed it: the next request would be misread
