"""Vertex AI PipelineJob resource names: ``projects/P/locations/L/pipelineJobs/ID``."""

import re
from collections.abc import Mapping
from typing import Any

JOB_NAME = re.compile(r"^projects/([^/]+)/locations/([^/]+)/pipelineJobs/([^/]+)$")
JOB_ID = re.compile(r"^[a-z][-a-z0-9]{0,127}$")


def job_name_parts(name: str) -> tuple[str, str, str]:
    """Split a PipelineJob name into (project, location, id); anything else: only its last part."""
    match = JOB_NAME.match(name)
    if match:
        project, location, job = match.groups()
        return project, location, job
    return "", "", name.rsplit("/", 1)[-1]


def job_id_of(run: Mapping[str, Any]) -> str:
    """Return the job id of a PipelineJob as Vertex returns it (the last part of its name)."""
    return job_name_parts(str(run.get("name", "")))[2]
