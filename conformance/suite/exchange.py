"""One exchange: a request, what happened to it, the answer, and when.

The unit every part of the suite works on: the guard records exchanges, the checks and
probes judge them, the reports write them (HAR, curl reproductions).
"""

from __future__ import annotations

import contextlib
import json
import zlib
from dataclasses import dataclass, field

import httpx

CASE_HEADER = "x-schemathesis-testcaseid"

# How a request can fail without an answer, and whether the server may have acted on it.
CONNECT = "connect"  # nothing reached the server
TIMEOUT = "timeout"
DISCONNECT = "disconnect"
PROTOCOL = "protocol"
UNSENDABLE = "unsendable"  # the request itself cannot be written as HTTP (a NUL in a header)


def failure_kind(error: Exception) -> str:
    """Classify a transport error (see the constants above)."""
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return CONNECT
    if isinstance(error, httpx.TimeoutException):
        return TIMEOUT
    if isinstance(error, httpx.RemoteProtocolError):
        text = str(error).lower()
        return DISCONNECT if "disconnected" in text or "without sending" in text else PROTOCOL
    if isinstance(error, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return DISCONNECT
    if isinstance(error, httpx.LocalProtocolError | ValueError | UnicodeError):
        return UNSENDABLE
    return PROTOCOL


@dataclass
class Exchange:
    """One request the suite meant to send, what happened to it, and the answer."""

    number: int
    case_id: str | None
    method: str
    path: str
    headers: list[tuple[str, str]]  # as sent upstream, credentials redacted
    body: bytes
    scheme: str | None  # "basic" / "bearer" when real credentials were attached
    allowed_body: bool  # the contract allows this body
    could_rent: bool = False  # some lenient server could rent on this body (safety.could_rent)
    blocked: str | None = None  # why it was not sent
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    error: str | None = None  # a transport failure, redacted
    failure: str | None = None  # its kind: CONNECT, TIMEOUT, DISCONNECT, PROTOCOL, UNSENDABLE
    started: float = 0.0  # wall-clock time the request came to be sent or held back (epoch seconds)
    elapsed: float = 0.0  # seconds until the answer (or the failure), over every attempt
    attempts: int = 0  # sends, counting re-sends after 429
    rate_limited: int = 0  # 429 answers that were waited out and re-sent
    body_missing: bool = False  # recorded without its response body: counted, not judged
    credential: str | None = None  # recorded or proxied traffic: which credential, as a fingerprint, never the secret

    @property
    def sent(self) -> bool:
        """Whether the request reached the server and was answered."""
        return self.blocked is None and self.error is None

    @property
    def may_have_reached(self) -> bool:
        """Whether the server may have acted on it (answered, or failed after the request went out)."""
        return self.blocked is None and self.failure not in (CONNECT, UNSENDABLE)

    @property
    def server_failure(self) -> bool:
        """A timeout, disconnect, reset or protocol error: the server's fault, reported as a violation."""
        return self.failure in (TIMEOUT, DISCONNECT, PROTOCOL)

    @property
    def rented(self) -> bool:
        """Whether the server claims a rental (any 2xx to a POST counts, to be safe)."""
        return self.sent and self.method == "POST" and self.status is not None and 200 <= self.status < 300

    def rental_id(self) -> str | None:
        """The id of the rented number, when the answer says it."""
        if self.body_missing:
            return "(answer not recorded)"
        try:
            body = json.loads(self.response_body)
        except ValueError:
            return None
        return str(body["id"]) if isinstance(body, dict) and "id" in body else "(no id in the answer)"

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive)."""
        return next((value for key, value in self.response_headers if key.lower() == name), None)


def decoded(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """A body as the application read it: gzip or deflate undone when it is still compressed.

    Sources differ: the proxy and vcrpy with httpx hold the compressed bytes, vcrpy with requests
    the decoded text under the same `Content-Encoding` header; a body that does not decode is
    taken as already decoded.
    """
    coding = next((v.strip().lower() for k, v in headers if k.lower() == "content-encoding"), "")
    if coding not in ("gzip", "x-gzip", "deflate") or not body:
        return body
    try:
        return zlib.decompress(body, wbits=47 if coding != "deflate" else 15)  # 47: gzip or zlib header
    except zlib.error:
        if coding == "deflate":
            with contextlib.suppress(zlib.error):
                return zlib.decompress(body, wbits=-15)  # raw deflate, as some servers send it
        return body
