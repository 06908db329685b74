# The sweeper: a third function, HTTP, that Cloud Scheduler calls with an OIDC token to launch what
# object events missed, cancel runs live past max_duration, launch the retries on_run_state left
# to it and re-drive the events parked at a route's max_running cap or overlap queue
# (docs/operations.md, "The sweeper"). Created only when a route sets sweep_lookback,
# max_duration, retry_failed, max_running or overlap.

locals {
  sweep_enabled = anytrue([for r in local.routes : r.sweep_lookback != null || r.max_duration != null || r.retry_failed || r.max_running != null || r.overlap])
  # on_run_state launches the retries of failed runs: it needs what launching needs.
  retries_enabled = anytrue([for r in local.routes : r.retry_failed])
  # Batch routes list folders and read manifests, the sweeper lists object routes' prefixes: both
  # need to list the data bucket's objects, which nothing else of the functions does (a run_ended
  # route's sweep lists runs, not objects).
  lists_data_bucket = anytrue([for r in local.routes : r.batch || (r.event == "object_finalized" && r.sweep_lookback != null)])
}

module "sweep" {
  source = "./modules/cloud_function"
  count  = local.sweep_enabled ? 1 : 0

  project_id  = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-sweep"
  description = "Launches what object events missed (due quiet batches, complete batches and objects without a run); called by Cloud Scheduler."
  labels      = local.labels

  runtime     = var.function_runtime
  entry_point = "sweep"
  source_archive = {
    bucket = google_storage_bucket.source.name
    object = google_storage_bucket_object.function_source.name
  }

  available_memory      = local.function_memory
  timeout_seconds       = var.sweep_timeout_seconds
  max_instance_count    = 1 # one sweep at a time: an overlapping call is refused
  service_account_email = google_service_account.function_runtime.email
  ingress_settings      = "ALLOW_INTERNAL_ONLY" # Cloud Scheduler in the project is internal
  environment_variables = local.function_environment

  # The run key, from Secret Manager at instance start.
  secret_environment_variables = local.run_key_environment

  # HTTP: no event_trigger. Cloud Scheduler calls it with an OIDC token of the scheduler account.
  invoker_members = {
    scheduler = "serviceAccount:${google_service_account.scheduler[0].email}"
  }

  preconditions = [
    {
      condition     = local.retry_deadline_seconds < var.sweep_timeout_seconds
      error_message = "launch_retry.deadline must be shorter than sweep_timeout_seconds, or one launch's retries outlast the sweep."
    },
  ]

  # Like the launching functions, its start-up reads every template and its launches need actAs
  # and the pipeline account's bucket grants; a sweep lists the data bucket.
  depends_on = [
    google_project_service.required,
    google_storage_bucket_object.templates,
    google_storage_bucket_iam_member.function_runtime_templates_viewer,
    google_storage_bucket_iam_member.function_runtime_data_viewer,
    google_storage_bucket_iam_member.function_runtime_state_user,
    google_secret_manager_secret_iam_member.function_runtime_run_key_accessor,
    google_project_iam_member.function_runtime_launcher,
    google_artifact_registry_repository_iam_member.function_runtime_template_reader,
    google_kms_crypto_key_iam_member.vertex_agent_uses_kms_key,
    google_service_account_iam_member.function_runtime_acts_as_pipeline,
    google_storage_bucket_iam_member.pipeline_root_admin,
    google_storage_bucket_iam_member.pipeline_models_admin,
    google_storage_bucket_iam_member.pipeline_data_viewer,
  ]
}

resource "google_service_account" "scheduler" {
  count = local.sweep_enabled ? 1 : 0

  account_id   = "${var.name_prefix}-sweeper"
  project      = var.project_id
  display_name = "vertex-triggers sweep schedule"
  description  = "Identity Cloud Scheduler uses to call the sweep function (an OIDC token); may invoke that function and nothing else."

  depends_on = [google_project_service.required]
}

resource "google_cloud_scheduler_job" "sweep" {
  count = local.sweep_enabled ? 1 : 0

  name             = "${var.name_prefix}-sweep"
  project          = var.project_id
  region           = var.region
  description      = "Calls the sweep function, which launches what object events missed."
  schedule         = var.sweep_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "${var.sweep_timeout_seconds}s"

  retry_config {
    retry_count = 0 # the next scheduled sweep is the retry: it sees the same objects again
  }

  http_target {
    http_method = "POST" # the function sweeps on POST only
    uri         = module.sweep[0].uri

    oidc_token {
      service_account_email = google_service_account.scheduler[0].email
      audience              = module.sweep[0].uri
    }
  }

  # The module's invoker grant included: a call before it holds would be refused.
  depends_on = [
    module.sweep,
    google_project_service.required,
  ]
}
