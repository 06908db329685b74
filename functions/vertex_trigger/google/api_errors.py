"""Read a Google API error answer and say what fixes it: time, an operator, or nothing."""

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from vertex_trigger.google.http import Response

# Answers a later attempt may not get: timeouts, throttling (429 RESOURCE_EXHAUSTED), 5xx.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DEPLOYMENT_STATUS = frozenset({401, 403, 404})  # credentials, IAM, project/location/collection
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
# google.protobuf.Duration in JSON: seconds with up to 9 fractional digits, then "s".
_DURATION = re.compile(r"^(\d{1,12}(?:\.\d{1,9})?)s$")
# A 400 or 412 is the deployment's when it names what an operator sets up: IAM on a service
# account, the Cloud KMS key, an organization policy, the network, a bucket's billing, a quota.
# Each phrase is a service's own wording (tests/functions/data/google_errors/README.md: sources).
WORDED_STATUS = frozenset({400, 412})
_DEPLOYMENT_PHRASES = re.compile(
    "|".join(
        [
            r"permission to act as",  # Vertex: the caller lacks actAs on the run's account
            r"iam\.serviceaccounts\.actas",
            r"service.?account\b.{0,300}?\bdoes not (?:have|exist)",  # Vertex, Cloud Storage
            r"\biam permission",  # Vertex: the run's account cannot use the pipeline root
            r"permission '[\w.]+' denied",  # IAM's wording, inside a 400 that wraps it
            r"cryptokey|cloud ?kms|kmskeyname",  # Vertex and Cloud KMS: the CMEK key
            r"org ?polic|constraints/",  # an organization policy (Vertex 400, Cloud Storage 412)
            # Private services access: the Service Networking API's ValidationError names.
            r"network_(?:not_found|not_peered|peering_deleted)|service[ _]?networking|not peered",
            r"requester pays|user project",  # Cloud Storage: a Requester Pays bucket
            r"billing account",
            r"\bquota\b",  # a quota an operator raises (429 RESOURCE_EXHAUSTED is retried)
        ]
    ),
    re.IGNORECASE | re.DOTALL,
)
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
# google.rpc.ErrorInfo in a 400 or 412 that names the deployment whatever the words: Service
# Infrastructure's domain (google/api/error_reason.proto: the project, its APIs, billing and keys,
# VPC Service Controls) and IAM's reason; the quota reasons are time's (RETRY_REASONS).
SERVICE_INFRASTRUCTURE = "googleapis.com"
DEPLOYMENT_REASONS = frozenset({"IAM_PERMISSION_DENIED"})
RETRY_REASONS = frozenset({"RATE_LIMIT_EXCEEDED", "RESOURCE_QUOTA_EXCEEDED"})
_TEXT_LIMIT = 300


class Fix(enum.Enum):
    """What makes the same request succeed."""

    RETRY = "retry"  # time: throttling, an outage, an aborted concurrent change
    DEPLOYMENT = "deployment"  # an operator: IAM, project, location, KMS key, template
    NOTHING = "nothing"  # the request is wrong: it carries the event's content


@dataclass(frozen=True)
class ApiError:
    """One error answer: HTTP code, google.rpc status name, message, and any asked-for delay."""

    code: int
    status: str
    message: str
    retry_delay: float | None = None  # seconds, from RetryInfo or Retry-After
    reasons: tuple[tuple[str, str], ...] = ()  # (domain, reason) of each google.rpc.ErrorInfo

    def describe(self) -> str:
        """Return ``HTTP 409 ABORTED message`` for log lines."""
        return " ".join(filter(None, [f"HTTP {self.code}", self.status, self.message]))


def read_error(response: Response, now: datetime | None = None) -> ApiError:
    """Read ``{"error": {code, message, status, details}}`` and the Retry-After header."""
    error = _error_object(response)
    message = error.get("message")
    status = error.get("status")
    delays = [
        _retry_info_delay(error.get("details")),
        _retry_after(response.headers.get("Retry-After"), now or datetime.now(UTC)),
    ]
    known = [d for d in delays if d is not None]
    return ApiError(
        code=response.status,
        status=status if isinstance(status, str) else "",
        message=message if isinstance(message, str) else response.text[:_TEXT_LIMIT],
        retry_delay=max(known) if known else None,
        reasons=_error_infos(error.get("details")),
    )


def fix_for(error: ApiError) -> Fix:
    """Classify an error answer by what would make the request succeed."""
    if error.code in TRANSIENT_STATUS or (error.code == 409 and error.status == "ABORTED"):
        return Fix.RETRY
    if error.code in DEPLOYMENT_STATUS:
        return Fix.DEPLOYMENT
    if error.code in WORDED_STATUS and names_the_deployment(error):
        return Fix.DEPLOYMENT
    return Fix.NOTHING


def names_the_deployment(error: ApiError) -> bool:
    """Tell whether an error's ErrorInfo or words point at the deployment, not the request."""
    for domain, reason in error.reasons:
        if reason in RETRY_REASONS:
            continue
        if domain == SERVICE_INFRASTRUCTURE or reason in DEPLOYMENT_REASONS:
            return True
    return _DEPLOYMENT_PHRASES.search(error.message) is not None


def _error_object(response: Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _error_infos(details: Any) -> tuple[tuple[str, str], ...]:
    """Return (domain, reason) of each google.rpc.ErrorInfo in ``error.details``."""
    return tuple(
        (str(detail.get("domain", "")), str(detail.get("reason", "")))
        for detail in (details if isinstance(details, list) else [])
        if isinstance(detail, dict) and detail.get("@type") == ERROR_INFO
    )


def _retry_info_delay(details: Any) -> float | None:
    """Return ``retryDelay`` of a google.rpc.RetryInfo in ``error.details``, in seconds."""
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO:
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Return a Retry-After header (delay-seconds or an HTTP-date, RFC 9110) in seconds."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text) if len(text) <= 12 else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
