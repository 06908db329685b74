"""Translate a run's progress records into Vertex AI's jobDetail.taskDetails shape."""

from __future__ import annotations

from typing import Any

from local.vertex_emulator.store import Job

EXECUTION_STATES = {
    "RUNNING": "RUNNING",
    "SUCCEEDED": "COMPLETE",
    "FAILED": "FAILED",
    "CANCELLED": "CANCELLED",
}
FAILED_PRECONDITION = 9
ROOT_TASK_ID = 1


def job_detail(job: Job, tasks: list[dict[str, Any]], root_state: str) -> dict[str, Any]:
    """Build jobDetail: the root (pipeline) task, then one detail per executed task."""
    pipeline_name = job.get("pipelineSpec", {}).get("pipelineInfo", {}).get("name", "pipeline")
    root = {
        "taskId": str(ROOT_TASK_ID),
        "taskName": pipeline_name,
        "createTime": job.get("startTime", job["createTime"]),
        "startTime": job.get("startTime", job["createTime"]),
        "state": root_state,
        "execution": _execution(job, pipeline_name, root_state, "system.DagExecution", {}),
    }
    if root_state in ("SUCCEEDED", "FAILED", "CANCELLED") and job.get("endTime"):
        root["endTime"] = job["endTime"]
    details = [root]
    for index, task in enumerate(tasks, start=ROOT_TASK_ID + 1):
        details.append(_task_detail(job, index, task))
    return {"taskDetails": details}


def _task_detail(job: Job, task_id: int, task: dict[str, Any]) -> dict[str, Any]:
    """Build one PipelineTaskDetail from a progress record."""
    outputs = task.get("outputs", {})
    metadata = {f"output:{k}": v for k, v in outputs.get("parameters", {}).items()}
    detail: dict[str, Any] = {
        "taskId": str(task_id),
        "parentTaskId": str(ROOT_TASK_ID),
        "taskName": task["taskName"],
        "createTime": task["startTime"],
        "startTime": task["startTime"],
        "state": task["state"],
        "execution": _execution(
            job, task["taskName"], task["state"], "system.ContainerExecution", metadata
        ),
    }
    if "endTime" in task:
        detail["endTime"] = task["endTime"]
    if outputs.get("artifacts"):
        detail["outputs"] = {
            name: {"artifacts": [_artifact(job, name, a) for a in artifacts]}
            for name, artifacts in outputs["artifacts"].items()
        }
    if task.get("error"):
        detail["error"] = {"code": FAILED_PRECONDITION, "message": task["error"]}
    return detail


def _execution(job: Job, name: str, state: str, schema: str, metadata: dict[str, Any]) -> dict:
    """Build the ML Metadata execution that Vertex attaches to each task."""
    return {
        "name": f"{_metadata_store(job)}/executions/{job['name'].rsplit('/', 1)[-1]}-{name}",
        "displayName": name,
        "state": EXECUTION_STATES.get(state, "NEW"),
        "schemaTitle": schema,
        "metadata": metadata,
    }


def _artifact(job: Job, output_name: str, artifact: dict[str, Any]) -> dict[str, Any]:
    """Build an ML Metadata artifact (uri, schema and metadata such as metrics)."""
    artifact_id = f"{job['name'].rsplit('/', 1)[-1]}-{artifact.get('name') or output_name}"
    return {
        "name": f"{_metadata_store(job)}/artifacts/{artifact_id}",
        "displayName": output_name,
        "uri": artifact.get("uri", ""),
        "schemaTitle": artifact.get("schemaTitle", "system.Artifact"),
        "state": "LIVE",
        "metadata": artifact.get("metadata", {}),
    }


def _metadata_store(job: Job) -> str:
    """Return the default metadata store of the job's project and location."""
    parent = job["name"].split("/pipelineJobs/")[0]
    return f"{parent}/metadataStores/default"
