# How runs ended: Vertex AI's PipelineJob log entries reach on_run_state through a log sink and a
# topic; on_run_state reads each run from Vertex and publishes the ends of our routes' runs to the
# outcomes topic (and posts them to a route's webhook, whose URL lives in Secret Manager).

locals {
  # The environment variable of on_run_state holding each notifying route's webhook URL (var.routes:
  # WEBHOOK_URL_ROUTE; a routes file names its own) and the secret it is read from; the rendered
  # triggers.yaml names the variable, never the URL.
  webhook_variables = { for r in local.routes : r.name => r.webhook_variable if r.webhook_variable != null }
  webhook_secrets   = { for r in local.routes : r.name => r.webhook_secret if r.webhook_variable != null }
  # One secret variable each: routes of a file may share one webhook (route-name order for
  # var.routes, the order its functions were deployed with).
  webhook_environment = distinct([
    for route, secret in local.webhook_secrets : { key = local.webhook_variables[route], secret = secret }
  ])

  # The entries Vertex AI Pipelines writes about a job (its state changes). Non-terminal states
  # are let through: on_run_state skips them cheaply, and the filter depends on as little of the
  # entry's payload as possible (the function reads the state from Vertex, not from the entry).
  run_state_filter = "resource.type=\"aiplatform.googleapis.com/PipelineJob\" AND logName=\"projects/${var.project_id}/logs/aiplatform.googleapis.com%2Fpipeline_job_events\""

  outcomes_topic = "projects/${var.project_id}/topics/${google_pubsub_topic.outcomes.name}"
}

resource "google_pubsub_topic" "run_states" {
  #checkov:skip=CKV_GCP_83:Carries Vertex AI's job state log entries (ids and states), Google-managed keys; CMEK is the platform team's key policy (README).
  name    = "${var.name_prefix}-run-states"
  project = var.project_id
  labels  = local.labels

  depends_on = [google_project_service.required]
}

resource "google_logging_project_sink" "run_states" {
  name                   = "${var.name_prefix}-pipeline-run-states"
  project                = var.project_id
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.run_states.id}"
  filter                 = local.run_state_filter
  unique_writer_identity = true

  depends_on = [google_project_service.required]
}

resource "google_pubsub_topic_iam_member" "run_states_sink_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.run_states.name
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.run_states.writer_identity
}

resource "google_pubsub_topic" "outcomes" {
  #checkov:skip=CKV_GCP_83:Carries run outcomes (job ids, states, object names, error text), Google-managed keys; CMEK is the platform team's key policy (README).
  name    = "${var.name_prefix}-run-outcomes"
  project = var.project_id
  labels  = local.labels

  depends_on = [google_project_service.required]
}

module "on_run_state" {
  source = "./modules/cloud_function"

  project_id  = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-run-state"
  description = "Reports how each pipeline run a route launched ended: publishes it to the outcomes topic, posts it to the route's webhook."
  labels      = local.labels

  runtime     = var.function_runtime
  entry_point = "on_run_state"
  source_archive = {
    bucket = google_storage_bucket.source.name
    object = google_storage_bucket_object.function_source.name
  }

  available_memory      = local.function_memory
  timeout_seconds       = var.function_timeout_seconds
  max_instance_count    = var.function_max_instance_count
  service_account_email = google_service_account.outcomes.email
  ingress_settings      = "ALLOW_INTERNAL_ONLY"
  environment_variables = local.function_environment

  # Each webhook URL reaches the function as an environment variable read from Secret Manager
  # at instance start; the URL is in neither the configuration, the archive nor Terraform state.
  # In route-name order (local.webhook_secrets' keys), the order the blocks had before the module.
  secret_environment_variables = concat([
    for variable in local.webhook_environment : {
      key        = variable.key
      project_id = var.project_id
      secret     = variable.secret
      version    = "latest"
    }
  ], local.run_key_environment)

  event_trigger = {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.run_states.id
    retry_policy          = "RETRY_POLICY_RETRY" # a repeat publishes the same outcome_id
    service_account_email = google_service_account.trigger.email
  }
  invoker_members = {
    trigger = "serviceAccount:${google_service_account.trigger.email}"
  }

  depends_on = [
    google_project_iam_member.trigger_event_receiver,
    google_secret_manager_secret_iam_member.outcomes_webhook_accessor,
    google_secret_manager_secret_iam_member.outcomes_run_key_accessor,
    google_project_service.required,
    # With a run_ended route, start-up reads its templates (and creates runs as the pipeline
    # account from its first event).
    google_storage_bucket_object.templates,
    google_storage_bucket_iam_member.outcomes_templates_viewer,
    google_artifact_registry_repository_iam_member.outcomes_template_reader,
    google_service_account_iam_member.outcomes_acts_as_pipeline,
    google_kms_crypto_key_iam_member.vertex_agent_uses_kms_key,
    # The runs it launches (chains, retries) need the pipeline account's bucket grants too, or
    # Vertex answers their creates 400 (docs/operations.md, Errors and retries).
    google_storage_bucket_iam_member.pipeline_root_admin,
    google_storage_bucket_iam_member.pipeline_models_admin,
    google_storage_bucket_iam_member.pipeline_data_viewer,
  ]
}

resource "google_service_account" "outcomes" {
  account_id   = "${var.name_prefix}-outcomes"
  project      = var.project_id
  display_name = "vertex-triggers run outcomes"
  description  = "Runs on_run_state: reads pipeline runs, publishes their outcomes, reads the webhook secrets, launches run_ended routes' runs."

  depends_on = [google_project_service.required]
}

# Reading a run needs aiplatform.pipelineJobs.get. roles/aiplatform.viewer is the narrowest
# predefined role with it (read-only on Vertex AI); a custom role with that one permission would be
# narrower, but a destroyed custom role's id cannot be reused for up to 37 days (README).
resource "google_project_iam_member" "outcomes_aiplatform_viewer" {
  count = local.outcomes_launch_runs ? 0 : 1

  project = var.project_id
  role    = "roles/aiplatform.viewer"
  member  = "serviceAccount:${google_service_account.outcomes.email}"
}

# on_run_state launches runs when a route retries failed runs (retry_failed) or follows a run
# (run_ended): it then holds what the launching functions hold to launch (iam.tf): create runs
# (and list, read and cancel them, for the routes' limits and overlap) with the custom launcher
# role, in place of the viewer role, and run them as the pipeline account. Without such a route
# none of these exist.
resource "google_project_iam_member" "outcomes_launcher" {
  count = local.outcomes_launch_runs ? 1 : 0

  project = var.project_id
  role    = google_project_iam_custom_role.trigger_launcher.name
  member  = "serviceAccount:${google_service_account.outcomes.email}"
}

resource "google_service_account_iam_member" "outcomes_acts_as_pipeline" {
  count = local.outcomes_launch_runs ? 1 : 0

  service_account_id = google_service_account.pipeline.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.outcomes.email}"
}

# A retry reads the route pauses first.
resource "google_storage_bucket_iam_member" "outcomes_state_viewer" {
  count = local.retries_enabled ? 1 : 0

  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.outcomes.email}"
}

resource "google_pubsub_topic_iam_member" "outcomes_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.outcomes.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.outcomes.email}"
}

# run_ended routes: on_run_state also reads the templates it checks at start-up. Reading the run
# whose end it got, task outputs included (jobDetail), needs no more than
# aiplatform.pipelineJobs.get, which both roles above hold.
locals {
  launches_chains      = anytrue([for r in local.routes : r.event == "run_ended"])
  outcomes_launch_runs = local.launches_chains || local.retries_enabled
}

resource "google_storage_bucket_iam_member" "outcomes_templates_viewer" {
  count = local.launches_chains ? 1 : 0

  bucket = local.templates_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.outcomes.email}"
}

resource "google_artifact_registry_repository_iam_member" "outcomes_template_reader" {
  for_each = local.launches_chains ? local.template_repositories : toset([])

  project    = split("/", each.value)[1]
  location   = split("/", each.value)[3]
  repository = split("/", each.value)[5]
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.outcomes.email}"
}

# Only the secrets the routes name, each one by itself.
resource "google_secret_manager_secret_iam_member" "outcomes_webhook_accessor" {
  for_each = toset([for secret in values(local.webhook_secrets) : secret if secret != null])

  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.outcomes.email}"
}
