"""One active conformance run: the target, the guard, the probes, schemathesis' engine, the mock's books.

What the run found is turned into violations by `findings.py`, shared with replay and proxy.
"""

from __future__ import annotations

__all__ = ["CannotTest", "Options", "Report", "execute", "target"]

import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

import httpx

from conformance import contract as contracts
from conformance.suite import checks, engine, findings, probes
from conformance.suite.credentials import PLACEHOLDER_ANY, Secrets, basic
from conformance.suite.findings import CannotTest, Options, Report
from conformance.suite.guard import Guard, Policy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance.suite.exchange import Exchange


@contextlib.contextmanager
def target(options: Options) -> Iterator[tuple[str, Secrets, tuple[str, ...]]]:
    """Yield the API base URL, the credentials and the users `assign_to` may name.

    For the user's server, what the options say; for the embedded mock, its scenario's `member`.
    """
    if options.base_url is not None:
        yield options.base_url, options.secrets, options.assignees
        return
    from conformance.mock.app import build
    from conformance.mock.scenario import default_credentials
    from conformance.mock.server import MockServer

    generation = "seed" if options.contract.path.resolve() == contracts.baseline_path().resolve() else "today"
    app = build(generation=generation)
    member = app.scenario.roles.get("member")
    with MockServer(app) as mock:
        key, token = default_credentials()
        assignees = options.assignees or ((member,) if member else ())
        yield mock.origin + contracts.API_PREFIX, Secrets(key, token, options.auth), assignees


def execute(options: Options, progress: Callable[[str], None]) -> Report:
    """Run everything and return the report; raise CannotTest when nothing meaningful could run."""
    embedded = options.base_url is None
    with target(options) as (base_url, secrets, assignees):
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
                    assignees=assignees,
                )
            finally:
                checks.activate(None)
            report = Report(
                base_url, embedded, options, engine=result, probes=outcome, exchanges=guard.snapshot(),
                observations=observations,
            )  # fmt: skip
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
    # No credentials and a body no server can rent on, nor answer from its business rules (a 404
    # there would read as a missing endpoint): it is refused with 401 or 400, or the path is wrong.
    path = guard.upstream_prefix + contracts.OPERATION_PATH
    exchange = guard.forward("POST", path, [("content-type", "application/json")], b"[]")
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
        findings.collect(report, name, [(by_case.get(case), message) for case, message in failures])
    for name, results in report.probes.by_check().items():
        ran = [result for result in results if result.skipped is None]
        failed = [result for result in ran if result.failure]
        report.tallies[f"{name} (fixed probes)"] = (len(ran), len(failed))
        shown = [(findings.exchange_numbered(report, r.exchange), f"{r.probe.name}: {r.failure}") for r in failed]
        findings.collect(report, name, shown)
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
        findings.collect(report, "mock_accounting", [(None, problem) for problem in problems])
    findings.server_failures(report)
    findings.static_rentals(report)
    cap = report.options.max_rentals
    if report.options.mode == "full" and cap is not None and len(report.rentals) >= cap:
        report.not_checked.append(f"authenticated requests stopped at the rental cap (--max-rentals {cap})")
    findings.could_it_test(report)
