"""Every module of local/ and benchmarks/ answers --help without starting anything."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(
    ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__main__")
    for folder in ("local", "benchmarks")
    for path in (REPO / folder).rglob("*.py")
    # Modules of the packages; benchmarks/sample_shape/ is a function's source, served by
    # functions-framework, not a module.
    if path.name != "__init__.py" and path.parent.name != "sample_shape"
)


def runnable(module: str) -> bool:
    """Tell whether the module is a program (a __main__ guard, or a package's __main__)."""
    path = REPO / Path(*module.split("."))
    source = path / "__main__.py" if path.is_dir() else path.with_suffix(".py")
    return source.name == "__main__.py" or '__name__ == "__main__"' in source.read_text()


def processes_marked(marker: str) -> list[int]:
    """Return the live processes whose environment carries the marker (ours, and their kids)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                status = (proc / "stat").read_text().split()[2]
                if status != "Z":
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_every_module_is_listed():
    assert {"local.up", "local.demo", "local.vertex_emulator", "local.storage_emulator_process",
            "local.vertex_emulator.run_pipeline", "benchmarks.burst"} <= set(MODULES)  # fmt: skip


@pytest.mark.parametrize("module", MODULES)
def test_help_starts_nothing(module, tmp_path):
    marker = f"HELP_MARKER_{uuid.uuid4().hex}"
    path = os.pathsep.join([str(REPO), str(REPO / "functions")])
    env = {**os.environ, marker: "1", "PYTHONPATH": path}

    ran = subprocess.run([sys.executable, "-m", module, "--help"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    if runnable(module):
        assert ran.stdout.startswith("usage: "), ran.stdout[:300]
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran
    assert processes_marked(marker) == []  # nothing left running
