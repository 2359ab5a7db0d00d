"""One conformance run: target, guard, schemathesis, probes, accounting; the verdict."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conformance import contract as contracts
from conformance.suite import checks, engine, probes
from conformance.suite.credentials import PLACEHOLDER_ANY, Secrets, basic
from conformance.suite.guard import Guard, Policy, Tally

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance.suite.exchange import Exchange

# The default scenario's published test credentials, not secrets.
MOCK_KEY = "mock_admin_key"
MOCK_TOKEN = "mock_oauth_token"  # noqa: S105


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
    engine: engine.EngineResult
    probes: probes.Outcome
    exchanges: list[Exchange]
    observations: checks.Observations
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
        count = 0
        for exchange in self.exchanges:
            if not (exchange.sent and exchange.scheme and exchange.allowed_body and exchange.method == "POST"):
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


@contextlib.contextmanager
def target(options: Options) -> Iterator[tuple[str, Secrets]]:
    """Yield the API base URL and the credentials: the user's server, or the embedded mock."""
    if options.base_url is not None:
        yield options.base_url, options.secrets
        return
    from conformance.mock.app import build
    from conformance.mock.server import MockServer

    generation = "seed" if options.contract.path.resolve() == contracts.baseline_path().resolve() else "today"
    with MockServer(build(generation=generation)) as mock:
        yield mock.origin + contracts.API_PREFIX, Secrets(MOCK_KEY, MOCK_TOKEN, options.auth)


def execute(options: Options, progress: Callable[[str], None]) -> Report:
    """Run everything and return the report; raise CannotTest when nothing meaningful could run."""
    embedded = options.base_url is None
    with target(options) as (base_url, secrets):
        deadline = time.monotonic() + options.deadline
        policy = Policy(options.mode, options.max_rentals, options.timeout, deadline, options.rate)
        with Guard(base_url, secrets, policy, options.contract) as guard:
            guard.on_exchange = _ticker(guard, progress)
            _preflight(guard)
            observations = checks.Observations()
            checks.activate(
                checks.ActiveRun(retry=_retrier(guard), observations=observations, contract=options.contract)
            )
            try:
                # The fixed probes go first: with a small --max-rentals they still prove that both
                # schemes reach the business logic before generated requests use up the cap.
                progress("probes: authentication, request validation, business logic")
                have = {"key"} if secrets.api_key else set()
                have |= {"token"} if secrets.bearer_token else set()
                outcome = probes.run(
                    guard.base_url, options.contract, have=have, rentals_allowed=options.mode == "full",
                    progress=progress, exchange_count=lambda: len(guard.exchanges), timeout=options.deadline,
                )  # fmt: skip
                progress(f"schemathesis: examples, coverage and fuzzing phases (seed {options.seed})")
                result = engine.run(
                    guard.base_url,
                    options.contract,
                    seed=options.seed,
                    max_examples=options.examples,
                    safe=options.mode == "safe",
                    progress=progress,
                    request_timeout=options.deadline,
                )
            finally:
                checks.activate(None)
            report = Report(base_url, embedded, options, result, outcome, guard.snapshot(), observations)
            report.pacing = guard.pacing
            deadline_hit = any(e.blocked and "deadline" in e.blocked for e in report.exchanges)
            report.unreachable = guard.unreachable
            report.stopped = guard.unreachable or ("the run's deadline was reached" if deadline_hit else None)
            if embedded:
                report.accounting = _accounting(guard.upstream_origin, report)
    _judge(report)
    return report


def _ticker(guard: Guard, progress: Callable[[str], None], every: float = 2.0) -> Callable[[Exchange], None]:
    """A progress line at most every `every` seconds while requests flow: counts and rentals."""
    last = [time.monotonic()]

    def tick(_exchange: Exchange) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            progress(f"    ... {len(guard.exchanges)} requests so far, {guard.rentals} rentals")

    return tick


def _preflight(guard: Guard) -> None:
    """Fail fast (exit 2) when the server cannot be reached at all."""
    exchange = guard.forward(
        "POST", guard.upstream_prefix + contracts.OPERATION_PATH, [("content-type", "application/json")], b"{}"
    )
    if exchange.error is not None:
        raise CannotTest(f"cannot reach {guard.upstream_origin}: {exchange.error}")
    if exchange.status == 404:
        raise CannotTest(
            f"{guard.upstream_origin}{exchange.path} answered 404: the endpoint is not there. Is the base URL "
            f"right? It should end in the API's base path, like https://api.close.com/api/v1 "
            f"(given: {guard.upstream_prefix or '/'})"
        )


def _retrier(guard: Guard) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    def retry(body: dict[str, Any]) -> tuple[int, Any]:
        headers = [("content-type", "application/json"), ("authorization", basic(PLACEHOLDER_ANY))]
        exchange = guard.forward(
            "POST", guard.upstream_prefix + contracts.OPERATION_PATH, headers, json.dumps(body).encode()
        )
        try:
            return exchange.status or 0, json.loads(exchange.response_body)
        except ValueError:
            return exchange.status or 0, None

    return retry


def _accounting(origin: str, report: Report) -> dict[str, Any]:
    """Against the embedded mock: rentals and budgets add up, and refusals rented nothing."""
    audit: dict[str, Any] = httpx.get(origin + "/__mock__/accounts", timeout=10).json()
    audit["rentals_acknowledged"] = len(report.rentals)
    return audit


def _judge(report: Report) -> None:
    """Fill in tallies and violations, and raise CannotTest when nothing meaningful ran."""
    by_case = {exchange.case_id: exchange for exchange in report.exchanges if exchange.case_id}
    not_sent = {exchange.case_id for exchange in report.exchanges if not exchange.sent and exchange.case_id}
    for name, tally in sorted(report.engine.checks.items()):
        failures = [(case, message) for case, message in tally.failed if case not in not_sent]
        judged = report.observations.applicable.get(name) if name in checks.SEMANTIC_NAMES else None
        report.tallies[name] = (tally.passed + len(failures) if judged is None else judged, len(failures))
        _collect(report, name, [(by_case.get(case), message) for case, message in failures])
    for name, results in report.probes.by_check().items():
        ran = [result for result in results if result.skipped is None]
        failed = [result for result in ran if result.failure]
        report.tallies[f"{name} (fixed probes)"] = (len(ran), len(failed))
        _collect(report, name, [(_exchange(report, r.exchange), f"{r.probe.name}: {r.failure}") for r in failed])
        report.not_checked += [f"{name}: {r.probe.name} ({r.skipped})" for r in results if r.skipped]
    if report.accounting is not None:
        audit = report.accounting
        problems = []
        if not audit["consistent"]:
            problems.append("the mock's running totals disagree with its rentals (budget or inventory)")
        if audit["rentals"] != audit["rentals_acknowledged"]:
            problems.append(
                f"the mock holds {audit['rentals']} rentals but answered {audit['rentals_acknowledged']} "
                "requests with a rental: a refusal rented (or a rental was lost)"
            )
        report.tallies["mock_accounting"] = (1, len(problems))
        _collect(report, "mock_accounting", [(None, problem) for problem in problems])
    _server_failures(report)
    _static_rentals(report)
    cap = report.options.max_rentals
    if report.options.mode == "full" and cap is not None and len(report.rentals) >= cap:
        report.not_checked.append(f"authenticated requests stopped at the rental cap (--max-rentals {cap})")
    _could_it_test(report)


def _server_failures(report: Report) -> None:
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


def _static_rentals(report: Report) -> None:
    """One root cause for many findings: every rental answered with the very same body."""
    bodies = [exchange.response_body for exchange in report.rentals]
    if len(bodies) < 3 or len(set(bodies)) != 1:
        return
    first = report.rentals[0]
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


def _exchange(report: Report, number: int | None) -> Exchange | None:
    return report.exchanges[number - 1] if number else None


def _collect(report: Report, check: str, failures: list[tuple[Exchange | None, str]]) -> None:
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


def _could_it_test(report: Report) -> None:
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
