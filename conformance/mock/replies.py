"""What the mock answers: a status, the contract's error body, and headers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

WWW_AUTHENTICATE = 'Basic realm="Close API", Bearer realm="Close API"'


# One encoder for every reply: json.dumps with separators builds a new one per call (2.4 us).
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def encode(value: Any) -> bytes:
    """Compact JSON, ASCII only, so no value can make encoding fail."""
    return _ENCODER.encode(value).encode("ascii")


@dataclass(frozen=True)
class Reply:
    """An HTTP answer with a JSON body."""

    status: int
    body: Any
    headers: tuple[tuple[str, str], ...] = field(default=())
    payload: bytes | None = None  # the body already serialized, when the caller has it

    def encode(self) -> bytes:
        """Serialize the body; ASCII-only, so no input can make encoding fail."""
        if self.payload is not None:
            return self.payload
        return encode(self.body)


class Refused(Exception):  # noqa: N818 - a refusal is the API's word, not an error of the mock
    """Raised by a pipeline stage to answer now with `reply` and change nothing."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status, reply.body)
        self.reply = reply


def refusal(
    status_code: int,
    message: str,
    *,
    status: str = "error",
    field_errors: dict[str, str] | None = None,
    errors: list[str] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Refused:
    """Build a refusal in the contract's error shape (`status`, `error`, Close's validation keys)."""
    body: dict[str, Any] = {"status": status, "error": message}
    if field_errors is not None or errors is not None:
        body["errors"] = errors or []
        body["field-errors"] = field_errors or {}
    return Refused(Reply(status_code, body, headers))


def rate_limited(limit: int, window: float, reset: float, *, retry_after: bool = True) -> Reply:
    """Close's 429: the rate-limit body and `RateLimit`, and `Retry-After` unless told otherwise."""
    headers = [("ratelimit", f"limit={limit}, remaining=0, reset={math.ceil(reset)}")]
    if retry_after:
        headers.append(("retry-after", str(math.ceil(reset))))
    body = {
        "status": "error",
        "error": {
            "message": f"API call count exceeded for this {window:g} second window",
            "rate_reset": round(reset, 3),
            "rate_limit": limit,
            "rate_window": window,
            "rate_limit_type": "key",
        },
    }
    return Reply(429, body, tuple(headers))
