"""google-auth's transport interface over our HTTP client: how credentials get their tokens.

Imported only when a request needs Google credentials (google/session.py), like google-auth.
"""

from typing import Any

from google.auth import exceptions, transport

from vertex_trigger.google.http import HttpClient, HttpConnectionError, HttpTimeoutError, Response

# google-auth's own requests transport waits this long for a token when not given a timeout.
DEFAULT_TIMEOUT = 120.0
# As google-auth's AuthorizedSession: a 401 may be a token that expired on the way; refresh it
# and send again, at most this many times.
REFRESH_STATUS = frozenset(transport.DEFAULT_REFRESH_STATUS_CODES)
MAX_REFRESHES = transport.DEFAULT_MAX_REFRESH_ATTEMPTS


class TokenResponse(transport.Response):
    """An answer as google-auth reads it: status, headers (lower-case names), body bytes."""

    def __init__(self, response: Response) -> None:
        """Adapt one of our responses."""
        self._status = response.status
        self._headers = {name.lower(): value for name, value in response.headers.items()}
        self._data = response.body

    @property
    def status(self) -> int:
        """Return the HTTP status code."""
        return self._status

    @property
    def headers(self) -> dict[str, str]:
        """Return the headers, names in lower case."""
        return self._headers

    @property
    def data(self) -> bytes:
        """Return the body."""
        return self._data


class TokenRequest(transport.Request):
    """Sends google-auth's requests (token endpoint, metadata server) through an HttpClient."""

    def __init__(self, client: HttpClient) -> None:
        """Send through ``client``."""
        self._client = client

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,  # options of other transports (e.g. requests' ``verify``): not ours
    ) -> TokenResponse:
        """Send one request; no answer is google-auth's TransportError, as its transports say."""
        data = body.encode() if isinstance(body, str) else body
        wait = DEFAULT_TIMEOUT if timeout is None else timeout
        try:
            response = self._client.request(method, url, data=data, headers=headers, timeout=wait)
        except (HttpConnectionError, HttpTimeoutError) as exc:
            # google-auth's exceptions carry no annotations: the call is typed as untyped.
            raise exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return TokenResponse(response)
