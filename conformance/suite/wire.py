"""HTTP on the wire, for the suite's two reverse proxies (the guard and `close-conformance proxy`).

One place for what both need: which headers are hop-by-hop, the upstream connection pool
(`http.client`: little per-request cost), how a transport failure is classified, how
credentials are hidden, the one constructor of an `Exchange`, and the ASGI front both serve
their clients with (uvicorn, through `conformance.serving`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import http.client
import re
import select
import socket
import ssl
import time
import urllib.parse
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance import jsonbody
from conformance.serving import receive_all
from conformance.suite import safety
from conformance.suite.exchange import (
    CONNECT,
    DISCONNECT,
    PROTOCOL,
    TIMEOUT,
    UNSENDABLE,
    Exchange,
    decoded,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from concurrent.futures import Executor

    from conformance.contract import Contract

Headers = list[tuple[str, str]]
Answer = tuple[int, Headers, bytes]

# RFC 9110 section 7.6.1: meaningful for one connection only, never forwarded (plus any header
# the Connection header names). Content-Encoding is end to end and is forwarded.
HOP_BY_HOP = frozenset(
    {"connection", "proxy-connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade"}
)  # fmt: skip
# Set anew by whoever sends the message: not forwarded, and not part of a reproduction.
FRAMING = frozenset({"host", "content-length"})
REDACTED = "[REDACTED]"
FAKE_CREDENTIAL = "conformance-"  # how the suite's made-up credentials begin (probes expect them refused)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"})
_ALREADY_HIDDEN = re.compile(r"\[(REDACTED|Filtered)\]|\*{3,}", re.IGNORECASE)
# Query parameters that carry credentials (`?api_key=...`, `?access_token=...`).
_SECRET_PARAMETER = re.compile(r"(?:^|_|-)(?:key|apikey|token|secret|password|auth|signature)$", re.IGNORECASE)


def header(headers: Headers, name: str) -> str | None:
    """The first value of a header (names compared case-insensitively)."""
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def end_to_end(headers: Headers) -> Headers:
    """The headers a proxy forwards: hop-by-hop ones, those the Connection header names, and framing dropped."""
    named = {token.strip().lower() for k, v in headers if k.lower() == "connection" for token in v.split(",")}
    return [(k, v) for k, v in headers if (lower := k.lower()) not in HOP_BY_HOP | FRAMING and lower not in named]


def recorded(headers: Headers) -> Headers:
    """The headers an exchange keeps: end to end, and no Content-Encoding (its body is kept decoded)."""
    return [(k, v) for k, v in end_to_end(headers) if k.lower() != "content-encoding"]


# -- credentials ------------------------------------------------------------------------------


def redacted(headers: Headers) -> tuple[Headers, str | None, bool]:
    """Headers with every credential hidden, the Authorization's scheme, and whether a real secret was there."""
    kept: Headers = []
    scheme: str | None = None
    secret = False
    for name, value in headers:
        if name.lower() not in SECRET_HEADERS:
            kept.append((name, value))
            continue
        word, _, rest = value.partition(" ")
        if name.lower() == "authorization" and is_fake(value):
            kept.append((name, value))  # the suite's own made-up credentials: no secret, and the point of a probe
            scheme = word.lower() or None
            continue
        if name.lower() == "authorization" and word.lower() in ("basic", "bearer"):
            scheme = word.lower()
            secret = secret or (bool(rest.strip()) and not _ALREADY_HIDDEN.search(rest))
            kept.append((name, f"{word} {REDACTED}"))
        else:
            secret = secret or not _ALREADY_HIDDEN.search(value)
            kept.append((name, REDACTED))
    return kept, scheme, secret


def is_fake(authorization: str) -> bool:
    """Whether an Authorization value is one the suite made up to be refused (`conformance-unknown-key`)."""
    word, _, rest = authorization.strip().partition(" ")
    text = rest
    if word.lower() == "basic":
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            text = base64.b64decode(rest, validate=True).decode("utf-8")
    return text.startswith(FAKE_CREDENTIAL) or rest.startswith("%%%")


def redacted_query(query: str) -> tuple[str, bool]:
    """A query string with credential parameters hidden, and whether a real one was there."""
    if not query:
        return query, False
    secret = False
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if equals and value and _SECRET_PARAMETER.search(urllib.parse.unquote_plus(name)):
            secret = secret or not _ALREADY_HIDDEN.search(urllib.parse.unquote_plus(value))
            value = REDACTED
        pairs.append(name + equals + value)
    return "&".join(pairs), secret


def fingerprint(authorization: str) -> str | None:
    """Which credential an Authorization header carries, as a label safe to print (scheme, 8 hex digits of a hash).

    None when the value is already hidden (a recorder's `[Filtered]`): it tells nothing apart.
    """
    if _ALREADY_HIDDEN.search(authorization):
        return None
    scheme, _, secret = authorization.strip().partition(" ")
    digest = hashlib.sha256(authorization.strip().encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{scheme.lower() if secret else 'credential'} #{digest}"


# -- the one constructor of an exchange --------------------------------------------------------


def exchange(
    number: int,
    contract: Contract,
    method: str,
    target: str,
    *,
    headers: Headers,
    body: bytes,
    auth: str | None = None,
    credential: str | None = None,
) -> tuple[Exchange, bool]:
    """The exchange of a request as it was sent (credentials hidden), and whether it carried a secret.

    `target` is a URL or a path with its query. `auth` is what the producer knows of the
    credentials (exchange.REAL, INVALID, NONE, PRESENT, UNKNOWN); by default the Authorization
    header's presence decides (PRESENT or NONE). A compressed body is kept decoded, as the server
    reads it.
    """
    parts = urlsplit(target)
    query, query_secret = redacted_query(parts.query)
    path = (parts.path or "/") + (f"?{query}" if query else "")
    kept, scheme, secret = redacted(recorded(headers))
    authorization = header(headers, "authorization")
    plain = decoded(headers, body)
    if auth is None:  # the suite's own made-up credentials are known to be invalid, wherever they are read
        auth = ("invalid" if is_fake(authorization) else "present") if authorization else "none"
    if credential is None and authorization and auth != "none":
        credential = fingerprint(authorization)
    made = Exchange(
        number=number, method=method.upper(), path=path, headers=kept, body=plain, auth=auth, scheme=scheme,
        credential=credential, allowed_body=body_allowed(contract, plain),
        could_rent=method.upper() == "POST" and safety.could_rent(plain),
    )  # fmt: skip
    return made, secret or query_secret or bool(parts.password or parts.username)


def body_allowed(contract: Contract, body: bytes) -> bool:
    """Whether the contract allows this rental body, read by the project's one strict JSON reader."""
    if not body:
        return False
    try:
        return bool(contract.request_validator().is_valid(jsonbody.read_strict(body)))
    except (ValueError, OverflowError, TypeError):
        return False


# -- the upstream ----------------------------------------------------------------------------


class TransportFailure(Exception):  # noqa: N818 - reads as what happened
    """No answer from the upstream; `kind` says whether the request may have reached it."""

    def __init__(self, kind: str, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.kind = kind


def failure_kind(error: BaseException, *, connected: bool) -> str:
    """Classify a failure to get an answer (exchange.CONNECT, TIMEOUT, DISCONNECT, PROTOCOL, UNSENDABLE)."""
    if isinstance(error, ValueError | UnicodeError) and not isinstance(error, http.client.HTTPException):
        return UNSENDABLE  # the request cannot be written (an illegal header value): nothing was sent
    if not connected:
        return CONNECT
    if isinstance(error, TimeoutError):
        return TIMEOUT
    if isinstance(error, http.client.RemoteDisconnected | http.client.IncompleteRead | ConnectionError):
        return DISCONNECT
    return PROTOCOL


class Upstream:
    """Keep-alive connections to one origin, reused across requests; never follows a redirect."""

    def __init__(self, origin: str, timeout: float) -> None:
        parts = urlsplit(origin)
        self.https = parts.scheme == "https"
        self.host, self.port, self.timeout = parts.hostname or "", parts.port, timeout
        self.context = ssl.create_default_context() if self.https else None
        self.idle: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        while self.idle:
            connection = self.idle.pop()
            if _usable(connection):
                return connection
            connection.close()  # the server closed it while it was idle
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def send(self, method: str, path: str, headers: Headers, body: bytes) -> Answer:
        """One request and its whole answer (raw bytes, as sent); TransportFailure when there is none."""
        connection = self._connection()
        connected = connection.sock is not None
        try:
            if not connected:
                connection.connect()
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                connected = True
            connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            if body or method in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException, ValueError, UnicodeError) as error:
            connection.close()
            raise TransportFailure(failure_kind(error, connected=connected), error) from None
        if response.will_close:
            connection.close()
        else:
            self.idle.append(connection)
        return response.status, response.getheaders(), payload

    def close(self) -> None:
        """Close every idle connection."""
        while self.idle:
            self.idle.pop().close()


def _usable(connection: http.client.HTTPConnection) -> bool:
    """An idle connection is usable when the server has not closed it (nothing to read on it)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class Pool:
    """Upstream connections for many threads: each request takes a connection of its own."""

    def __init__(self, origin: str, timeout: float) -> None:
        self.origin, self.timeout = origin, timeout
        self.free: list[Upstream] = []
        self.all: list[Upstream] = []

    def send(self, method: str, path: str, headers: Headers, body: bytes) -> tuple[Answer, float]:
        """Send one request on a free connection; the answer and the seconds it took."""
        try:
            upstream = self.free.pop()
        except IndexError:
            upstream = Upstream(self.origin, self.timeout)
            self.all.append(upstream)
        began = time.monotonic()
        try:
            return upstream.send(method, path, headers, body), time.monotonic() - began
        finally:
            self.free.append(upstream)

    def close(self) -> None:
        """Close every connection."""
        for upstream in self.all:
            upstream.close()


# -- the front -------------------------------------------------------------------------------


def front(
    handle: Callable[[str, str, Headers, bytes], Answer],
    workers: Executor,
    *,
    started: Callable[[], None] | None = None,
    finished: Callable[[], None] | None = None,
) -> Callable[..., Awaitable[None]]:
    """An ASGI app that hands every request to `handle` in a worker thread and sends its answer."""

    async def app(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        if started is not None:
            started()
        try:
            body = await receive_all(receive)
            query = scope.get("query_string") or b""
            path = scope["raw_path"].decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            loop = asyncio.get_running_loop()
            status, answer_headers, payload = await loop.run_in_executor(
                workers, handle, scope["method"], path, headers, body
            )
            out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in end_to_end(answer_headers)
                   if k.lower() not in ("date", "server")]  # fmt: skip
            out.append((b"content-length", str(len(payload)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": out})
            await send({"type": "http.response.body", "body": payload})
        finally:
            if finished is not None:
                finished()

    return app
