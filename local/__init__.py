"""Local stand-ins for Google Cloud services: Vertex AI emulator, local bucket, alert sender."""
