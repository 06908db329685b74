"""Translate a run's progress records into Vertex AI's jobDetail.taskDetails shape."""

from __future__ import annotations

import hashlib
from typing import Any

from local.vertex_emulator.store import Job

EXECUTION_STATES = {
    "RUNNING": "RUNNING",
    "SUCCEEDED": "COMPLETE",
    "FAILED": "FAILED",
    "CANCELLED": "CANCELLED",
}
# A task whose trigger policy (a dsl.If condition) is not met ends NOT_TRIGGERED on Vertex AI
# (kubeflow/pipelines#5080); its execution never starts, so it stays NEW.
FAILED_PRECONDITION = 9
ROOT_TASK_ID = 1


def job_detail(job: Job, tasks: list[dict[str, Any]], root_state: str) -> dict[str, Any]:
    """Build jobDetail: the root (pipeline) task, then executed tasks and their DAG groups."""
    spec = job.get("pipelineSpec", {})
    pipeline_name = spec.get("pipelineInfo", {}).get("name", "pipeline")
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
    layout = TaskLayout.of(spec)
    executed = {task["taskName"]: task for task in tasks}
    details = [root]
    for task in tasks:
        details.append(_task_detail(job, layout.task_id(task["taskName"]), task, layout))
    for group in layout.groups:
        state = layout.group_state(group, executed, root_state)
        if state is not None:
            details.append(_group_detail(job, group, state, layout))
    return {"taskDetails": details}


class TaskLayout:
    """The spec's task tree: stable task ids, each task's enclosing DAG group, the groups."""

    def __init__(self, parents: dict[str, str | None], groups: list[str]) -> None:
        self.parents = parents
        self.groups = groups
        self._ids = {name: ROOT_TASK_ID + 1 + index for index, name in enumerate(parents)}

    @classmethod
    def of(cls, spec: dict[str, Any]) -> TaskLayout:
        """Walk root.dag and nested DAG components depth first."""
        parents: dict[str, str | None] = {}
        groups: list[str] = []
        components = spec.get("components", {})

        def walk(dag: dict[str, Any], parent: str | None) -> None:
            for name, task in dag.get("tasks", {}).items():
                parents[name] = parent
                component = components.get(task.get("componentRef", {}).get("name", ""), {})
                if "dag" in component:
                    groups.append(name)
                    walk(component["dag"], name)

        walk(spec.get("root", {}).get("dag", {}), None)
        return cls(parents, groups)

    def task_id(self, name: str) -> int:
        """Return a task's id, fixed by its place in the spec (unknown names come after)."""
        if name not in self._ids:
            self._ids[name] = ROOT_TASK_ID + 1 + len(self._ids)
        return self._ids[name]

    def parent_id(self, name: str) -> int:
        """Return the id of the DAG group (or the root) that encloses a task."""
        parent = self.parents.get(name)
        return self.task_id(parent) if parent else ROOT_TASK_ID

    def descendants(self, group: str) -> list[str]:
        """Return every task inside a group, at any depth."""
        inside = [name for name, parent in self.parents.items() if parent == group]
        return inside + [
            d for name in inside if name in self.groups for d in self.descendants(name)
        ]

    def group_state(
        self, group: str, executed: dict[str, dict[str, Any]], root_state: str
    ) -> str | None:
        """Derive a group's state from its tasks; NOT_TRIGGERED when nothing in it ever ran."""
        states = {executed[name]["state"] for name in self.descendants(group) if name in executed}
        if not states:
            parent = self.parents.get(group)
            parent_ran = parent is None or any(n in executed for n in self.descendants(parent))
            # only the outermost group that did not run is listed: nothing inside it was scheduled
            return "NOT_TRIGGERED" if root_state == "SUCCEEDED" and parent_ran else None
        for state in ("FAILED", "RUNNING", "CANCELLED"):
            if state in states:
                return state
        return "SUCCEEDED" if root_state != "RUNNING" else "RUNNING"


def _group_detail(job: Job, group: str, state: str, layout: TaskLayout) -> dict[str, Any]:
    """Build the PipelineTaskDetail of a DAG group (a condition, a loop, an exit handler)."""
    stamp = job.get("startTime", job["createTime"])
    return {
        "taskId": str(layout.task_id(group)),
        "parentTaskId": str(layout.parent_id(group)),
        "taskName": group,
        "createTime": stamp,
        "state": state,
        "execution": _execution(job, group, state, "system.DagExecution", {}),
    }


def _task_detail(
    job: Job, task_id: int, task: dict[str, Any], layout: TaskLayout
) -> dict[str, Any]:
    """Build one PipelineTaskDetail from a progress record."""
    outputs = task.get("outputs", {})
    metadata = {f"output:{k}": v for k, v in outputs.get("parameters", {}).items()}
    detail: dict[str, Any] = {
        "taskId": str(task_id),
        "parentTaskId": str(layout.parent_id(task["taskName"])),
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
            name: {
                "artifacts": [
                    _artifact(job, task["taskName"], name, index, a)
                    for index, a in enumerate(artifacts)
                ]
            }
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


def _artifact(
    job: Job, task_name: str, output_name: str, index: int, artifact: dict[str, Any]
) -> dict[str, Any]:
    """Build an ML Metadata artifact (uri, schema and metadata such as metrics)."""
    identity = artifact_id(job, task_name, output_name, index)
    return {
        "name": f"{_metadata_store(job)}/artifacts/{identity}",
        "displayName": output_name,
        "uri": artifact.get("uri", ""),
        "schemaTitle": artifact.get("schemaTitle", "system.Artifact"),
        "state": "LIVE",
        "metadata": artifact.get("metadata", {}),
    }


def artifact_id(job: Job, task_name: str, output_name: str, index: int) -> str:
    """Return an output artifact's ML Metadata id: decimal digits, as Vertex AI's are.

    Fixed by the run, task, output and position, so every read of a run names the same artifact,
    and distinct across tasks with outputs of the same name (``Output``, say).
    """
    identity = "\x00".join((job["name"], task_name, output_name, str(index)))
    return str(int(hashlib.sha256(identity.encode()).hexdigest()[:15], 16))


def _metadata_store(job: Job) -> str:
    """Return the default metadata store of the job's project and location."""
    parent = job["name"].split("/pipelineJobs/")[0]
    return f"{parent}/metadataStores/default"
