"""Launch Vertex AI PipelineJobs from Cloud Storage and drift-alert CloudEvents."""
