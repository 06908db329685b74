"""A one-step KFP pipeline whose inputs echo what the triggers pass (reliability suite).

Regenerate: .venv/bin/python tests/data/reliability/probe_pipeline.py
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11-slim")
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@dsl.pipeline(name="reliability-probe")
def probe(
    data_uri: str,
    generation: int = 0,
    object_name: str = "",
    reason: str = "",
    model: str = "",
) -> None:
    """Echo the data URI; the other inputs exist so the triggers' parameters can be checked."""
    echo(text=data_uri)


if __name__ == "__main__":
    out = Path(__file__).with_name("probe_pipeline.yaml")
    compiler.Compiler().compile(probe, str(out))
