variable "project_id" {
  description = "Google Cloud project that hosts the buckets, functions, topics and Vertex AI runs."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, the Pub/Sub trigger and the Vertex AI pipeline runs."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1."
  }
}

variable "bucket_location" {
  description = "Location of the buckets (a region, dual-region or multi-region such as US). Null means var.region. The storage trigger runs in this location, as Eventarc requires."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of the functions, service accounts and topics this configuration creates."
  type        = string
  default     = "vertex-triggers"

  validation {
    # Service account ids are 6-30 characters; the suffixes added are "-fn" to "-pipeline".
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name_prefix))
    error_message = "name_prefix must be 3-20 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "bucket_names" {
  description = "Bucket names; each one left null is derived from the project ID."
  type = object({
    data          = optional(string)
    templates     = optional(string)
    pipeline_root = optional(string)
    models        = optional(string)
    source        = optional(string)
    state         = optional(string)
  })
  default = {}
}

variable "run_key_secret" {
  description = "Secret Manager secret (id, in var.project_id) holding the run key: the functions label the runs they create with an HMAC of the job id under it, and count and report only runs whose label verifies. Create it before apply (README); null means \"<name_prefix>-run-key\"."
  type        = string
  default     = null

  validation {
    condition     = var.run_key_secret == null || can(regex("^[A-Za-z0-9_-]{1,255}$", var.run_key_secret))
    error_message = "run_key_secret must be a Secret Manager secret id: 1-255 letters, digits, hyphens or underscores."
  }
}

variable "force_destroy_buckets" {
  description = "Whether `terraform destroy` may delete buckets that still hold objects."
  type        = bool
  default     = false
}

variable "functions_source_dir" {
  description = "Directory of the functions' source (main.py, its package, requirements.txt). Null means ../functions beside this directory."
  type        = string
  default     = null
}

variable "compiled_templates_dir" {
  description = "Directory of compiled KFP pipeline YAML uploaded to the templates bucket. Null means ../compiled beside this directory."
  type        = string
  default     = null
}

variable "function_runtime" {
  description = "Python runtime of the functions: python311 to python314 (the code needs Python 3.11 or later). The default is the newest the tests ran on (3.11; docs/deploy.md, \"Runtimes\"); 3.12 to 3.14 are checked statically (tests/functions/test_runtime_compat.py). python311 is deprecated on 2027-10-24."
  type        = string
  default     = "python311"

  validation {
    condition     = contains(["python311", "python312", "python313", "python314"], var.function_runtime)
    error_message = "function_runtime must be python311, python312, python313 or python314: the functions need Python 3.11 or later."
  }
}

variable "function_max_instance_count" {
  description = "Upper bound on instances of each function; bounds concurrent Vertex AI launches too."
  type        = number
  default     = 10

  validation {
    condition     = var.function_max_instance_count >= 1 && var.function_max_instance_count <= 1000 && floor(var.function_max_instance_count) == var.function_max_instance_count
    error_message = "function_max_instance_count must be a whole number from 1 to 1000."
  }
}

variable "function_timeout_seconds" {
  description = "Request timeout of each function. Event-driven functions allow at most 540 seconds."
  type        = number
  default     = 120

  validation {
    condition     = var.function_timeout_seconds >= 1 && var.function_timeout_seconds <= 540 && floor(var.function_timeout_seconds) == var.function_timeout_seconds
    error_message = "function_timeout_seconds must be a whole number from 1 to 540."
  }
}

variable "pipeline_root_path" {
  description = "Folder inside the pipeline root bucket that becomes the runs' gcsOutputDirectory."
  type        = string
  default     = "runs"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.pipeline_root_path))
    error_message = "pipeline_root_path must be a relative object path without leading or trailing slashes."
  }
}

variable "network" {
  description = "VPC network peered with Vertex AI for the runs (projects/NUMBER/global/networks/NAME); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.network == null || can(regex("^projects/[0-9]+/global/networks/[a-z0-9-]+$", var.network))
    error_message = "network must look like projects/PROJECT_NUMBER/global/networks/NETWORK."
  }
}

variable "kms_key" {
  description = "Cloud KMS key for the runs' encryptionSpec and the default key of the pipeline root and models buckets (projects/P/locations/L/keyRings/R/cryptoKeys/K, in var.region); null for Google-managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key))
    error_message = "kms_key must look like projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "routes_file" {
  description = <<-EOT
    The routes file to deploy: the triggers.yaml you checked with `vertex-triggers check` and ran
    with `make up CONFIG=...` (a path, relative to where Terraform runs). Its routes are deployed
    as written, with templates that are local files (relative to the routes file) uploaded to the
    templates bucket and each object route's bucket set to the data bucket; project, region,
    pipeline_root, service_account, network, kms_key and outcomes_topic are this deployment's.
    `vertex-triggers check` refuses a bad file at plan time (routes_check_program). Set this or
    `routes`, not both.
  EOT
  type        = string
  default     = null
}

variable "routes_file_webhook_secrets" {
  description = "For a routes file whose routes post to a webhook (notify.webhook: \"$${VARIABLE}\"): VARIABLE => the Secret Manager secret id (in this project) holding the URL, which on_run_state reads into that variable."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for variable, secret in var.routes_file_webhook_secrets : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", variable)) && can(regex("^[A-Za-z0-9_-]{1,255}$", secret))])
    error_message = "routes_file_webhook_secrets maps environment variable names to Secret Manager secret ids (letters, digits, - and _)."
  }
}

variable "routes_check_program" {
  description = "The command that checks the routes file at plan time (the external provider's protocol: a JSON query with routes_file on stdin). Null means the project's: ../.venv/bin/python -m triggers_cli.terraform_check (run `make .venv/.installed` first)."
  type        = list(string)
  default     = null
}

variable "routes" {
  description = <<-EOT
    The alternative to routes_file: routes written in HCL, rendered into the same triggers.yaml.
    Routes of the functions' triggers.yaml, in the configuration contract's shape. `template` is the
    stem of a file in the compiled templates directory (uploaded and resolved to
    gs://TEMPLATES_BUCKET/STEM.yaml) or a full gs:// or https://REGION-kfp.pkg.dev/ URI. Object routes
    default `bucket` to the data bucket, the only bucket with a trigger. Parameter values are
    strings (placeholders allowed); the functions convert each one to the template's declared type.
    `notify` posts a route's run outcomes to a webhook whose URL is the value of the Secret Manager
    secret `webhook_secret` (an existing secret of the project; the URL never enters Terraform), for
    the end states in `on` (SUCCEEDED, FAILED, CANCELLED; default FAILED).
    `batch`, `sweep_lookback`, `partitions`, `max_running` and `max_runs_per_day` are the functions'
    keys of the same names (docs/configuration.md: batch routes, limits, the sweeper, partitions); a
    `sweep_lookback` on any route
    creates the sweep function and its schedule. A `run_ended` route launches when a run of the
    route `after.route` (or of the compiled pipeline `after.pipeline`, whose template
    `after.template` is a stem or URI like `template`) ends in one of `after.states` (default
    SUCCEEDED); on_run_state launches it, and is then granted what launching needs.
    `overlap`, `max_duration` and `retry_failed` are the run lifecycle's keys (docs/configuration.md:
    the run lifecycle); `max_duration` or `retry_failed` on any route creates the sweep function too
    (its watchdog, its retries), and `retry_failed` lets on_run_state launch runs.
  EOT
  type = list(object({
    name           = string
    event          = string
    template       = string
    parameters     = optional(map(string), {})
    labels         = optional(map(string), {})
    enable_caching = optional(bool)
    bucket         = optional(string)
    prefix         = optional(string)
    suffix         = optional(string)
    match          = optional(map(string))
    policy_labels  = optional(map(string))
    min_deviation  = optional(number)
    cooldown       = optional(string)
    notify = optional(object({
      webhook_secret = string
      on             = optional(list(string), ["FAILED"])
    }))
    batch = optional(object({
      complete_when = object({
        marker      = optional(string)
        min_objects = optional(number)
        manifest    = optional(string)
        quiet       = optional(string)
      })
    }))
    sweep_lookback   = optional(string)
    partitions       = optional(string)
    max_running      = optional(number)
    max_runs_per_day = optional(number)
    after = optional(object({
      route    = optional(string)
      pipeline = optional(string)
      states   = optional(list(string))
      template = optional(string)
    }))
    overlap = optional(object({
      with = optional(string)
      then = string
    }))
    max_duration = optional(string)
    retry_failed = optional(object({
      attempts = number
      after    = optional(string)
    }))
    renamed_from = optional(list(string))
  }))
  default = []

  validation {
    condition     = alltrue([for r in var.routes : can(regex("^[a-z][a-z0-9-]{0,39}$", r.name))])
    error_message = "Every route name must match ^[a-z][a-z0-9-]{0,39}$."
  }

  validation {
    condition     = length(distinct([for r in var.routes : r.name])) == length(var.routes)
    error_message = "Route names must be unique."
  }

  validation {
    condition     = alltrue([for r in var.routes : contains(["object_finalized", "drift_alert", "run_ended"], r.event)])
    error_message = "Every route event must be object_finalized, drift_alert or run_ended."
  }

  validation {
    condition     = alltrue([for r in var.routes : (r.event == "run_ended") == (r.after != null)])
    error_message = "after is required on run_ended routes and belongs to them only."
  }

  validation {
    condition = alltrue([
      # Conditionals, not ||: Terraform before 1.12 evaluates both sides of a logical operator.
      for r in var.routes : r.after == null ? true : (
        (r.after.route == null) != (r.after.pipeline == null)
        && (r.after.template == null || r.after.pipeline != null)
        && alltrue([for state in coalesce(r.after.states, ["SUCCEEDED"]) : contains(["SUCCEEDED", "FAILED", "CANCELLED"], state)])
      )
    ])
    error_message = "after names exactly one of route or pipeline (template only with pipeline), and its states are SUCCEEDED, FAILED or CANCELLED."
  }

  validation {
    condition = alltrue([
      for r in var.routes : r.event == "object_finalized" || (r.bucket == null && r.prefix == null && r.suffix == null)
    ])
    error_message = "bucket, prefix and suffix belong to object_finalized routes only."
  }

  validation {
    condition = alltrue([
      for r in var.routes : r.event == "drift_alert" || (r.match == null && r.policy_labels == null && r.min_deviation == null && r.cooldown == null)
    ])
    error_message = "match, policy_labels, min_deviation and cooldown belong to drift_alert routes only."
  }

  validation {
    condition = alltrue([
      for r in var.routes : r.event == "object_finalized" || (r.batch == null && r.partitions == null && (r.event == "run_ended" || r.sweep_lookback == null))
    ])
    error_message = "batch and partitions belong to object_finalized routes only, sweep_lookback to object_finalized and run_ended routes."
  }

  validation {
    condition = alltrue([
      # A conditional, not ||: Terraform before 1.12 evaluates both sides of a logical operator.
      for r in var.routes : r.batch == null ? true : length([for rule, value in r.batch.complete_when : rule if value != null]) == 1
    ])
    error_message = "batch.complete_when takes exactly one rule: marker, min_objects, manifest or quiet."
  }

  validation {
    condition = alltrue(flatten([
      for r in var.routes : [
        for value in [r.sweep_lookback, r.batch == null ? null : r.batch.complete_when.quiet] : value == null || can(regex("^[0-9]+[smhd]$", coalesce(value, "0s")))
      ]
    ]))
    error_message = "sweep_lookback and batch.complete_when.quiet must be a whole number followed by s, m, h or d, such as 2h."
  }

  validation {
    condition = alltrue(flatten([
      for r in var.routes : [
        for value in [r.max_running, r.max_runs_per_day] : value == null || (coalesce(value, 1) >= 1 && coalesce(value, 1) <= 1000 && floor(coalesce(value, 1)) == coalesce(value, 1))
      ]
    ]))
    error_message = "max_running and max_runs_per_day must be whole numbers from 1 to 1000."
  }

  validation {
    condition = alltrue([
      for r in var.routes : r.overlap == null ? true : (
        contains(["queue", "skip", "replace"], r.overlap.then)
        && contains(["same_source", "route"], coalesce(r.overlap.with, "same_source"))
        && !(r.overlap.then == "replace" && r.cooldown != null)
      )
    ])
    error_message = "overlap.then must be queue, skip or replace, overlap.with same_source or route (default same_source); replace keeps the newest run and a cooldown the earliest, so a route takes one of them."
  }

  validation {
    condition = alltrue(flatten([
      for r in var.routes : [
        for value in [r.max_duration, r.retry_failed == null ? null : r.retry_failed.after] : value == null || can(regex("^[0-9]+[smhd]$", coalesce(value, "0s")))
      ]
    ]))
    error_message = "max_duration and retry_failed.after must be a whole number followed by s, m, h or d, such as 6h."
  }

  validation {
    condition = alltrue([
      for r in var.routes : r.retry_failed == null ? true : (
        r.retry_failed.attempts >= 2 && r.retry_failed.attempts <= 10 && floor(r.retry_failed.attempts) == r.retry_failed.attempts
      )
    ])
    error_message = "retry_failed.attempts must be a whole number from 2 to 10 (runs in all, the first one included)."
  }

  validation {
    condition     = alltrue([for r in var.routes : r.cooldown == null || can(regex("^[0-9]+[smhd]$", coalesce(r.cooldown, "0s")))])
    error_message = "cooldown must be a whole number followed by s, m, h or d, such as 6h."
  }

  validation {
    condition     = alltrue([for r in var.routes : r.min_deviation == null || coalesce(r.min_deviation, 0) >= 0])
    error_message = "min_deviation must not be negative."
  }

  validation {
    condition = alltrue(flatten([
      for r in var.routes : [
        for key, value in r.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", key)) && can(regex("^[a-z0-9_-]{0,63}$", value)) && !startswith(key, "trigger-")
      ]
    ]))
    error_message = "Label keys must match ^[a-z][a-z0-9_-]{0,62}$ and not start with trigger- (reserved for the run labels the functions add); values must match ^[a-z0-9_-]{0,63}$."
  }

  validation {
    condition = alltrue([
      for r in var.routes : length(setsubtract(keys(coalesce(r.match, {})), ["model", "endpoint", "monitoring_job", "deployed_model_id", "objective", "form", "policy", "condition", "incident_id", "summary", "observed_value", "threshold_value"])) == 0
    ])
    error_message = "match keys must be alert fields: model, endpoint, monitoring_job, deployed_model_id, objective, form, policy, condition, incident_id, summary, observed_value or threshold_value."
  }

  validation {
    condition = alltrue([
      for r in var.routes : can(regex("^[A-Za-z0-9_.-]+$", r.template)) || can(regex("^gs://[a-z0-9._-]+/.+", r.template)) || can(regex("^https://[a-z0-9-]+-kfp\\.pkg\\.dev/.+", r.template))
    ])
    error_message = "template must be a compiled template's file stem, a gs:// URI or an https://REGION-kfp.pkg.dev/ URI."
  }

  validation {
    condition = alltrue([
      for r in var.routes : r.notify == null ? true : (
        can(regex("^[A-Za-z0-9_-]{1,255}$", r.notify.webhook_secret))
        && length(r.notify.on) > 0
        && length(setsubtract(r.notify.on, ["SUCCEEDED", "FAILED", "CANCELLED"])) == 0
      )
    ])
    error_message = "notify.webhook_secret must be a Secret Manager secret id (letters, digits, - and _) and notify.on a non-empty list of SUCCEEDED, FAILED or CANCELLED."
  }
}

variable "pausers" {
  description = "IAM members (user:, group:, serviceAccount: or domain:) who may pause and resume routes with `vertex-triggers pause` and `resume`: they write the pause records in the state bucket (roles/storage.objectUser on that bucket only)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.pausers : can(regex("^(user|group|serviceAccount|domain):[^ ]+$", m))])
    error_message = "Each of pausers must be an IAM member such as user:alice@example.com, group:oncall@example.com, serviceAccount:NAME@PROJECT.iam.gserviceaccount.com or domain:example.com."
  }
}

variable "sweep_schedule" {
  description = "Cron schedule (UTC) on which Cloud Scheduler calls the sweep function; used only when a route sets sweep_lookback."
  type        = string
  default     = "*/10 * * * *"

  validation {
    condition     = length(split(" ", var.sweep_schedule)) == 5
    error_message = "sweep_schedule must be a five-field cron expression such as */10 * * * *."
  }
}

variable "sweep_timeout_seconds" {
  description = "Request timeout of the sweep function, also Cloud Scheduler's attempt deadline (15 to 1800 seconds, the scheduler's limits for HTTP targets). The functions' sweep_deadline is 10 seconds less: a sweep that runs out of time still logs which route and answers 500."
  type        = number
  default     = 300

  validation {
    condition     = var.sweep_timeout_seconds >= 15 && var.sweep_timeout_seconds <= 1800 && floor(var.sweep_timeout_seconds) == var.sweep_timeout_seconds
    error_message = "sweep_timeout_seconds must be a whole number from 15 to 1800."
  }
}

variable "launch_retry" {
  description = "Backoff of the functions' calls to Google APIs (the config's `retry`): durations such as 1s, 10s, 45s. Unset keys keep the functions' defaults (deadline 45s). The deadline is one event's total for all its calls and must stay below function_timeout_seconds."
  type = object({
    initial_delay   = optional(string)
    max_delay       = optional(string)
    deadline        = optional(string)
    request_timeout = optional(string)
  })
  default = {}

  validation {
    condition     = alltrue([for value in values(var.launch_retry) : value == null || can(regex("^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$", coalesce(value, "1s")))])
    error_message = "launch_retry values must be durations such as 500ms, 10s, 2m."
  }
}

variable "dead_letter_max_delivery_attempts" {
  description = "Deliveries of one event before Pub/Sub forwards it to the dead-letter topic, once the dead-letter policy is attached (see README)."
  type        = number
  default     = 15

  validation {
    condition     = var.dead_letter_max_delivery_attempts >= 5 && var.dead_letter_max_delivery_attempts <= 100
    error_message = "dead_letter_max_delivery_attempts must be from 5 to 100, Pub/Sub's limits."
  }
}

variable "attach_dead_letter_with_gcloud" {
  description = "Attach the dead-letter policy to Eventarc's subscriptions during apply by running dead_letter_setup_commands with gcloud (must be installed and authenticated where Terraform runs)."
  type        = bool
  default     = false
}

variable "enable_model_monitoring_sink" {
  description = "Route Vertex AI Model Monitoring's anomaly log entries to the drift topic with a log sink."
  type        = bool
  default     = false
}

variable "enable_monitoring_notification_channel" {
  description = "Create a Cloud Monitoring notification channel of type pubsub on the drift topic (and let the Monitoring notification service agent publish there), so alerting policies and Vertex AI Model Monitoring v2 alerts reach on_drift_alert."
  type        = bool
  default     = false
}

variable "failed_events_alert" {
  description = "A log-based alerting policy on the functions' `decision: failed` lines (the failed_events metric's filter): an incident opens when an event fails, or the sweep cannot sweep a route, and notification_channels (projects/PROJECT/notificationChannels/ID) are told at most once per notification_period (at least 300s); it closes auto_close (1800s to 604800s) after the last such line. null: no policy (the metric stays)."
  type = object({
    notification_channels = optional(list(string), [])
    notification_period   = optional(string, "300s")
    auto_close            = optional(string, "1800s")
  })
  default = {}

  validation {
    condition     = var.failed_events_alert == null ? true : alltrue([for channel in var.failed_events_alert.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", channel))])
    error_message = "failed_events_alert.notification_channels must be channel names: projects/PROJECT/notificationChannels/ID."
  }
  validation {
    # Cloud Monitoring's bounds for a log-based alerting policy: one notification per 5 minutes
    # at most, and an incident closes between 30 minutes and 7 days after its last log entry.
    condition     = var.failed_events_alert == null ? true : can(regex("^[0-9]+s$", var.failed_events_alert.notification_period)) && can(regex("^[0-9]+s$", var.failed_events_alert.auto_close))
    error_message = "failed_events_alert.notification_period and auto_close are whole seconds, such as \"300s\"."
  }
  validation {
    condition     = var.failed_events_alert == null ? true : !can(regex("^[0-9]+s$", var.failed_events_alert.notification_period)) || tonumber(trimsuffix(var.failed_events_alert.notification_period, "s")) >= 300
    error_message = "failed_events_alert.notification_period must be at least 300s, Cloud Monitoring's least for a log-based alerting policy."
  }
  validation {
    condition     = var.failed_events_alert == null ? true : !can(regex("^[0-9]+s$", var.failed_events_alert.auto_close)) || (tonumber(trimsuffix(var.failed_events_alert.auto_close, "s")) >= 1800 && tonumber(trimsuffix(var.failed_events_alert.auto_close, "s")) <= 604800)
    error_message = "failed_events_alert.auto_close must be between 1800s (30 minutes) and 604800s (7 days)."
  }
}

variable "labels" {
  description = "Labels on the buckets, topics and functions."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key, value in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", key)) && can(regex("^[a-z0-9_-]{0,63}$", value))])
    error_message = "Label keys must match ^[a-z][a-z0-9_-]{0,62}$ and values ^[a-z0-9_-]{0,63}$."
  }
}

variable "existing_buckets" {
  description = <<-EOT
    Buckets that exist already, to use instead of creating them: data (the one watched), templates
    and pipeline_root, by name. This configuration then leaves their settings alone (no
    versioning, lifecycle rules, public access prevention, labels or default key is applied) and
    only adds its IAM members and, to the templates bucket, the template objects. The functions and
    the pipeline account get the same grants on them as on created buckets.
  EOT
  type = object({
    data          = optional(string)
    templates     = optional(string)
    pipeline_root = optional(string)
  })
  default = {}

  validation {
    condition     = alltrue([for name in values(var.existing_buckets) : name == null || can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", coalesce(name, "xxx")))])
    error_message = "existing_buckets holds bucket names (no gs://)."
  }
}

variable "pipeline_read_access" {
  description = <<-EOT
    Other locations the pipelines read, granted read-only to the pipeline account: Cloud Storage
    buckets (roles/storage.objectViewer on each bucket, by name) and BigQuery datasets
    (roles/bigquery.dataViewer on each dataset, as PROJECT.DATASET; a query also needs
    roles/bigquery.jobUser on this project, granted once when any dataset is listed).
  EOT
  type = object({
    buckets           = optional(list(string), [])
    bigquery_datasets = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = alltrue([for name in var.pipeline_read_access.buckets : can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", name))])
    error_message = "pipeline_read_access.buckets holds bucket names (no gs://)."
  }

  validation {
    condition     = alltrue([for dataset in var.pipeline_read_access.bigquery_datasets : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]\\.[A-Za-z0-9_]{1,1024}$", dataset))])
    error_message = "pipeline_read_access.bigquery_datasets holds PROJECT.DATASET names."
  }
}
