"""The guard: a local reverse proxy between schemathesis and the server under test.

Every request of a run goes through it, which gives one place for the rules that protect
money and secrets:

* schemathesis only ever holds placeholder credentials; the guard swaps them for the real
  ones on the way out, so no report, log or reproduction written by a tool can contain a
  secret;
* it forwards only to the one base URL the user gave (never follows redirects);
* it counts every 2xx to a POST as a rental, whatever the credentials (a server that ignores
  authentication bills the key it was configured with);
* in `safe` mode it sends no POST that any server, however lenient, could rent on
  (`safety.could_rent`, whatever the content type and credentials), and after a rental it
  sends no further POST at all;
* in `full` mode it sends no POST at all once `max_rentals` 2xx answers came back (a hard
  cap: a broken server may answer 2xx anywhere); POSTs are serialized so the count can never
  overshoot.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import httpx

from conformance import jsonbody
from conformance.suite import safety

if TYPE_CHECKING:
    import io
    from collections.abc import Callable

    from conformance.contract import Contract

PLACEHOLDER_ANY = "conformance-placeholder-any"  # the guard picks the scheme (--auth)
PLACEHOLDER_KEY = "conformance-placeholder-key"  # always Basic with the real API key
PLACEHOLDER_TOKEN = "conformance-placeholder-token"  # noqa: S105 - a placeholder; always Bearer with the real token
GUARD_HEADER = "x-conformance-guard"  # on answers the guard made itself (nothing was sent)
CREDENTIAL_HEADER = "x-conformance-credential"  # on relayed answers: which credential was sent
CASE_HEADER = "x-schemathesis-testcaseid"
REDACTED = "[REDACTED]"
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length", "content-encoding",
}  # fmt: skip


def basic(user: str) -> str:
    """The Authorization value for HTTP Basic with `user` and an empty password."""
    return "Basic " + base64.b64encode(f"{user}:".encode()).decode("ascii")


@dataclass(frozen=True)
class Secrets:
    """The real credentials; never printed (repr hides them)."""

    api_key: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    auth: str = "basic"  # basic | bearer | both: how PLACEHOLDER_ANY is sent

    def values(self) -> list[str]:
        """Every secret, for redaction."""
        return [value for value in (self.api_key, self.bearer_token) if value]


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
    error: str | None = None

    @property
    def sent(self) -> bool:
        """Whether the request reached the server."""
        return self.blocked is None and self.error is None

    @property
    def rented(self) -> bool:
        """Whether the server claims a rental (any 2xx to a POST counts, to be safe)."""
        return self.sent and self.method == "POST" and self.status is not None and 200 <= self.status < 300

    def rental_id(self) -> str | None:
        """The id of the rented number, when the answer says it."""
        try:
            body = json.loads(self.response_body)
        except ValueError:
            return None
        return str(body["id"]) if isinstance(body, dict) and "id" in body else "(no id in the answer)"


@dataclass
class Policy:
    """What the guard may send."""

    mode: str  # "safe" | "full"
    max_rentals: int | None  # None: no cap (the embedded mock)


class Guard:
    """The proxy server and its ledger of exchanges; see the module docstring."""

    def __init__(self, upstream: str, secrets: Secrets, policy: Policy, contract: Contract) -> None:
        parts = urlsplit(upstream)
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self.upstream_prefix = parts.path.rstrip("/")
        self.secrets = secrets
        self.policy = policy
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()  # the ledger
        self.send_lock = threading.Lock()  # serializes authenticated requests (cap accounting)
        self.rentals = 0
        self.halted: str | None = None
        self._alternate = itertools.cycle(["basic", "bearer"])
        self.contract = contract
        self.client = httpx.Client(base_url=self.upstream_origin, timeout=30.0, follow_redirects=False)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="conformance-guard", daemon=True)
        self.on_exchange: Callable[[Exchange], None] | None = None

    @property
    def base_url(self) -> str:
        """What schemathesis is pointed at: the guard, with the upstream's path."""
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}{self.upstream_prefix}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()

    # -- classification -------------------------------------------------------------------

    def _credentials(self, authorization: str | None) -> tuple[str | None, str | None]:
        """Map a placeholder Authorization to (scheme, real header); anything else passes as is."""
        if authorization == basic(PLACEHOLDER_ANY):
            scheme = self.secrets.auth if self.secrets.auth != "both" else next(self._alternate)
        elif authorization == basic(PLACEHOLDER_KEY):
            scheme = "basic"
        elif authorization == f"Bearer {PLACEHOLDER_TOKEN}":
            scheme = "bearer"
        else:
            return None, authorization
        if scheme == "basic" and self.secrets.api_key:
            return "basic", basic(self.secrets.api_key)
        if scheme == "bearer" and self.secrets.bearer_token:
            return "bearer", f"Bearer {self.secrets.bearer_token}"
        return None, None  # asked for a scheme we have no credential for: send none

    def body_allowed(self, body: bytes) -> bool:
        """Whether the contract allows this body, read by the mock's own strict JSON reader."""
        try:
            value = jsonbody.read_strict(body)
            return bool(self.contract.request_validator().is_valid(value))
        except (ValueError, OverflowError, TypeError):
            return False

    def _refuse_to_send(self, exchange: Exchange) -> str | None:
        if exchange.method != "POST":
            return None
        if self.halted:
            return self.halted
        if self.policy.max_rentals is not None and self.rentals >= self.policy.max_rentals:
            # A hard cap: a server may answer 2xx even where nobody can rent, so nothing goes out.
            return f"the rental cap (--max-rentals {self.policy.max_rentals}) is reached"
        if self.policy.mode == "safe" and exchange.could_rent:
            return "safe mode: some server could rent a number on this body"
        return None

    # -- forwarding -----------------------------------------------------------------------

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Exchange:
        """Send one request upstream (or not, by the policy) and record it."""
        authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
        scheme, real_authorization = self._credentials(authorization)
        outgoing = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() != "authorization"]
        if real_authorization is not None:
            outgoing.append(("Authorization", real_authorization))
        exchange = Exchange(
            number=0,  # numbered when it enters the ledger
            case_id=next((v for k, v in headers if k.lower() == CASE_HEADER), None),
            method=method,
            path=path,
            headers=[(k, self.redact(v)) for k, v in outgoing],
            body=body,
            scheme=scheme,
            allowed_body=self.body_allowed(body) if body else False,
            could_rent=method == "POST" and safety.could_rent(body),
        )
        # POSTs are serialized under a cap, so the rental count never overshoots it.
        serialize = method == "POST" and self.policy.max_rentals is not None
        with self.send_lock if serialize else contextlib.nullcontext():
            exchange.blocked = self._refuse_to_send(exchange)
            if exchange.blocked is None:
                self._send(exchange, outgoing)
                if exchange.rented:
                    self._count_rental()  # any 2xx, whatever the credentials: it may be billed
        with self.lock:
            exchange.number = len(self.exchanges) + 1
            self.exchanges.append(exchange)
        if self.on_exchange:
            self.on_exchange(exchange)
        return exchange

    def _send(self, exchange: Exchange, outgoing: list[tuple[str, str]]) -> None:
        try:
            response = self.client.request(exchange.method, exchange.path, headers=outgoing, content=exchange.body)
        except (httpx.HTTPError, ValueError, UnicodeError) as error:
            exchange.error = self.redact(f"{type(error).__name__}: {error}")
            return
        exchange.status = response.status_code
        exchange.response_headers = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        exchange.response_body = response.content

    def _count_rental(self) -> None:
        self.rentals += 1
        if self.policy.mode == "safe":
            self.halted = "a rental happened in safe mode; no further POST is sent"

    def redact(self, text: str) -> str:
        """Replace every secret (and its Basic encoding) in `text`."""
        for secret in self.secrets.values():
            text = text.replace(basic(secret).split(" ", 1)[1], REDACTED).replace(secret, REDACTED)
        return text

    def snapshot(self) -> list[Exchange]:
        """A copy of the ledger."""
        with self.lock:
            return list(self.exchanges)


def read_body(stream: io.BufferedIOBase, transfer_encoding: str, content_length: str | None) -> bytes:
    """A request body sent with Content-Length or chunked (trailers are read and dropped)."""
    if "chunked" not in transfer_encoding.lower():
        length = content_length or "0"
        return stream.read(int(length)) if length.isdigit() else b""
    chunks = []
    while size := int(stream.readline().split(b";", 1)[0].strip() or b"0", 16):
        chunks.append(stream.read(size))
        stream.readline()
    while stream.readline() not in (b"\r\n", b"\n", b""):
        pass  # trailers
    return b"".join(chunks)


def _handler_for(guard: Guard) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without TCP_NODELAY each answer stalls ~40 ms on delayed ACKs.
        disable_nagle_algorithm = True

        def _relay(self) -> None:
            try:
                body = read_body(
                    self.rfile, self.headers.get("transfer-encoding", ""), self.headers.get("content-length")
                )
            except ValueError:
                self.send_error(400, "malformed chunked body")
                return
            exchange = guard.forward(self.command, self.path, list(self.headers.items()), body)
            if exchange.sent and exchange.status is not None:
                status, payload = exchange.status, exchange.response_body
                headers = [*exchange.response_headers, (CREDENTIAL_HEADER, exchange.scheme or "none")]
            else:
                reason = exchange.blocked or exchange.error or "not sent"
                status, headers = 599, [("content-type", "application/json"), (GUARD_HEADER, "not-sent")]
                payload = json.dumps(
                    {"status": "error", "error": f"not sent by the conformance guard: {reason}"}
                ).encode()
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            """Keep the terminal for the run's own progress."""

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):
                return self._relay
            raise AttributeError(name)

    return Handler
