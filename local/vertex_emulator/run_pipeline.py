"""Run one compiled pipeline with kfp.local in its own process; report task progress to files.

Usage: python -m local.vertex_emulator.run_pipeline RUN_DIR
RUN_DIR/request.json holds {"pipelineSpec", "parameterValues", "isolated"}; this writes
RUN_DIR/progress.json while running and RUN_DIR/result.json at the end. A process per run keeps
kfp.local's global configuration private and lets the emulator cancel a run by killing it.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import kfp.local
from google.protobuf import json_format
from kfp.local import pipeline_orchestrator, status
from kfp.local.orchestrator import task_executor
from kfp.pipeline_spec import pipeline_spec_pb2

from local.vertex_emulator.store import now_rfc3339, write_json_atomically
from local.vertex_emulator.validation import input_parameters, parameter_type

LOG_TAIL_LINES = 15
DECORATION_RE = re.compile(r"^\s*(-+)?\s*$")
EXCEPTION_RE = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")


class Tee(io.TextIOBase):
    """Write to the real stream and keep a copy (to quote a failed task's last lines)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        """Write to both."""
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        """Flush the real stream."""
        self.stream.flush()


class ProgressReport:
    """Task states of one run, rewritten to progress.json on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tasks: dict[str, dict[str, Any]] = {}

    def started(self, task_name: str) -> None:
        """Record a task that began executing."""
        started = now_rfc3339()
        self.tasks[task_name] = {"taskName": task_name, "state": "RUNNING", "startTime": started}
        self._save()

    def finished(self, task_name: str, succeeded: bool, outputs: dict[str, Any], log: str) -> None:
        """Record a task's end state, outputs and (on failure) the tail of its log."""
        task = self.tasks[task_name]
        task["state"] = "SUCCEEDED" if succeeded else "FAILED"
        task["endTime"] = now_rfc3339()
        task["outputs"] = describe_outputs(outputs)
        if not succeeded:
            lines = [line.rstrip() for line in log.splitlines() if not DECORATION_RE.match(line)]
            task["reason"] = failure_reason(lines)
            task["error"] = "\n".join(lines[-LOG_TAIL_LINES:])
        self._save()

    def _save(self) -> None:
        """Persist atomically so the emulator never reads half a file."""
        write_json_atomically(self.path, {"tasks": list(self.tasks.values())})


def failure_reason(lines: list[str]) -> str:
    """Pick the line that says why a task failed: its last exception line, else its last line."""
    exceptions = [line.strip() for line in lines if EXCEPTION_RE.match(line)]
    if exceptions:
        return exceptions[-1]
    return lines[-1].strip() if lines else "the task failed without output"


def describe_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Split kfp.local task outputs into parameters and artifacts (uri, schema, metadata)."""
    parameters: dict[str, Any] = {}
    artifacts: dict[str, list[dict[str, Any]]] = {}
    for name, value in outputs.items():
        items = value if isinstance(value, list) else [value]
        if items and all(hasattr(item, "schema_title") for item in items):
            artifacts[name] = [_artifact(item) for item in items]
        else:
            parameters[name] = _jsonable(value)
    return {"parameters": parameters, "artifacts": artifacts}


def _artifact(artifact: Any) -> dict[str, Any]:
    """Describe one dsl.Artifact."""
    return {
        "name": artifact.name,
        "uri": artifact.uri,
        "schemaTitle": artifact.schema_title,
        "metadata": _jsonable(artifact.metadata),
    }


def _jsonable(value: Any) -> Any:
    """Return value as JSON-compatible data (artifacts described, the rest stringified)."""
    if hasattr(value, "schema_title"):
        return _artifact(value)
    try:
        json.dumps(value)
        return value
    except TypeError:
        if isinstance(value, dict):
            return {str(k): _jsonable(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [_jsonable(v) for v in value]
        return str(value)


def convert_arguments(spec: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON numbers into ints for NUMBER_INTEGER inputs (JSON has only one number type)."""
    definitions = input_parameters(spec)
    converted = dict(values)
    for name, value in values.items():
        if parameter_type(definitions.get(name, {})) == "NUMBER_INTEGER":
            converted[name] = int(value)
    return converted


def install_progress_hook(
    report: ProgressReport, fail_tasks: dict[str, str] | None = None
) -> None:
    """Wrap kfp.local's per-task entry point to report each task's start and end.

    A task named in `fail_tasks` (an injected task fault) fails with its message, not run.
    """
    original = task_executor.execute_single_task
    fail_tasks = fail_tasks or {}

    def reporting_execute_single_task(task_name: str, **kwargs: Any) -> Any:
        report.started(task_name)
        if task_name in fail_tasks:
            print(fail_tasks[task_name], flush=True)
            report.finished(task_name, False, {}, fail_tasks[task_name])
            return {}, status.Status.FAILURE
        tee = Tee(sys.stdout)
        sys.stdout = tee
        try:
            outputs, task_status = original(task_name=task_name, **kwargs)
        except BaseException:
            report.finished(task_name, False, {}, tee.copy.getvalue() + traceback.format_exc())
            raise
        finally:
            sys.stdout = tee.stream
        succeeded = task_status == status.Status.SUCCESS
        report.finished(task_name, succeeded, outputs, tee.copy.getvalue())
        return outputs, task_status

    task_executor.execute_single_task = reporting_execute_single_task


def run(run_dir: Path) -> dict[str, Any]:
    """Execute the pipeline in run_dir/request.json; return the result record."""
    request = json.loads((run_dir / "request.json").read_text())
    report = ProgressReport(run_dir / "progress.json")
    install_progress_hook(report, request.get("failTasks"))
    kfp.local.init(
        # Isolated: a venv per task holding only what the component installs (its
        # packages_to_install and kfp), as its container on Vertex AI would; else this venv.
        runner=kfp.local.SubprocessRunner(use_venv=bool(request.get("isolated"))),
        pipeline_root=str(run_dir / "pipeline_root"),
        raise_on_error=False,
    )
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(request["pipelineSpec"], spec, ignore_unknown_fields=True)
    arguments = convert_arguments(request["pipelineSpec"], request.get("parameterValues", {}))
    outputs = pipeline_orchestrator.run_local_pipeline(spec, arguments)
    failed = [t["taskName"] for t in report.tasks.values() if t["state"] == "FAILED"]
    if failed:
        return {"state": "FAILED", "failedTasks": failed, "outputs": {}}
    return {"state": "SUCCEEDED", "outputs": describe_outputs(outputs or {})}


def main(argv: list[str] | None = None) -> int:
    """Run, and always leave a result.json behind."""
    parser = argparse.ArgumentParser(
        prog="python -m local.vertex_emulator.run_pipeline",
        description="Run RUN_DIR/request.json with kfp.local (the emulator starts this per run).",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    run_dir = parser.parse_args(sys.argv[1:] if argv is None else argv).run_dir
    try:
        result = run(run_dir)
    except Exception:
        result = {"state": "FAILED", "failedTasks": [], "message": traceback.format_exc()}
    write_json_atomically(run_dir / "result.json", result)
    return 0 if result["state"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
