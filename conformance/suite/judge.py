"""The judge: exchanges in, findings out, however the exchanges were produced.

The active run (through the guard), `replay` (recordings) and `proxy` (live traffic) hand it
the same `Exchange`s, and it runs on each every check of `checks.py` with the run's memory,
and on every 429 that was waited out the checks of an answer. It counts what each check
judged, notes what the exchanges exercised of the contract (`coverage.Observed`) and how
credentials fared per scheme, and sends nothing.

On top of the checks it notes what only a stream of traffic shows: a request answered 201
twice in a short window, which looks like a retry that paid twice. That is a warning, not a
violation: the server did what it was asked, and an app may mean to rent two.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.suite import checks
from conformance.suite.coverage import Observed
from conformance.suite.exchange import AUTHENTICATED, INVALID, NONE
from conformance.suite.findings import Finding

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.suite.exchange import Exchange

PAID_TWICE_WINDOW = 60.0  # seconds: the same request answered 201 twice within it is a retry that paid twice


@dataclass
class Tally:
    """What one check judged, and what it found."""

    judged: int = 0
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Verdicts:
    """Everything the judge found over a stream of exchanges."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {name: Tally() for name in checks.NAMES})
    endpoint: int = 0  # exchanges with one of the contract's operations
    answered: int = 0  # ... that have an answer to judge
    other: int = 0  # exchanges with other endpoints: counted and skipped
    elsewhere: Counter[str] = field(default_factory=Counter)  # ... of them, the operation's path under another base
    rate_limited: int = 0  # 429 answers judged, counting those waited out
    credentials: Counter[tuple[str, bool]] = field(default_factory=Counter)  # (scheme, refused with 401)
    rental_404: int = 0  # rental answers that were 404
    router_404: int = 0  # ... that look like the router's: no refusal body, or to a request refused before business
    observed: Observed = field(default_factory=Observed)
    rentals: list[Exchange] = field(default_factory=list)
    paid_twice: list[tuple[Exchange, Exchange]] = field(default_factory=list)  # (first, repeat)

    def findings(self) -> list[Finding]:
        """Every finding, in the order of the checks' registration, then of the exchanges."""
        found = [finding for tally in self.tallies.values() for finding in tally.findings]
        return sorted(found, key=lambda finding: finding.exchange.number if finding.exchange else 0)

    def judged(self) -> dict[str, int]:
        """How many exchanges each check judged."""
        return {name: tally.judged for name, tally in self.tallies.items()}


class Judge:
    """Judges exchanges one at a time, in order; thread-safe, so a proxy can feed it from many threads."""

    def __init__(self, contract: Contract, *, base_path: str | None = None) -> None:
        self.contract = contract
        # Where the endpoint is, when the producer knows (the proxy's upstream): the operation's path under
        # another base path (an app's doubled /api/v1) reached the router, not the endpoint.
        self.base_path = base_path
        self.memory = checks.Memory()
        self.verdicts = Verdicts()
        self.previous: Exchange | None = None  # the last rental request judged
        self.lock = threading.Lock()

    def is_endpoint(self, exchange: Exchange) -> bool:
        """Whether the exchange is with one of the contract's operations (at any base path)."""
        return self.contract.match(exchange.method, exchange.path) is not None

    def judge(self, exchange: Exchange) -> list[Finding]:
        """Judge one exchange; return what it showed."""
        match = self.contract.match(exchange.method, exchange.path)
        with self.lock:
            if match is not None and self.base_path is not None and match.prefix != self.base_path:
                self.verdicts.other += 1
                self.verdicts.elsewhere[match.prefix or "/"] += 1
                return []
            if match is None:
                self.verdicts.other += 1
                return []
            self.verdicts.endpoint += 1
            if not exchange.answered:  # a failure is reported by its producer
                return []
            self.verdicts.answered += 1
            if exchange.body_missing:  # the recorder kept no body: its status and headers are still judged
                if exchange.rented:
                    self.verdicts.rentals.append(exchange)
                return self._answer(checks.view(exchange, self.contract, match), everything=False, body=False)
            found = self._answer(checks.view(exchange, self.contract, match), everything=True)
            for waited in exchange.rate_limited:  # every 429 waited out is an answer too
                seen = checks.view(exchange, self.contract, match)
                seen.status, seen.response_headers, seen.response_body = waited.status, waited.headers, waited.body
                seen.answer, seen.answer_is_json = checks.read_json(waited.body)
                if match.operation is not None:  # coverage: the status was answered, though not the last answer
                    with self.verdicts.observed.lock:
                        self.verdicts.observed.statuses[(match.operation.id, waited.status)] += 1
                found += self._answer(seen, everything=False)
            if exchange.rented:
                self.verdicts.rentals.append(exchange)
                self._note_paid_twice(exchange)
            if match.operation is not None and match.operation.method == "POST":
                self.previous = exchange
            return found

    def _answer(self, seen: checks.View, *, everything: bool, body: bool = True) -> list[Finding]:
        verdicts = self.verdicts
        if seen.status == 429:
            verdicts.rate_limited += 1
        if everything:
            verdicts.observed.see(seen)
            self._note_credentials(seen)
        found: list[Finding] = []
        for registered in checks.CHECKS:
            if (not everything and not registered.answer_only) or (not body and not registered.body_free):
                continue
            problems = registered.run(seen, self.memory)
            if problems is None:
                continue
            tally = verdicts.tallies[registered.name]
            tally.judged += 1
            for problem in problems:
                finding = Finding(registered.name, problem, seen.exchange)
                tally.findings.append(finding)
                found.append(finding)
        return found

    def _note_credentials(self, seen: checks.View) -> None:
        exchange = seen.exchange
        if exchange.auth in AUTHENTICATED and seen.operation is not None and seen.status != 429:
            self.verdicts.credentials[(exchange.scheme or "credentials", seen.status == 401)] += 1
        if seen.renting and seen.status == 404:
            self.verdicts.rental_404 += 1
            # A 404 where the endpoint refuses first (a bad form, no credentials) or without the contract's
            # refusal body: the router's, not the endpoint's.
            refused_first = bool(seen.faults) or exchange.auth in (NONE, INVALID)
            if refused_first or not self.contract.is_business_answer(404, seen.answer):
                self.verdicts.router_404 += 1

    def _note_paid_twice(self, exchange: Exchange) -> None:
        """The same request answered 201 twice within a short window: note the pair.

        Without recorded times (a cassette with no Date headers) only back-to-back exchanges count.
        """
        for earlier in self.verdicts.rentals[:-1]:
            if exchange.started and earlier.started:
                close_in_time = abs(exchange.started - earlier.started) <= PAID_TWICE_WINDOW
            else:
                close_in_time = earlier is self.previous
            if close_in_time and earlier.body == exchange.body and earlier.method == exchange.method:
                self.verdicts.paid_twice.append((earlier, exchange))
                return
