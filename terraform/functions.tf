# One source archive: an explicit set of files of functions/ (the entry points, the package, the
# pinned runtime requirements) and the rendered triggers.yaml. Nothing else ships: test configs,
# notes or caches left in functions/ stay out. Entries are added from `source` blocks, which the
# archive provider writes sorted and without timestamps, so the archive's hash changes with the
# code or the routes and with nothing else.

locals {
  function_files = toset(concat(
    ["main.py", "requirements.txt"],
    tolist(fileset(local.functions_dir, "vertex_trigger/**/*.py")),
  ))

  function_memory = "256M" # the platform's default instance; the cold path is measured against it

  storage_trigger_region = lower(local.data_bucket_location)

  # The environment of the four functions (these two, on_run_state and the sweeper). Their config is
  # the archive's triggers.yaml beside main.py, so TRIGGERS_CONFIG is not set.
  function_environment = {
    GOOGLE_CLOUD_PROJECT = var.project_id
  }
}

data "archive_file" "function_source" {
  type        = "zip"
  output_path = "${path.module}/build/function-source.zip"

  dynamic "source" {
    for_each = local.function_files
    content {
      content  = file("${local.functions_dir}/${source.value}")
      filename = source.value
    }
  }

  source {
    # A base64 round trip, the identity for Terraform: checkov evaluates the rendered YAML's text
    # again and fails on it, then drops every function call that reads this archive from its
    # report, unchecked (tests/terraform/test_checkov.py checks each call is seen).
    content  = base64decode(base64encode(local.triggers_yaml))
    filename = "triggers.yaml"
  }
}

resource "google_storage_bucket_object" "function_source" {
  # Named by content hash: a code or route change uploads a new object and redeploys every function.
  name   = "function-source-${data.archive_file.function_source.output_sha256}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.function_source.output_path
}

# The functions are calls of ./modules/cloud_function (moved.tf moves the deployments that had them
# as resources here).

module "on_object_finalized" {
  source = "./modules/cloud_function"

  project_id  = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-object-finalized"
  description = "Launches a Vertex AI pipeline run for each new object in the data bucket that a route matches."
  labels      = local.labels

  runtime     = var.function_runtime
  entry_point = "on_object_finalized"
  source_archive = {
    bucket = google_storage_bucket.source.name
    object = google_storage_bucket_object.function_source.name
  }

  available_memory      = local.function_memory
  timeout_seconds       = var.function_timeout_seconds
  max_instance_count    = var.function_max_instance_count
  service_account_email = google_service_account.function_runtime.email
  ingress_settings      = "ALLOW_INTERNAL_ONLY"
  environment_variables = local.function_environment
  # The run key, from Secret Manager at instance start (never in the archive or the state).
  secret_environment_variables = local.run_key_environment

  event_trigger = {
    # Eventarc requires a Cloud Storage trigger to live in the bucket's own location.
    trigger_region        = local.storage_trigger_region
    event_type            = "google.cloud.storage.object.v1.finalized"
    retry_policy          = "RETRY_POLICY_RETRY" # launches are idempotent: a redelivery finds its run
    service_account_email = google_service_account.trigger.email
    event_filters = [
      { attribute = "bucket", value = local.data_bucket },
    ]
  }
  invoker_members = {
    trigger = "serviceAccount:${google_service_account.trigger.email}"
  }

  preconditions = [
    {
      # A conditional, not ||: Terraform before 1.12 evaluates both sides of a logical operator.
      condition     = var.routes_file == null ? length(var.routes) > 0 : length(var.routes) == 0
      error_message = "Give the routes one way: routes_file (the triggers.yaml you ran with make up and vertex-triggers check) or routes (HCL), not both and not neither."
    },
    {
      condition     = alltrue([for check in data.external.routes_check : check.result.ok == "true"])
      error_message = "vertex-triggers check refused the routes file (its error is above)."
    },
    {
      condition     = var.routes_file != null ? true : alltrue([for r in local.routes : can(regex("^(gs|https)://", r.template)) || contains(local.template_stems, r.template)])
      error_message = "A route's template names no file in the compiled templates directory; use a compiled file's stem or a full URI."
    },
    {
      condition     = var.routes_file == null ? true : alltrue([for r in local.routes : can(regex("^(gs|https)://", r.template)) ? true : fileexists("${local.routes_file_dir}/${r.template}")])
      error_message = "A route of the routes file names a template file that does not exist (paths are relative to the routes file)."
    },
    {
      condition     = length(local.file_template_names) == length(distinct(values(local.file_templates)))
      error_message = "Two templates of the routes file share a file name; they would be uploaded to the same object of the templates bucket. Rename one."
    },
    {
      condition     = var.routes_file == null ? alltrue([for r in local.routes : r.bucket == null || r.bucket == local.bucket_names.data]) : length(distinct([for r in local.routes : r.bucket if r.bucket != null])) <= 1
      error_message = "Only the data bucket has a storage trigger: routes (HCL) may name only it; a routes file's object routes must all name one bucket (the deployment watches the data bucket in its place)."
    },
    {
      condition     = alltrue([for r in local.routes : r.webhook_variable == null || r.webhook_secret != null])
      error_message = "A route's notify.webhook names a variable that routes_file_webhook_secrets does not map to a Secret Manager secret; on_run_state would not start."
    },
    {
      condition     = local.retry_deadline_seconds < var.function_timeout_seconds
      error_message = "launch_retry.deadline (one event's total for all its Google API calls: template read, list, create, list, cancels) must be shorter than function_timeout_seconds, or the platform cuts an event off mid-request."
    },
  ]

  # Start-up reads every route's template (an instance that cannot fails to start), so the
  # uploads and the runtime's read grants come first; runs need the CMEK grant before any launch.
  # A create needs actAs on the pipeline account, and Vertex checks that account's access to the
  # pipeline root: without them it answers 400, and the first events would wait for the grants.
  depends_on = [
    google_storage_bucket.data, # when created here: the trigger watches it
    google_project_iam_member.storage_agent_publisher,
    google_project_iam_member.trigger_event_receiver,
    google_project_service.required,
    google_storage_bucket_object.templates,
    google_storage_bucket_iam_member.function_runtime_templates_viewer,
    google_artifact_registry_repository_iam_member.function_runtime_template_reader,
    google_kms_crypto_key_iam_member.vertex_agent_uses_kms_key,
    google_service_account_iam_member.function_runtime_acts_as_pipeline,
    google_storage_bucket_iam_member.pipeline_root_admin,
    google_storage_bucket_iam_member.pipeline_models_admin,
    google_storage_bucket_iam_member.pipeline_data_viewer,
    google_secret_manager_secret_iam_member.function_runtime_run_key_accessor,
    google_project_iam_member.function_runtime_launcher,
    google_storage_bucket_iam_member.function_runtime_state_user,
  ]
}

module "on_drift_alert" {
  source = "./modules/cloud_function"

  project_id  = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-drift-alert"
  description = "Launches a retraining pipeline run for a model drift alert on the drift topic that a route matches."
  labels      = local.labels

  runtime     = var.function_runtime
  entry_point = "on_drift_alert"
  source_archive = {
    bucket = google_storage_bucket.source.name
    object = google_storage_bucket_object.function_source.name
  }

  available_memory      = local.function_memory
  timeout_seconds       = var.function_timeout_seconds
  max_instance_count    = var.function_max_instance_count
  service_account_email = google_service_account.function_runtime.email
  ingress_settings      = "ALLOW_INTERNAL_ONLY"
  environment_variables = local.function_environment
  # The run key, from Secret Manager at instance start (never in the archive or the state).
  secret_environment_variables = local.run_key_environment

  event_trigger = {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.drift.id
    retry_policy          = "RETRY_POLICY_RETRY" # the cooldown window's job id makes redeliveries duplicates
    service_account_email = google_service_account.trigger.email
  }
  invoker_members = {
    trigger = "serviceAccount:${google_service_account.trigger.email}"
  }

  # As the object function: start-up reads every template; runs need the CMEK grant, actAs on
  # the pipeline account and that account's bucket grants.
  depends_on = [
    google_project_iam_member.trigger_event_receiver,
    google_project_service.required,
    google_storage_bucket_object.templates,
    google_storage_bucket_iam_member.function_runtime_templates_viewer,
    google_artifact_registry_repository_iam_member.function_runtime_template_reader,
    google_kms_crypto_key_iam_member.vertex_agent_uses_kms_key,
    google_service_account_iam_member.function_runtime_acts_as_pipeline,
    google_storage_bucket_iam_member.pipeline_root_admin,
    google_storage_bucket_iam_member.pipeline_models_admin,
    google_storage_bucket_iam_member.pipeline_data_viewer,
    google_secret_manager_secret_iam_member.function_runtime_run_key_accessor,
    google_project_iam_member.function_runtime_launcher,
    google_storage_bucket_iam_member.function_runtime_state_user,
  ]
}
