"""Process groups: every process started (and its children) stops; startup errors name it."""

import os
import sys
import time

import pytest

from local.processes import ProcessGroup, StartupError, wait_for_line, wait_for_port

CHILD_AND_GRANDCHILD = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "print('grandchild', child.pid, flush=True)\n"
    "time.sleep(120)\n"
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"  # a zombie has exited


def test_stop_ends_processes_and_their_children(tmp_path):
    group = ProcessGroup(tmp_path / "logs")
    service = group.start("sleeper", [sys.executable, "-c", CHILD_AND_GRANDCHILD], {})
    grandchild = int(wait_for_line(service, r"grandchild (\d+)").group(1))
    group.stop(grace=2)
    assert service.process.poll() is not None
    for _ in range(50):
        if not alive(grandchild):
            break
        time.sleep(0.1)
    assert not alive(grandchild)
    assert group.services == []


def test_a_service_that_dies_at_start_is_named_with_its_log(tmp_path):
    group = ProcessGroup(tmp_path / "logs")
    script = "import sys; print('cannot bind the port'); sys.exit(3)"
    service = group.start("broken", [sys.executable, "-c", script], {})
    try:
        with pytest.raises(StartupError, match=r"broken exited with code 3:\ncannot bind the port"):
            wait_for_port(service, 9)
    finally:
        group.stop()


def test_a_missing_ready_line_times_out_naming_the_pattern(tmp_path):
    group = ProcessGroup(tmp_path / "logs")
    service = group.start("quiet", [sys.executable, "-c", "import time; time.sleep(30)"], {})
    try:
        with pytest.raises(StartupError, match=r"quiet did not print 'listening on' in 1s"):
            wait_for_line(service, "listening on", timeout=1)
    finally:
        group.stop()
