"""A client library for accessing Close phone numbers"""

from .client import DEFAULT_TIMEOUT, AuthenticatedClient, Client, RetryPolicy
from .errors import (
    AuthenticationFailed,
    CloseError,
    RateLimited,
    RequestRefused,
    TransportFailed,
    UnexpectedResponse,
    UnexpectedStatus,
)

__all__ = (
    "DEFAULT_TIMEOUT",
    "AuthenticatedClient",
    "AuthenticationFailed",
    "Client",
    "CloseError",
    "RateLimited",
    "RequestRefused",
    "RetryPolicy",
    "TransportFailed",
    "UnexpectedResponse",
    "UnexpectedStatus",
)
