"""Template references and the per-instance cache."""

import os
from pathlib import Path

import pytest
import requests
from vertex_trigger.errors import DeploymentError
from vertex_trigger.retrying import Retrier, RetryPolicy
from vertex_trigger.templates import GcsReader, TemplateKind, TemplateStore, resolve_ref

from tests.functions.helpers import DATA, TYPED_TEMPLATE, StorageStandIn


def store(storage_url: str = "http://127.0.0.1:9") -> TemplateStore:
    retrier = Retrier(RetryPolicy(deadline=5.0, request_timeout=2.0))
    return TemplateStore(GcsReader(requests.Session(), storage_url), requests.Session(), retrier)


def test_references_resolve_by_kind(tmp_path: Path) -> None:
    assert resolve_ref("gs://b/dir/t.yaml", tmp_path).object_name == "dir/t.yaml"
    ar = resolve_ref("https://europe-west4-kfp.pkg.dev/p/repo/house-prices/v3", tmp_path)
    assert ar.kind is TemplateKind.ARTIFACT_REGISTRY
    assert resolve_ref("../t.yaml", tmp_path / "conf").uri == str(tmp_path / "t.yaml")
    for bad in ("gs://bucket-only", "gs://b/dir/", "https://kfp.pkg.dev/p/r/p/v", "ftp://x/y"):
        with pytest.raises(ValueError):
            resolve_ref(bad, tmp_path)


def test_changed_local_file_is_re_read(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(TYPED_TEMPLATE.read_bytes())
    templates = store()
    ref = resolve_ref("t.yaml", tmp_path)
    first = templates.get(ref)
    assert templates.get(ref) is first
    before = path.stat().st_mtime_ns
    path.write_bytes((DATA / "typed_pipeline_v2.yaml").read_bytes())
    os.utime(path, ns=(before, before + 10**9))  # a coarse filesystem clock could hide the write
    assert templates.get(ref).spec["pipelineInfo"]["name"] == "typed-trigger-v2"


def test_unchanged_gcs_generation_is_served_from_the_cache(gcs: StorageStandIn) -> None:
    gcs.upload("cache-templates", "t.yaml", TYPED_TEMPLATE.read_bytes())
    templates = store(gcs.url)
    ref = resolve_ref("gs://cache-templates/t.yaml", Path("."))
    first = templates.get(ref)
    assert templates.get(ref) is first
    gcs.upload("cache-templates", "t.yaml", (DATA / "typed_pipeline_v2.yaml").read_bytes())
    second = templates.get(ref)
    assert second is not first
    assert second.version != first.version
    assert second.spec["pipelineInfo"]["name"] == "typed-trigger-v2"


def test_deleted_local_template_is_a_deployment_problem(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(TYPED_TEMPLATE.read_bytes())
    templates = store()
    ref = resolve_ref("t.yaml", tmp_path)
    templates.get(ref)
    path.unlink()
    with pytest.raises(DeploymentError, match="is unreadable"):
        templates.get(ref)
