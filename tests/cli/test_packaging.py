"""The console script is declared and importable; the deployed functions never load the CLI."""

import ast
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI_ONLY = {"triggers_cli", "tqdm", "rich"}  # the CLI and what only it needs


def test_the_console_script_names_the_cli_main():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    module, _, function = project["project"]["scripts"]["vertex-triggers"].partition(":")
    assert module == "triggers_cli.main"
    assert callable(getattr(importlib.import_module(module), function))
    find = project["tool"]["setuptools"]["packages"]["find"]
    assert set(find["include"]) == {"triggers_cli", "triggers_cli.*", "vertex_trigger",
                                    "vertex_trigger.*"}  # fmt: skip


def test_the_makefile_installs_it_into_the_venv():
    makefile = (REPO / "Makefile").read_text()
    assert "$(PY) -m pip install --quiet --no-deps -e ." in makefile


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_function_module_imports_the_cli_or_its_dependencies():
    sources = sorted((REPO / "functions").rglob("*.py"))
    assert len(sources) > 30
    offenders = {str(p.relative_to(REPO)): _imported(p) & CLI_ONLY for p in sources}
    assert {path: names for path, names in offenders.items() if names} == {}
    runtime = (REPO / "functions" / "requirements.txt").read_text().lower()
    assert not any(name in runtime for name in CLI_ONLY)


def test_a_started_function_has_not_loaded_the_cli():
    # The deployed cold path: import main (reads the config, checks every template) in functions/.
    probe = "import sys, main; print(sorted(m for m in sys.modules if m.split('.')[0] in %r))"
    result = subprocess.run(
        [sys.executable, "-c", probe % CLI_ONLY],
        cwd=REPO / "functions",
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "VERTEX_AI_EMULATOR_HOST": "127.0.0.1:9"},
    )
    assert result.stdout.strip() == "[]"
