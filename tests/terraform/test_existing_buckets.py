"""Your bucket: an existing data (templates, pipeline root) bucket is used without managing its
settings, and the pipeline account reads what else its pipelines read, read-only, each by itself.

Rendered as `terraform plan` renders the module (hcl_eval), with the values the provider reads:
an existing bucket's location (data.google_storage_bucket, EXISTING_DATA_LOCATION here).
"""

from typing import Any

import pytest

from tests.terraform.hcl_eval import Module, ValidationFailedError
from tests.terraform.helpers import EXISTING_DATA_LOCATION, plan

PIPELINE = "serviceAccount:vertex-triggers-pipeline@my-project.iam.gserviceaccount.com"
RUNTIME = "serviceAccount:vertex-triggers-fn@my-project.iam.gserviceaccount.com"


def with_existing(example: dict[str, Any], **buckets: str) -> dict[str, Any]:
    changed = {**example, "existing_buckets": buckets}
    for route in changed["routes"]:  # the routes name the data bucket, when they name one
        if route.get("bucket"):
            route["bucket"] = buckets.get("data", route["bucket"])
    return changed


def grants_on(evaluator: Any, bucket: str) -> set[tuple[str, str]]:
    """(member, role) of every bucket IAM member the plan makes on ``bucket``."""
    found = set()
    for rtype, name in evaluator.module.resources:
        if rtype == "google_storage_bucket_iam_member":
            for grant in evaluator.render_resource(rtype, name).values():
                if grant["bucket"] == bucket:
                    found.add((grant["member"], grant["role"]))
    return found


def test_an_existing_data_bucket_is_watched_and_never_managed(module: Module, example):
    evaluator = plan(module, with_existing(example, data="acme-raw"))

    # No bucket resource: nothing of its settings (versioning, lifecycle, public access) applies.
    assert evaluator.render_resource("google_storage_bucket", "data") == {}
    [read] = evaluator.render_resource("data.google_storage_bucket", "existing_data").values()
    assert read == {"name": "acme-raw"}  # read at plan time, for its location
    trigger = evaluator.module_instance("on_object_finalized").vars["event_trigger"]
    [watched] = trigger["event_filters"]
    assert (watched["attribute"], watched["value"]) == ("bucket", "acme-raw")
    assert trigger["trigger_region"] == EXISTING_DATA_LOCATION.lower()
    # The same grants as on a bucket created here: the pipelines read their data from it.
    assert grants_on(evaluator, "acme-raw") == {(PIPELINE, "roles/storage.objectViewer")}
    assert evaluator.local("bucket_names")["data"] == "acme-raw"


def test_existing_templates_and_pipeline_root_buckets_get_objects_and_grants_only(
    module: Module, example
):
    existing = with_existing(example, templates="acme-tpl", pipeline_root="acme-runs")
    evaluator = plan(module, existing)

    assert evaluator.render_resource("google_storage_bucket", "templates") == {}
    assert evaluator.render_resource("google_storage_bucket", "pipeline_root") == {}
    assert len(evaluator.render_resource("google_storage_bucket", "data")) == 1  # still created
    uploads = evaluator.render_resource("google_storage_bucket_object", "templates")
    assert {upload["bucket"] for upload in uploads.values()} == {"acme-tpl"}
    # The example chains a run_ended route: on_run_state reads its templates too.
    outcomes = "serviceAccount:vertex-triggers-outcomes@my-project.iam.gserviceaccount.com"
    assert grants_on(evaluator, "acme-tpl") == {
        (RUNTIME, "roles/storage.objectViewer"),
        (outcomes, "roles/storage.objectViewer"),
    }
    assert grants_on(evaluator, "acme-runs") == {(PIPELINE, "roles/storage.objectAdmin")}
    rendered = evaluator.local("triggers_config")
    assert rendered["pipeline_root"] == "gs://acme-runs/runs"
    assert rendered["routes"][0]["template"] == "gs://acme-tpl/house_prices.yaml"


def test_created_buckets_are_the_default(module: Module, example):
    evaluator = plan(module, example)

    for name in ("data", "templates", "pipeline_root"):
        [bucket] = evaluator.render_resource("google_storage_bucket", name).values()
        assert bucket["public_access_prevention"] == "enforced"
    assert evaluator.render_resource("data.google_storage_bucket", "existing_data") == {}


def test_an_object_route_on_another_bucket_than_the_existing_one_is_refused(
    module: Module, example
):
    changed = with_existing(example, data="acme-raw")
    changed["routes"][0]["bucket"] = "my-project-data"

    with pytest.raises(ValidationFailedError, match="Only the data bucket has a storage trigger"):
        plan(module, changed)


def test_what_else_the_pipelines_read_is_granted_read_only_each_by_itself(
    module: Module, example
):
    access = {"buckets": ["acme-reference", "shared-exports"],
              "bigquery_datasets": ["acme-prod.sales", "analytics-hub.events_eu"]}  # fmt: skip
    evaluator = plan(module, {**example, "pipeline_read_access": access})

    buckets = evaluator.render_resource("google_storage_bucket_iam_member", "pipeline_reads")
    assert {k: (v["bucket"], v["role"], v["member"]) for k, v in buckets.items()} == {
        "acme-reference": ("acme-reference", "roles/storage.objectViewer", PIPELINE),
        "shared-exports": ("shared-exports", "roles/storage.objectViewer", PIPELINE),
    }
    datasets = evaluator.render_resource("google_bigquery_dataset_iam_member", "pipeline_reads")
    assert {k: (v["project"], v["dataset_id"], v["role"]) for k, v in datasets.items()} == {
        "acme-prod.sales": ("acme-prod", "sales", "roles/bigquery.dataViewer"),
        "analytics-hub.events_eu": ("analytics-hub", "events_eu", "roles/bigquery.dataViewer"),
    }
    [job_user] = evaluator.render_resource("google_project_iam_member",
                                           "pipeline_bigquery_job_user").values()  # fmt: skip
    assert (job_user["role"], job_user["member"]) == ("roles/bigquery.jobUser", PIPELINE)
    assert "bigquery.googleapis.com" in evaluator.local("services")


def test_nothing_more_is_granted_by_default(module: Module, example):
    evaluator = plan(module, example)

    assert evaluator.render_resource("google_storage_bucket_iam_member", "pipeline_reads") == {}
    assert evaluator.render_resource("google_bigquery_dataset_iam_member", "pipeline_reads") == {}
    assert evaluator.render_resource("google_project_iam_member",
                                     "pipeline_bigquery_job_user") == {}  # fmt: skip
    assert "bigquery.googleapis.com" not in evaluator.local("services")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("existing_buckets", {"data": "gs://acme-raw"}, "existing_buckets holds bucket names"),
        ("pipeline_read_access", {"buckets": ["gs://x"]}, "holds bucket names"),
        ("pipeline_read_access", {"bigquery_datasets": ["sales"]}, "PROJECT.DATASET"),
    ],
)
def test_names_that_are_not_names_are_refused(module: Module, example, variable, value, message):
    with pytest.raises(ValidationFailedError, match=message):
        plan(module, {**example, variable: value})
