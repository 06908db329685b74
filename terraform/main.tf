locals {
  functions_dir   = coalesce(var.functions_source_dir, "${path.module}/../functions")
  compiled_dir    = coalesce(var.compiled_templates_dir, "${path.module}/../compiled")
  bucket_location = coalesce(var.bucket_location, var.region)

  bucket_names = {
    data          = coalesce(var.bucket_names.data, "${var.project_id}-data")
    templates     = coalesce(var.bucket_names.templates, "${var.project_id}-templates")
    pipeline_root = coalesce(var.bucket_names.pipeline_root, "${var.project_id}-pipeline-root")
    source        = coalesce(var.bucket_names.source, "${var.project_id}-function-source")
  }

  labels = merge(var.labels, { app = "vertex-triggers" })

  services = toset([
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
    "storage.googleapis.com",
  ])
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
