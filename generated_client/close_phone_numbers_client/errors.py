"""The exceptions this client raises, all under one base class.

    CloseError                    anything this client raises
    ├── TransportFailed           no complete answer (connection, timeout, protocol); see `may_have_reached_server`
    ├── UnexpectedResponse        an answer the contract does not describe (status code or body)
    │   └── UnexpectedStatus      an undocumented status code (with `raise_on_unexpected_status`)
    └── RequestRefused            the server refused: nothing was rented or released (`status`, `error`, `field_errors`)
        ├── AuthenticationFailed  401: credentials missing, malformed or unknown
        └── RateLimitExceeded     429, still after the allowed retries (`retry_after`)

Only `TransportFailed` is raised by every call; the others are raised by `sync`/`asyncio`
when the client was built with `raise_errors=True`. Messages never contain credentials.
"""

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models.refusal_status import RefusalStatus


class CloseError(Exception):
    """Base class of every exception this client raises."""


class TransportFailed(CloseError):
    """The request got no complete answer. The httpx exception is the `__cause__`.

    `may_have_reached_server` is False only when the connection was never made; otherwise the
    server may have acted (rented, or released): the client never sends a rental again by itself
    (a GET or DELETE it does retry, within `RetryPolicy.idempotent_retries`, before raising this).
    """

    def __init__(self, message: str, *, may_have_reached_server: bool) -> None:
        self.may_have_reached_server = may_have_reached_server
        super().__init__(message)


class UnexpectedResponse(CloseError):
    """An answer the contract does not describe; `content` holds the raw body."""

    def __init__(self, status_code: int, content: bytes, reason: str = "") -> None:
        self.status_code = status_code
        self.content = content
        detail = f" ({reason})" if reason else ""
        super().__init__(f"Unexpected response {status_code}{detail}:\n{content[:500].decode(errors='replace')}")


class UnexpectedStatus(UnexpectedResponse):
    """An undocumented status code, raised when `raise_on_unexpected_status` is True."""

    def __init__(self, status_code: int, content: bytes) -> None:
        super().__init__(status_code, content, "undocumented status code")


class RequestRefused(CloseError):
    """The server refused the request; nothing was rented (or released).

    `status` is a `RefusalStatus` member, or the plain string for a value Close added later
    (None when the body has none, as a 404 of Close's general error shape); `error` is the
    human-readable reason; `field_errors` maps request fields to messages.
    """

    def __init__(
        self,
        status_code: int,
        status: "RefusalStatus | str | None",
        error: str | None,
        field_errors: dict[str, str] | None = None,
        errors: list[str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.status = status
        self.error = error
        self.field_errors = field_errors or {}
        self.errors = errors or []
        value = getattr(status, "value", status)
        word = f" {value}" if value is not None else ""
        super().__init__(f"{status_code}{word}: {error or 'no message'}")


class AuthenticationFailed(RequestRefused):
    """401: the credentials are missing, malformed or unknown."""


class RateLimitExceeded(RequestRefused):
    """429 after the allowed retries; `retry_after` is the wait the server asked for, in seconds.

    (Named apart from the `models.RateLimited` body it carries; the old name `errors.RateLimited`
    still works, with a DeprecationWarning.)
    """

    def __init__(self, status_code: int, error: str | None, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(status_code, "rate-limited", error)


def __getattr__(name: str) -> Any:
    if name == "RateLimited":
        warnings.warn(
            "errors.RateLimited is now errors.RateLimitExceeded (models.RateLimited is the 429 body)",
            DeprecationWarning,
            stacklevel=2,
        )
        return RateLimitExceeded
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AuthenticationFailed",
    "CloseError",
    "RateLimitExceeded",
    "RequestRefused",
    "TransportFailed",
    "UnexpectedResponse",
    "UnexpectedStatus",
]
