"""The states of a Vertex AI PipelineJob (``PIPELINE_STATE_*``), as runs and filters name them."""

import enum
from collections.abc import Mapping
from typing import Any

STATE_PREFIX = "PIPELINE_STATE_"
FAILED = "PIPELINE_STATE_FAILED"
CANCELLED = frozenset({"PIPELINE_STATE_CANCELLED", "PIPELINE_STATE_CANCELLING"})
# Every state but these counts as running (QUEUED, PENDING, RUNNING, CANCELLING, PAUSED, and any
# state Vertex adds later): a filter names the finished ones, so a new state is never missed.
FINISHED = ("PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED")
# List filters: runs still live (a cancelling run is as good as gone), and runs not cancelled.
LIVE_FILTER = " AND ".join(f'state!="{s}"' for s in (*FINISHED, "PIPELINE_STATE_CANCELLING"))
NOT_CANCELLED_FILTER = " AND ".join(f'state!="{state}"' for state in sorted(CANCELLED))


class EndState(enum.StrEnum):
    """The states a PipelineJob ends in (``PIPELINE_STATE_`` left out)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


def state_of(job: Mapping[str, Any]) -> str:
    """Return the job's state without the ``PIPELINE_STATE_`` prefix."""
    return str(job.get("state") or "UNSPECIFIED").removeprefix(STATE_PREFIX)


def is_cancelled(run: Mapping[str, Any]) -> bool:
    """Tell whether a run was cancelled (or is being cancelled)."""
    return run.get("state") in CANCELLED
