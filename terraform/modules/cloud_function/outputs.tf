output "id" {
  description = "The function's id: projects/PROJECT/locations/LOCATION/functions/NAME."
  value       = google_cloudfunctions2_function.this.id
}

output "name" {
  description = "The function's name, which its Cloud Run service shares."
  value       = google_cloudfunctions2_function.this.name
}

output "location" {
  description = "The function's region."
  value       = google_cloudfunctions2_function.this.location
}

output "uri" {
  description = "URL of the function's Cloud Run service (what an HTTP function's caller calls, and the audience of its OIDC token)."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}

output "eventarc_trigger" {
  description = "The Eventarc trigger the function's event_trigger created (projects/PROJECT/locations/LOCATION/triggers/ID), or null for an HTTP function."
  value       = var.event_trigger == null ? null : google_cloudfunctions2_function.this.event_trigger[0].trigger
}
