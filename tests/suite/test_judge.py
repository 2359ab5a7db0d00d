"""The judge: every check on every exchange, what it counts, and what only a stream of traffic shows."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from conformance.suite import checks
from conformance.suite.exchange import NONE, TIMEOUT, RateLimited
from conformance.suite.judge import PAID_TWICE_WINDOW, Judge
from tests.suite.views import CONTRACT, REFUSED, RENT, answer, judged, rental, rented, sent

WHEN = dt.datetime.fromisoformat(rented()["date_created"]).timestamp()  # the example was rented then
HINTLESS = RateLimited(429, [("content-type", "application/json")], b'{"error": {"message": "slow down"}}', None)


def test_exchanges_with_the_endpoint_are_counted_and_those_with_others_skipped() -> None:
    failed = sent("POST", RENT, {"country": "US"})
    failed.error, failed.failure = "TimeoutError: timed out", TIMEOUT
    judge = judged(rental(), answer(sent("GET", "/api/v1/me/"), 200, {}), failed, rental(None, 404, REFUSED))
    verdicts = judge.verdicts
    assert (verdicts.endpoint, verdicts.answered, verdicts.other) == (3, 2, 1)
    assert verdicts.tallies["not_a_server_error"].judged == 2  # a failure is its producer's to report
    assert [exchange.number for exchange in verdicts.rentals] == [1]


def test_an_exchange_with_another_endpoint_is_judged_by_no_check() -> None:
    judge = judged(answer(sent("POST", "/api/v1/lead/", {"name": "x"}), 500, b"oops"))
    assert set(judge.verdicts.judged().values()) == {0}
    assert judge.verdicts.findings() == []
    assert not judge.is_endpoint(answer(sent("GET", "/api/v1/me/"), 200, {}))
    assert judge.is_endpoint(rental())


def test_the_endpoint_is_recognised_at_any_base_path() -> None:
    for path in ("/phone_number/request/internal/", "/v1/phone_number/request/internal/", RENT):
        assert judged(answer(sent("POST", path, {"country": "US"}), 404, REFUSED)).verdicts.endpoint == 1


def test_an_answer_recorded_without_its_body_is_judged_on_status_and_headers_only() -> None:
    exchange = rental(None, 500, b"", headers=[("content-type", "text/html")])
    exchange.body_missing = True
    judge = judged(exchange)
    judged_by = {name for name, count in judge.verdicts.judged().items() if count}
    assert judged_by == {"not_a_server_error"}  # a 500 documents no headers nor content to judge
    assert [finding.key for finding in judge.verdicts.findings()] == ["not_a_server_error: 500"]
    body_free = {registered.name for registered in checks.CHECKS if registered.body_free}
    unanswered = rental(None, 401, b"", headers=[("content-type", "text/html")], auth=NONE)
    unanswered.body_missing = True
    again = judged(unanswered)
    assert {name for name, count in again.verdicts.judged().items() if count} <= body_free
    assert sorted(finding.key for finding in again.verdicts.findings()) == [
        "content_type_conformance: 401: text/html",
        "response_headers_conformance: 401 WWW-Authenticate: missing",
    ]  # never "not JSON": its body was not recorded, not empty


def test_a_rental_recorded_without_its_body_is_still_listed_as_a_rental() -> None:
    exchange = rental()
    exchange.response_body, exchange.body_missing = b"", True
    judge = judged(exchange)
    assert judge.verdicts.rentals == [exchange]
    assert judge.verdicts.tallies["rented_number_in_requested_country"].judged == 0  # nothing to read
    assert judge.verdicts.observed.statuses == {}  # nor counted as exercising the contract


def test_every_429_waited_out_is_judged_as_an_answer_of_its_own() -> None:
    exchange = rental()
    exchange.rate_limited = [HINTLESS, HINTLESS]
    judge = judged(exchange)
    verdicts = judge.verdicts
    assert verdicts.rate_limited == 2
    assert verdicts.tallies["rate_limit_answer"].judged == 2
    assert [finding.key for finding in verdicts.tallies["rate_limit_answer"].findings] == [
        "rate_limit_answer: no wait given"
    ] * 2
    assert verdicts.tallies["request_validation"].judged == 0  # only the answer is judged, not the request again
    assert verdicts.tallies["rented_number_in_requested_country"].judged == 1  # the last answer, judged in full
    assert verdicts.observed.statuses[(CONTRACT.rental.id, 429)] == 2  # answered 429: exercised, for coverage
    assert verdicts.observed.statuses[(CONTRACT.rental.id, 201)] == 1


def test_a_429_that_was_the_last_answer_is_counted_and_judged() -> None:
    judge = judged(rental(None, 429, {"error": {"message": "slow down", "rate_reset": 1}}))
    assert judge.verdicts.rate_limited == 1
    assert judge.verdicts.tallies["rate_limit_answer"].judged == 1


def _at(seconds: float, exchange):
    exchange.started = seconds
    return exchange


def _second(**changes):
    return rented(id="phon_second2", number="+16503335556", number_formatted="+1 650-333-5556", **changes)


def test_the_same_request_answered_201_twice_within_the_window_is_a_paid_twice_pair() -> None:
    first, repeat = _at(WHEN, rental()), _at(WHEN + PAID_TWICE_WINDOW - 1, rental(response=_second()))
    judge = judged(first, repeat)
    assert judge.verdicts.paid_twice == [(first, repeat)]
    assert judge.verdicts.findings() == []  # a warning, not a violation


def test_the_same_request_outside_the_window_or_another_request_is_no_pair() -> None:
    late = judged(_at(WHEN, rental()), _at(WHEN + PAID_TWICE_WINDOW + 1, rental(response=_second())))
    assert late.verdicts.paid_twice == []
    other = judged(_at(WHEN, rental()), _at(WHEN + 1, rental({"country": "US"}, response=_second())))
    assert other.verdicts.paid_twice == []


def test_without_recorded_times_only_back_to_back_repeats_are_a_pair() -> None:
    first, refusal, repeat = rental(), rental({"country": "CA"}, 404, REFUSED), rental(response=_second())
    assert judged(first, refusal, repeat).verdicts.paid_twice == []  # another POST came between
    first, repeat = rental(), rental(response=_second())
    assert judged(first, repeat).verdicts.paid_twice == [(first, repeat)]


def test_credentials_are_counted_per_scheme_refused_or_not() -> None:
    judge = judged(
        rental(),
        rental(None, 404, REFUSED),
        rental(None, 401, REFUSED, scheme="bearer"),
        rental(None, 429, {"error": {"message": "slow", "rate_reset": 1}}, scheme="bearer"),  # tells nothing
        rental(None, 401, REFUSED, auth=NONE),  # no credentials: not a scheme's
    )
    assert dict(judge.verdicts.credentials) == {("basic", False): 2, ("bearer", True): 1}


def test_rental_404s_are_counted_and_those_that_look_like_a_routers_apart() -> None:
    judge = judged(
        rental(None, 404, REFUSED),  # the business rules: no number
        rental(None, 404, {"detail": "Not Found"}),  # no refusal body: a router's
        rental({"country": "us"}, 404, REFUSED),  # a request the endpoint refuses first
        rental(None, 404, REFUSED, auth=NONE),  # without credentials: refused first too
    )
    assert (judge.verdicts.rental_404, judge.verdicts.router_404) == (4, 3)


def test_findings_come_in_the_order_of_the_exchanges() -> None:
    judge = judged(rental({"country": "US", "prefix": "123456"}, 404, REFUSED), rental(None, 500, b""))
    assert [(f.exchange.number if f.exchange else 0) for f in judge.verdicts.findings()] == sorted(
        f.exchange.number if f.exchange else 0 for f in judge.verdicts.findings()
    )
    assert judge.verdicts.findings()[0].check == "request_validation"


def test_one_judge_fed_from_many_threads_counts_every_exchange() -> None:
    judge = Judge(CONTRACT)
    made = [rental(response=rented(id=f"phon_t{n}", number=f"+1650333{n:04d}")) for n in range(64)]
    for number, exchange in enumerate(made, 1):
        exchange.number = number
    start = threading.Barrier(8)

    def feed(part: int) -> None:
        start.wait()
        for exchange in made[part::8]:
            judge.judge(exchange)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(feed, range(8)))
    assert judge.verdicts.endpoint == 64
    assert judge.verdicts.tallies["rentals_are_distinct_and_stable"].judged == 64
    assert len(judge.memory.ids) == 64
