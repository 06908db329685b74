# The functions' triggers.yaml. Its routes come from the routes file you ran locally
# (var.routes_file: `vertex-triggers check` refuses a bad one at plan time, below) or,
# the alternative, from var.routes written in HCL, which renders the same YAML. Either way
# Terraform fills in only the deployment's values: project, region, pipeline_root,
# service_account, network, kms_key and outcomes_topic; each object route's bucket (the data
# bucket, the one with a trigger); each template that is a local file (its uploaded object).
# Its keys are the configuration contract's (docs: ../docs/configuration.md).

locals {
  template_files = fileset(local.compiled_dir, "*.yaml")
  template_stems = toset([for f in local.template_files : trimsuffix(f, ".yaml")])

  # The routes file as written (null without one); its folder anchors relative template paths.
  routes_document = var.routes_file == null ? null : yamldecode(file(var.routes_file))
  routes_file_dir = var.routes_file == null ? "" : dirname(abspath(var.routes_file))
  file_routes     = var.routes_file == null ? [] : local.routes_document.routes

  # What the rest of the module reads of each route, whichever way the routes are written (one of
  # the two lists is empty: a precondition on on_object_finalized).
  routes = concat([
    for r in var.routes : {
      name             = r.name
      event            = r.event
      template         = r.template
      bucket           = r.bucket
      batch            = r.batch != null
      sweep_lookback   = r.sweep_lookback
      max_duration     = r.max_duration
      retry_failed     = r.retry_failed != null
      max_running      = r.max_running
      overlap          = r.overlap != null
      after_template   = r.after == null ? null : r.after.template
      webhook_variable = r.notify == null ? null : "WEBHOOK_URL_${upper(replace(r.name, "-", "_"))}"
      webhook_secret   = r.notify == null ? null : r.notify.webhook_secret
    }
    ], [
    for r in local.file_routes : {
      name             = r.name
      event            = r.event
      template         = r.template
      bucket           = lookup(r, "bucket", null)
      batch            = lookup(r, "batch", null) != null
      sweep_lookback   = lookup(r, "sweep_lookback", null)
      max_duration     = lookup(r, "max_duration", null)
      retry_failed     = lookup(r, "retry_failed", null) != null
      max_running      = lookup(r, "max_running", null)
      overlap          = lookup(r, "overlap", null) != null
      after_template   = try(r.after.template, null)
      webhook_variable = local.file_webhook_variables[r.name]
      # The file names the variable; the deployment says which secret holds its value.
      webhook_secret = lookup(var.routes_file_webhook_secrets, coalesce(local.file_webhook_variables[r.name], "-"), null)
    }
  ])

  # The variable a routes file's route posts its webhook URL from: notify.webhook's NAME.
  file_webhook_variables = {
    for r in local.file_routes : r.name => lookup(r, "notify", null) == null ? null : replace(r.notify.webhook, "/[^A-Za-z0-9_]/", "")
  }

  # Templates that are files (a routes file's paths, relative to it): uploaded by file name.
  file_templates = {
    for r in local.file_routes : r.name => "${local.routes_file_dir}/${r.template}"
    if !can(regex("^(gs|https)://", r.template))
  }
  file_template_names = distinct([for path in values(local.file_templates) : basename(path)])

  # What google_storage_bucket_object.templates uploads: object name => local file. With var.routes,
  # every compiled template (routes name them by stem); with a routes file, the files it names.
  template_uploads = var.routes_file == null ? tomap({
    for f in local.template_files : f => "${local.compiled_dir}/${f}"
    }) : tomap({
    for name in local.file_template_names : name => [for path in values(local.file_templates) : path if basename(path) == name][0]
  })

  # A bare stem (var.routes) or a file (a routes file) names an uploaded template; anything else
  # is already a URI.
  route_templates = {
    for r in local.routes : r.name => (
      can(regex("^(gs|https)://", r.template)) ? r.template : (
        var.routes_file == null
        ? "gs://${local.templates_bucket}/${r.template}.yaml"
        : "gs://${local.templates_bucket}/${basename(r.template)}"
      )
    )
  }

  hcl_rendered_routes = [
    for r in var.routes : {
      # Null optionals are left out: an absent key means "as compiled" or "no filter".
      for key, value in merge(r, {
        bucket   = r.event == "object_finalized" ? coalesce(r.bucket, local.data_bucket) : null
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
              ? "gs://${local.templates_bucket}/${r.after.template}.yaml"
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

  # A routes file's routes as written, but for the bucket and the template.
  file_rendered_routes = [
    for r in local.file_routes : {
      for key, value in merge(r, {
        bucket   = r.event == "object_finalized" ? local.data_bucket : null
        template = local.route_templates[r.name]
      }) : key => value if value != null
    }
  ]

  rendered_routes = jsondecode(var.routes_file == null ? jsonencode(local.hcl_rendered_routes) : jsonencode(local.file_rendered_routes))

  # The functions' own defaults apply to every retry key left unset; launch_retry's keys win over
  # a routes file's `retry`.
  launch_retry = merge(
    var.routes_file == null ? {} : lookup(local.routes_document, "retry", {}),
    { for key, value in var.launch_retry : key => value if value != null },
  )

  duration_seconds = { ms = 0.001, s = 1, m = 60, h = 3600, d = 86400 }
  # One event's whole time for Google API calls: the functions share this budget across every
  # call an event makes and cut each attempt's timeouts to what is left of it.
  retry_deadline = lookup(local.launch_retry, "deadline", null)
  retry_deadline_seconds = (
    local.retry_deadline == null
    ? 45
    : tonumber(regex("^[0-9.]+", local.retry_deadline)) * local.duration_seconds[regex("(ms|s|m|h|d)$", local.retry_deadline)[0]]
  )

  triggers_config = {
    for key, value in {
      project         = var.project_id
      region          = var.region
      pipeline_root   = "gs://${local.pipeline_root_bucket}/${var.pipeline_root_path}"
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

# The routes file is checked at plan time by `vertex-triggers check`: the instances' own start-up
# check (keys, every route against its template, placeholder types) and KFP's reading of each
# template. The external provider runs it when Terraform reads data sources, before anything is
# created; a file that fails stops the plan with check's own error line (docs/deploy.md).
locals {
  routes_check_program = var.routes_check_program != null ? var.routes_check_program : [
    abspath("${path.module}/../.venv/bin/python"), "-m", "triggers_cli.terraform_check",
  ]
}

data "external" "routes_check" {
  count = var.routes_file == null ? 0 : 1

  program = local.routes_check_program
  query = {
    routes_file = abspath(var.routes_file)
  }
}
