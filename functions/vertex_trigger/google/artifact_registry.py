"""Download a compiled pipeline from Artifact Registry (``https://REGION-kfp.pkg.dev/...``)."""

from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import Requester

SERVICE = "Artifact Registry"


class ArtifactRegistry:
    """GETs a Kubeflow Pipelines package version through the request path, with credentials."""

    def __init__(self, session: Requester, calls: ApiCalls) -> None:
        """Send through ``session`` (credentialed: a repository is private)."""
        self._session = session
        self._calls = calls

    def download(self, uri: str) -> tuple[bytes, str]:
        """Return the template's bytes and its ETag; every error answer is the deployment's."""
        response = self._calls.send(
            self._session, "GET", uri, service=SERVICE, action=f"read template {uri}",
            deployment_only=True,
        ).response  # fmt: skip
        return response.body, response.headers.get("etag", "")
