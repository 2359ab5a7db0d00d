"""The guard: a local reverse proxy between schemathesis and the server under test.

Every request of a run goes through it, which gives one place for the rules that protect
money, secrets and time:

* schemathesis only ever holds placeholder credentials (`credentials.py`); the guard swaps
  them for the real ones on the way out, so no report, log or reproduction written by a tool
  can contain a secret;
* it forwards only to the one base URL the user gave (never follows redirects);
* it counts every 2xx to a POST as a rental, whatever the credentials (a server that ignores
  authentication bills the key it was configured with), and, in full mode, every POST that
  could rent and failed after it was sent (it may have rented);
* in `safe` mode it sends no POST that any server, however lenient, could rent on
  (`safety.could_rent`, whatever the content type and credentials), and after a rental it
  sends no further POST at all;
* in `full` mode it sends no POST at all once `max_rentals` is reached (a hard cap: a broken
  server may answer 2xx anywhere); POSTs are serialized so the count can never overshoot;
* every request has a timeout and the run a deadline; after a few failures in a row (the
  server stopped answering) nothing more is sent; a 429 is waited out as the server asks and
  sent again (`pacing.py`), and `--rate` spaces requests evenly.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import httpx

from conformance import jsonbody
from conformance.suite import pacing, safety
from conformance.suite.credentials import PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN, Secrets, basic
from conformance.suite.exchange import CASE_HEADER, Exchange, failure_kind

if TYPE_CHECKING:
    import io
    from collections.abc import Callable

    from conformance.contract import Contract

GUARD_HEADER = "x-conformance-guard"  # on answers the guard made itself (nothing was sent)
CREDENTIAL_HEADER = "x-conformance-credential"  # on relayed answers: which credential was sent
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length", "content-encoding",
}  # fmt: skip
FAILURES_IN_A_ROW = 5  # then the server is taken to have stopped answering
MAX_RATE_LIMIT_RETRIES = 5
MAX_RATE_LIMIT_WAIT = 60.0


@dataclass
class Policy:
    """What the guard may send, and how long it may take."""

    mode: str  # "safe" | "full"
    max_rentals: int | None  # None: no cap (the embedded mock)
    timeout: float = 10.0  # seconds per request
    deadline: float | None = None  # time.monotonic() after which nothing more is sent
    rate: float | None = None  # at most this many requests a second


@dataclass
class Tally:
    """What pacing did during a run."""

    rate_limited: int = 0  # 429 answers received
    resent: int = 0  # requests sent again after waiting
    unjudged: int = 0  # requests whose last answer was still 429


class Guard:
    """The proxy server and its ledger of exchanges; see the module docstring."""

    def __init__(self, upstream: str, secrets: Secrets, policy: Policy, contract: Contract) -> None:
        parts = urlsplit(upstream)
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self.upstream_prefix = parts.path.rstrip("/")
        self.secrets = secrets
        self.policy = policy
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()  # the ledger and the counters
        self.send_lock = threading.Lock()  # serializes POSTs under a cap (cap accounting)
        self.rentals = 0
        self.halted: str | None = None  # no further POST, and why
        self.unreachable: str | None = None  # no further request at all, and why
        self.failures_in_a_row = 0
        self.pacing = Tally()
        self.pacer = pacing.Pacer(policy.rate)
        self._alternate = itertools.cycle(["basic", "bearer"])
        self.contract = contract
        self.client = httpx.Client(base_url=self.upstream_origin, timeout=policy.timeout, follow_redirects=False)
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

    def _refuse_to_send(self, exchange: Exchange) -> str | None:  # noqa: PLR0911 - a return per rule
        if self.policy.deadline is not None and time.monotonic() >= self.policy.deadline:
            return "the run's deadline (--deadline) is reached"
        if self.unreachable:
            return self.unreachable
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
            headers=[(k, self.secrets.redact(v)) for k, v in outgoing],
            body=body,
            scheme=scheme,
            allowed_body=self.body_allowed(body) if body else False,
            could_rent=method == "POST" and safety.could_rent(body),
            started=time.time(),
        )
        # POSTs are serialized under a cap, so the rental count never overshoots it.
        serialize = method == "POST" and self.policy.max_rentals is not None
        with self.send_lock if serialize else contextlib.nullcontext():
            exchange.blocked = self._refuse_to_send(exchange)
            if exchange.blocked is None:
                self._send(exchange, outgoing)
                self._account(exchange)
        with self.lock:
            exchange.number = len(self.exchanges) + 1
            self.exchanges.append(exchange)
        if self.on_exchange:
            self.on_exchange(exchange)
        return exchange

    def _account(self, exchange: Exchange) -> None:
        """Count rentals (and possible ones) and failures in a row."""
        possible = (
            self.policy.mode == "full" and exchange.method == "POST" and exchange.could_rent and exchange.server_failure
        )
        with self.lock:
            if exchange.rented or possible:
                self.rentals += 1  # any 2xx, whatever the credentials, and in full mode a send that may have rented
                if self.policy.mode == "safe":
                    self.halted = "a rental happened in safe mode; no further POST is sent"
            if exchange.server_failure or exchange.failure == "connect":
                self.failures_in_a_row += 1
                if self.failures_in_a_row >= FAILURES_IN_A_ROW and not self.unreachable:
                    self.unreachable = (
                        f"the server stopped answering ({self.failures_in_a_row} requests in a row failed: "
                        f"{exchange.error}); nothing more is sent"
                    )
            elif exchange.sent:
                self.failures_in_a_row = 0

    def _send(self, exchange: Exchange, outgoing: list[tuple[str, str]]) -> None:
        """Send, waiting out and re-sending 429 answers as the server asks (bounded)."""
        began = time.monotonic()
        while True:
            self.pacer.wait_turn()
            exchange.attempts += 1
            try:
                response = self.client.request(exchange.method, exchange.path, headers=outgoing, content=exchange.body)
            except (httpx.HTTPError, ValueError, UnicodeError) as error:
                exchange.error = self.secrets.redact(f"{type(error).__name__}: {error}")[:300]
                exchange.failure = failure_kind(error)
                exchange.elapsed = time.monotonic() - began
                return
            exchange.status = response.status_code
            exchange.response_headers = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
            exchange.response_body = response.content
            if response.status_code != 429 or not self._wait_out(exchange):
                break
        exchange.elapsed = time.monotonic() - began

    def _wait_out(self, exchange: Exchange) -> bool:
        """After a 429: wait as asked and return True to send again, or False to keep the 429."""
        with self.lock:
            self.pacing.rate_limited += 1
        wait = pacing.requested_wait(exchange.response_headers, exchange.response_body)
        wait = pacing.DEFAULT_WAIT if wait is None else wait
        deadline = self.policy.deadline
        too_late = deadline is not None and time.monotonic() + wait >= deadline
        if exchange.rate_limited >= MAX_RATE_LIMIT_RETRIES or wait > MAX_RATE_LIMIT_WAIT or too_late:
            with self.lock:
                self.pacing.unjudged += 1
            return False
        exchange.rate_limited += 1
        time.sleep(wait)
        with self.lock:
            self.pacing.resent += 1
        return True

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


def relayed(exchange: Exchange) -> tuple[int, list[tuple[str, str]], bytes]:
    """What the guard answers its client: the server's answer, or its own 599 saying why there is none."""
    if exchange.sent and exchange.status is not None:
        headers = [*exchange.response_headers, (CREDENTIAL_HEADER, exchange.scheme or "none")]
        return exchange.status, headers, exchange.response_body
    reason = exchange.blocked or exchange.error or "not sent"
    kind = "not-sent" if exchange.blocked else (exchange.failure or "failed")
    payload = json.dumps({"status": "error", "error": f"no answer through the conformance guard: {reason}"})
    return 599, [("content-type", "application/json"), (GUARD_HEADER, kind)], payload.encode()


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
            status, headers, payload = relayed(exchange)
            with contextlib.suppress(OSError):  # our own client gave up: nothing to tell it
                self.send_response(status, _phrase(status))
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


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "No Answer" if status == 599 else ""
