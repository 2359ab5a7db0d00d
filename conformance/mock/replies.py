"""What the mock answers: a status, the contract's error body, and headers."""

from __future__ import annotations

import json
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
