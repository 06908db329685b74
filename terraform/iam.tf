# Three identities (on_run_state's fourth is in outcomes.tf, the sweeper's scheduler in
# sweeper.tf), each holding only what it uses, plus the Google service agents' grants the platform
# needs; who may invoke each function is granted by its module call (invoker_members). No keys are
# created for any account: the functions, Eventarc and Vertex AI all act as these accounts through
# the platform. terraform/README.md, "What the deployment needs", lists every grant here and the
# module calls' with why (a test keeps the two equal).

locals {
  pubsub_service_agent          = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  monitoring_notification_agent = "service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
}

data "google_storage_project_service_account" "this" {
  project = var.project_id

  depends_on = [google_project_service.required]
}

resource "google_service_account" "function_runtime" {
  account_id   = "${var.name_prefix}-fn"
  project      = var.project_id
  display_name = "vertex-triggers functions runtime"
  description  = "Runs on_object_finalized and on_drift_alert: reads events' objects and templates, launches Vertex AI pipeline runs."

  depends_on = [google_project_service.required]
}

resource "google_service_account" "pipeline" {
  account_id   = "${var.name_prefix}-pipeline"
  project      = var.project_id
  display_name = "vertex-triggers pipeline runs"
  description  = "Identity of the Vertex AI pipeline runs: reads the data bucket, writes the pipeline root."

  depends_on = [google_project_service.required]
}

resource "google_service_account" "trigger" {
  account_id   = "${var.name_prefix}-trigger"
  project      = var.project_id
  display_name = "vertex-triggers Eventarc triggers"
  description  = "Identity Eventarc uses to deliver events to the functions."

  depends_on = [google_project_service.required]
}

# Functions runtime: launch runs, read what the routes and templates point at, act as the pipeline
# account for the runs it launches, and nothing else project-wide. Instead of roles/aiplatform.user
# (every Vertex AI resource), a custom role with the calls the functions make: create, get, list
# and cancel PipelineJobs, and what Vertex checks on the caller when it creates one (README, "What
# the deployment needs", cites each).
resource "google_project_iam_custom_role" "trigger_launcher" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_launcher"
  title       = "vertex-triggers launcher"
  description = "Create, read, list and cancel Vertex AI PipelineJobs, as the trigger functions do; nothing else of Vertex AI."
  permissions = [
    "aiplatform.pipelineJobs.create",
    "aiplatform.pipelineJobs.get",
    "aiplatform.pipelineJobs.list",
    "aiplatform.pipelineJobs.cancel",
    "aiplatform.metadataStores.get",
    "aiplatform.artifacts.get",
  ]

  depends_on = [google_project_service.required]
}

resource "google_project_iam_member" "function_runtime_launcher" {
  project = var.project_id
  role    = google_project_iam_custom_role.trigger_launcher.name
  member  = "serviceAccount:${google_service_account.function_runtime.email}"
}

# Parked deferrals: create, read and delete objects under the state bucket's parking/ prefix only
# (no IAM, no ACLs), never the pause records beside them; listing is function_runtime_state_viewer's.
resource "google_storage_bucket_iam_member" "function_runtime_state_user" {
  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.function_runtime.email}"

  condition {
    title       = "parked-events-only"
    description = "Objects under parking/: the events deferred at a route's cap, not the route pauses."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.state.name}/objects/parking/\")"
  }
}

# The run key (TRIGGER_RUN_KEY), read at instance start by every function: the three that launch
# (this account) and on_run_state (its own account), that one secret only.
resource "google_secret_manager_secret_iam_member" "function_runtime_run_key_accessor" {
  project   = var.project_id
  secret_id = local.run_key_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function_runtime.email}"
}

resource "google_secret_manager_secret_iam_member" "outcomes_run_key_accessor" {
  project   = var.project_id
  secret_id = local.run_key_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.outcomes.email}"
}

# Only batch routes (which list a folder and read its manifest) and the sweeper (which lists a
# route's prefix) read the data bucket; without them the functions never touch its objects.
resource "google_storage_bucket_iam_member" "function_runtime_data_viewer" {
  count = local.lists_data_bucket ? 1 : 0

  bucket = local.data_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.function_runtime.email}"

  depends_on = [google_storage_bucket.data] # when created here
}

resource "google_storage_bucket_iam_member" "function_runtime_templates_viewer" {
  bucket = local.templates_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.function_runtime.email}"

  depends_on = [google_storage_bucket.templates] # when created here
}

# Start-up reads every route's template; those in Artifact Registry need the repository's reader.
resource "google_artifact_registry_repository_iam_member" "function_runtime_template_reader" {
  for_each = local.template_repositories

  project    = split("/", each.value)[1]
  location   = split("/", each.value)[3]
  repository = split("/", each.value)[5]
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.function_runtime.email}"
}

# Every launching function, and the sweeper, reads the route pauses before it launches.
resource "google_storage_bucket_iam_member" "function_runtime_state_viewer" {
  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.function_runtime.email}"
}

# Who may pause and resume routes: write and replace the pause records, in this bucket only.
resource "google_storage_bucket_iam_member" "pausers_state_user" {
  for_each = toset(var.pausers)

  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectUser"
  member = each.value
}

resource "google_service_account_iam_member" "function_runtime_acts_as_pipeline" {
  service_account_id = google_service_account.pipeline.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.function_runtime.email}"
}

# Pipeline runs: read the data, write their outputs under the pipeline root and their models to
# the registry bucket.
resource "google_project_iam_member" "pipeline_aiplatform_user" {
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_storage_bucket_iam_member" "pipeline_root_admin" {
  bucket = local.pipeline_root_bucket
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.pipeline.email}"

  depends_on = [google_storage_bucket.pipeline_root] # when created here
}

resource "google_storage_bucket_iam_member" "pipeline_models_admin" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.pipeline.email}"
}

# What else the pipelines read (var.pipeline_read_access): read-only, each bucket or dataset by
# itself; BigQuery's jobUser on the project only because a query runs as a job here.
resource "google_storage_bucket_iam_member" "pipeline_reads" {
  for_each = toset(var.pipeline_read_access.buckets)

  bucket = each.value
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_bigquery_dataset_iam_member" "pipeline_reads" {
  for_each = toset(var.pipeline_read_access.bigquery_datasets)

  project    = split(".", each.value)[0]
  dataset_id = split(".", each.value)[1]
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.pipeline.email}"

  depends_on = [google_project_service.required]
}

resource "google_project_iam_member" "pipeline_bigquery_job_user" {
  count = length(var.pipeline_read_access.bigquery_datasets) > 0 ? 1 : 0

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.pipeline.email}"
}

resource "google_storage_bucket_iam_member" "pipeline_data_viewer" {
  bucket = local.data_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.pipeline.email}"

  depends_on = [google_storage_bucket.data] # when created here
}

# Eventarc triggers: receive events (a project-level role by design of Eventarc) and invoke the three
# event functions' Cloud Run services, and no other service (each function's module call grants
# roles/run.invoker on its own service through invoker_members).
resource "google_project_iam_member" "trigger_event_receiver" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.trigger.email}"
}

# Cloud Storage publishes object events to Eventarc's transport topic, which Eventarc names at
# trigger creation; its service agent therefore needs the publisher role on the project.
resource "google_project_iam_member" "storage_agent_publisher" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
}

# CMEK (var.kms_key). Vertex AI's service agent encrypts the runs' resources with the key; Cloud
# Storage's encrypts what runs write to the pipeline root and models buckets, whose default key it
# is. Each agent is made to exist first: a grant to an agent not created yet fails.
resource "google_project_service_identity" "aiplatform" {
  count    = var.kms_key == null ? 0 : 1
  provider = google-beta

  project = var.project_id
  service = "aiplatform.googleapis.com"

  depends_on = [google_project_service.required]
}

resource "google_kms_crypto_key_iam_member" "vertex_agent_uses_kms_key" {
  count = var.kms_key == null ? 0 : 1

  crypto_key_id = local.kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_project_service_identity.aiplatform[0].email}"

  lifecycle {
    precondition {
      condition     = var.kms_key == null ? true : local.kms_key_location == var.region
      error_message = "kms_key must be in var.region: Vertex AI requires a resource's Cloud KMS key in the resource's own region."
    }
  }
}

resource "google_kms_crypto_key_iam_member" "storage_agent_uses_kms_key" {
  count = var.kms_key == null ? 0 : 1

  crypto_key_id = local.kms_key_id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
}
