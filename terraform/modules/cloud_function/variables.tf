variable "project_id" {
  description = "Project of the function, its Cloud Run service and the invoker grants."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "location" {
  description = "Region of the function (and of its Cloud Run service)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.location))
    error_message = "location must be a Google Cloud region such as us-central1."
  }
}

variable "name" {
  description = "Name of the function, which its Cloud Run service (and so the invoker grants) shares."
  type        = string

  validation {
    # Cloud Run lower-cases the service's name and turns `_` into `-`; without either, the two match.
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be 1-63 lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "description" {
  description = "What the function does, shown in the console."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels on the function."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key, value in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", key)) && can(regex("^[a-z0-9_-]{0,63}$", value))])
    error_message = "Label keys must match ^[a-z][a-z0-9_-]{0,62}$ and values ^[a-z0-9_-]{0,63}$."
  }
}

variable "runtime" {
  description = "Language runtime the function is built for, such as python311."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+[0-9]+$", var.runtime))
    error_message = "runtime must be a runtime id such as python311."
  }
}

variable "entry_point" {
  description = "Name of the function in the source that handles requests (functions-framework's FUNCTION_TARGET)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*$", var.entry_point))
    error_message = "entry_point must be a function name such as on_object_finalized."
  }
}

variable "source_archive" {
  description = "The zip of the function's source in Cloud Storage: its bucket and object name. A new object name (a content hash, say) redeploys the function."
  type = object({
    bucket = string
    object = string
  })
}

variable "available_memory" {
  description = "Memory of each instance, with a unit (k, M, G, Mi, Gi), such as 256M."
  type        = string
  default     = "256M"

  validation {
    condition     = can(regex("^[0-9]+(k|M|G|Mi|Gi)$", var.available_memory))
    error_message = "available_memory must be a whole number with a unit k, M, G, Mi or Gi, such as 256M."
  }
}

variable "timeout_seconds" {
  description = "Request timeout: at most 540 seconds for an event-driven function, 3600 for an HTTP one."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 3600 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number from 1 to 3600."
  }
}

variable "max_instance_count" {
  description = "Upper bound on the function's instances; null leaves the platform's default."
  type        = number
  default     = null

  validation {
    condition     = var.max_instance_count == null ? true : var.max_instance_count >= 1 && var.max_instance_count <= 1000 && floor(var.max_instance_count) == var.max_instance_count
    error_message = "max_instance_count must be a whole number from 1 to 1000."
  }
}

variable "service_account_email" {
  description = "Service account the function runs as; give each function an account holding only what it uses."
  type        = string
}

variable "ingress_settings" {
  description = "Who may reach the function over the network: ALLOW_INTERNAL_ONLY (the project's Eventarc, Pub/Sub, Cloud Scheduler and VPC, or its VPC Service Controls perimeter), ALLOW_INTERNAL_AND_GCLB or ALLOW_ALL. IAM (invoker_members) still decides who may invoke it."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL"], var.ingress_settings)
    error_message = "ingress_settings must be ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB or ALLOW_ALL."
  }
}

variable "environment_variables" {
  description = "Plain environment variables of the function's instances."
  type        = map(string)
  default     = {}
}

variable "secret_environment_variables" {
  description = "Environment variables read from Secret Manager secrets at instance start, in this order: key (the variable), secret (its id), project_id (null: the function's project), version (default latest)."
  type = list(object({
    key        = string
    secret     = string
    project_id = optional(string)
    version    = optional(string, "latest")
  }))
  default = []

  validation {
    condition = alltrue([
      for s in var.secret_environment_variables : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", s.key)) && can(regex("^[A-Za-z0-9_-]{1,255}$", s.secret)) && can(regex("^(latest|[0-9]+)$", s.version))
    ])
    error_message = "Each secret environment variable needs a variable name as key, a Secret Manager secret id as secret, and latest or a version number as version."
  }

  validation {
    condition     = length(distinct([for s in var.secret_environment_variables : s.key])) == length(var.secret_environment_variables)
    error_message = "secret_environment_variables must not set one key twice."
  }
}

variable "event_trigger" {
  description = <<-EOT
    The Eventarc trigger that delivers events to the function; null for an HTTP function.
    `event_type` (such as google.cloud.storage.object.v1.finalized), `trigger_region` (null: the
    function's location; a Cloud Storage trigger must be in its bucket's location),
    `service_account_email` (the identity delivering events: give it roles/run.invoker through
    invoker_members and roles/eventarc.eventReceiver on the project), `retry_policy`
    (RETRY_POLICY_RETRY redelivers a failed event for up to 24 hours; RETRY_POLICY_DO_NOT_RETRY
    drops it), `pubsub_topic` (the topic id, for Pub/Sub events) and `event_filters`
    (attribute, value, operator).
  EOT
  type = object({
    event_type            = string
    trigger_region        = optional(string)
    service_account_email = string
    retry_policy          = string
    pubsub_topic          = optional(string)
    event_filters = optional(list(object({
      attribute = string
      value     = string
      operator  = optional(string)
    })), [])
  })
  default = null

  validation {
    condition     = var.event_trigger == null ? true : contains(["RETRY_POLICY_RETRY", "RETRY_POLICY_DO_NOT_RETRY"], var.event_trigger.retry_policy)
    error_message = "event_trigger.retry_policy must be RETRY_POLICY_RETRY or RETRY_POLICY_DO_NOT_RETRY."
  }

  validation {
    condition     = var.event_trigger == null ? true : can(regex("^google\\.[a-z0-9.]+\\.v[0-9]+\\.[A-Za-z]+$", var.event_trigger.event_type))
    error_message = "event_trigger.event_type must be an event type such as google.cloud.storage.object.v1.finalized."
  }
}

variable "invoker_members" {
  description = "Principals given roles/run.invoker on the function's Cloud Run service, by a name of the caller's choosing (keys must be known at plan time; values need not be): an event trigger's service account, or an HTTP function's caller."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.invoker_members) : can(regex("^(serviceAccount|user|group|domain|principal|principalSet):", member))])
    error_message = "invoker_members values must be IAM members such as serviceAccount:NAME@PROJECT.iam.gserviceaccount.com; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "preconditions" {
  description = "The caller's plan-time checks, checked on the function (a module call takes no lifecycle block): a false condition stops the plan with its error_message."
  type = list(object({
    condition     = bool
    error_message = string
  }))
  default = []

  validation {
    condition     = alltrue([for check in var.preconditions : length(check.error_message) > 0])
    error_message = "Every precondition needs an error_message."
  }
}
