"""Cold start of each function against the shape of Google's documented sample, in one run.

Each measurement is a new Python process, timed from spawn to exit, with its own peak RSS
(VmHWM, read by the child). A launcher's cold start imports ``main`` (which reads and validates
the config), then handles a first event that launches a run on a loopback Vertex emulator;
on_run_state's imports ``main`` as its deployment does (``FUNCTION_TARGET=on_run_state``: no
template check), then handles a log entry: it reads the ended run and reports it (no outcomes
topic is configured here, so the figure has no Pub/Sub publish: one more small HTTP request). The
sample's shape is ``from google.cloud import aiplatform`` plus ``aiplatform.PipelineJob(...)`` for
the same template and parameters (construction only, no submit). Figures are medians of five.

The functions run from a copy of ``functions/`` byte-compiled as it is deployed: Google's
functions-framework buildpack runs ``python3 -m compileall -f -q .`` in the source at build time
(GoogleCloudPlatform/buildpacks, cmd/python/functions_framework/lib/lib.go, Apache-2.0), and pip
compiles site-packages when it installs them. ``--baseline REF`` measures the functions of a git
ref (e.g. ``main``) in the same run, for a before/after on one machine load.

Run: ``make bench`` (or ``.venv/bin/python -m benchmarks.cold_start [--repeat N]
[--baseline REF]``).
"""

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml
from vertex_trigger.launch.run_key import LOCAL_RUN_KEY, RunKey

from local.vertex_emulator import start_emulator
from local.vertex_emulator_client import VertexEmulatorClient

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO / "functions"
TARGET_WALL_RATIO = 0.10  # design.md's next mark: cold start <= 0.10x the sample's wall
TARGET_FLOOR_RATIO = 1.5  # ... and <= 1.5x the floor's (import functions_framework)
TARGET_RSS_RATIO = 0.30
PIPELINE_ROOT = "gs://bench-pipelines/runs"


@dataclass(frozen=True)
class Case:
    """One kind of process to measure."""

    label: str
    script: str
    env: dict[str, str] = field(default_factory=dict)  # added to the run's environment


@dataclass(frozen=True)
class Figures:
    """Median wall time (s) and peak RSS (MiB) of one case."""

    wall: float
    rss: float


def pick_template() -> tuple[Path, dict[str, object]]:
    """Use the product's compiled pipeline when present, else the tests' typed fixture."""
    compiled = REPO / "compiled" / "house_prices.yaml"
    if compiled.exists():
        parameters = {"data_uri": "gs://bench-data/incoming/prices.csv"}
        return compiled, {**parameters, "deploy_target": "local", "registry_uri": ".demo/registry"}
    fixture = REPO / "tests" / "functions" / "data" / "typed_pipeline.yaml"
    return fixture, {"data_uri": "gs://bench-data/incoming/prices.csv", "generation": 1}


def write_config(directory: Path, template: Path, parameters: dict[str, object]) -> Path:
    """Write a two-route config whose routes pass the sample's parameters."""
    object_parameters = {**parameters, "data_uri": "{uri}"}
    routes = [
        {"name": "bench-object", "event": "object_finalized", "bucket": "bench-data",
         "prefix": "incoming/", "template": str(template), "parameters": object_parameters},
        {"name": "bench-drift", "event": "drift_alert", "template": str(template),
         "parameters": parameters},
    ]  # fmt: skip
    config = {"project": "bench-project", "region": "us-central1", "pipeline_root": PIPELINE_ROOT,
              "routes": routes}  # fmt: skip
    path = directory / "triggers.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def object_script() -> str:
    return (
        "import os\n"
        "from cloudevents.http import CloudEvent\n"
        "import main\n"
        "n = os.environ['BENCH_RUN']\n"
        "main.on_object_finalized(CloudEvent({'type': 'google.cloud.storage.object.v1.finalized',"
        " 'source': '//storage.googleapis.com/projects/_/buckets/bench-data', 'id': 'e' + n},"
        " {'bucket': 'bench-data', 'name': 'incoming/prices.csv', 'generation': n}))\n"
    )


def drift_script() -> str:
    alert = {
        "model": "projects/p/locations/l/models/house-prices",
        "objective": "RAW_FEATURE_DRIFT",
        "features": [{"name": "sqft", "deviation": 0.4, "threshold": 0.3}],
    }
    return (
        "import base64, json, os\n"
        "from cloudevents.http import CloudEvent\n"
        "import main\n"
        "n = os.environ['BENCH_RUN']\n"
        f"data = base64.b64encode(json.dumps({alert!r}).encode()).decode()\n"
        "main.on_drift_alert(CloudEvent({'type': 'google.cloud.pubsub.topic.v1.messagePublished',"
        " 'source': '//pubsub.googleapis.com/projects/p/topics/drift', 'id': 'm' + n},"
        " {'message': {'data': data, 'messageId': 'm' + n}}))\n"
    )


REPORTED_RUN = "bench-object-reported"


def run_state_script() -> str:
    entry = {
        "resource": {
            "type": "aiplatform.googleapis.com/PipelineJob",
            "labels": {"pipeline_job_id": REPORTED_RUN, "location": "us-central1"},
        },
        "jsonPayload": {"state": "PIPELINE_STATE_SUCCEEDED"},
    }
    return (
        # Through the entry point only: the same script measures any ref (--baseline) whatever
        # its internal layout, and reads the decision from the function's own log line.
        "import base64, contextlib, io, json, os\n"
        "from cloudevents.http import CloudEvent\n"
        "import main\n"
        "n = os.environ['BENCH_RUN']\n"
        f"data = base64.b64encode(json.dumps({entry!r}).encode()).decode()\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    main.on_run_state(CloudEvent({'type': "
        "'google.cloud.pubsub.topic.v1.messagePublished', 'source': "
        "'//pubsub.googleapis.com/projects/p/topics/run-states', 'id': 'r' + n},"
        " {'message': {'data': data, 'messageId': 'r' + n}}))\n"
        "assert json.loads(out.getvalue())['decision'] == 'reported', out.getvalue()\n"
    )


def prepare_reported_run(
    vertex: VertexEmulatorClient, template: Path, parameters: dict[str, object]
) -> None:
    """Create a run of the object route, as it launches them, and end it SUCCEEDED."""
    spec = yaml.safe_load(template.read_text())
    labels = {"trigger-route": "bench-object", "trigger-kind": "object", "trigger-event": "1",
              # Signed as the functions sign theirs against the emulator (its public local key):
              # only runs the service made are reported (docs/design.md, "Which runs are ours").
              "trigger-auth": RunKey.from_text(LOCAL_RUN_KEY).label(REPORTED_RUN)}  # fmt: skip
    body = {"displayName": "gs://bench-data/incoming/prices.csv#1", "pipelineSpec": spec,
            "labels": labels, "runtimeConfig": {"parameterValues": parameters}}  # fmt: skip
    params = {"pipelineJobId": REPORTED_RUN}
    requests.post(vertex.jobs_url, params=params, json=body, timeout=10).raise_for_status()
    vertex.end_run(REPORTED_RUN, "PIPELINE_STATE_SUCCEEDED")


def sample_script(template: Path, parameters: dict[str, object]) -> str:
    # AnonymousCredentials only because this machine has no Application Default Credentials.
    return (
        "from google.auth.credentials import AnonymousCredentials\n"
        "from google.cloud import aiplatform\n"
        "aiplatform.PipelineJob(display_name='sample', template_path=" + repr(str(template)) + ","
        " parameter_values=" + repr(parameters) + ", pipeline_root=" + repr(PIPELINE_ROOT) + ","
        " project='bench-project', location='us-central1', credentials=AnonymousCredentials())\n"
    )


def measure(cases: list[Case], env: dict[str, str], repeat: int) -> dict[str, Figures]:
    """Median wall time and peak RSS of each case over ``repeat`` fresh processes.

    The cases take turns (one process of each, ``repeat`` rounds), so a burst of load from
    other jobs on the machine falls on every case rather than on one.
    """
    samples: dict[str, list[tuple[float, float]]] = {case.label: [] for case in cases}
    for _ in range(repeat):
        for case in cases:
            run_env = {**env, **case.env, "BENCH_RUN": str(time.time_ns())}
            samples[case.label].append(_measure_process(case.script, run_env))
    return {
        label: Figures(statistics.median(w for w, _ in runs), statistics.median(r for _, r in runs))
        for label, runs in samples.items()
    }


# Peak RSS is read by the child itself: after fork+exec, the kernel's ru_maxrss for the child
# still counts the parent's pages at fork time, which would hide small processes behind ours.
_REPORT_PEAK = (
    "\nimport os as _os\n"
    "with open(_os.environ['BENCH_OUT'], 'a') as _out:\n"
    "    _out.write(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')))\n"
)


def _measure_process(script: str, env: dict[str, str]) -> tuple[float, float]:
    """Spawn a fresh interpreter, time it to exit, and read the peak RSS it reported (VmHWM)."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        started = time.perf_counter()
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", script + _REPORT_PEAK],
            {**env, "BENCH_OUT": peak.name},
            file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
        )
        _, status = os.waitpid(pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"benchmark process failed (its stderr is above):\n{script}")
        kib = int(peak.read().split()[1])
    return wall, kib / 1024


def main() -> None:
    """Measure every case and print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", metavar="REF", help="also measure functions/ at this git ref")
    args = parser.parse_args()
    template, parameters = pick_template()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        emulator = start_emulator(scratch / "vertex", execute=False)
        config = write_config(scratch, template, parameters)
        env = {
            **os.environ,
            "TRIGGERS_CONFIG": str(config),
            "VERTEX_AI_EMULATOR_HOST": emulator.host,
        }
        os.chdir(scratch)  # python -c puts the working directory first on sys.path: no main.py here
        cases = [
            Case("python -c pass", "pass"),
            Case("import functions_framework (floor)", "import functions_framework"),
            *function_cases(deployed_copy(FUNCTIONS_DIR, scratch / "functions")),
        ]
        if args.baseline:
            baseline = byte_compile(checkout(args.baseline, scratch / "baseline"))
            cases += function_cases(baseline, f" ({args.baseline})")
        cases.append(Case(SAMPLE, sample_script(template, parameters)))
        vertex = VertexEmulatorClient(emulator.url, "bench-project")
        try:
            prepare_reported_run(vertex, template, parameters)
            results = measure(cases, env, args.repeat)
            launchers = sum(c.label.startswith(LAUNCHERS) for c in cases)
            check_launches(vertex, launchers * args.repeat + 1)  # + the run on_run_state reports
        finally:
            emulator.stop()
    report(results, template, args.repeat)


SAMPLE = "sample shape: aiplatform.PipelineJob"
FLOOR = "import functions_framework (floor)"
LAUNCHERS = ("on_object_finalized", "on_drift_alert")


def function_cases(source: Path, suffix: str = "") -> list[Case]:
    """Return the three functions' cold starts from ``source``, each served as deployed.

    Cloud Functions sets FUNCTION_TARGET to the entry point each deployment serves.
    """
    scripts = {"on_object_finalized": object_script(), "on_drift_alert": drift_script(),
               "on_run_state": run_state_script()}  # fmt: skip
    return [
        Case(f"{name} cold start{suffix}", script, served(source, name))
        for name, script in scripts.items()
    ]


def served(source: Path, target: str) -> dict[str, str]:
    """Return the environment of a process serving ``target`` from ``source``."""
    return {"PYTHONPATH": str(source), "FUNCTION_TARGET": target}


def deployed_copy(source: Path, target: Path) -> Path:
    """Copy the functions' source to ``target`` and byte-compile it there, as deployed."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return byte_compile(target)


def byte_compile(source: Path) -> Path:
    """Byte-compile the functions' source as Google's buildpack does at build time.

    GoogleCloudPlatform/buildpacks, cmd/python/functions_framework/lib/lib.go (Apache-2.0), runs
    ``python3 -m compileall -f -q .`` in the function's source. Measuring the bare source instead
    would compile every module in every process (this machine sets PYTHONDONTWRITEBYTECODE).
    """
    command = [sys.executable, "-m", "compileall", "-f", "-q", "."]
    subprocess.run(command, cwd=source, check=True)
    return source


def checkout(ref: str, target: Path) -> Path:
    """Extract ``functions/`` as it is at git ``ref`` into ``target``; return its path."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "functions"],
        cwd=REPO, check=True, capture_output=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "functions"


def check_launches(vertex: VertexEmulatorClient, expected: int) -> None:
    """Refuse figures unless every function cold start created its run (a skip is cheaper)."""
    created = [r for r in vertex.requests_received() if r["status"] == 200]
    if len(created) != expected:
        raise RuntimeError(
            f"expected {expected} runs created by the function cold starts, the emulator "
            f"recorded {len(created)}: the figures would not measure a launch"
        )


def report(results: dict[str, Figures], template: Path, repeat: int) -> None:
    """Print the figures, then each function's ratios to the sample's shape and to the floor."""
    print(f"template: {template.relative_to(REPO)}; median of {repeat} fresh processes each")
    print(f"{'what':48} {'wall s':>8} {'peak RSS MiB':>13}")
    for label, figures in results.items():
        print(f"{label:48} {figures.wall:8.3f} {figures.rss:13.1f}")
    sample, floor = results[SAMPLE], results[FLOOR]
    print(
        f"\nratios (targets: wall <= {TARGET_WALL_RATIO}x the sample's and "
        f"<= {TARGET_FLOOR_RATIO}x the floor's, RSS <= {TARGET_RSS_RATIO}x the sample's)"
    )
    summary = {}
    for label in (label for label in results if " cold start" in label):
        wall, rss = results[label].wall / sample.wall, results[label].rss / sample.rss
        over_floor = results[label].wall / floor.wall
        meets = (wall <= TARGET_WALL_RATIO and over_floor <= TARGET_FLOOR_RATIO
                 and rss <= TARGET_RSS_RATIO)  # fmt: skip
        print(f"{label:48} wall {wall:5.3f}x sample, {over_floor:4.2f}x floor; RSS {rss:5.3f}x "
              f"sample; {'meets' if meets else 'MISSES'} target")  # fmt: skip
        summary[label] = {"wall_ratio": round(wall, 3), "floor_ratio": round(over_floor, 2),
                          "rss_ratio": round(rss, 3)}  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
