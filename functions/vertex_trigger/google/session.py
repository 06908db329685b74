"""Requests with Application Default Credentials, found on first use.

Emulated runs never send one, so they never import google-auth: it is imported here, lazily.
"""

import functools
from collections.abc import Mapping
from typing import Any

from vertex_trigger.errors import CredentialError, DeploymentError
from vertex_trigger.google.http import HttpClient, Response

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class GoogleSession:
    """Sends requests through an HttpClient with an access token from google-auth's credentials."""

    def __init__(self, client: HttpClient) -> None:
        """Send through ``client``; credentials are found on the first request."""
        self._client = client
        self._credentials: tuple[Any, Any] | None = None  # google-auth's, and their transport

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
        """Send with an access token; after a 401, refresh the token and send again.

        As google-auth's AuthorizedSession does: a token may expire on its way to the server.
        """
        from vertex_trigger.google.token_transport import MAX_REFRESHES, REFRESH_STATUS

        for attempt in range(MAX_REFRESHES + 1):
            sent = dict(headers or {})
            self._authorize(method, url, sent, timeout=timeout, refresh=attempt > 0)
            response = self._client.request(
                method, url, params=params, json=json, data=data, headers=sent, timeout=timeout,
                max_body=max_body,
            )  # fmt: skip
            if response.status not in REFRESH_STATUS:
                break
        return response

    def _authorize(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        timeout: float | None,
        refresh: bool,
    ) -> None:
        """Put a valid token in ``headers``, refreshing it first if asked or if it expired."""
        credentials, token_request = self._credentials_once()
        from google.auth.exceptions import RefreshError, TransportError

        fetch = functools.partial(token_request, timeout=timeout)
        try:
            if refresh:
                credentials.refresh(fetch)
            credentials.before_request(fetch, method, url, headers)
        except (RefreshError, TransportError) as exc:  # no metadata server, a refused refresh
            raise CredentialError(
                f"cannot get an access token: {type(exc).__name__}: {exc}"
            ) from None

    def _credentials_once(self) -> tuple[Any, Any]:
        """Return Application Default Credentials and their token transport, found once.

        Raise DeploymentError when there are none: the deployment must provide them.
        """
        if self._credentials is None:
            import google.auth  # lazy: only real Google Cloud needs credentials
            from google.auth.exceptions import DefaultCredentialsError

            from vertex_trigger.google.token_transport import TokenRequest

            token_request = TokenRequest(self._client)
            try:  # on Google Cloud, google-auth asks the metadata server through token_request
                credentials, _ = google.auth.default(scopes=SCOPES, request=token_request)
            except DefaultCredentialsError as exc:
                raise DeploymentError(
                    f"no Google credentials (and no emulator host set): {exc}"
                ) from None
            self._credentials = (credentials, token_request)
        return self._credentials
