"""Helpers shared by the launcher's tests: a clock that moves only when slept, a valid create body.

Apart from helpers.py because the compiled spec is read with vertex_trigger's own template parser:
helpers.py imports nothing of vertex_trigger, so the tests that only drive the entry points do not
depend on its module paths.
"""

from vertex_trigger.config.template_ref import TemplateKind, TemplateRef
from vertex_trigger.launch.templates import parse_template

from tests.functions.helpers import TYPED_TEMPLATE

SPEC = parse_template(TemplateRef(TemplateKind.LOCAL, "t"), TYPED_TEMPLATE.read_bytes(), "1").spec


class FakeClock:
    """Time that only moves when the launcher sleeps, so the backoff schedule is exact."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def valid_body() -> dict:
    runtime = {
        "gcsOutputDirectory": "gs://r/runs",
        "parameterValues": {"data_uri": "u", "generation": 1},
    }
    return {"displayName": "x", "pipelineSpec": SPEC, "runtimeConfig": runtime}
