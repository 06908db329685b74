output "data_bucket" {
  description = "Watched bucket: a new object here that a route matches starts a run."
  value       = local.data_bucket
}

output "templates_bucket" {
  description = "Bucket holding the uploaded compiled templates."
  value       = local.templates_bucket
}

output "template_uris" {
  description = "gs:// URI of each uploaded compiled template, by file stem."
  value       = { for f, o in google_storage_bucket_object.templates : trimsuffix(f, ".yaml") => "gs://${o.bucket}/${o.name}" }
}

output "pipeline_root" {
  description = "gcsOutputDirectory of every run."
  value       = local.triggers_config.pipeline_root
}

output "models_bucket" {
  description = "Bucket for the house_prices model registry: pass gs://BUCKET/FOLDER as registry_uri."
  value       = google_storage_bucket.models.name
}

output "state_location" {
  description = "Where route pauses live (the config's state): vertex-triggers pause and resume write here."
  value       = local.triggers_config.state
}

output "drift_topic" {
  description = "Pub/Sub topic whose messages are drift alerts for on_drift_alert."
  value       = google_pubsub_topic.drift.id
}

output "drift_notification_channel" {
  description = "Cloud Monitoring notification channel publishing to the drift topic (null unless enable_monitoring_notification_channel): add it to alerting policies and Model Monitoring alert configs."
  value       = var.enable_monitoring_notification_channel ? google_monitoring_notification_channel.drift[0].name : null
}

output "run_outcomes_topic" {
  description = "Topic where on_run_state publishes one JSON message per run end (attributes route and state)."
  value       = google_pubsub_topic.outcomes.id
}

output "run_states_topic" {
  description = "Topic the log sink fills with Vertex AI PipelineJob log entries for on_run_state."
  value       = google_pubsub_topic.run_states.id
}

output "dead_letter_topic" {
  description = "Topic that receives events which exhausted their deliveries, once attached (see dead_letter_setup_commands)."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription" {
  description = "Pull subscription keeping dead-lettered events for seven days."
  value       = google_pubsub_subscription.dead_letter.id
}

output "functions" {
  description = "Name and Eventarc trigger of each function."
  value = {
    on_object_finalized = {
      name    = module.on_object_finalized.name
      trigger = local.eventarc_triggers.on_object_finalized
    }
    on_drift_alert = {
      name    = module.on_drift_alert.name
      trigger = local.eventarc_triggers.on_drift_alert
    }
    on_run_state = {
      name    = module.on_run_state.name
      trigger = local.eventarc_triggers.on_run_state
    }
  }
}

output "sweeper" {
  description = "The sweep function and its Cloud Scheduler job, or null when no route sets sweep_lookback, max_duration, retry_failed, max_running or overlap."
  value = local.sweep_enabled ? {
    name     = module.sweep[0].name
    url      = module.sweep[0].uri
    schedule = google_cloud_scheduler_job.sweep[0].schedule
    job      = google_cloud_scheduler_job.sweep[0].id
  } : null
}

output "service_accounts" {
  description = "Email of each service account this configuration creates."
  value = {
    function_runtime = google_service_account.function_runtime.email
    pipeline         = google_service_account.pipeline.email
    trigger          = google_service_account.trigger.email
    outcomes         = google_service_account.outcomes.email
    scheduler        = local.sweep_enabled ? google_service_account.scheduler[0].email : null
  }
}

output "triggers_yaml" {
  description = "The triggers.yaml deployed with the functions, rendered from the routes file (or var.routes)."
  value       = local.triggers_yaml
}

output "dead_letter_setup_commands" {
  description = "gcloud commands that attach the dead-letter topic to the Pub/Sub subscriptions Eventarc created for the three triggers (Terraform cannot own those subscriptions)."
  value       = local.dead_letter_setup_commands
}
