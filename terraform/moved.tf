# The four functions and their invoker grants were resources of this module until each became a
# call of ./modules/cloud_function. These blocks (Terraform >= 1.1) move what an existing deployment
# has at the old addresses to the new ones on its next plan, which then shows "has moved to" and no
# destroy or create; a new deployment has nothing at the old addresses and ignores them. Keep them:
# removing one makes a deployment that still has the old address destroy and recreate that object.

moved {
  from = google_cloudfunctions2_function.on_object_finalized
  to   = module.on_object_finalized.google_cloudfunctions2_function.this
}

moved {
  from = google_cloud_run_v2_service_iam_member.trigger_invokes_object_finalized
  to   = module.on_object_finalized.google_cloud_run_v2_service_iam_member.invoker["trigger"]
}

moved {
  from = google_cloudfunctions2_function.on_drift_alert
  to   = module.on_drift_alert.google_cloudfunctions2_function.this
}

moved {
  from = google_cloud_run_v2_service_iam_member.trigger_invokes_drift_alert
  to   = module.on_drift_alert.google_cloud_run_v2_service_iam_member.invoker["trigger"]
}

moved {
  from = google_cloudfunctions2_function.on_run_state
  to   = module.on_run_state.google_cloudfunctions2_function.this
}

moved {
  from = google_cloud_run_v2_service_iam_member.trigger_invokes_run_state
  to   = module.on_run_state.google_cloud_run_v2_service_iam_member.invoker["trigger"]
}

# The sweeper is counted (it exists only when local.sweep_enabled): instance [0] moves to
# the one instance of the counted module call.
moved {
  from = google_cloudfunctions2_function.sweep[0]
  to   = module.sweep[0].google_cloudfunctions2_function.this
}

moved {
  from = google_cloud_run_v2_service_iam_member.scheduler_invokes_sweep[0]
  to   = module.sweep[0].google_cloud_run_v2_service_iam_member.invoker["scheduler"]
}
