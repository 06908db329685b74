# The functions' triggers.yaml, rendered from var.routes so routes are described once, here.
# Its keys are the configuration contract's (docs: ../docs/configuration.md).

locals {
  template_files = fileset(local.compiled_dir, "*.yaml")
  template_stems = toset([for f in local.template_files : trimsuffix(f, ".yaml")])

  # A bare stem names an uploaded compiled template; anything else is already a URI.
  route_templates = {
    for r in var.routes : r.name => (
      contains(local.template_stems, r.template)
      ? "gs://${google_storage_bucket.templates.name}/${r.template}.yaml"
      : r.template
    )
  }

  rendered_routes = [
    for r in var.routes : {
      # Null optionals are left out: an absent key means "as compiled" or "no filter".
      for key, value in merge(r, {
        bucket   = r.event == "object_finalized" ? coalesce(r.bucket, google_storage_bucket.data.name) : null
        template = local.route_templates[r.name]
        labels   = length(r.labels) > 0 ? r.labels : null
        # The one rule set, without the unset ones Terraform's optional() fills with null.
        batch = r.batch == null ? null : {
          complete_when = { for rule, value in r.batch.complete_when : rule => value if value != null }
        }
        # The URL stays in Secret Manager: the file names the variable on_run_state gets it in.
        notify = r.notify == null ? null : { webhook = format("$${%s}", local.webhook_variables[r.name]), on = r.notify.on }
        # A pipeline: upstream's template (to check what the route reads of it) resolves likewise.
        after = r.after == null ? null : {
          for key, value in merge(r.after, {
            template = r.after.template == null ? null : (
              contains(local.template_stems, r.after.template)
              ? "gs://${google_storage_bucket.templates.name}/${r.after.template}.yaml"
              : r.after.template
            )
          }) : key => value if value != null
        }
        # The keys set, without the unset ones Terraform's optional() fills with null.
        overlap      = r.overlap == null ? null : { for key, value in r.overlap : key => value if value != null }
        retry_failed = r.retry_failed == null ? null : { for key, value in r.retry_failed : key => value if value != null }
      }) : key => value if value != null
    }
  ]

  # The functions' own defaults apply to every retry key left unset.
  launch_retry = { for key, value in var.launch_retry : key => value if value != null }

  duration_seconds = { ms = 0.001, s = 1, m = 60, h = 3600, d = 86400 }
  # One event's whole time for Google API calls: the functions share this budget across every
  # call an event makes and cut each attempt's timeouts to what is left of it.
  retry_deadline_seconds = (
    var.launch_retry.deadline == null
    ? 45
    : tonumber(regex("^[0-9.]+", var.launch_retry.deadline)) * local.duration_seconds[regex("(ms|s|m|h|d)$", var.launch_retry.deadline)[0]]
  )

  triggers_config = {
    for key, value in {
      project         = var.project_id
      region          = var.region
      pipeline_root   = "gs://${google_storage_bucket.pipeline_root.name}/${var.pipeline_root_path}"
      service_account = google_service_account.pipeline.email
      network         = var.network
      kms_key         = var.kms_key
      retry           = length(local.launch_retry) > 0 ? local.launch_retry : null
      outcomes_topic  = local.outcomes_topic
      state           = "gs://${google_storage_bucket.state.name}/triggers"
      # Deferred events wait here for the sweeper: the same bucket, apart from the pauses.
      parking = "gs://${google_storage_bucket.state.name}/parking"
      # The sweep's own time, inside the function's timeout: it stops, logs and answers first.
      sweep_deadline = local.sweep_enabled ? "${var.sweep_timeout_seconds - 10}s" : null
      routes         = local.rendered_routes
    } : key => value if value != null
  }

  triggers_yaml = yamlencode(local.triggers_config)
}
