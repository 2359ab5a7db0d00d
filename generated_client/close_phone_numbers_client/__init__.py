"""A client library for accessing Close phone numbers"""

from .client import DEFAULT_TIMEOUT, AuthenticatedClient, Client, RetryPolicy
from .errors import (
    AuthenticationFailed,
    CloseError,
    RateLimitExceeded,
    RequestRefused,
    TransportFailed,
    UnexpectedResponse,
    UnexpectedStatus,
)


def __getattr__(name: str) -> object:
    # The exception was called RateLimited until 1.1.0, like the 429 body model; the old name still works.
    if name == "RateLimited":
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = (
    "DEFAULT_TIMEOUT",
    "AuthenticatedClient",
    "AuthenticationFailed",
    "Client",
    "CloseError",
    "RateLimitExceeded",
    "RequestRefused",
    "RetryPolicy",
    "TransportFailed",
    "UnexpectedResponse",
    "UnexpectedStatus",
)
