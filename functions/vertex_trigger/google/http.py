"""HTTP/1.1 requests over the standard library's http.client, on pooled keep-alive connections.

functions-framework serves concurrent events on threads: each request takes an idle connection to
its (scheme, host, port), or opens one, uses it alone and gives it back once the answer is read.
HTTPS verifies certificates with the default SSL context (the system's trusted CAs).
"""

import http.client
import json as json_text
import os
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

MAX_IDLE = 10  # idle connections kept per origin (requests keeps as many)
# A GET follows redirects as requests did (a download may be served from elsewhere); other
# methods never are: a redirected POST would be resent, or turned into a GET.
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
USER_AGENT = "vertex-triggers"
# A server may close a kept-alive connection while it sits idle: the next request on it fails
# before any byte of an answer, so the server never saw it and it can be sent again.
_CLOSED_WHILE_IDLE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)

Origin = tuple[str, str, int]  # scheme, host, port


class HttpConnectionError(Exception):
    """No connection could be made, or it broke before the whole answer was read."""


class HttpTimeoutError(Exception):
    """Connecting or waiting for the answer took longer than the timeout."""


class BodyTooLargeError(Exception):
    """The answer's body is longer than the caller's limit; ``status`` is the answer's code."""

    def __init__(self, message: str, status: int) -> None:
        """Say what was too large, and keep the answer's status."""
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    """An answer: status, headers (case-insensitive ``get``) and the whole body."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        """Return the body parsed as JSON; raise ValueError if it is not JSON."""
        return json_text.loads(self.body)

    @property
    def text(self) -> str:
        """Return the body decoded by its Content-Type charset (UTF-8 when it names none)."""
        return self.body.decode(self.headers.get_content_charset() or "utf-8", errors="replace")


class Requester(Protocol):
    """Sends one HTTP request: an HttpClient, or one that adds Google credentials."""

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_body: int | None = None,
    ) -> Response:
        """Send a request (the keywords of HttpClient.request) and return its answer."""


class HttpClient:
    """Sends requests on keep-alive connections pooled per origin, safe to share across threads."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        """Verify HTTPS with ``ssl_context`` (default: the system's trusted CAs)."""
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_body: int | None = None,
    ) -> Response:
        """Send one request and read its whole answer (at most ``max_body`` bytes of body).

        ``timeout`` bounds connecting and each wait for data, not the whole exchange. A GET
        follows redirects; credentials (Authorization) are not sent on to another origin.
        Raise HttpConnectionError, HttpTimeoutError, or BodyTooLargeError.
        """
        outgoing = _outgoing(
            method, url, params=params, json=json, data=data, headers=headers, timeout=timeout
        )
        response = self._exchange(outgoing, max_body)
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("Location")
            if method != "GET" or response.status not in REDIRECT_STATUS or not location:
                break
            url = urljoin(url, location)
            outgoing = _redirected(outgoing, url)
            response = self._exchange(outgoing, max_body)
        return response

    def _exchange(self, outgoing: "_Outgoing", max_body: int | None) -> Response:
        """Send ``outgoing`` on a pooled connection (once more if it was closed while idle)."""
        connection, reused = self._take(outgoing.origin)
        try:
            try:
                answer = _send(connection, outgoing)
            except _CLOSED_WHILE_IDLE:
                if not reused:
                    raise
                connection.close()
                connection = self._open(outgoing.origin)
                answer = _send(connection, outgoing)
            response = Response(answer.status, answer.headers, _read(answer, max_body))
        except TimeoutError:
            connection.close()
            raise outgoing.timed_out("no answer from") from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise HttpConnectionError(f"{outgoing.where()}: {type(exc).__name__}: {exc}") from None
        except BodyTooLargeError:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            self._give_back(outgoing.origin, connection)
        return response

    def _take(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        """Return an idle connection to ``origin`` (reused: True) or a new one (False)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child must not share its parent's sockets
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        return self._open(origin), False

    def _give_back(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    def _open(self, origin: Origin) -> http.client.HTTPConnection:
        """Return an unconnected connection to ``origin`` (it connects on first use)."""
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, context=self._tls())
        return http.client.HTTPConnection(host, port)

    def _tls(self) -> ssl.SSLContext:
        """Return the SSL context, made once: loading the trusted CAs takes milliseconds."""
        with self._lock:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            return self._ssl_context


def _send(
    connection: http.client.HTTPConnection, outgoing: "_Outgoing"
) -> http.client.HTTPResponse:
    """Send on ``connection`` (connecting it first if new) and read the answer's status line."""
    connection.timeout = outgoing.timeout
    if connection.sock is None:
        try:
            connection.connect()
        except TimeoutError:  # told apart from a late answer: nothing was sent
            raise outgoing.timed_out("cannot connect to") from None
        # http.client writes the headers and the body apart: without this, Nagle's algorithm
        # holds the body until the server acknowledges the headers (as urllib3 does, too).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]
    else:
        connection.sock.settimeout(outgoing.timeout)
    connection.request(outgoing.method, outgoing.target, outgoing.body, outgoing.headers)
    return connection.getresponse()


def _read(answer: http.client.HTTPResponse, max_body: int | None) -> bytes:
    """Read the whole body, or raise BodyTooLargeError as soon as it passes ``max_body`` bytes."""
    if max_body is None:
        return answer.read()
    data = bytearray()
    while chunk := answer.read(min(64 * 1024, max_body + 1 - len(data))):
        data.extend(chunk)
        if len(data) > max_body:
            answer.close()  # hang up now: a caller holding the error must not keep it open
            raise BodyTooLargeError(f"the body is larger than {max_body} bytes", answer.status)
    return bytes(data)


class _Outgoing(NamedTuple):  # private: a NamedTuple is defined ~5x faster than a dataclass
    """A request ready to send: where, what, and how long each wait may take."""

    origin: Origin
    method: str
    target: str  # path and query
    body: bytes | None
    headers: dict[str, str]
    timeout: float | None

    def where(self) -> str:
        """Return ``scheme://host:port`` for error messages (not the path: it may hold a secret)."""
        scheme, host, port = self.origin
        return f"{scheme}://{host}:{port}"

    def timed_out(self, what: str) -> HttpTimeoutError:
        """Return the error saying ``what`` (e.g. "no answer from") the origin, within how long."""
        within = f" within {self.timeout:g}s" if self.timeout is not None else ""
        return HttpTimeoutError(f"{what} {self.where()}{within}")


def _redirected(outgoing: _Outgoing, url: str) -> _Outgoing:
    """Return the GET of a redirect's ``url``: no Authorization if it leaves the origin."""
    moved = _outgoing("GET", url, params=None, json=None, data=None, headers=outgoing.headers,
                      timeout=outgoing.timeout)  # fmt: skip
    if moved.origin == outgoing.origin:
        return moved
    kept = {k: v for k, v in moved.headers.items() if k.lower() != "authorization"}
    return moved._replace(headers=kept)


def _outgoing(
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None,
    json: Any,
    data: bytes | None,
    headers: Mapping[str, str] | None,
    timeout: float | None,
) -> _Outgoing:
    """Split the URL into origin and target (``params`` added), encode a JSON body, set headers."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL with a host")  # never the URL: it may be a secret
    origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    query = "&".join(filter(None, [parts.query, urlencode(params or {}, doseq=True)]))
    target = (parts.path or "/") + (f"?{query}" if query else "")
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
    if json is not None:
        sent.setdefault("Content-Type", "application/json")
        data = json_text.dumps(json, allow_nan=False).encode()
    return _Outgoing(origin, method, target, data, sent, timeout)
