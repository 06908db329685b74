resource "google_pubsub_topic" "drift" {
  #checkov:skip=CKV_GCP_83:Carries drift figures and model names only, encrypted at rest with Google-managed keys; CMEK is the platform team's key policy (README).
  name    = "${var.name_prefix}-drift-alerts"
  project = var.project_id
  labels  = local.labels

  depends_on = [google_project_service.required]
}

# Where events go once they exhaust their deliveries. The triggers' own subscriptions are created
# and owned by Eventarc, so the dead-letter policy is attached to them after apply (README, output
# dead_letter_setup_commands); this topic, its keeping subscription and the Pub/Sub service agent's
# right to publish here are what Terraform can own.
resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Carries the same event payloads as the Eventarc transports, Google-managed keys; CMEK is the platform team's key policy (README).
  name    = "${var.name_prefix}-dead-letter"
  project = var.project_id
  labels  = local.labels

  depends_on = [google_project_service.required]
}

resource "google_pubsub_subscription" "dead_letter" {
  name    = "${var.name_prefix}-dead-letter-keep"
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.id
  labels  = local.labels

  # Pull, never acknowledged by anything automatic: messages wait for an operator for the longest
  # retention Pub/Sub allows.
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = "" # never expires for inactivity
  }
}

locals {
  eventarc_triggers = {
    on_object_finalized = module.on_object_finalized.eventarc_trigger
    on_drift_alert      = module.on_drift_alert.eventarc_trigger
    on_run_state        = module.on_run_state.eventarc_trigger
  }

  # For each trigger (projects/P/locations/L/triggers/T): find the subscription Eventarc made for
  # it, give it the dead-letter policy, and let the Pub/Sub service agent subscribe to it, which
  # forwarding requires.
  dead_letter_setup_commands = join("\n", flatten([
    for fn, trigger in local.eventarc_triggers : [
      "SUB=$(gcloud eventarc triggers describe ${element(split("/", trigger), 5)} --project=${var.project_id} --location=${element(split("/", trigger), 3)} --format='value(transport.pubsub.subscription)')",
      "gcloud pubsub subscriptions update \"$SUB\" --dead-letter-topic=${google_pubsub_topic.dead_letter.id} --max-delivery-attempts=${var.dead_letter_max_delivery_attempts}",
      "gcloud pubsub subscriptions add-iam-policy-binding \"$SUB\" --member=serviceAccount:${local.pubsub_service_agent} --role=roles/pubsub.subscriber",
    ]
  ]))
}

# Opt-in: run those commands from `apply` (needs gcloud, authenticated, on the machine running
# Terraform). A replaced trigger comes with a new subscription, so a change of trigger reruns them.
resource "terraform_data" "attach_dead_letter" {
  count = var.attach_dead_letter_with_gcloud ? 1 : 0

  triggers_replace = [
    local.eventarc_triggers,
    google_pubsub_topic.dead_letter.id,
    var.dead_letter_max_delivery_attempts,
  ]

  provisioner "local-exec" {
    interpreter = ["bash", "-euo", "pipefail", "-c"]
    command     = local.dead_letter_setup_commands
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.pubsub_service_agent}"
}

# Optional: Vertex AI Model Monitoring's anomaly log entries become drift alerts (format 2 of the
# design) without any code between the monitor and the function.
resource "google_logging_project_sink" "model_monitoring" {
  count = var.enable_model_monitoring_sink ? 1 : 0

  name                   = "${var.name_prefix}-model-monitoring-anomalies"
  project                = var.project_id
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.drift.id}"
  filter                 = "logName=\"projects/${var.project_id}/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly\""
  unique_writer_identity = true

  depends_on = [google_project_service.required]
}

resource "google_pubsub_topic_iam_member" "model_monitoring_sink_publisher" {
  count = var.enable_model_monitoring_sink ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.drift.name
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.model_monitoring[0].writer_identity
}

# Optional: Cloud Monitoring alerting policies (and Vertex AI Model Monitoring v2, whose alerts go
# through notification channels) notify the drift topic; their incident JSON is a drift alert form.
# The Monitoring API, for that channel or the failed-events alerting policy (alerting.tf).
resource "google_project_service" "monitoring" {
  count = var.enable_monitoring_notification_channel || var.failed_events_alert != null ? 1 : 0

  project            = var.project_id
  service            = "monitoring.googleapis.com"
  disable_on_destroy = false
}

resource "google_monitoring_notification_channel" "drift" {
  count = var.enable_monitoring_notification_channel ? 1 : 0

  project      = var.project_id
  display_name = "${var.name_prefix} drift alerts (Pub/Sub)"
  description  = "Publishes incident notifications to ${google_pubsub_topic.drift.name}; on_drift_alert launches the drift routes they match."
  type         = "pubsub"
  labels = {
    topic = google_pubsub_topic.drift.id
  }
  user_labels = local.labels

  depends_on = [google_project_service.monitoring]
}

# Cloud Monitoring's notification service agent exists once the project has a Pub/Sub channel.
resource "google_pubsub_topic_iam_member" "monitoring_channel_publisher" {
  count = var.enable_monitoring_notification_channel ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.drift.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.monitoring_notification_agent}"

  depends_on = [google_monitoring_notification_channel.drift]
}

# What an operator watches while an event is being retried: one count per `decision: failed` log
# line the functions write (design: one structured line per event), on_run_state's included, and
# the sweep's: a route it could not sweep (a deployment problem, its time ran out) is one such line.
locals {
  failed_event_services = concat(
    [module.on_object_finalized.name, module.on_drift_alert.name, module.on_run_state.name],
    local.sweep_enabled ? [module.sweep[0].name] : [],
  )
  # Counted here, alerted on in alerting.tf.
  failed_events_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(${join(" OR ", [for service in local.failed_event_services : "\"${service}\""])}) AND jsonPayload.decision=\"failed\""
}

resource "google_logging_metric" "failed_events" {
  name    = "${var.name_prefix}/failed_events"
  project = var.project_id
  filter  = local.failed_events_filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }

  depends_on = [google_project_service.required]
}
