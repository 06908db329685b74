"""Errors answered in Google's JSON error shape."""

from __future__ import annotations

from typing import Any

# HTTP status -> google.rpc.Code name, as Google APIs map them.
STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error the API answers with `{"error": {"code", "message", "status", "details"?}}`."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details or []  # google.rpc.Status details, e.g. a RetryInfo
        self.headers = headers or {}  # e.g. Retry-After

    def to_json(self) -> dict[str, Any]:
        """Return the error body as Google APIs send it."""
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid_argument(message: str) -> ApiError:
    """Return a 400 INVALID_ARGUMENT error."""
    return ApiError(400, message, "INVALID_ARGUMENT")


def failed_precondition(message: str) -> ApiError:
    """Return a 400 FAILED_PRECONDITION error (Vertex answers 400, not 412)."""
    return ApiError(400, message, "FAILED_PRECONDITION")


def not_found(message: str) -> ApiError:
    """Return a 404 NOT_FOUND error."""
    return ApiError(404, message, "NOT_FOUND")


def already_exists(message: str) -> ApiError:
    """Return a 409 ALREADY_EXISTS error."""
    return ApiError(409, message, "ALREADY_EXISTS")
