"""Route key ``input_artifacts``: a pipeline's artifact inputs bound to Vertex AI ML Metadata."""

import re
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from vertex_trigger.config.output_refs import OutputKind, output_ref
from vertex_trigger.config.placeholders import placeholders_in, unknown_placeholder
from vertex_trigger.errors import excerpt

KEY = "input_artifacts"
# CreateArtifactRequest.artifact_id (aiplatform v1): 4-128 characters, a-z, 0-9 and '-'.
ARTIFACT_ID = re.compile(r"^[a-z0-9-]{4,128}$")
# RuntimeConfig.InputArtifact.artifact_id is the last part of this name, in the run's project
# and location: a full name is accepted and sent as its id.
ARTIFACT_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/metadataStores/default/artifacts/")


class InputArtifactError(ValueError):
    """A configured ``input_artifacts`` entry is wrong; ``key`` names it."""

    def __init__(self, key: str, problem: str) -> None:
        """Record which key is wrong and why."""
        super().__init__(problem)
        self.key = key


def parse_input_artifacts(
    raw: Any, placeholders: frozenset[str], routes: str, refs: Collection[OutputKind] = ()
) -> Mapping[str, str]:
    """Read ``input_artifacts: {INPUT: ARTIFACT}``; ARTIFACT may hold placeholders.

    On run_ended routes (``refs``) ARTIFACT may be an upstream output artifact, written alone.
    """
    if not isinstance(raw, dict):
        raise InputArtifactError(
            KEY, f"expected a mapping of artifact input name to artifact id, got {raw!r}"
        )
    for name, value in raw.items():
        key = f"{KEY}.{name}"
        if not isinstance(name, str) or not isinstance(value, str):
            raise InputArtifactError(key, f"expected an artifact id string, got {value!r}")
        problem = unknown_placeholder(value, placeholders, routes, refs) or _not_alone(value)
        if not problem and not placeholders_in(value):
            problem = artifact_id_problem(value)
        if problem:
            raise InputArtifactError(key, problem)
    return MappingProxyType(dict(raw))


def _not_alone(value: str) -> str:
    """Return why an output reference shares its value with other text, or ''."""
    refs = [name for name in placeholders_in(value) if output_ref(name)]
    if refs and value != "{" + refs[0] + "}":
        return f"{{{refs[0]}}} must be the whole value: it names the artifact to bind"
    return ""


def artifact_id_problem(text: str) -> str:
    """Return why ``text`` is neither an artifact id nor an artifact resource name, or ''."""
    if ARTIFACT_ID.match(artifact_id(text)):
        return ""
    return (
        f"{excerpt(text)} is not an artifact id (4-128 characters: a-z, 0-9, -) or a name "
        "projects/P/locations/L/metadataStores/default/artifacts/ID"
    )


def artifact_id(text: str) -> str:
    """Return the id in an artifact resource name, or ``text`` itself."""
    return ARTIFACT_NAME.sub("", text, count=1)
