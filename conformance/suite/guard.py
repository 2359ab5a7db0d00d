"""The guard: a local reverse proxy between the suite's request makers and the server under test.

Every request of an active run goes through it (schemathesis over HTTP, the fixed probes and
the follow-ups in-process), which gives one place for the rules that protect money, secrets
and time:

* request makers only ever hold placeholder credentials (`credentials.py`); the guard swaps
  them for the real ones on the way out, so no report, log or reproduction can hold a secret;
* it forwards only to the one base URL the user gave (never follows redirects);
* it counts every 2xx to a POST as a rental, whatever the credentials (a server that ignores
  authentication bills the key it was configured with), and, in full mode, every POST that
  could rent and failed after it was sent (it may have rented);
* in `safe` mode it sends no POST that any server, however lenient, could rent on
  (`safety.could_rent`, whatever the content type and credentials), and after a rental it
  sends no further POST at all; it reads or releases no number it did not rent itself, except
  ids no number can have (`safety.may_touch`);
* in `full` mode it sends no POST at all once `max_rentals` is reached (a hard cap: a broken
  server may answer 2xx anywhere); POSTs are serialized so the count can never overshoot; it
  releases no number but the ones this run rented;
* every request has a timeout and the run a deadline; after a few failures in a row (the
  server stopped answering) nothing more is sent; a 429 is waited out as the server asks and
  sent again (`pacing.py`), and `--rate` spaces requests evenly.

What was held back is a `NotSent`, never an exchange.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from conformance import contract as contracts
from conformance.serving import Server
from conformance.suite import pacing, safety, wire
from conformance.suite.credentials import PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN, Secrets, basic
from conformance.suite.exchange import (
    CONNECT,
    INVALID,
    NONE,
    REAL,
    UNSENDABLE,
    Exchange,
    NotSent,
    RateLimited,
    decoded,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.contract import Contract

FAILURES_IN_A_ROW = 5  # then the server is taken to have stopped answering
MAX_RATE_LIMIT_RETRIES = 5
MAX_RATE_LIMIT_WAIT = 60.0
MAX_HINTLESS_WAITS = 3  # 429s without RateLimit, Retry-After or rate_reset waited out (a second each) before giving up
NOT_SENT_STATUS = 599  # what the guard answers its own client when nothing was sent, or no answer came
_BOOKKEEPING = ("x-schemathesis-testcaseid",)  # schemathesis' own header: not the server's business


@dataclass
class Policy:
    """What the guard may send, and how long it may take."""

    mode: str  # "safe" | "full"
    max_rentals: int | None  # None: no cap (the embedded mock)
    timeout: float = 10.0  # seconds per request
    deadline: float | None = None  # time.monotonic() after which nothing more is sent
    rate: float | None = None  # at most this many requests a second
    stop: threading.Event = field(default_factory=threading.Event)  # set: send nothing new (SIGINT, SIGTERM)


@dataclass
class RateLimits:
    """What pacing did during a run."""

    rate_limited: int = 0  # 429 answers received
    resent: int = 0  # requests sent again after waiting
    unjudged: int = 0  # requests whose last answer was still 429
    hintless: int = 0  # 429s that did not say when to retry

    def record(self) -> dict[str, int]:
        """As a dict, for the conclusion."""
        return {
            "rate_limited": self.rate_limited, "resent": self.resent, "unjudged": self.unjudged,
            "hintless": self.hintless,
        }  # fmt: skip


@dataclass
class Ledger:
    """What went out and what did not: exchanges in the order they were made, and what was held back."""

    exchanges: list[Exchange] = field(default_factory=list)
    not_sent: list[NotSent] = field(default_factory=list)
    rented_ids: set[str] = field(default_factory=set)  # ids this run rented: the only ones it may release
    rented_with: dict[str, str] = field(default_factory=dict)  # id -> the scheme that rented it
    released_ids: set[str] = field(default_factory=set)
    read_ids: set[str] = field(default_factory=set)  # rented ids a read answered 2xx (the read-backs)


class Guard:
    """The proxy server and its ledger; see the module docstring."""

    def __init__(self, upstream: str, secrets: Secrets, policy: Policy, contract: Contract) -> None:
        parts = urlsplit(upstream)
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self.upstream_prefix = parts.path.rstrip("/")
        self.secrets = secrets
        self.policy = policy
        self.contract = contract
        self.ledger = Ledger()
        self.lock = threading.Lock()  # the ledger and the counters
        self.send_lock = threading.Lock()  # serializes POSTs under a cap (cap accounting)
        self.rentals = 0
        self.halted: str | None = None  # no further POST, and why
        self.unreachable: str | None = None  # no further request at all, and why
        self.failures_in_a_row = 0
        self.pacing = RateLimits()
        self.pacer = pacing.Pacer(policy.rate)
        self._alternate = itertools.cycle(["basic", "bearer"])
        self.pool = wire.Pool(self.upstream_origin, policy.timeout)
        self.workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="conformance-guard")
        self.server = Server(wire.front(self._relay, self.workers))
        self.on_exchange: Callable[[Exchange], None] | None = None
        # The ledger file's hooks: before a POST that could rent goes out, after a rental, after such a POST
        # was answered without renting, after a release.
        self.before_rental: Callable[[Exchange], None] | None = None
        self.on_rented: Callable[[str], None] | None = None
        self.on_answered: Callable[[Exchange], None] | None = None
        self.on_released: Callable[[str], None] | None = None
        self.on_unreleased: Callable[[str], None] | None = None  # a released number read back as still there

    @property
    def base_url(self) -> str:
        """What request makers are pointed at: the guard, with the upstream's path."""
        return f"{self.server.origin}{self.upstream_prefix}"

    @property
    def exchanges(self) -> list[Exchange]:
        """The exchanges so far (a snapshot)."""
        with self.lock:
            return list(self.ledger.exchanges)

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.workers.shutdown(wait=True)
        self.pool.close()

    # -- classification -------------------------------------------------------------------

    def _credentials(self, authorization: str | None) -> tuple[str, str | None, str | None]:
        """Map the Authorization a request maker sent to (auth kind, scheme, real header to send)."""
        if authorization is None:
            return NONE, None, None
        if authorization == basic(PLACEHOLDER_ANY):
            scheme = self.secrets.auth if self.secrets.auth != "both" else next(self._alternate)
        elif authorization == basic(PLACEHOLDER_KEY):
            scheme = "basic"
        elif authorization == f"Bearer {PLACEHOLDER_TOKEN}":
            scheme = "bearer"
        else:  # anything else is by construction not a real credential (a probe's unknown key)
            return INVALID, authorization.partition(" ")[0].lower() or None, authorization
        if scheme == "basic" and self.secrets.api_key:
            return REAL, "basic", basic(self.secrets.api_key)
        if scheme == "bearer" and self.secrets.bearer_token:
            return REAL, "bearer", f"Bearer {self.secrets.bearer_token}"
        return NONE, None, None  # asked for a scheme we have no credential for: send none

    def _same_credentials(self, method: str, path: str, authorization: str | None) -> str | None:
        """A read or release of a number this run rented goes with the credentials that rented it.

        Close lets a user delete only their own numbers: another scheme's user may not.
        """
        if authorization != basic(PLACEHOLDER_ANY) or method.upper() == "POST":
            return authorization
        match = self.contract.match(method, path)
        scheme = self.ledger.rented_with.get(match.values.get("phone_number_id", "")) if match else None
        if scheme == "bearer":
            return f"Bearer {PLACEHOLDER_TOKEN}"
        return basic(PLACEHOLDER_KEY) if scheme == "basic" else authorization

    def _refuse_to_send(self, method: str, path: str, could_rent: bool, *, releasing: bool) -> str | None:  # noqa: PLR0911 - a return per rule
        if not releasing and self.policy.stop.is_set():
            return "the run was interrupted (SIGINT or SIGTERM)"
        if not releasing and self.policy.deadline is not None and time.monotonic() >= self.policy.deadline:
            return "the run's deadline (--deadline) is reached"
        if self.unreachable and not releasing:
            return self.unreachable
        if method != "POST":
            match = self.contract.match(method, path)
            if match is not None and "phone_number_id" in match.values:
                return safety.may_touch(self.policy.mode, method, match.values["phone_number_id"], self.ledger)
            return None
        if self.halted:
            return self.halted
        if self.policy.max_rentals is not None and self.rentals >= self.policy.max_rentals:
            # A hard cap: a server may answer 2xx even where nobody can rent, so nothing goes out.
            return f"the rental cap (--max-rentals {self.policy.max_rentals}) is reached"
        if self.policy.mode == "safe" and could_rent:
            return "safe mode: some server could rent a number on this body"
        return None

    # -- forwarding -----------------------------------------------------------------------

    def forward(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        probe: str | None = None,
        releasing: bool = False,
        follow_up: bool = False,
    ) -> Exchange | NotSent:
        """Send one request upstream (or not, by the policy) and record it.

        `releasing`: a read-back or release of a number this run rented, which goes out even after
        the deadline or an interruption (every rental is released, whatever ends the run).
        """
        self._read_back_first(method, path, headers, releasing=releasing)
        authorization = self._same_credentials(method, path, wire.header(headers, "authorization"))
        auth, scheme, real = self._credentials(authorization)
        outgoing = [(k, v) for k, v in wire.end_to_end(headers) if k.lower() not in ("authorization", *_BOOKKEEPING)]
        if real is not None:
            outgoing.append(("Authorization", real))
        exchange, _secret = wire.exchange(
            0,
            self.contract,
            method,
            path,
            headers=outgoing,
            body=body,
            auth=auth,
            credential=scheme if auth == REAL else None,
        )
        exchange.probe, exchange.scheme, exchange.follow_up = probe, scheme, follow_up
        exchange.headers = [(k, self.secrets.redact(v)) for k, v in exchange.headers]
        # POSTs are serialized under a cap, so the rental count never overshoots it.
        serialize = method.upper() == "POST" and self.policy.max_rentals is not None
        with self.send_lock if serialize else contextlib.nullcontext():
            refused = self._refuse_to_send(exchange.method, exchange.path, exchange.could_rent, releasing=releasing)
            if refused is not None:
                return self._held(NotSent(exchange.method, exchange.path, refused, probe, exchange.could_rent))
            if exchange.method == "POST" and exchange.could_rent and self.before_rental is not None:
                self.before_rental(exchange)
            exchange.started = time.time()
            self._send(exchange, outgoing)
            if exchange.failure in (CONNECT, UNSENDABLE):  # nothing reached the server: not an exchange
                self._account(exchange)
                return self._held(
                    NotSent(exchange.method, exchange.path, self._why(exchange), probe, exchange.could_rent)
                )
            self._account(exchange)
        rented, released, unreleased = self._record(exchange)
        if rented and self.on_rented:
            self.on_rented(rented)
        settled = exchange.method == "POST" and exchange.could_rent and exchange.answered and not exchange.rented
        if settled and self.on_answered:
            self.on_answered(exchange)
        if released and self.on_released:
            self.on_released(released)
        if unreleased and self.on_unreleased:
            self.on_unreleased(unreleased)
        if self.on_exchange:
            self.on_exchange(exchange)
        return exchange

    def _read_back_first(self, method: str, path: str, headers: list[tuple[str, str]], *, releasing: bool) -> None:
        """Before a generated release of a number this run rented and never read: read it back (every rental is)."""
        if method.upper() != "DELETE" or releasing:
            return  # the lifecycle's own releases read back first themselves
        match = self.contract.match("DELETE", path)
        number_id = match.values.get("phone_number_id") if match is not None else None
        with self.lock:
            unread = number_id in self.ledger.rented_ids and number_id not in (
                self.ledger.read_ids | self.ledger.released_ids
            )
        if unread and contracts.READ in self.contract.operations:
            self.forward("GET", path, [("authorization", wire.header(headers, "authorization") or "")], b"",
                         probe="read back the rental", follow_up=True)  # fmt: skip

    def _record(self, exchange: Exchange) -> tuple[str | None, str | None, str | None]:
        """Number the exchange into the ledger; the id it rented, released, or showed still held after a release."""
        rented = released = unreleased = None
        match = self.contract.match(exchange.method, exchange.path)
        with self.lock:
            exchange.number = len(self.ledger.exchanges) + 1
            self.ledger.exchanges.append(exchange)
            if exchange.rented and not (rental_id := exchange.rental_id()).startswith("("):
                self.ledger.rented_ids.add(rental_id)
                self.ledger.rented_with[rental_id] = exchange.scheme or "basic"
                rented = rental_id
            answered = exchange.status is not None and 200 <= exchange.status < 300
            if exchange.method == "DELETE" and answered and match is not None:
                number_id = match.values.get("phone_number_id")
                if number_id in self.ledger.rented_ids and number_id not in self.ledger.released_ids:
                    self.ledger.released_ids.add(number_id)
                    released = number_id
            if exchange.method == "GET" and answered and match is not None:  # a 2xx DELETE that left it there
                number_id = match.values.get("phone_number_id")
                if number_id in self.ledger.rented_ids:
                    self.ledger.read_ids.add(number_id)
                if number_id in self.ledger.released_ids:
                    self.ledger.released_ids.discard(number_id)
                    unreleased = number_id
        return rented, released, unreleased

    @staticmethod
    def _why(exchange: Exchange) -> str:
        if exchange.failure == UNSENDABLE:
            return f"not writable as HTTP: {exchange.error}"
        return f"could not connect: {exchange.error}"

    def _held(self, held: NotSent) -> NotSent:
        with self.lock:
            self.ledger.not_sent.append(held)
        return held

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
            if exchange.server_failure or exchange.failure == CONNECT:
                self.failures_in_a_row += 1
                if self.failures_in_a_row >= FAILURES_IN_A_ROW and not self.unreachable:
                    self.unreachable = (
                        f"the server stopped answering ({self.failures_in_a_row} requests in a row failed: "
                        f"{exchange.error}); nothing more is sent"
                    )
            elif exchange.answered:
                self.failures_in_a_row = 0

    def _send(self, exchange: Exchange, outgoing: list[tuple[str, str]]) -> None:
        """Send, waiting out and re-sending 429 answers as the server asks (bounded); every 429 is kept."""
        began = time.monotonic()
        exchange.attempts = 0
        while True:
            self.pacer.wait_turn()
            exchange.attempts += 1
            try:
                (status, headers, payload), _seconds = self.pool.send(
                    exchange.method, exchange.path, outgoing, exchange.body
                )
            except wire.TransportFailure as failure:
                exchange.error = self.secrets.redact(str(failure))[:300]
                exchange.failure = failure.kind
                exchange.elapsed = time.monotonic() - began
                return
            kept = wire.recorded(headers)
            answer = decoded(headers, payload)
            if status == 429:
                wait = pacing.requested_wait(kept, answer)
                if self._wait_out(exchange, wait):
                    exchange.rate_limited.append(RateLimited(status, kept, answer, wait))
                    continue
            exchange.status, exchange.response_headers, exchange.response_body = status, kept, answer
            break
        exchange.elapsed = time.monotonic() - began

    def _wait_out(self, exchange: Exchange, asked: float | None) -> bool:
        """After a 429: wait as asked and return True to send again, or False to keep the 429."""
        with self.lock:
            self.pacing.rate_limited += 1
            if asked is None:
                self.pacing.hintless += 1
            # A 429 that says nothing of when to retry is a finding of its own (rate_limit_answer); after a
            # few of them the run stops guessing and keeps such answers, instead of waiting on nothing.
            guessing = asked is None and self.pacing.hintless > MAX_HINTLESS_WAITS
        wait = pacing.DEFAULT_WAIT if asked is None else asked
        deadline = self.policy.deadline
        too_late = deadline is not None and time.monotonic() + wait >= deadline
        retries = len(exchange.rate_limited)
        if retries >= MAX_RATE_LIMIT_RETRIES or wait > MAX_RATE_LIMIT_WAIT or too_late or guessing:
            with self.lock:
                self.pacing.unjudged += 1
            return False
        time.sleep(wait)
        exchange.waited += wait
        with self.lock:
            self.pacing.resent += 1
        return True

    def _relay(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> wire.Answer:
        """What the guard answers a request maker: the server's answer, or its own 599 saying why there is none."""
        outcome = self.forward(method, path, headers, body)
        if isinstance(outcome, Exchange) and outcome.answered and outcome.status is not None:
            return outcome.status, outcome.response_headers, outcome.response_body
        reason = outcome.reason if isinstance(outcome, NotSent) else outcome.error or "no answer"
        payload = json.dumps({"status": "error", "error": f"no answer through the conformance guard: {reason}"})
        return NOT_SENT_STATUS, [("content-type", "application/json")], payload.encode()
