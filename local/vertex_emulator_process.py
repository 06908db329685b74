"""Run the Vertex AI emulator (`python -m local.vertex_emulator`) as a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from local.processes import REPO, start_announcing


def vertex_emulator_command(
    state_dir: Path, execute: bool = True, *, isolated: bool = False
) -> list[str]:
    """Return the command serving the emulator on 127.0.0.1, port 0, keeping jobs in state_dir."""
    command = [sys.executable, "-m", "local.vertex_emulator", "--host", "127.0.0.1",
               "--port", "0", "--state-dir", str(state_dir)]  # fmt: skip
    if isolated:
        command.append("--isolated")
    return command if execute else [*command, "--no-execute"]


def start_vertex_emulator_process(
    state_dir: Path, execute: bool = False
) -> tuple[str, subprocess.Popen[str]]:
    """Start the emulator from the repo root; return its URL (from its one line) and process."""
    return start_announcing(vertex_emulator_command(state_dir, execute), "vertex emulator", REPO)
