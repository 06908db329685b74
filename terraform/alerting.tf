# An incident whenever a function logs `decision: failed`: an event a retry may still fix (Eventarc
# redelivers it, and each redelivery logs again, keeping the incident open) but an operator should
# see: a deployment problem, a template that cannot be read, a quota that does not free, a sweep
# that could not sweep a route. The same lines the failed_events metric counts (pubsub.tf).
#
# A log-match condition, not a threshold on that metric: a metric-threshold policy created in the
# same apply as its log-based metric is refused until the metric propagates, up to 10 minutes
# ("Cannot find metric(s) that match type", hashicorp/terraform-provider-google#11102).
resource "google_monitoring_alert_policy" "failed_events" {
  count = var.failed_events_alert != null ? 1 : 0

  project      = var.project_id
  display_name = "${var.name_prefix}: failed events"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "a function logged decision=failed"
    condition_matched_log {
      filter = local.failed_events_filter
      # One incident per route and function: a second failing route is not hidden by the first.
      label_extractors = {
        route    = "EXTRACT(jsonPayload.route)"
        function = "EXTRACT(resource.labels.service_name)"
      }
    }
  }

  alert_strategy {
    notification_rate_limit {
      period = var.failed_events_alert.notification_period
    }
    auto_close = var.failed_events_alert.auto_close
  }
  notification_channels = var.failed_events_alert.notification_channels

  documentation {
    mime_type = "text/markdown"
    subject   = "${var.name_prefix}: an event failed on route $${log.extracted_label.route}"
    content   = "Function `$${log.extracted_label.function}` logged `decision: failed` for route `$${log.extracted_label.route}`: the event is redelivered (or, for the sweep, the next sweep tries again) until what its `reason` names is fixed. Read the lines with `resource.type=\"cloud_run_revision\" AND jsonPayload.decision=\"failed\"`; docs/operations.md says what each reason means and which events a replay recovers from the dead-letter subscription."
  }
  user_labels = local.labels

  depends_on = [google_project_service.monitoring]
}
