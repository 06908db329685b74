# One Cloud Functions (2nd gen) function built from a source archive in Cloud Storage, with its
# Eventarc trigger (none: an HTTP function) and the principals allowed to invoke its Cloud Run
# service. The caller owns the archive, the accounts and what the function must wait for (the
# module call's depends_on).

resource "google_cloudfunctions2_function" "this" {
  name        = var.name
  project     = var.project_id
  location    = var.location
  description = var.description
  labels      = var.labels

  build_config {
    runtime     = var.runtime
    entry_point = var.entry_point
    source {
      storage_source {
        bucket = var.source_archive.bucket
        object = var.source_archive.object
      }
    }
  }

  service_config {
    available_memory               = var.available_memory
    timeout_seconds                = var.timeout_seconds
    max_instance_count             = var.max_instance_count
    service_account_email          = var.service_account_email
    ingress_settings               = var.ingress_settings
    all_traffic_on_latest_revision = true
    environment_variables          = var.environment_variables

    # Read from Secret Manager at instance start: the values are in neither the archive nor the
    # Terraform state.
    dynamic "secret_environment_variables" {
      for_each = var.secret_environment_variables
      content {
        key        = secret_environment_variables.value.key
        project_id = coalesce(secret_environment_variables.value.project_id, var.project_id)
        secret     = secret_environment_variables.value.secret
        version    = secret_environment_variables.value.version
      }
    }
  }

  dynamic "event_trigger" {
    for_each = var.event_trigger == null ? [] : [var.event_trigger]
    content {
      trigger_region        = event_trigger.value.trigger_region
      event_type            = event_trigger.value.event_type
      pubsub_topic          = event_trigger.value.pubsub_topic
      retry_policy          = event_trigger.value.retry_policy
      service_account_email = event_trigger.value.service_account_email

      dynamic "event_filters" {
        for_each = event_trigger.value.event_filters
        content {
          attribute = event_filters.value.attribute
          value     = event_filters.value.value
          operator  = event_filters.value.operator
        }
      }
    }
  }

  lifecycle {
    # A module call takes no lifecycle block: the caller's plan-time checks arrive as data and are
    # checked here, on the function they are about, each failing one naming itself.
    precondition {
      condition     = alltrue([for check in var.preconditions : check.condition])
      error_message = join("\n", [for check in var.preconditions : check.error_message if !check.condition])
    }
    precondition {
      condition     = var.event_trigger == null ? true : var.timeout_seconds <= 540
      error_message = "timeout_seconds must be at most 540 for an event-driven function (HTTP functions allow 3600)."
    }
  }
}

# roles/run.invoker on the function's Cloud Run service (named as the function), for each principal
# that calls it: an Eventarc trigger's identity delivering events, or an HTTP function's caller.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = var.invoker_members

  project  = var.project_id
  location = var.location
  name     = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = each.value
}
