"""Fetch compiled pipeline templates (gs://, Artifact Registry, local file) and cache them."""

import copy
import enum
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from vertex_trigger.api_errors import read_error
from vertex_trigger.errors import DeploymentError
from vertex_trigger.http import Requester, Response
from vertex_trigger.parameters import InputParameter
from vertex_trigger.pipeline_spec import ArtifactInput, read_spec
from vertex_trigger.retrying import Budget, Retrier

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster at cold start
_ARTIFACT_REGISTRY = re.compile(r"^https://[a-z0-9-]+-kfp\.pkg\.dev/[^/]+/[^/]+/[^/]+/[^/]+$")
# Artifact Registry has no cheap generation check: a tag may move, so re-read after this long.
ARTIFACT_REGISTRY_TTL_SECONDS = 300.0


class TemplateKind(enum.StrEnum):
    """Where a template lives."""

    GCS = "gcs"
    ARTIFACT_REGISTRY = "artifact_registry"
    LOCAL = "local"


@dataclass(frozen=True)
class TemplateRef:
    """A template location as configured, resolved to one of the three kinds."""

    kind: TemplateKind
    uri: str  # gs://bucket/object, the https Artifact Registry URI, or an absolute path
    bucket: str = ""
    object_name: str = ""


@dataclass(frozen=True)
class Template:
    """A parsed compiled pipeline: its spec, its inputs and the version it was read at."""

    ref: TemplateRef
    spec: Mapping[str, Any]
    inputs: Mapping[str, InputParameter]
    version: str
    artifacts: Mapping[str, ArtifactInput]
    legacy: bool  # schemaVersion 2.0.0: runtimeConfig.parameters, typed Values
    defaults: Mapping[str, Any]  # a PipelineJob JSON's runtimeConfig values, sent with each run


def resolve_ref(template: str, base_dir: Path) -> TemplateRef:
    """Classify a configured template string; raise ValueError if it is not usable."""
    if template.startswith("gs://"):
        bucket, _, name = template[len("gs://") :].partition("/")
        if not bucket or not name or name.endswith("/"):
            raise ValueError(f"expected gs://BUCKET/OBJECT, got {template!r}")
        return TemplateRef(TemplateKind.GCS, template, bucket, name)
    if template.startswith("https://"):
        if not _ARTIFACT_REGISTRY.match(template):
            raise ValueError(
                "an https template must be an Artifact Registry URI "
                f"https://REGION-kfp.pkg.dev/PROJECT/REPO/PACKAGE/TAG_OR_VERSION, got {template!r}"
            )
        return TemplateRef(TemplateKind.ARTIFACT_REGISTRY, template)
    if "://" in template:
        raise ValueError(f"unsupported template scheme in {template!r}")
    return TemplateRef(TemplateKind.LOCAL, str((base_dir / template).resolve()))


def parse_template(ref: TemplateRef, text: str | bytes, version: str) -> Template:
    """Parse compiled KFP YAML or JSON (its first document) into a Template; raise ValueError."""
    try:
        documents = list(yaml.load_all(text, Loader=YAML_LOADER))
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an integer of 4,301+ digits
        raise ValueError(f"template {ref.uri} is not valid YAML: {exc}") from None
    try:
        parsed = read_spec(documents[0] if documents else None)
    except ValueError as exc:
        raise ValueError(f"template {ref.uri}: {exc}") from None
    return Template(
        ref,
        parsed.spec,
        parsed.inputs,
        version,
        artifacts=parsed.artifacts,
        legacy=parsed.legacy,
        defaults=parsed.defaults,
    )


class GcsReader:
    """Reads objects through the Cloud Storage JSON API (or its emulator)."""

    def __init__(self, session: Requester, base_url: str) -> None:
        """Use ``session`` against ``base_url`` (e.g. https://storage.googleapis.com)."""
        self._session = session
        self._base_url = base_url.rstrip("/")

    def _object_url(self, bucket: str, name: str) -> str:
        return f"{self._base_url}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"

    def generation(self, bucket: str, name: str, get: "Getter") -> str:
        """Return the live generation of gs://bucket/name."""
        response = get(self._session, self._object_url(bucket, name), {"fields": "generation"})
        return str(response.json()["generation"])

    def download(self, bucket: str, name: str, generation: str, get: "Getter") -> bytes:
        """Return the bytes of one generation of gs://bucket/name."""
        params = {"alt": "media", "generation": generation}
        return get(self._session, self._object_url(bucket, name), params).body


Getter = Callable[[Requester, str, Mapping[str, str]], Response]


class TemplateStore:
    """Per-instance template cache that notices a new generation without a redeploy.

    A template is part of the deployment, so a template that cannot be read or parsed raises
    DeploymentError (the event waits) and TransientError once retries are spent.
    """

    def __init__(
        self,
        gcs: GcsReader,
        https: Requester,
        retrier: Retrier,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Fetch gs:// through ``gcs`` and Artifact Registry through ``https``."""
        self._gcs = gcs
        self._https = https
        self._retrier = retrier
        self._clock = clock
        self._cache: dict[TemplateRef, tuple[Template, float]] = {}
        self._budget: Budget | None = None

    def with_budget(self, budget: Budget) -> "TemplateStore":
        """Return a view of this store (same cache) whose reads draw on ``budget``."""
        budgeted = copy.copy(self)
        budgeted._budget = budget
        return budgeted

    def get(self, ref: TemplateRef) -> Template:
        """Return the current template for ``ref``, re-reading it only when it changed."""
        cached = self._cache.get(ref)
        if ref.kind is TemplateKind.ARTIFACT_REGISTRY:
            fresh = cached and self._clock() - cached[1] < ARTIFACT_REGISTRY_TTL_SECONDS
            return cached[0] if fresh else self._store(self._fetch_registry(ref))
        version = self._current_version(ref)
        if cached and cached[0].version == version:
            return cached[0]
        return self._store(self._fetch(ref, version))

    def _store(self, template: Template) -> Template:
        self._cache[template.ref] = (template, self._clock())
        return template

    def _current_version(self, ref: TemplateRef) -> str:
        if ref.kind is TemplateKind.GCS:
            return self._gcs.generation(ref.bucket, ref.object_name, self._get)
        try:
            stat = os.stat(ref.uri)
        except OSError as exc:
            raise DeploymentError(f"template {ref.uri} is unreadable: {exc.strerror}") from None
        return f"{stat.st_mtime_ns}-{stat.st_size}"

    def _fetch(self, ref: TemplateRef, version: str) -> Template:
        if ref.kind is TemplateKind.GCS:
            text = self._gcs.download(ref.bucket, ref.object_name, version, self._get)
            return _parsed(ref, text, version)
        try:
            return _parsed(ref, Path(ref.uri).read_bytes(), version)
        except OSError as exc:
            raise DeploymentError(f"template {ref.uri} is unreadable: {exc.strerror}") from None

    def _fetch_registry(self, ref: TemplateRef) -> Template:
        response = self._get(self._https, ref.uri, {})
        return _parsed(ref, response.body, response.headers.get("etag", ""))

    def _get(self, session: Requester, url: str, params: Mapping[str, str]) -> Response:
        """GET with retries inside the budget; any other error answer is a DeploymentError."""
        budget = self._budget or self._retrier.budget()
        response = self._retrier.send(
            lambda timeout: session.request("GET", url, timeout=timeout, params=params),
            f"GET {url}",
            budget,
        ).response
        if response.status >= 400:
            raise DeploymentError(f"cannot read template {url}: {read_error(response).describe()}")
        return response


def _parsed(ref: TemplateRef, text: bytes, version: str) -> Template:
    try:
        return parse_template(ref, text, version)
    except ValueError as exc:
        raise DeploymentError(str(exc)) from None
