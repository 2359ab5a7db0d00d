"""The conclusion: one path from what a run saw to its verdict, for every front-end.

The active run, `replay` and `proxy` each hand over `Evidence` (the exchanges they judged,
what they could not send and why, where it came from) and `conclude` takes it through fixed
steps, in order, as the mock's pipeline takes a request through its stages:

    could it test at all -> server failures -> grouping by cause -> root causes
        -> coverage -> basis -> baseline -> verdict

Each step reads what the earlier ones left in the `Conclusion` and adds its part; the report
writers only read the result. Nothing else decides a verdict or an exit status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.suite import coverage as coverages
from conformance.suite import findings
from conformance.suite.exchange import AUTHENTICATED, CONNECT, SERVER_FAILURES, UNKNOWN
from conformance.suite.findings import Finding, Problem, Violation

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.contract import Contract
    from conformance.suite.baseline import Accepted, Baseline
    from conformance.suite.exchange import Exchange, NotSent
    from conformance.suite.judge import Verdicts

CONFORMANT, NOT_CONFORMANT, SHORT_OF_COVERAGE, CANNOT_TEST = (
    "conformant",
    "not conformant",
    "short of coverage",
    "cannot test",
)
EXIT = {CONFORMANT: 0, NOT_CONFORMANT: 1, SHORT_OF_COVERAGE: 1, CANNOT_TEST: 2}
SERVER_FAILURES_CHECK = "server_failures"


@dataclass(frozen=True)
class Source:
    """Where the exchanges came from, stated once by the producer; writers only read it."""

    kind: str  # "run" (the active suite), "replay" (recordings) or "proxy" (live traffic)
    target: str  # what was judged, for people: a base URL, recording files, an upstream
    origin: str  # scheme://host:port the requests went to, for reproductions ("" when unknown)
    contract: Contract
    mode: str  # run: "safe" | "full"; replay: "recorded"; proxy: "proxied"
    embedded: bool = False  # the run tested the embedded mock
    seed: int | None = None  # the active run's seed (replay and proxy have none)
    auth: str | None = None  # the active run's --auth
    max_rentals: int | None = None
    timeout: float | None = None  # seconds per request


@dataclass
class Evidence:
    """What a producer hands to `conclude`: the exchanges judged and everything that frames them."""

    source: Source
    exchanges: list[Exchange]
    verdicts: Verdicts
    started: float = field(default_factory=time.time)  # epoch seconds
    duration: float = 0.0
    not_sent: list[NotSent] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)  # what could not be exercised, and why
    warnings: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # recordings skipped in part or whole, and why
    extra: list[Finding] = field(default_factory=list)  # findings of the producer's own (the mock's books)
    extra_judged: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # why the run stopped early (deadline, a signal)
    interrupted: bool = False  # SIGINT or SIGTERM ended it: a run that found nothing did not finish
    unreachable: str | None = None  # the server stopped answering
    phases: dict[str, int] = field(default_factory=dict)  # schemathesis' cases per phase
    engine_errors: list[str] = field(default_factory=list)
    pacing: dict[str, int] = field(default_factory=dict)  # rate_limited, resent, unjudged
    accounting: dict[str, Any] | None = None  # the embedded mock's audit
    lifecycle: dict[str, Any] | None = None  # rentals read back and released


@dataclass(frozen=True)
class Settings:
    """What the user asked of the verdict."""

    assumptions: str = "fail"  # "warn": findings against the contract's own choices do not fail the run
    baseline: Baseline | None = None
    coverage: coverages.Requirement = field(default_factory=coverages.Requirement)


@dataclass(frozen=True)
class CheckResult:
    """One check: how much it judged and how it fared."""

    name: str
    about: str
    judged: int
    failed: int  # cases found wrong
    status: str  # "passed", "failed", "not exercised", "known" (accepted in the baseline), "warned" (choices, warn)


@dataclass
class Conclusion:
    """The verdict and everything it rests on."""

    evidence: Evidence
    settings: Settings
    verdict: str = CONFORMANT
    reason: str | None = None  # cannot test: why, and what to do, in one line
    violations: list[Violation] = field(default_factory=list)  # every cause: server failures, root causes, the rest
    checks: dict[str, CheckResult] = field(default_factory=dict)
    coverage: coverages.Coverage = field(default_factory=lambda: coverages.Coverage([]))
    gaps: list[str] = field(default_factory=list)  # what --require-coverage asked and the run did not exercise
    fixed: list[Accepted] = field(default_factory=list)  # accepted in the baseline, gone now
    unjudged_baseline: list[Accepted] = field(default_factory=list)  # accepted, but their check judged nothing now
    found: list[Finding] = field(default_factory=list)  # findings the steps themselves make (one scheme refused)

    @property
    def source(self) -> Source:
        """Where the exchanges came from."""
        return self.evidence.source

    @property
    def exit_code(self) -> int:
        """0 conformant, 1 violations (or short of coverage), 2 could not test."""
        return EXIT[self.verdict]

    def fails(self, violation: Violation) -> bool:
        """Whether a violation fails the run: not in the baseline, and not a choice under --assumptions warn."""
        if violation.baseline == "known":
            return False
        return not (violation.basis.is_choice and self.settings.assumptions == "warn")

    @property
    def failing(self) -> list[Violation]:
        """The violations that fail the run."""
        return [violation for violation in self.violations if self.fails(violation)]

    @property
    def documented(self) -> list[Violation]:
        """Violations of what Close documents."""
        return [violation for violation in self.violations if not violation.basis.is_choice]

    @property
    def chosen(self) -> list[Violation]:
        """Violations of the contract's own choices, where Close is silent."""
        return [violation for violation in self.violations if violation.basis.is_choice]

    @property
    def rentals(self) -> list[Exchange]:
        """Every POST the server answered with a 2xx, whatever the credentials: each may be billed."""
        return self.evidence.verdicts.rentals

    def business_reached(self) -> int:
        """Authenticated, contract-valid rental requests that the business rules answered."""
        contract = self.source.contract
        count = 0
        for exchange in self.evidence.exchanges:
            if exchange.auth not in (*AUTHENTICATED, UNKNOWN) or not exchange.allowed_body or not exchange.answered:
                continue
            match = contract.match(exchange.method, exchange.path)
            if match is None or match.operation is None or match.operation.id != contract.rental.id:
                continue
            if contract.is_business_answer(exchange.status or 0, exchange.json()):
                count += 1
        return count


class _CannotTest(Exception):  # noqa: N818 - internal: ends the steps with a reason
    pass


# -- the steps --------------------------------------------------------------------------------


def could_it_test(conclusion: Conclusion) -> None:
    """Refuse a verdict when nothing could have found a problem: credentials, base path, no traffic."""
    evidence, verdicts = conclusion.evidence, conclusion.evidence.verdicts
    kind = conclusion.source.kind
    failures = [e for e in evidence.exchanges if e.failure in (*SERVER_FAILURES, CONNECT)]
    if verdicts.answered == 0 and not failures:
        where = {"run": "the server", "replay": conclusion.source.target, "proxy": "the proxy"}[kind]
        parts = [f"{verdicts.other} exchanges with other endpoints were skipped"] if verdicts.other else []
        if kind == "replay":
            parts += _unread(evidence)
        other = f" ({'; '.join(parts)})" if parts else ""
        if verdicts.elsewhere and kind == "proxy":
            bases = ", ".join(sorted(verdicts.elsewhere))
            other = (
                f": {sum(verdicts.elsewhere.values())} went to its path under another base path ({bases}) than the "
                "upstream's; give the app the proxy's address, with or without /api/v1"
            )
        raise _CannotTest(
            f"no exchange with the endpoint (POST .../phone_number/request/internal/) in {where}{other}"
            if kind != "run"
            else "no request reached the server"
        )
    if verdicts.answered == 0:
        return  # the server took requests and never answered: server failures are the verdict
    if kind == "run" and not any(exchange.auth in AUTHENTICATED for exchange in evidence.exchanges):
        raise _CannotTest("no request with credentials was sent: set CLOSE_API_KEY and/or CLOSE_BEARER_TOKEN")
    refused = refused_schemes(verdicts)
    why = credentials_refused(kind, verdicts)
    if why is not None:
        raise _CannotTest(why)
    contract = conclusion.source.contract
    rental = {
        status: n for (operation, status), n in verdicts.observed.statuses.items() if operation == contract.rental.id
    }
    answered = sum(n for status, n in rental.items() if status != 429)  # a 429 says nothing of the endpoint
    if answered and rental.get(404, 0) == answered and verdicts.router_404 > 0:
        prefixes = sorted({prefix or "/" for e in evidence.exchanges if (prefix := _prefix(contract, e)) is not None})
        hint = (
            "give the app the proxy's address, with or without /api/v1"
            if kind == "proxy"
            else "the base URL should end in the API's base path, like https://api.close.com/api/v1"
        )
        raise _CannotTest(
            f"every request to the endpoint was answered 404, even those the endpoint refuses before it looks for a "
            f"number (an invalid body, no credentials) or without the contract's refusal body (base path "
            f"{', '.join(prefixes[:3])}): is the endpoint there? {hint}"
        )
    for scheme in sorted(refused):
        problem = Problem(
            f"{scheme} credentials refused",
            f"Every request with the {scheme} credentials was refused with 401 while the others worked: the server "
            f"refuses {scheme} (or that credential is wrong: check it).",
            conclusion.source.contract.basis(("components", "securitySchemes", "apiKey")),
        )
        refusals = [e for e in evidence.exchanges if e.scheme == scheme and e.status == 401]
        # the example is a refusal of the user's own credential, not a probe's deliberately unknown one
        example = next((e for e in refusals if e.auth in AUTHENTICATED), refusals[0])
        conclusion.found.append(Finding("authentication", problem, example))
    # a server failure is a violation too
    judged_any = verdicts.findings() or evidence.extra or conclusion.found or failures
    if conclusion.business_reached() == 0 and not judged_any and not evidence.unreachable:
        unjudged = evidence.pacing.get("unjudged", 0)
        why = f" ({unjudged} were still rate limited, 429, after waiting)" if unjudged else ""
        raise _CannotTest(
            f"no authenticated, valid request was answered by the business rules{why}, so nothing about renting "
            "was tested"
        )


def _unread(evidence: Evidence) -> list[str]:
    """What a replay could not judge at all: requests without an answer, files it skipped."""
    parts = []
    if evidence.not_sent:
        parts.append(f"{len(evidence.not_sent)} recorded without an answer")
    if evidence.unread:
        more = "; ..." if len(evidence.unread) > 2 else ""
        parts.append(f"{len(evidence.unread)} file(s) skipped: {'; '.join(evidence.unread[:2])}{more}")
    return parts


def refused_schemes(verdicts: Verdicts) -> set[str]:
    """The credential schemes whose every request was refused with 401."""
    counts = verdicts.credentials
    return {scheme for scheme, _ in counts if counts[(scheme, False)] == 0 and counts[(scheme, True)] > 0}


def credentials_refused(kind: str, verdicts: Verdicts) -> str | None:
    """Why nothing can be tested when every credential was refused (401), or None when one was accepted."""
    schemes = {scheme for scheme, _ in verdicts.credentials}
    if not schemes or refused_schemes(verdicts) != schemes:
        return None
    what = "CLOSE_API_KEY / CLOSE_BEARER_TOKEN" if kind == "run" else "the credentials the app sent"
    return (
        f"every request with credentials was refused as unauthenticated (401): check {what}; nothing about the "
        "endpoint could be tested"
    )


def _prefix(contract: Contract, exchange: Exchange) -> str | None:
    match = contract.match(exchange.method, exchange.path)
    return match.prefix if match is not None else None


FAILURE_TEXT = {
    "timeout": "the server did not answer within the time allowed (--timeout)",
    "disconnect": "the server closed the connection without answering",
    "protocol": "the server's answer was not valid HTTP",
    "connect": "the proxy could not connect to the upstream",
}


def server_failures(conclusion: Conclusion) -> None:
    """Timeouts, disconnects, resets and protocol errors: violations of their own, listed first."""
    evidence = conclusion.evidence
    basis = conclusion.source.contract.documented("http")
    failed = [e for e in evidence.exchanges if e.failure in SERVER_FAILURES or e.failure == CONNECT]
    if evidence.unreachable:
        last = next((e for e in reversed(evidence.exchanges) if e.error), None)
        problem = Problem("stopped answering", evidence.unreachable, basis)
        conclusion.violations.append(
            Violation(SERVER_FAILURES_CHECK, problem.subject, basis, [Finding(SERVER_FAILURES_CHECK, problem, last)], 1)
        )
    by_kind: dict[str, list[Exchange]] = {}
    for exchange in failed:
        by_kind.setdefault(exchange.failure or "failure", []).append(exchange)
    timeout = conclusion.source.timeout
    for kind, exchanges in by_kind.items():
        smallest = min(exchanges, key=lambda exchange: len(exchange.body))
        text = FAILURE_TEXT.get(kind, kind)
        if kind == "timeout" and timeout is not None:
            text = f"the server did not answer within {timeout:g} s (--timeout)"
        problem = Problem(kind, f"{text}: {len(exchanges)} request(s); e.g. {smallest.error}", basis)
        conclusion.violations.append(
            Violation(
                SERVER_FAILURES_CHECK, kind, basis, [Finding(SERVER_FAILURES_CHECK, problem, smallest)], len(exchanges)
            )
        )


def grouping(conclusion: Conclusion) -> None:
    """One violation per cause (the check and its subject), its cases counted, the smallest examples kept."""
    evidence = conclusion.evidence
    conclusion.violations += findings.group(evidence.verdicts.findings() + evidence.extra + conclusion.found)


def root_causes(conclusion: Conclusion) -> None:
    """One cause for many findings: every rental answered with the very same body (a static mock)."""
    first = findings.static_rental_body(conclusion.rentals)
    if first is None:
        return
    count = len(conclusion.rentals)
    problem = Problem(
        "every rental the same body",
        f"Every rental ({count}) was answered with the same body (id {first.rental_id()}), whatever was asked: the "
        "server does not rent per request (a static mock?). The country, prefix, kind and ownership findings follow "
        "from this.",
        conclusion.source.contract.documented("seed"),
    )
    root = Violation(
        "static_rental_body", problem.subject, problem.basis, [Finding("static_rental_body", problem, first)], count
    )
    position = sum(1 for violation in conclusion.violations if violation.check == SERVER_FAILURES_CHECK)
    conclusion.violations.insert(position, root)
    findings.explain(conclusion.violations, root)


def measure(conclusion: Conclusion) -> None:
    """How much each check judged, and what of the contract the exchanges exercised."""
    from conformance.suite.checks import CHECKS

    evidence = conclusion.evidence
    verdicts = evidence.verdicts
    judged = verdicts.judged() | evidence.extra_judged
    judged[SERVER_FAILURES_CHECK] = verdicts.answered + sum(1 for e in evidence.exchanges if e.server_failure)
    about = {registered.name: registered.about for registered in CHECKS}
    for name, count in judged.items():
        cases = sum(v.cases for v in conclusion.violations if v.check == name)
        status = "passed" if count else "not exercised"
        conclusion.checks[name] = CheckResult(name, about.get(name, name.replace("_", " ")), count, cases, status)
    conclusion.coverage = coverages.build(conclusion.source.contract, verdicts.observed, judged)


def coverage(conclusion: Conclusion) -> None:
    """What of the contract the run exercised, per check and per item; the gate the user set."""
    measure(conclusion)
    conclusion.gaps = coverages.gate(conclusion.coverage, conclusion.settings.coverage)


def basis(conclusion: Conclusion) -> None:
    """Documented findings first, then those against the contract's own choices (kept in cause order)."""
    leading = [v for v in conclusion.violations if v.check in (SERVER_FAILURES_CHECK, "static_rental_body")]
    rest = [v for v in conclusion.violations if v not in leading]
    conclusion.violations = (
        leading + [v for v in rest if not v.basis.is_choice] + [v for v in rest if v.basis.is_choice]
    )


def baseline(conclusion: Conclusion) -> None:
    """With --baseline: findings already accepted are known, others new; accepted ones that are gone, fixed."""
    accepted = conclusion.settings.baseline
    if accepted is None:
        return
    now = {violation.key for violation in conclusion.violations}
    for violation in conclusion.violations:
        violation.baseline = "known" if violation.key in accepted.accepted else "new"
    for key, item in accepted.accepted.items():
        if key in now:
            continue
        result = conclusion.checks.get(item.check)
        if result is not None and result.judged == 0:
            conclusion.unjudged_baseline.append(item)  # not judged this time: not known to be fixed
        else:
            conclusion.fixed.append(item)


def verdict(conclusion: Conclusion) -> None:
    """Conformant, not conformant, or short of coverage; each check's own status."""
    for name, result in conclusion.checks.items():
        mine = [violation for violation in conclusion.violations if violation.check == name]
        if any(conclusion.fails(violation) for violation in mine):
            status = "failed"
        elif mine:  # findings that do not fail: accepted in the baseline, or choices under --assumptions warn
            status = "known" if any(violation.baseline == "known" for violation in mine) else "warned"
        else:
            status = result.status
        conclusion.checks[name] = CheckResult(name, result.about, result.judged, result.failed, status)
    if conclusion.failing:
        conclusion.verdict = NOT_CONFORMANT
    elif conclusion.evidence.interrupted:
        conclusion.verdict = CANNOT_TEST
        conclusion.reason = "interrupted (SIGINT or SIGTERM) before the run finished; what was judged is reported"
    elif conclusion.gaps:
        conclusion.verdict = SHORT_OF_COVERAGE
    else:
        conclusion.verdict = CONFORMANT


STEPS: tuple[Callable[[Conclusion], None], ...] = (
    could_it_test, server_failures, grouping, root_causes, coverage, basis, baseline, verdict,
)  # fmt: skip


def conclude(evidence: Evidence, settings: Settings | None = None) -> Conclusion:
    """Take the evidence through every step to a verdict."""
    conclusion = Conclusion(evidence, settings or Settings())
    try:
        for step in STEPS:
            step(conclusion)
    except _CannotTest as reason:
        conclusion.verdict, conclusion.reason = CANNOT_TEST, str(reason)
        conclusion.violations = []
        measure(conclusion)
    return conclusion


def cannot_test(source: Source, reason: str, verdicts: Verdicts, evidence: Evidence | None = None) -> Conclusion:
    """The conclusion of a run that stopped before it could test (the server unreachable, say), on what it sent."""
    evidence = evidence or Evidence(source, [], verdicts)
    conclusion = Conclusion(evidence, Settings(), CANNOT_TEST, reason)
    measure(conclusion)
    return conclusion
