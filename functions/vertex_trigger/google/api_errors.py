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
# A 400 naming the deployment's Cloud KMS key or an organization policy, not the event. Vertex
# says "Provided CryptoKey projects/.../cryptoKeys/k cannot be used in Vertex AI service";
# Cloud KMS says "Permission 'cloudkms.cryptoKeyVersions.useToEncrypt' denied on resource ...".
_DEPLOYMENT_WORDS = ("cryptokey", "cloud kms", "cloudkms.", "kmskeyname", "org policies")
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
    )


def fix_for(error: ApiError) -> Fix:
    """Classify an error answer by what would make the request succeed."""
    if error.code in TRANSIENT_STATUS or (error.code == 409 and error.status == "ABORTED"):
        return Fix.RETRY
    if error.code in DEPLOYMENT_STATUS:
        return Fix.DEPLOYMENT
    if error.code == 400 and any(w in error.message.lower() for w in _DEPLOYMENT_WORDS):
        return Fix.DEPLOYMENT
    return Fix.NOTHING


def _error_object(response: Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


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
