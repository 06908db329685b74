"""Where a route's template lives: Cloud Storage, Artifact Registry, or a file beside the config."""

import enum
import re
from dataclasses import dataclass
from pathlib import Path

_ARTIFACT_REGISTRY = re.compile(r"^https://[a-z0-9-]+-kfp\.pkg\.dev/[^/]+/[^/]+/[^/]+/[^/]+$")


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
