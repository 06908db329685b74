"""Tiny pipelines and HTTP helpers shared by the emulator tests."""

# No `from __future__ import annotations`: KFP reads component annotations at definition time.
from pathlib import Path

import requests
import yaml
from kfp import compiler, dsl
from kfp.dsl import Metrics, Output

PARENT = "projects/test-project/locations/us-central1"


@dsl.component(base_image="python:3.11")
def add(a: int, b: float) -> float:
    """Add two numbers."""
    return a + b


@dsl.component(base_image="python:3.11")
def report(total: float, metrics: Output[Metrics]):
    """Log the total as a metric."""
    metrics.log_metric("total", total)


@dsl.component(base_image="python:3.11")
def explode(message: str):
    """Fail on purpose."""
    raise ValueError(message)


@dsl.component(base_image="python:3.11")
def nap(seconds: float):
    """Sleep (a run long enough to cancel)."""
    import time  # lightweight components import inside the function

    time.sleep(seconds)


@dsl.component(base_image="python:3.11")
def choose(flag: str) -> str:
    """Echo the flag (the condition reads it)."""
    return flag


@dsl.container_component
def shell_step():
    """A container component kfp.local's SubprocessRunner cannot run."""
    return dsl.ContainerSpec(image="alpine:3.20", command=["echo"], args=["hi"])


@dsl.pipeline(name="tiny")
def tiny_pipeline(a: int, b: float = 1.5, note: str = "none"):
    """Add, then report a metric."""
    total = add(a=a, b=b)
    report(total=total.output)


@dsl.pipeline(name="failing")
def failing_pipeline(message: str = "boom from the test"):
    """One task that raises."""
    explode(message=message)


@dsl.pipeline(name="sleepy")
def sleepy_pipeline(seconds: float = 60.0):
    """One long task."""
    nap(seconds=seconds)


@dsl.pipeline(name="branchy")
def branchy_pipeline(flag: str = "yes"):
    """Add only when the flag says yes."""
    chosen = choose(flag=flag)
    with dsl.If(chosen.output == "yes"):
        add(a=1, b=2.0)


@dsl.pipeline(name="with-container")
def container_pipeline():
    """Has a container component."""
    shell_step()


def compile_spec(pipeline, folder: Path) -> dict:
    path = folder / f"{pipeline.name}.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return yaml.safe_load(path.read_text())


def jobs_url(emu) -> str:
    """Return the pipelineJobs collection URL."""
    return f"{emu.url}/v1/{PARENT}/pipelineJobs"


def create(emu, job_id: str | None, body: dict) -> requests.Response:
    """POST a create request."""
    params = {"pipelineJobId": job_id} if job_id else {}
    return requests.post(jobs_url(emu), params=params, json=body, timeout=30)


def body_for(spec: dict, **parameter_values) -> dict:
    """Build a minimal PipelineJob body."""
    return {
        "displayName": spec["pipelineInfo"]["name"],
        "pipelineSpec": spec,
        "runtimeConfig": {
            "gcsOutputDirectory": "gs://test-bucket/runs",
            "parameterValues": parameter_values,
        },
    }
