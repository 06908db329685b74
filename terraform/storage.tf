# Six buckets with one job each. The pipeline root is never the data bucket: run outputs written
# there cannot raise finalize events on the watched bucket and start runs of their own. With
# var.kms_key the two buckets that runs write (pipeline root, models) default to that key.
# An existing data, templates or pipeline root bucket (var.existing_buckets) is used as it is: not
# created, its settings (versioning, lifecycle, public access prevention, labels, encryption) not
# managed; only the grants and objects below are added to it.

locals {
  # The default key of the buckets runs write (pipeline root, models): var.kms_key, when set.
  run_bucket_default_key = var.kms_key == null ? [] : [var.kms_key]

  # Each bucket's name, created or existing (what needs a created bucket first says so with
  # depends_on: a name alone makes no dependency).
  data_bucket          = local.bucket_names.data
  templates_bucket     = local.bucket_names.templates
  pipeline_root_bucket = local.bucket_names.pipeline_root
  # Eventarc puts a storage trigger in its bucket's location: an existing bucket's, as read.
  data_bucket_location = var.existing_buckets.data == null ? local.bucket_location : data.google_storage_bucket.existing_data[0].location
}

# An existing data bucket is read at plan time, for its location only.
data "google_storage_bucket" "existing_data" {
  count = var.existing_buckets.data == null ? 0 : 1

  name = var.existing_buckets.data
}

resource "google_storage_bucket" "data" {
  #checkov:skip=CKV_GCP_62:Usage-log buckets are legacy; Google recommends Cloud Audit Logs (Data Access), a project-wide setting the platform team owns (README).
  count = var.existing_buckets.data == null ? 1 : 0

  name                        = local.bucket_names.data
  project                     = var.project_id
  location                    = local.bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = local.labels

  # Keeps overwritten or deleted inputs recoverable; each overwrite is a new generation and a new run.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.required]
}

resource "google_storage_bucket" "templates" {
  #checkov:skip=CKV_GCP_62:Usage-log buckets are legacy; Google recommends Cloud Audit Logs (Data Access), a project-wide setting the platform team owns (README).
  count = var.existing_buckets.templates == null ? 1 : 0

  name                        = local.bucket_names.templates
  project                     = var.project_id
  location                    = local.bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = local.labels

  # Every template a run used stays readable by its generation after a recompile replaces it.
  versioning {
    enabled = true
  }

  depends_on = [google_project_service.required]
}

resource "google_storage_bucket" "pipeline_root" {
  #checkov:skip=CKV_GCP_62:Usage-log buckets are legacy; Google recommends Cloud Audit Logs (Data Access), a project-wide setting the platform team owns (README).
  #checkov:skip=CKV_GCP_78:Run outputs are written once under unique run folders; versions would only add cost.
  count = var.existing_buckets.pipeline_root == null ? 1 : 0

  name                        = local.bucket_names.pipeline_root
  project                     = var.project_id
  location                    = local.bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = local.labels

  dynamic "encryption" {
    for_each = local.run_bucket_default_key
    content {
      default_kms_key_name = encryption.value
    }
  }

  lifecycle {
    precondition {
      condition     = var.kms_key == null ? true : lower(local.bucket_location) == local.kms_key_location
      error_message = "With kms_key, the pipeline root and models buckets default to that key, and Cloud Storage needs a bucket's key in the bucket's own location: leave bucket_location unset (var.region, where the key must be for Vertex AI too) or set it to the key's location."
    }
  }

  # Cloud Storage checks its service agent's access to the default key when the bucket is created.
  depends_on = [google_project_service.required, google_kms_crypto_key_iam_member.storage_agent_uses_kms_key]
}

# The house_prices model registry (registry_uri): numbered versions and the champion pointer that
# runs write and the drift check reads. Kept apart from the pipeline root, whose run outputs may
# be given a deletion lifecycle; versioned because the champion pointer is overwritten.
resource "google_storage_bucket" "models" {
  #checkov:skip=CKV_GCP_62:Usage-log buckets are legacy; Google recommends Cloud Audit Logs (Data Access), a project-wide setting the platform team owns (README).
  name                        = local.bucket_names.models
  project                     = var.project_id
  location                    = local.bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = local.labels

  versioning {
    enabled = true
  }

  dynamic "encryption" {
    for_each = local.run_bucket_default_key
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.required, google_kms_crypto_key_iam_member.storage_agent_uses_kms_key]
}

# The operators' and the functions' state, apart from the data bucket (whose every object is an
# event): route pauses under triggers/ (`vertex-triggers pause`: one small JSON record per route,
# written by var.pausers and read by the functions), and under parking/ the events deferred at a
# route's max_running cap or overlap queue until the sweeper launches them (triggers.yaml's
# parking; only the functions' account writes there). Versioned, so each pause and resume stays on
# record (who, when, why); a parked event is written once and deleted once decided, and its
# deleted version is kept a week only.
resource "google_storage_bucket" "state" {
  #checkov:skip=CKV_GCP_62:Usage-log buckets are legacy; Google recommends Cloud Audit Logs (Data Access), a project-wide setting the platform team owns (README).
  name                        = local.bucket_names.state
  project                     = var.project_id
  location                    = local.bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = local.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      matches_prefix             = ["parking/"]
      with_state                 = "ARCHIVED"
      days_since_noncurrent_time = 7
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.required]
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Usage-log buckets are legacy; Google recommends Cloud Audit Logs (Data Access), a project-wide setting the platform team owns (README).
  #checkov:skip=CKV_GCP_78:Archives are named by content hash and never overwritten; versions would only add cost.
  name                        = local.bucket_names.source
  project                     = var.project_id
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = local.labels

  depends_on = [google_project_service.required]
}

# A recompile followed by `apply` ships the new templates: the provider compares each object's MD5
# with the local file's. Object name => file (local.template_uploads): compiled/'s files for
# var.routes, the files a routes file names otherwise.
resource "google_storage_bucket_object" "templates" {
  for_each = local.template_uploads

  bucket       = local.templates_bucket
  name         = each.key
  source       = each.value
  content_type = "application/yaml"

  depends_on = [google_storage_bucket.templates]
}
