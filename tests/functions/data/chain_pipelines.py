"""Source of chain_upstream.yaml and chain_downstream.yaml: the two ends of a run_ended route.

The upstream's tasks have output parameters of several types, an output artifact and a task
inside a condition; the downstream takes parameters of those types and an optional Model artifact.
Regenerate with: .venv/bin/python tests/functions/data/chain_pipelines.py
"""

from pathlib import Path
from typing import NamedTuple

from kfp import compiler, dsl
from kfp.dsl import Input, Model, Output


@dsl.component(base_image="python:3.11")
def train(data_uri: str, model: Output[Model]) -> NamedTuple(
    "Training", rmse=float, rows=int, tags=list, ok=bool, note=str
):
    """Write a model; return its scores."""
    with open(model.path, "w", encoding="utf-8") as handle:
        handle.write(data_uri)
    return NamedTuple("Training", rmse=float, rows=int, tags=list, ok=bool, note=str)(
        1.5, 400, ["a"], True, "trained"
    )


@dsl.component(base_image="python:3.11")
def deploy(model: Input[Model]) -> str:
    """Return where the model went."""
    return f"endpoint for {model.uri}"


@dsl.pipeline(name="chain-upstream")
def chain_upstream(data_uri: str) -> None:
    """Train, and deploy only a model trained on some rows."""
    trained = train(data_uri=data_uri)
    with dsl.If(trained.outputs["rows"] > 0, name="enough-rows"):
        deploy(model=trained.outputs["model"])


@dsl.component(base_image="python:3.11")
def score(model_uri: str, rmse: float, rows: int, reason: str) -> str:
    """Return a one-line summary of what it was given."""
    return f"{model_uri} {rmse} {rows} {reason}"


@dsl.pipeline(name="chain-downstream")
def chain_downstream(
    model_uri: str, rmse: float = 0.0, rows: int = 0, reason: str = "", model: Input[Model] = None
) -> None:
    """Score with the upstream's model."""
    score(model_uri=model_uri, rmse=rmse, rows=rows, reason=reason)


if __name__ == "__main__":
    here = Path(__file__).parent
    compiler.Compiler().compile(chain_upstream, str(here / "chain_upstream.yaml"))
    compiler.Compiler().compile(chain_downstream, str(here / "chain_downstream.yaml"))
