"""Pinned package specs for components, read from requirements.txt so they match the venv."""

from functools import cache
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


@cache
def pinned_versions() -> dict[str, str]:
    """Return {normalised name: version} for every `name==version` line of requirements.txt."""
    versions = {}
    for line in REQUIREMENTS.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if "==" in spec:
            name, version = spec.split("==", 1)
            versions[normalise(name)] = version.strip()
    return versions


def normalise(name: str) -> str:
    """Return a package name in PEP 503 normal form (case and separators folded)."""
    return name.strip().lower().replace("_", "-").replace(".", "-")


def pinned(*names: str) -> list[str]:
    """Return `name==version` specs for the named packages; KeyError names any unpinned one."""
    versions = pinned_versions()
    missing = [name for name in names if normalise(name) not in versions]
    if missing:
        raise KeyError(f"not pinned in {REQUIREMENTS.name}: {', '.join(missing)}")
    return [f"{name}=={versions[normalise(name)]}" for name in names]
