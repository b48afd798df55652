"""Domain errors. They carry PocketBase's error envelope data but know nothing about HTTP."""

from __future__ import annotations

from typing import Any


def sentenize(text: str) -> str:
    """PocketBase capitalises messages and ends them with a period."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text[-1] not in ".?!":
        text += "."
    return text


class FieldError(Exception):
    """One field's validation failure: a PocketBase error code, a message and optional params."""

    def __init__(self, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": sentenize(self.message)}
        if self.params is not None:
            out["params"] = self.params
        return out


ErrorData = dict[str, Any]


class ApiError(Exception):
    """An error answered with PocketBase's envelope `{"status","message","data"}`."""

    status = 400
    default_message = "Something went wrong while processing your request."
    # Seconds after which a retry may succeed (sent as Retry-After), when the error is temporary.
    retry_after: int | None = None

    def __init__(self, message: str = "", data: ErrorData | None = None) -> None:
        self.message = sentenize(message or self.default_message)
        self.data = data or {}
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        return {"data": _serialize_data(self.data), "message": self.message, "status": self.status}


def _serialize_data(data: Any) -> Any:
    """Field errors as PocketBase writes them: Go encodes a map with its keys sorted, so an
    error's fields come in name order (a FieldError's own keys keep its struct's order)."""
    if isinstance(data, FieldError):
        return data.to_dict()
    if isinstance(data, dict):
        return {k: _serialize_data(data[k]) for k in sorted(data, key=str)}
    return data


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401
    default_message = "Missing or invalid authentication."


class Forbidden(ApiError):
    status = 403
    default_message = "You are not allowed to perform this request."


class NotFound(ApiError):
    status = 404
    default_message = "The requested resource wasn't found."


class PayloadTooLarge(ApiError):
    status = 413
    default_message = "Request entity too large."


class TooManyRequests(ApiError):
    status = 429
    default_message = "Too Many Requests."


class DatabaseUnavailable(ApiError):
    """The database cannot be used right now: unreachable, shutting down, out of connections,
    locked by another process beyond the wait, out of disk, or too slow to answer in time.

    Raised by the db layer instead of the driver's errors, so that every route answers 503 and
    nothing logs a traceback for it. `reason` (the driver's text) is for logs only.
    """

    status = 503
    default_message = "The database is unavailable. Try again later."
    retry_after = 5

    def __init__(self, reason: str = "", message: str = "") -> None:
        super().__init__(message)
        self.reason = reason or "unknown"


class ValidationFailed(Exception):
    """Field errors gathered while validating one object; the caller chooses the envelope message."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors
