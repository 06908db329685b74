"""``compile``: a pipeline file of yours to a template beside it, with KFP's compiler.

Imports the file as a module (from its own folder, so its imports of modules beside it work),
finds the functions decorated with ``@dsl.pipeline`` and compiles one to ``FILE.yaml`` (or
``--output``). KFP is imported here only: the functions never load it.
"""

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from triggers_cli.arguments import Commands
from triggers_cli.output import print_json, table


class CompileError(Exception):
    """The file cannot be imported, holds no pipeline, or more than one without ``--pipeline``."""


def pipelines_in(path: Path) -> dict[str, Any]:
    """Import ``path`` and return its KFP pipelines by the name they were defined under."""
    from kfp.dsl import graph_component

    if not path.is_file():
        raise CompileError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"_pipeline_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise CompileError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: say what failed, without our traceback
        raise CompileError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(path.parent.resolve()))
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, graph_component.GraphComponent)
    }


def compile_file(path: Path, output: Path | None = None, pipeline: str | None = None) -> Path:
    """Compile the file's pipeline (``pipeline`` when it has several); return the YAML written."""
    from kfp import compiler

    found = pipelines_in(path)
    if pipeline is not None:
        if pipeline not in found:
            raise CompileError(f"{path}: no pipeline {pipeline!r} (pipelines: {_names(found)})")
        chosen = found[pipeline]
    elif len(found) == 1:
        [chosen] = found.values()
    elif not found:
        raise CompileError(f"{path}: no function decorated with @dsl.pipeline")
    else:
        raise CompileError(f"{path}: several pipelines ({_names(found)}): choose with --pipeline")
    target = output or path.with_suffix(".yaml")
    compiler.Compiler().compile(pipeline_func=chosen, package_path=str(target))
    return target


def _names(found: dict[str, Any]) -> str:
    return ", ".join(sorted(found)) or "none"


def inputs_of(template: Path) -> list[dict[str, str]]:
    """Return the compiled pipeline's inputs: name, type, and whether a route must set them."""
    import yaml

    spec = yaml.safe_load(template.read_text())
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    return [
        {
            "input": name,
            "type": definition.get("parameterType", definition.get("type", "")),
            "required": "no" if "defaultValue" in definition or definition.get("isOptional")
            else "yes",
        }
        for name, definition in declared.items()
    ]  # fmt: skip


def register(commands: Commands) -> None:
    """Add ``compile``."""
    summary = "compile a pipeline file of yours to a template (FILE.yaml beside it)"
    parser = commands.add_parser("compile", help=summary, description=summary)
    parser.add_argument("file", metavar="FILE", type=Path, help="a .py file with a @dsl.pipeline")
    parser.add_argument("--output", "-o", type=Path, help="where to write (default: FILE.yaml)")
    parser.add_argument("--pipeline", help="the pipeline's function name, when FILE has several")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Compile; print the template written and its inputs."""
    try:
        written = compile_file(args.file, args.output, args.pipeline)
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return 1
    inputs = inputs_of(written)
    if args.json:
        print_json({"template": str(written), "inputs": inputs})
        return 0
    print(f"compiled {args.file} -> {written}\n")
    print(table(inputs, ["input", "type", "required"]) if inputs else "(no inputs)")
    print(
        f"\nnext: vertex-triggers new-route --template {written} --event object_finalized "
        "--bucket BUCKET"
    )
    return 0
