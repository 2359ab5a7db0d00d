"""What a run found: the report's data and the rules that turn exchanges into violations.

Shared by every front-end (the active run, `replay`, `proxy`): they fill a `Report` with
exchanges and check tallies, and these functions group failures into violations, put the
root causes first and decide whether the run could test anything at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance import contract as contracts
from conformance.suite import checks, engine, probes
from conformance.suite.guard import Tally

if TYPE_CHECKING:
    from conformance.suite.credentials import Secrets
    from conformance.suite.exchange import Exchange


class CannotTest(Exception):  # noqa: N818 - reads as a sentence: CannotTest("server unreachable")
    """The run could not test the server (exit 2); the message says why in one line."""


@dataclass(frozen=True)
class Options:
    """What the user asked for."""

    base_url: str | None  # None: the embedded mock
    auth: str
    mode: str
    max_rentals: int | None
    examples: int | None
    seed: int
    secrets: Secrets
    contract: contracts.Contract = field(default_factory=contracts.today)
    timeout: float = 10.0  # seconds per request
    deadline: float = 600.0  # seconds for the whole run
    rate: float | None = None  # at most this many requests a second
    assignees: tuple[str, ...] = ()  # user ids `assign_to` may name (the embedded mock: the scenario's member)


@dataclass
class Violation:
    """One broken rule, with the smallest request that shows it."""

    check: str
    message: str
    exchange: Exchange | None
    occurrences: int = 1
    explained_by: int | None = None  # the number of the violation that likely causes this one


@dataclass
class Report:
    """Everything the summary, JUnit and JSON reports are made of."""

    target: str
    embedded: bool
    options: Options
    engine: engine.EngineResult = field(default_factory=engine.EngineResult)
    probes: probes.Outcome = field(default_factory=probes.Outcome)
    exchanges: list[Exchange] = field(default_factory=list)
    observations: checks.Observations = field(default_factory=checks.Observations)
    kind: str = "run"  # run (the active suite) | replay | proxy: what the exchanges are
    other_endpoints: int = 0  # replay and proxy: exchanges with other endpoints, counted and skipped
    warnings: list[str] = field(default_factory=list)
    origin: str | None = None  # for reproductions, when `target` is not a URL (replay)
    violations: list[Violation] = field(default_factory=list)
    tallies: dict[str, tuple[int, int]] = field(default_factory=dict)  # check -> (cases, failures)
    accounting: dict[str, Any] | None = None
    not_checked: list[str] = field(default_factory=list)
    pacing: Tally = field(default_factory=Tally)
    stopped: str | None = None  # why the guard stopped sending early (server gone, deadline)
    unreachable: str | None = None  # the server stopped answering (a violation)

    @property
    def rentals(self) -> list[Exchange]:
        """Every POST the server answered with a 2xx, whatever the credentials: each may be billed."""
        return [exchange for exchange in self.exchanges if exchange.rented]

    def business_reached(self) -> int:
        """Authenticated, contract-valid requests answered by the business rules (not 401/validation)."""
        business = checks.BUSINESS_STATUSES
        recorded = self.kind in ("replay", "proxy")  # recorders often drop Authorization: the answer tells
        count = 0
        for exchange in self.exchanges:
            authenticated = exchange.scheme is not None or (recorded and exchange.status != 401)
            if not (exchange.sent and authenticated and exchange.allowed_body and exchange.method == "POST"):
                continue
            status = _status_field(exchange)
            if exchange.status in (201, 403, 404) or (exchange.status == 400 and status in business):
                count += 1
        return count

    def authenticated(self) -> int:
        """Requests with real credentials that the server did not refuse with 401."""
        return sum(1 for e in self.exchanges if e.sent and e.scheme and e.status != 401)


def _status_field(exchange: Exchange) -> Any:
    try:
        body = json.loads(exchange.response_body)
    except ValueError:
        return None
    return body.get("status") if isinstance(body, dict) else None


def server_failures(report: Report) -> None:
    """Timeouts, disconnects, resets and protocol errors: violations of their own, listed first."""
    failed = [exchange for exchange in report.exchanges if exchange.server_failure]
    if report.stopped:
        report.not_checked.insert(0, f"the run stopped early: {report.stopped}")
    gone = []
    if report.unreachable:
        last = next((e for e in reversed(report.exchanges) if e.error), None)
        gone = [Violation("server_failures", report.unreachable, last)]
    if not failed and not gone:
        report.tallies["server_failures"] = (sum(1 for e in report.exchanges if e.may_have_reached), 0)
        return
    by_kind: dict[str, list[Exchange]] = {}
    for exchange in failed:
        by_kind.setdefault(exchange.failure or "failure", []).append(exchange)
    explained = {
        "timeout": f"the server did not answer within {report.options.timeout:g} s (--timeout)",
        "disconnect": "the server closed the connection without answering",
        "protocol": "the server's answer was not valid HTTP",
    }
    found = []
    for kind, exchanges in by_kind.items():
        smallest = min(exchanges, key=lambda exchange: len(exchange.body))
        found.append(
            Violation(
                "server_failures",
                f"{explained.get(kind, kind)}: {len(exchanges)} request(s); e.g. {smallest.error}",
                smallest,
                len(exchanges),
            )
        )
    report.tallies["server_failures"] = (
        sum(1 for e in report.exchanges if e.may_have_reached),
        len(failed) + len(gone),
    )
    report.violations[:0] = gone + found  # first: a server that fails is what to fix first


RENTAL_CHECKS = frozenset(
    {
        "rented_number_in_requested_country", "rented_number_has_requested_prefix",
        "rented_number_of_requested_carrier_type", "rented_number_capabilities", "rented_number_ownership",
        "rentals_are_distinct_and_stable", "invalid_request_never_rents", "negative_data_rejection",
    }
)  # fmt: skip


def static_rentals(report: Report) -> None:
    """One root cause for many findings: every rental answered with the very same body."""
    rentals = [exchange for exchange in report.rentals if not exchange.body_missing]
    bodies = [exchange.response_body for exchange in rentals]
    if len(bodies) < 3 or len(set(bodies)) != 1:
        return
    first = rentals[0]
    finding = Violation(
        "static_rental_body",
        f"Every rental ({len(bodies)}) was answered with the same body (id {first.rental_id()}), whatever was "
        "asked: the server does not rent per request (a static mock?). The country, prefix, kind and ownership "
        "findings below follow from this.",
        first,
        len(bodies),
    )
    position = sum(1 for violation in report.violations if violation.check == "server_failures")
    report.violations.insert(position, finding)
    for violation in report.violations:
        if violation.check in RENTAL_CHECKS or violation.check.startswith("rented_"):
            violation.explained_by = position + 1


def exchange_numbered(report: Report, number: int | None) -> Exchange | None:
    """The exchange with this ledger number (1-based), if any."""
    return report.exchanges[number - 1] if number else None


def collect(report: Report, check: str, failures: list[tuple[Exchange | None, str]]) -> None:
    """Group failures by rule and keep the smallest request of each."""
    groups: dict[str, Violation] = {}
    for exchange, message in failures:
        key = message.splitlines()[0][:160]
        found = groups.get(key)
        if found is None:
            groups[key] = Violation(check, message, exchange)
            continue
        found.occurrences += 1
        if exchange is not None and (found.exchange is None or len(exchange.body) < len(found.exchange.body)):
            found.exchange = exchange
    report.violations += groups.values()


def could_it_test(report: Report) -> None:
    """Refuse to call a run a success when it could not have found a problem (exit 2)."""
    if report.violations:
        return  # a proven violation is a result, whatever else could not be tested
    credentialed = [e for e in report.exchanges if e.sent and e.scheme]
    if not credentialed:
        raise CannotTest("no request with credentials was sent: set CLOSE_API_KEY and/or CLOSE_BEARER_TOKEN")
    if report.authenticated() == 0:
        raise CannotTest(
            "the server refused the credentials on every request (401): check CLOSE_API_KEY / CLOSE_BEARER_TOKEN"
        )
    if report.business_reached() == 0:
        raise CannotTest(
            "no authenticated, valid request reached the business logic, so nothing about renting was tested"
        )
