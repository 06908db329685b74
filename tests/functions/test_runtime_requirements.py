"""functions/requirements.txt lists what the deployed source imports, and nothing else, pinned."""

import ast
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local.function_server import FUNCTIONS_DIR

REPO = FUNCTIONS_DIR.parent
OWN_MODULES = {"main", "vertex_trigger"}


def read_requirements(path: Path) -> dict[str, Requirement]:
    lines = (line.partition("#")[0].strip() for line in path.read_text().splitlines())
    return {canonicalize_name(r.name): r for r in map(Requirement, filter(None, lines))}


RUNTIME = read_requirements(FUNCTIONS_DIR / "requirements.txt")


def imported_modules() -> set[str]:
    """Every module the functions' source imports, other than its own and the standard library's."""
    names: set[str] = set()
    for path in FUNCTIONS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return {n for n in names if n.split(".")[0] not in OWN_MODULES | sys.stdlib_module_names}


def distribution_of(module: str) -> str:
    """Return the installed distribution that holds ``module``'s file (namespaces: google.*)."""
    spec = importlib.util.find_spec(module)
    assert spec and spec.origin, module
    origin = Path(spec.origin).resolve()
    top_level = module.partition(".")[0]
    for name in importlib.metadata.packages_distributions()[top_level]:
        dist = importlib.metadata.distribution(name)
        if any(Path(dist.locate_file(file)).resolve() == origin for file in dist.files or []):
            return canonicalize_name(name)
    raise AssertionError(f"no installed distribution holds {module} ({origin})")


def needs(name: str, extra: str = "") -> set[str]:
    """Return the distributions ``name`` requires at runtime (with ``extra``: that extra's)."""
    found = set()
    for text in importlib.metadata.requires(name) or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
            found.add(canonicalize_name(requirement.name))
    return found


def needed_by(names: set[str]) -> set[str]:
    """Return ``names`` and everything they require at runtime, transitively."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(needs(name))
    return seen


def test_every_imported_library_is_a_runtime_requirement_or_comes_with_one() -> None:
    imported = {distribution_of(module) for module in imported_modules()}
    assert imported >= {"functions-framework", "google-auth", "pyyaml"}
    assert imported - needed_by(set(RUNTIME)) == set()  # e.g. flask comes with functions-framework


def test_every_runtime_requirement_is_imported_or_asked_for_by_an_extra() -> None:
    """requests is listed only for google-auth[requests] (its Compute Engine credentials)."""
    imported = {distribution_of(module) for module in imported_modules()}
    by_extras = {
        needed for name, requirement in RUNTIME.items() for extra in requirement.extras
        for needed in needs(name, extra) - needs(name)
    }  # fmt: skip
    assert set(RUNTIME) - imported == {"requests"}
    assert set(RUNTIME) - imported <= by_extras


def test_runtime_pins_are_the_repository_pins() -> None:
    pinned = read_requirements(REPO / "requirements.txt")
    for name, requirement in RUNTIME.items():
        assert str(requirement.specifier).startswith("=="), requirement
        assert requirement.specifier == pinned[name].specifier, name
        assert requirement.specifier.contains(importlib.metadata.version(name)), name
