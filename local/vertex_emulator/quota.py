"""Vertex AI's create quota: at most N PipelineJob creates per minute per project and region.

Off by default. Vertex documents "Job or long-running operation (LRO) submission requests: 60 per
minute" per project and region (https://cloud.google.com/vertex-ai/docs/quotas). Over the quota the
emulator answers as Service Infrastructure does for a rate quota: HTTP 429 `RESOURCE_EXHAUSTED`
with a `google.rpc.ErrorInfo` of reason `RATE_LIMIT_EXCEEDED` in domain `googleapis.com` (metadata
`consumer`, `service`, `quota_metric`, `quota_limit`, `quota_limit_value`, `quota_location`, as in
google/api/error_reason.proto) and a `google.rpc.Help` link to request more quota. Google's quota
answers carry no `RetryInfo`; `retry_info` adds one (the delay until the window admits a create)
for clients that honour it. `window_seconds` shortens the minute for tests and benchmarks (60
creates per 6 s keeps a burst's shape at a tenth of the wall time).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.vertex_emulator.errors import ApiError, invalid_argument

SERVICE = "aiplatform.googleapis.com"
# Vertex's console names this quota "Job or long-running operation (LRO) submission requests";
# the metric and limit ids below are the emulator's own (Google does not publish them).
QUOTA_METRIC = f"{SERVICE}/job_submission_requests"
QUOTA_LIMIT = "JobSubmissionRequestsPerMinutePerProjectPerRegion"
HELP_URL = "https://cloud.google.com/docs/quota/requesting-higher-quota"


@dataclass(frozen=True)
class QuotaSettings:
    """How many creates a minute each project and region may make, and what a 429 carries."""

    creates_per_minute: int
    retry_info: bool = False
    window_seconds: float = 60.0  # Vertex's minute; shorter only to scale a test down


def parse_quota(body: Any) -> QuotaSettings:
    """Parse `{"creates_per_minute": 60[, "retry_info": false, "window_seconds": 60]}`."""
    if not isinstance(body, dict):
        raise invalid_argument("quota must be a JSON object")
    unknown = sorted(set(body) - {"creates_per_minute", "retry_info", "window_seconds"})
    if unknown:
        raise invalid_argument(f"quota: unknown field {unknown[0]!r}")
    limit = body.get("creates_per_minute")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise invalid_argument(
            f"quota creates_per_minute must be a positive integer, got {limit!r}"
        )
    retry_info = body.get("retry_info", False)
    if not isinstance(retry_info, bool):
        raise invalid_argument(f"quota retry_info must be true or false, got {retry_info!r}")
    window = body.get("window_seconds", 60.0)
    if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
        raise invalid_argument(f"quota window_seconds must be a positive number, got {window!r}")
    return QuotaSettings(limit, retry_info, float(window))


class CreateQuota:
    """A sliding window (a minute) of admitted creates per parent (project and region)."""

    def __init__(
        self, settings: QuotaSettings | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._clock = clock
        self._admitted: dict[str, deque[float]] = {}

    @property
    def settings(self) -> QuotaSettings | None:
        """The quota in force, or None when creates are unlimited."""
        return self._settings

    def configure(self, settings: QuotaSettings | None) -> None:
        """Enforce `settings` from now on (None turns the quota off); usage so far is kept."""
        with self._lock:
            self._settings = settings

    def clear_usage(self) -> None:
        """Forget the creates admitted so far (the setting stays)."""
        with self._lock:
            self._admitted.clear()

    def admit(self, parent: str) -> None:
        """Count one create for `parent`, or raise the 429 Vertex answers over the quota."""
        with self._lock:
            settings = self._settings
            if settings is None:
                return
            now = self._clock()
            window = self._admitted.setdefault(parent, deque())
            while window and window[0] <= now - settings.window_seconds:
                window.popleft()
            if len(window) < settings.creates_per_minute:
                window.append(now)
                return
            wait = window[0] + settings.window_seconds - now
        raise quota_exceeded(parent, settings, wait)


def quota_exceeded(parent: str, settings: QuotaSettings, wait: float) -> ApiError:
    """Build the 429 RESOURCE_EXHAUSTED answer for a create over the quota of `parent`."""
    project, location = parent.split("/")[1], parent.split("/")[3]
    message = (
        f"Quota exceeded for quota metric 'Job submission requests' and limit 'Job submission "
        f"requests per minute per region' of service '{SERVICE}' for consumer "
        f"'project:{project}'."
    )
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "consumer": f"projects/{project}",
                "service": SERVICE,
                "quota_metric": QUOTA_METRIC,
                "quota_limit": QUOTA_LIMIT,
                "quota_limit_value": str(settings.creates_per_minute),
                "quota_location": location,
            },
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Request a higher quota limit.", "url": HELP_URL}],
        },
    ]
    if settings.retry_info:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{max(0.001, round(wait, 3)):g}s",
            }
        )
    return ApiError(429, message, "RESOURCE_EXHAUSTED", details=details)
