"""The command line: prints where it listens, serves, stops cleanly on SIGTERM."""

import re
import signal
import subprocess
from pathlib import Path

import requests

from local.vertex_emulator_process import vertex_emulator_command
from tests.emulator.helpers import body_for

REPO = Path(__file__).resolve().parents[2]


def test_cli_serves_and_keeps_state_across_restarts(tmp_path, specs):
    state = tmp_path / "state"
    command = vertex_emulator_command(state, execute=False)
    for attempt in range(2):
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        try:
            line = process.stdout.readline()
            match = re.fullmatch(r"vertex emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
            assert match, line
            url = f"{match.group(1)}/v1/projects/p/locations/us-central1/pipelineJobs"
            if attempt == 0:
                created = requests.post(
                    url,
                    params={"pipelineJobId": "cli-1"},
                    json=body_for(specs["tiny"], a=1),
                    timeout=10,
                )
                assert created.status_code == 200
            listed = requests.get(url, timeout=10).json()
            assert [job["name"].rsplit("/", 1)[-1] for job in listed["pipelineJobs"]] == ["cli-1"]
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
