"""One exchange: a request that was sent, what happened to it, the answer, and when.

The unit every part of the suite works on: the guard and the proxy record exchanges, replay
reads them from recordings, the judge judges them, the reports write them (HAR, curl). A
request that was never sent (held back by the guard, or not writable as HTTP) is not an
exchange: it is a `NotSent`, listed with its reason.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

# How a request can fail without an answer, and whether the server may have acted on it.
CONNECT = "connect"  # nothing reached the server
TIMEOUT = "timeout"
DISCONNECT = "disconnect"
PROTOCOL = "protocol"
UNSENDABLE = "unsendable"  # the request itself cannot be written as HTTP (a NUL in a header)
SERVER_FAILURES = (TIMEOUT, DISCONNECT, PROTOCOL)

# What the request's credentials were, as far as the producer can tell.
REAL = "real"  # the run's own credentials (active run)
INVALID = "invalid"  # credentials the producer knows are not valid (a probe's unknown key)
NONE = "none"  # no Authorization at all, and the producer saw every header
PRESENT = "present"  # an Authorization header whose validity is not known (proxy, recordings)
UNKNOWN = "unknown"  # no Authorization in a recording, which may have filtered it out
AUTHENTICATED = (REAL, PRESENT)


@dataclass
class Exchange:
    """One request that was sent, what happened to it, and the answer."""

    number: int  # 1-based, in the order the requests were made
    method: str
    path: str  # path and query as sent, credentials in the query hidden
    headers: list[tuple[str, str]]  # end-to-end headers as sent, credentials redacted
    body: bytes  # as the server reads it (a compressed body decoded)
    auth: str = NONE  # REAL, INVALID, NONE, PRESENT, UNKNOWN
    scheme: str | None = None  # "basic" / "bearer" of the Authorization, when there was one
    credential: str | None = None  # which credential, as a label safe to print (never the secret)
    allowed_body: bool = False  # the contract allows this body
    could_rent: bool = False  # some lenient server could rent a number on this body (safety.could_rent)
    probe: str | None = None  # the fixed probe (or follow-up) this request is, if it is one
    follow_up: bool = False  # made because of an earlier answer (a retry it asked for, a read-back, a release)
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""  # as the client reads it (decoded)
    error: str | None = None  # a transport failure, redacted
    failure: str | None = None  # its kind: TIMEOUT, DISCONNECT, PROTOCOL
    started: float = 0.0  # wall-clock time the request was sent (epoch seconds; 0: unknown)
    elapsed: float = 0.0  # seconds until the answer (or the failure), over every attempt
    attempts: int = 1  # sends, counting re-sends after 429
    waited: float = 0.0  # seconds spent waiting out 429 answers before the last attempt
    rate_limited: list[RateLimited] = field(default_factory=list)  # the 429 answers waited out
    body_missing: bool = False  # recorded without its response body: counted, not judged

    @property
    def answered(self) -> bool:
        """Whether the server answered (with any status)."""
        return self.status is not None and self.error is None

    @property
    def server_failure(self) -> bool:
        """A timeout, disconnect, reset or protocol error after the request went out: the server's fault."""
        return self.failure in SERVER_FAILURES

    @property
    def rented(self) -> bool:
        """Whether the server claims a rental (any 2xx to a POST counts, to be safe)."""
        return self.answered and self.method == "POST" and self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        """The answer's body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def rental_id(self) -> str:
        """The id of the rented number, as the answer says it (or why it cannot be told)."""
        if self.body_missing:
            return "(answer not recorded)"
        body = self.json()
        return str(body["id"]) if isinstance(body, dict) and "id" in body else "(no id in the answer)"

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive)."""
        name = name.lower()
        return next((value for key, value in self.response_headers if key.lower() == name), None)

    def request_header(self, name: str) -> str | None:
        """A request header (case-insensitive)."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


@dataclass(frozen=True)
class RateLimited:
    """A 429 answer that was waited out and the request sent again: kept so it is judged too."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    wait: float | None  # what the answer asked for, in seconds (None: it gave no hint)


@dataclass(frozen=True)
class NotSent:
    """A request that was never sent, and why (held back by the guard, or not writable as HTTP)."""

    method: str
    path: str
    reason: str
    probe: str | None = None
    could_rent: bool = False


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
