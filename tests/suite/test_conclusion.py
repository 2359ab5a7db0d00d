"""The conclusion, step by step on synthetic evidence: could it test, server failures, grouping, root causes,
coverage and its gate, basis, baseline, verdict, and the exit code each verdict means."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from conformance.suite import conclusion as conclusions
from conformance.suite import coverage
from conformance.suite.baseline import Accepted, Baseline
from conformance.suite.conclusion import (
    CANNOT_TEST,
    CONFORMANT,
    NOT_CONFORMANT,
    SHORT_OF_COVERAGE,
    Conclusion,
    Evidence,
    Settings,
    conclude,
)
from conformance.suite.exchange import DISCONNECT, NONE, TIMEOUT, Exchange, RateLimited
from conformance.suite.findings import Finding, Problem
from conformance.suite.judge import Verdicts
from tests.suite.views import (
    CONTRACT,
    REFUSED,
    RENT,
    REPLAY,
    RUN,
    answer,
    evidence,
    rental,
    rented,
    sent,
)

PROXY = dataclasses.replace(REPLAY, kind="proxy", target="http://127.0.0.1:9/api/v1", mode="proxied")
RATE_LIMITED = {"error": {"message": "slow down", "rate_reset": 1}}
PACED = [("content-type", "application/json"), ("ratelimit", "limit=1, remaining=0, reset=1"), ("retry-after", "1")]
UNAUTHENTICATED = [("content-type", "application/json"), ("www-authenticate", 'Basic realm="Close API"')]


def refused_401(**options: Any) -> Exchange:
    return rental(None, 401, {"status": "error", "error": "who are you?"}, headers=UNAUTHENTICATED, **options)


def no_number(**options: Any) -> Exchange:
    return rental({"country": "US", "prefix": "999"}, 404, REFUSED, **options)


def failed(kind: str, body: bytes = b'{"country": "US"}', error: str = "TimeoutError: timed out") -> Exchange:
    exchange = sent("POST", RENT, body)
    exchange.error, exchange.failure = error, kind
    return exchange


def too_long() -> Exchange:
    """A request whose prefix is too long (documented: seed), refused as if it were valid."""
    return rental({"country": "US", "prefix": "123456"}, 404, REFUSED)


def empty_assign_to() -> Exchange:
    """A request with an empty assign_to (the contract's choice assign-to-empty), refused as if it were valid."""
    return rental({"country": "US", "assign_to": []}, 404, REFUSED)


def with_a_rental(*exchanges: Exchange, **framing: Any) -> Evidence:
    """Evidence of a working endpoint (one rental) and the exchanges."""
    return evidence(rental(), *exchanges, **framing)


def keys(concluded: Conclusion) -> list[str]:
    return [violation.key for violation in concluded.violations]


# -- could it test at all -------------------------------------------------------------------------


def test_no_exchange_at_all_cannot_test() -> None:
    concluded = conclude(Evidence(RUN, [], Verdicts()))
    assert (concluded.verdict, concluded.reason, concluded.exit_code) == (
        CANNOT_TEST,
        "no request reached the server",
        2,
    )
    assert concluded.violations == []


@pytest.mark.parametrize(
    ("source", "where"), [(REPLAY, "in recordings x.har"), (PROXY, "in the proxy")], ids=["replay", "proxy"]
)
def test_traffic_with_other_endpoints_only_cannot_test_and_says_what_was_skipped(source, where: str) -> None:
    concluded = conclude(evidence(answer(sent("GET", "/api/v1/me/"), 200, {}), source=source))
    assert concluded.verdict == CANNOT_TEST
    assert concluded.reason == (
        f"no exchange with the endpoint (POST .../phone_number/request/internal/) {where} "
        "(1 exchanges with other endpoints were skipped)"
    )


def test_a_run_that_sent_no_credentials_at_all_cannot_test_and_says_to_set_them() -> None:
    concluded = conclude(evidence(refused_401(auth=NONE), no_number(auth=NONE), source=RUN))
    assert concluded.verdict == CANNOT_TEST
    assert concluded.reason == "no request with credentials was sent: set CLOSE_API_KEY and/or CLOSE_BEARER_TOKEN"


def test_credentials_refused_everywhere_cannot_test_and_names_what_to_check() -> None:
    run = conclude(evidence(refused_401(), refused_401(scheme="bearer"), source=RUN))
    assert run.verdict == CANNOT_TEST
    assert run.reason == (
        "every request with credentials was refused as unauthenticated (401): check CLOSE_API_KEY / "
        "CLOSE_BEARER_TOKEN; nothing about the endpoint could be tested"
    )
    replayed = conclude(evidence(refused_401(), source=REPLAY))
    assert replayed.reason is not None
    assert "check the credentials the app sent" in replayed.reason


def test_one_scheme_refused_while_the_other_works_is_a_finding_on_the_refused_scheme() -> None:
    bearer = refused_401(scheme="bearer")
    concluded = conclude(evidence(no_number(), bearer, refused_401(scheme="bearer"), source=RUN))
    assert concluded.verdict == NOT_CONFORMANT
    (violation,) = concluded.violations
    assert violation.key == "authentication: bearer credentials refused"
    assert (violation.basis.kind, violation.basis.ref) == ("documented", "reference")
    assert violation.exchange is bearer


def test_a_run_whose_credentials_only_met_429s_is_told_so_not_to_set_credentials() -> None:
    limited = [rental(None, 429, RATE_LIMITED, headers=PACED) for _ in range(3)]
    concluded = conclude(evidence(refused_401(auth=NONE), *limited, source=RUN, pacing={"unjudged": 3}))
    assert concluded.verdict == CANNOT_TEST
    assert concluded.reason == (
        "no authenticated, valid request was answered by the business rules (3 were still rate limited, 429, "
        "after waiting), so nothing about renting was tested"
    )


def test_a_run_whose_rentals_all_timed_out_is_judged_on_its_server_failures() -> None:
    concluded = conclude(evidence(refused_401(auth=NONE), failed(TIMEOUT), failed(TIMEOUT), source=RUN))
    assert concluded.verdict == NOT_CONFORMANT, concluded.reason
    assert keys(concluded) == ["server_failures: timeout"]


def test_server_failures_without_any_answer_are_the_verdict() -> None:
    concluded = conclude(evidence(failed(TIMEOUT), source=RUN))
    assert concluded.verdict == NOT_CONFORMANT
    assert keys(concluded) == ["server_failures: timeout"]


def _routed_404(path: str = "/api/v1/api/v1/phone_number/request/internal/") -> Exchange:
    return answer(sent("POST", path, {"country": "US", "prefix": "650"}), 404, {"detail": "Not Found"})


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        (REPLAY, "the base URL should end in the API's base path, like https://api.close.com/api/v1"),
        (PROXY, "give the app the proxy's address, with or without /api/v1"),
    ],
    ids=["replay", "proxy"],
)
def test_every_rental_answered_404_by_a_router_cannot_test_and_names_the_base_path(source, hint: str) -> None:
    concluded = conclude(evidence(_routed_404(), _routed_404(), source=source))
    assert concluded.verdict == CANNOT_TEST
    assert concluded.reason == (
        "every request to the endpoint was answered 404, even those the endpoint refuses before it looks for a "
        "number (an invalid body, no credentials) or without the contract's refusal body (base path "
        f"/api/v1/api/v1): is the endpoint there? {hint}"
    )


def test_every_rental_answered_404_where_the_endpoint_would_refuse_one_first_cannot_test() -> None:
    # A router's 404 may look like a refusal ({"status": "error"}, as the mock's does); but the endpoint
    # refuses a request of the wrong form before its business rules could answer 404.
    concluded = conclude(evidence(no_number(), too_long()))
    assert concluded.verdict == CANNOT_TEST
    assert concluded.reason is not None
    assert concluded.reason.startswith("every request to the endpoint was answered 404")


def test_every_rental_answered_404_by_the_business_rules_is_a_verdict() -> None:
    concluded = conclude(evidence(no_number(), no_number()))
    assert concluded.verdict == CONFORMANT
    assert concluded.business_reached() == 2


def test_nothing_answered_by_the_business_rules_cannot_test() -> None:
    limited = rental(None, 429, RATE_LIMITED, headers=PACED)
    concluded = conclude(evidence(limited, source=REPLAY, pacing={"unjudged": 1}))
    assert concluded.verdict == CANNOT_TEST
    assert concluded.reason == (
        "no authenticated, valid request was answered by the business rules (1 were still rate limited, 429, "
        "after waiting), so nothing about renting was tested"
    )
    assert concluded.checks["rate_limit_answer"].judged == 1  # what was judged is still measured


def test_a_finding_is_a_verdict_even_when_nothing_reached_the_business_rules() -> None:
    concluded = conclude(evidence(rental({"country": "us"}, 201)))
    assert concluded.verdict == NOT_CONFORMANT
    assert "invalid_request_never_rents: country: pattern" in keys(concluded)


# -- server failures ------------------------------------------------------------------------------


def test_server_failures_are_grouped_by_kind_with_the_smallest_request_as_example() -> None:
    small = failed(TIMEOUT, b"{}")
    exchanges = [no_number(), failed(TIMEOUT), small, failed(DISCONNECT, error="RemoteDisconnected: closed")]
    concluded = conclude(evidence(*exchanges, source=RUN))
    timeout, disconnect = concluded.violations
    assert (timeout.key, timeout.cases, timeout.exchange) == ("server_failures: timeout", 2, small)
    assert (
        timeout.message
        == "the server did not answer within 2 s (--timeout): 2 request(s); e.g. TimeoutError: timed out"
    )
    assert (disconnect.key, disconnect.cases) == ("server_failures: disconnect", 1)
    assert disconnect.message.startswith("the server closed the connection without answering")
    assert (timeout.basis.kind, timeout.basis.ref) == ("documented", "http")
    assert concluded.checks["server_failures"].judged == 1 + 3  # the answered exchange and the failed ones


def test_a_server_that_stopped_answering_is_the_first_violation() -> None:
    stopped = "the server stopped answering (5 requests in a row failed); nothing more is sent"
    concluded = conclude(evidence(no_number(), failed(TIMEOUT), source=RUN, unreachable=stopped))
    assert keys(concluded) == ["server_failures: stopped answering", "server_failures: timeout"]
    assert concluded.violations[0].message == stopped


# -- grouping, root causes, basis -------------------------------------------------------------


def test_findings_of_the_judge_and_of_the_producer_are_grouped_by_cause() -> None:
    extra = Finding("mock_accounting", Problem("books", "totals disagree", CONTRACT.documented("seed")), None)
    framed = with_a_rental(
        no_number(),
        too_long(),
        rental({"country": "US", "prefix": "1234567"}, 404, REFUSED),
        extra=[extra],
        extra_judged={"mock_accounting": 1},
    )
    concluded = conclude(framed)
    assert [(v.key, v.cases) for v in concluded.violations] == [
        ("request_validation: prefix: maxLength", 2),
        ("mock_accounting: books", 1),
    ]
    assert concluded.checks["mock_accounting"] == conclusions.CheckResult(
        "mock_accounting", "mock accounting", 1, 1, "failed"
    )


def test_every_rental_with_one_body_is_the_root_cause_of_the_rental_findings() -> None:
    body = rented(country="CA")  # whatever was asked: the same Canadian number
    rentals = [rental({"country": country}, 201, body) for country in ("US", "GB", "DE")]
    concluded = conclude(evidence(*rentals, failed(TIMEOUT), source=RUN))
    assert keys(concluded)[:2] == ["server_failures: timeout", "static_rental_body: every rental the same body"]
    root = concluded.violations[1]
    assert root.cases == 3
    assert "Every rental (3) was answered with the same body (id phon_4XrFk2P0e8bV1cQz9mWyTn)" in root.message
    explained = {v.key: v.explained_by for v in concluded.violations[2:]}
    assert explained["rented_number_in_requested_country: country"] == root.key
    assert explained["rentals_are_distinct_and_stable: id handed out twice"] == root.key


def test_documented_violations_come_before_the_contracts_own_choices() -> None:
    framed = with_a_rental(
        empty_assign_to(),  # chosen: assign-to-empty
        too_long(),  # documented: seed
        failed(TIMEOUT),
        source=RUN,
    )
    concluded = conclude(framed)
    assert keys(concluded) == [
        "server_failures: timeout",
        "request_validation: prefix: maxLength",
        "request_validation: assign_to: minItems",
    ]
    assert [v.key for v in concluded.documented][-1] == "request_validation: prefix: maxLength"
    assert [v.key for v in concluded.chosen] == ["request_validation: assign_to: minItems"]


# -- coverage and the gate --------------------------------------------------------------------


def test_every_check_is_measured_whether_it_judged_or_not() -> None:
    concluded = conclude(evidence(rental()))
    assert concluded.checks["rented_number_in_requested_country"].status == "passed"
    assert concluded.checks["rented_number_in_requested_country"].judged == 1
    assert concluded.checks["rate_limit_answer"].status == "not exercised"
    items = {item.id: item.count for item in concluded.coverage.items}
    assert items["status:rent:201"] == 1
    assert items["status:rent:429"] == 0
    assert items["check:rate_limit_answer"] == 0


def test_a_429_that_was_waited_out_counts_as_exercised_for_the_gate() -> None:
    waited = rental()
    waited.rate_limited = [RateLimited(429, PACED, json.dumps(RATE_LIMITED).encode(), 1.0)]
    settings = Settings(coverage=coverage.requirement(["status:rent:429"]))
    concluded = conclude(evidence(waited), settings)
    assert (concluded.gaps, concluded.verdict) == ([], CONFORMANT)


def test_every_rental_404_but_some_429s_is_still_the_routers_404() -> None:
    limited = _routed_404()
    limited.rate_limited = [RateLimited(429, PACED, json.dumps(RATE_LIMITED).encode(), 1.0)]
    concluded = conclude(evidence(limited, _routed_404(), source=REPLAY))
    assert concluded.verdict == CANNOT_TEST
    assert concluded.reason is not None
    assert concluded.reason.startswith("every request to the endpoint was answered 404")


def test_a_gate_the_run_falls_short_of_is_short_of_coverage_exit_1() -> None:
    settings = Settings(coverage=coverage.requirement(["status:rent:429,refusal:billing-error"]))
    concluded = conclude(evidence(rental()), settings)
    assert concluded.gaps == ["status:rent:429 was never exercised", "refusal:billing-error was never exercised"]
    assert (concluded.verdict, concluded.exit_code) == (SHORT_OF_COVERAGE, 1)
    met = conclude(evidence(rental()), Settings(coverage=coverage.requirement(["status:rent:201"])))
    assert (met.gaps, met.verdict) == ([], CONFORMANT)


def test_violations_fail_before_coverage_is_short() -> None:
    settings = Settings(coverage=coverage.requirement(["100%"]))
    concluded = conclude(with_a_rental(too_long()), settings)
    assert concluded.gaps
    assert concluded.verdict == NOT_CONFORMANT


# -- baseline -------------------------------------------------------------------------------------


def _baseline(*accepted: str) -> Baseline:
    return Baseline("old.json", {key: Accepted(key, key.split(":")[0]) for key in accepted})


def test_a_baseline_marks_violations_known_or_new_and_lists_what_was_fixed_or_not_judged() -> None:
    accepted = _baseline(
        "request_validation: prefix: maxLength",  # still there: known
        "request_validation: unknown field",  # its check judged: fixed
        "rate_limit_answer: no wait given",  # its check judged nothing now: not known to be fixed
    )
    framed = with_a_rental(
        too_long(),
        empty_assign_to(),
    )
    concluded = conclude(framed, Settings(baseline=accepted))
    assert {v.key: v.baseline for v in concluded.violations} == {
        "request_validation: prefix: maxLength": "known",
        "request_validation: assign_to: minItems": "new",
    }
    assert [item.key for item in concluded.fixed] == ["request_validation: unknown field"]
    assert [item.key for item in concluded.unjudged_baseline] == ["rate_limit_answer: no wait given"]
    assert [v.key for v in concluded.failing] == ["request_validation: assign_to: minItems"]
    assert concluded.verdict == NOT_CONFORMANT


def test_only_known_violations_are_conformant_and_their_check_is_known() -> None:
    framed = with_a_rental(too_long())
    concluded = conclude(framed, Settings(baseline=_baseline("request_validation: prefix: maxLength")))
    assert concluded.verdict == CONFORMANT
    assert concluded.checks["request_validation"].status == "known"
    assert concluded.checks["request_validation"].failed == 1


# -- verdict ----------------------------------------------------------------------------------


def test_with_assumptions_warn_a_violation_of_a_choice_does_not_fail_the_run() -> None:
    framed = with_a_rental(empty_assign_to())
    warned = conclude(framed, Settings(assumptions="warn"))
    assert warned.verdict == CONFORMANT
    assert warned.failing == []
    assert warned.checks["request_validation"].status == "warned"
    strict = conclude(with_a_rental(empty_assign_to()))
    assert strict.verdict == NOT_CONFORMANT
    assert strict.checks["request_validation"].status == "failed"


def test_with_assumptions_warn_a_documented_violation_still_fails() -> None:
    framed = with_a_rental(too_long())
    assert conclude(framed, Settings(assumptions="warn")).verdict == NOT_CONFORMANT


def test_an_interrupted_run_that_found_nothing_cannot_test_and_one_that_found_something_is_not_conformant() -> None:
    quiet = conclude(evidence(rental(), interrupted=True))
    assert quiet.verdict == CANNOT_TEST
    assert quiet.reason == "interrupted (SIGINT or SIGTERM) before the run finished; what was judged is reported"
    assert quiet.checks["rented_number_in_requested_country"].judged == 1
    found = conclude(with_a_rental(too_long(), interrupted=True))
    assert found.verdict == NOT_CONFORMANT


@pytest.mark.parametrize(
    ("verdict", "code"), [(CONFORMANT, 0), (NOT_CONFORMANT, 1), (SHORT_OF_COVERAGE, 1), (CANNOT_TEST, 2)]
)
def test_each_verdict_has_its_exit_code(verdict: str, code: int) -> None:
    assert Conclusion(Evidence(REPLAY, [], Verdicts()), Settings(), verdict).exit_code == code


def test_a_run_that_stopped_before_judging_is_cannot_test_with_every_check_not_exercised() -> None:
    concluded = conclusions.cannot_test(RUN, "cannot reach http://127.0.0.1:9: refused", Verdicts())
    assert (concluded.verdict, concluded.reason, concluded.exit_code) == (
        CANNOT_TEST,
        "cannot reach http://127.0.0.1:9: refused",
        2,
    )
    assert {result.status for result in concluded.checks.values()} == {"not exercised"}


def test_the_steps_run_in_their_documented_order() -> None:
    assert [step.__name__ for step in conclusions.STEPS] == [
        "could_it_test", "server_failures", "grouping", "root_causes", "coverage", "basis", "baseline", "verdict",
    ]  # fmt: skip


def test_concluding_the_same_evidence_twice_gives_the_same_verdict() -> None:
    once = conclude(evidence(no_number(), refused_401(scheme="bearer"), source=RUN))
    again = conclude(once.evidence)
    assert (
        [v.key for v in again.violations]
        == [v.key for v in once.violations]
        == ["authentication: bearer credentials refused"]
    )
