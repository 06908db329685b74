locals {
  functions_dir   = coalesce(var.functions_source_dir, "${path.module}/../functions")
  compiled_dir    = coalesce(var.compiled_templates_dir, "${path.module}/../compiled")
  bucket_location = coalesce(var.bucket_location, var.region)

  # An existing bucket (var.existing_buckets) is used by name and never managed here.
  bucket_names = {
    data          = coalesce(var.existing_buckets.data, var.bucket_names.data, "${var.project_id}-data")
    templates     = coalesce(var.existing_buckets.templates, var.bucket_names.templates, "${var.project_id}-templates")
    pipeline_root = coalesce(var.existing_buckets.pipeline_root, var.bucket_names.pipeline_root, "${var.project_id}-pipeline-root")
    models        = coalesce(var.bucket_names.models, "${var.project_id}-models")
    source        = coalesce(var.bucket_names.source, "${var.project_id}-function-source")
    state         = coalesce(var.bucket_names.state, "${var.project_id}-trigger-state")
  }

  run_key_secret = coalesce(var.run_key_secret, "${var.name_prefix}-run-key")
  # Every function reads the run key from Secret Manager at instance start (TRIGGER_RUN_KEY).
  run_key_environment = [{
    key        = "TRIGGER_RUN_KEY"
    project_id = var.project_id
    secret     = local.run_key_secret
    version    = "latest"
  }]

  # kms_key as the parts KMS IAM resources take (PROJECT/LOCATION/RING/KEY); null without a key.
  kms_key_parts    = var.kms_key == null ? null : regex("^projects/([^/]+)/locations/([^/]+)/keyRings/([^/]+)/cryptoKeys/([^/]+)$", var.kms_key)
  kms_key_id       = local.kms_key_parts == null ? null : join("/", local.kms_key_parts)
  kms_key_location = local.kms_key_parts == null ? null : local.kms_key_parts[1]

  # Artifact Registry repositories that routes read templates from, as
  # projects/PROJECT/locations/REGION/repositories/REPOSITORY (from https://REGION-kfp.pkg.dev/PROJECT/REPOSITORY/...).
  # A run_ended route's after.template is read at start-up too.
  template_uris = flatten([
    [for r in local.routes : r.template],
    [for r in local.routes : r.after_template if r.after_template != null],
  ])
  template_repositories = toset([
    for parts in [
      for uri in local.template_uris : regex("^https://([a-z0-9-]+)-kfp\\.pkg\\.dev/([^/]+)/([^/]+)/", uri)
      if startswith(uri, "https://")
    ] : "projects/${parts[1]}/locations/${parts[0]}/repositories/${parts[2]}"
  ])

  labels = merge(var.labels, { app = "vertex-triggers" })

  # BigQuery's API only when the pipelines read datasets (var.pipeline_read_access).
  services = toset(concat(length(var.pipeline_read_access.bigquery_datasets) > 0 ? ["bigquery.googleapis.com"] : [], [
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "eventarc.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]))
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_project_service" "required" {
  for_each = local.services

  project = var.project_id
  service = each.value
  # Other workloads in the project may use these APIs; destroying this stack must not turn them off.
  disable_on_destroy = false
}
