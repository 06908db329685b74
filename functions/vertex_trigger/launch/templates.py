"""Fetch compiled pipeline templates (gs://, Artifact Registry, local file) and cache them."""

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from vertex_trigger.config.loader import YAML_LOADER
from vertex_trigger.config.template_ref import TemplateKind, TemplateRef
from vertex_trigger.errors import DeploymentError, RejectedEvent
from vertex_trigger.google.artifact_registry import ArtifactRegistry
from vertex_trigger.google.storage import Storage
from vertex_trigger.launch.parameters import InputParameter
from vertex_trigger.launch.pipeline_spec import ArtifactInput, read_spec

T = TypeVar("T")
# Artifact Registry has no cheap generation check: a tag may move, so re-read after this long.
ARTIFACT_REGISTRY_TTL_SECONDS = 300.0


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
    # Top-level keys of each YAML document after the first (kfp-kubernetes' `platforms`): never
    # sent, as Vertex AI takes one PipelineSpec; `vertex-triggers check` says so.
    extra_documents: tuple[str, ...] = ()

    @property
    def pipeline_name(self) -> str:
        """Return the compiled pipeline's name (``pipelineInfo.name``, what its runs carry)."""
        return str(self.spec["pipelineInfo"]["name"])


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
        extra_documents=tuple(_keys(document) for document in documents[1:]),
    )


def _keys(document: Any) -> str:
    """Name a YAML document by its top-level keys (or its type, when it is not a mapping)."""
    if isinstance(document, dict):
        return ", ".join(str(key) for key in document)
    return type(document).__name__


class TemplateStore:
    """Per-instance template cache that notices a new generation without a redeploy.

    A template is part of the deployment, so a template that cannot be read or parsed raises
    DeploymentError (the event waits) and TransientError once retries are spent.
    """

    def __init__(
        self,
        storage: Storage,
        registry: ArtifactRegistry,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Fetch gs:// through ``storage`` and Artifact Registry through ``registry``."""
        self._storage = storage
        self._registry = registry
        self._clock = clock
        self._cache: dict[TemplateRef, tuple[Template, float]] = {}

    def get(self, ref: TemplateRef) -> Template:
        """Return the current template for ``ref``, re-reading it only when it changed."""
        cached = self._cache.get(ref)
        if ref.kind is TemplateKind.ARTIFACT_REGISTRY:
            if cached and self._clock() - cached[1] < ARTIFACT_REGISTRY_TTL_SECONDS:
                return cached[0]
            return self._store(self._fetch_registry(ref))
        version = self._current_version(ref)
        if cached and cached[0].version == version:
            return cached[0]
        return self._store(self._fetch(ref, version))

    def _store(self, template: Template) -> Template:
        self._cache[template.ref] = (template, self._clock())
        return template

    def _current_version(self, ref: TemplateRef) -> str:
        if ref.kind is TemplateKind.GCS:
            return _deployments(lambda: self._storage.generation(ref.bucket, ref.object_name))
        try:
            stat = os.stat(ref.uri)
        except OSError as exc:
            raise DeploymentError(f"template {ref.uri} is unreadable: {exc.strerror}") from None
        return f"{stat.st_mtime_ns}-{stat.st_size}"

    def _fetch(self, ref: TemplateRef, version: str) -> Template:
        if ref.kind is TemplateKind.GCS:
            text = _deployments(lambda: self._storage.read(ref.bucket, ref.object_name, version))
            return _parsed(ref, text, version)
        try:
            return _parsed(ref, Path(ref.uri).read_bytes(), version)
        except OSError as exc:
            raise DeploymentError(f"template {ref.uri} is unreadable: {exc.strerror}") from None

    def _fetch_registry(self, ref: TemplateRef) -> Template:
        text, etag = self._registry.download(ref.uri)
        return _parsed(ref, text, etag)


def _deployments(read: Callable[[], T]) -> T:
    """Return ``read()``; a template is part of the deployment, so any refusal is the operator's."""
    try:
        return read()
    except RejectedEvent as exc:
        raise DeploymentError(str(exc)) from None


def _parsed(ref: TemplateRef, text: bytes, version: str) -> Template:
    try:
        return parse_template(ref, text, version)
    except ValueError as exc:
        raise DeploymentError(str(exc)) from None
