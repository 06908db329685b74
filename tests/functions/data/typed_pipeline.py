"""Source of typed_pipeline.yaml (and _v2, renamed): one input of every KFP parameter type.

Regenerate with: .venv/bin/python tests/functions/data/typed_pipeline.py
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def describe(
    data_uri: str,
    generation: int,
    ratio: float,
    flag: bool,
    tags: list,
    options: dict,
    note: str,
) -> str:
    """Return a one-line summary of the run's inputs."""
    return f"{data_uri} {generation} {ratio} {flag} {tags} {options} {note}"


@dsl.pipeline(name="typed-trigger-fixture")
def typed_pipeline(
    data_uri: str,
    generation: int,
    ratio: float = 0.5,
    flag: bool = False,
    tags: list = ["a"],  # noqa: B006 - KFP pipeline defaults are compiled, never mutated
    options: dict = {"k": 1},  # noqa: B006
    note: str = "none",
) -> None:
    """Pass every input to one task, so enable_caching has a task to set."""
    describe(
        data_uri=data_uri,
        generation=generation,
        ratio=ratio,
        flag=flag,
        tags=tags,
        options=options,
        note=note,
    )


if __name__ == "__main__":
    here = Path(__file__).parent
    compiler.Compiler().compile(typed_pipeline, str(here / "typed_pipeline.yaml"))
    # The same pipeline under another name: a "new generation" of a template in tests.
    compiler.Compiler().compile(
        typed_pipeline, str(here / "typed_pipeline_v2.yaml"), pipeline_name="typed-trigger-v2"
    )
