# The functions' triggers.yaml, rendered from var.routes so routes are described once, here.
# Its keys are the configuration contract's (docs: ../README.md, shape: shared design).

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
      }) : key => value if value != null
    }
  ]

  triggers_config = {
    for key, value in {
      project         = var.project_id
      region          = var.region
      pipeline_root   = "gs://${google_storage_bucket.pipeline_root.name}/${var.pipeline_root_path}"
      service_account = google_service_account.pipeline.email
      network         = var.network
      kms_key         = var.kms_key
      routes          = local.rendered_routes
    } : key => value if value != null
  }

  triggers_yaml = yamlencode(local.triggers_config)
}
