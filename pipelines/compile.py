"""Compile every pipeline in `pipelines/` into `compiled/<module>.yaml` (`make compile`)."""

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from kfp import compiler

COMPILED_DIR = Path(__file__).resolve().parent.parent / "compiled"


def pipeline_functions() -> dict[str, Callable]:
    """Return {file stem: pipeline function}; imported lazily since GCPC imports are slow."""
    from pipelines.automl_image import automl_image
    from pipelines.batch_score import batch_score
    from pipelines.drift_monitoring import drift_monitoring
    from pipelines.house_prices import house_prices

    return {
        "house_prices": house_prices,
        "automl_image": automl_image,
        "drift_monitoring": drift_monitoring,
        "batch_score": batch_score,
    }


def compile_all(out_dir: Path) -> list[Path]:
    """Compile each pipeline to out_dir/<stem>.yaml and return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, pipeline in pipeline_functions().items():
        path = out_dir / f"{stem}.yaml"
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(path))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """Compile into the folder the command line names (default: compiled/)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=COMPILED_DIR, help="output folder")
    args = parser.parse_args(argv)
    for path in compile_all(args.out_dir):
        print(f"compiled {path}")


if __name__ == "__main__":
    main()
