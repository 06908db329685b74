"""What the functions install: requirements.in lists what the source imports, pinned; its lock,
requirements.txt, pins and hashes the whole closure at the versions the tests ran with.

The lock is what Cloud Build installs (the Python buildpack runs `pip install --requirement
requirements.txt` for the source's file: GoogleCloudPlatform/buildpacks, pkg/python/python.go,
InstallRequirements), and pip checks every file against its hashes once one requirement has a
`--hash` ("hash-checking mode", pip's documentation, "Secure installs"). test_pinned_install.py
installs it alone into a fresh environment and serves an event from it.
"""

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


RUNTIME = read_requirements(FUNCTIONS_DIR / "requirements.in")
LOCK = FUNCTIONS_DIR / "requirements.txt"


def read_lock(path: Path) -> dict[str, tuple[Requirement, list[str]]]:
    """Return each locked requirement (marker included) and its hashes, by canonical name."""
    text = path.read_text().replace("\\\n", " ")
    locked = {}
    for raw in text.splitlines():
        line = raw.partition(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        locked[canonicalize_name(requirement.name)] = (requirement, [o.strip() for o in options])
    return locked


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


def closure() -> set[str]:
    """Return the .in file's requirements and all they need at runtime here (extras included)."""
    wanted = set(RUNTIME)
    for name, requirement in RUNTIME.items():
        for extra in requirement.extras:
            wanted |= needs(name, extra)
    return needed_by(wanted)


def test_the_lock_pins_and_hashes_every_package() -> None:
    locked = read_lock(LOCK)
    assert len(locked) >= 25  # functions-framework alone brings flask, gunicorn, uvicorn, ...
    for name, (requirement, hashes) in locked.items():
        assert str(requirement.specifier).startswith("=="), name
        assert hashes and all(h.startswith("sha256:") and len(h) == 71 for h in hashes), name


def test_the_lock_is_the_closure_of_the_in_file() -> None:
    """Everything the direct requirements need here, and nothing else (markers for this Python)."""
    locked = {name for name, (req, _) in read_lock(LOCK).items()
              if req.marker is None or req.marker.evaluate()}  # fmt: skip
    assert locked == closure()
    for name, requirement in RUNTIME.items():
        assert read_lock(LOCK)[name][0].specifier == requirement.specifier, name


def test_locked_versions_are_the_repository_pins_the_tests_ran_with() -> None:
    pinned = read_requirements(REPO / "requirements.txt")
    for name, (requirement, _) in read_lock(LOCK).items():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        assert requirement.specifier == pinned[name].specifier, name
        assert requirement.specifier.contains(importlib.metadata.version(name)), name
