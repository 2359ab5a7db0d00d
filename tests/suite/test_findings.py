"""Findings grouped by cause: one violation per key, its cases counted, the smallest examples kept, one root cause."""

from __future__ import annotations

from conformance.suite import findings
from conformance.suite.findings import Finding, Problem, Violation
from tests.suite.views import CONTRACT, rental, rented

SEED = CONTRACT.documented("seed")
CHOICE = CONTRACT.chosen("duplicate-keys")


def found(check: str, subject: str, message: str, body: bytes = b"{}", *, number: int = 1, probe: str | None = None):
    exchange = rental({"country": "US"}, 404, {"status": "error", "error": "x"})
    exchange.body, exchange.number, exchange.probe = body, number, probe
    return Finding(check, Problem(subject, message, SEED), exchange)


def test_the_key_of_a_finding_is_its_check_and_subject_never_its_message() -> None:
    one = found("request_validation", "prefix: maxLength", "prefix '123456' is too long")
    other = found("request_validation", "prefix: maxLength", "prefix '1234567' is too long")
    assert one.key == other.key == "request_validation: prefix: maxLength"


def test_one_violation_per_key_however_many_messages_and_values() -> None:
    grouped = findings.group(
        [
            found("request_validation", "prefix: maxLength", "prefix '123456'", number=1),
            found("authentication", "no credentials", "answered 404", number=2),
            found("request_validation", "prefix: maxLength", "prefix '1234567'", number=3),
            found("request_validation", "prefix: maxLength", "prefix '12345678'", number=4),
        ]
    )
    assert [(v.key, v.cases) for v in grouped] == [
        ("request_validation: prefix: maxLength", 3),
        ("authentication: no credentials", 1),
    ]  # in the order causes were first seen


def test_the_two_smallest_requests_are_kept_as_examples_the_smallest_first() -> None:
    sizes = [40, 7, 300, 7, 12]
    grouped = findings.group([found("c", "s", f"case {n}", b"x" * size, number=n) for n, size in enumerate(sizes, 1)])
    (violation,) = grouped
    assert violation.cases == 5
    assert [(len(f.exchange.body), f.exchange.number) for f in violation.examples if f.exchange] == [(7, 2), (7, 4)]
    assert violation.message == "case 2"  # what the smallest example says
    assert violation.exchange is violation.examples[0].exchange


def test_the_fixed_probes_among_the_cases_are_named_once_each_in_order() -> None:
    grouped = findings.group(
        [
            found("c", "s", "m", probe="unknown field"),
            found("c", "s", "m"),
            found("c", "s", "m", probe="prefix one past maxLength (6)"),
            found("c", "s", "m", probe="unknown field"),
        ]
    )
    assert grouped[0].probes == ["unknown field", "prefix one past maxLength (6)"]


def test_a_finding_without_an_exchange_is_a_violation_too() -> None:
    (violation,) = findings.group([Finding("mock_accounting", Problem("books", "totals disagree", SEED), None)])
    assert (violation.key, violation.cases, violation.exchange, violation.message) == (
        "mock_accounting: books",
        1,
        None,
        "totals disagree",
    )


def test_a_violation_keeps_the_basis_of_its_first_finding() -> None:
    (violation,) = findings.group([Finding("c", Problem("s", "m", CHOICE), None)])
    assert violation.basis == CHOICE
    assert violation.basis.is_choice


def _rentals(*bodies: bytes) -> list:
    made = []
    for number, body in enumerate(bodies, 1):
        exchange = rental()
        exchange.number, exchange.response_body = number, body
        made.append(exchange)
    return made


def test_three_rentals_answered_with_the_very_same_body_are_one_static_body() -> None:
    same = rental().response_body
    rentals = _rentals(same, same, same)
    assert findings.static_rental_body(rentals) is rentals[0]


def test_fewer_than_three_rentals_or_different_bodies_are_no_static_body() -> None:
    same = rental().response_body
    other = rental(response=rented(id="phon_other1")).response_body
    assert findings.static_rental_body(_rentals(same, same)) is None
    assert findings.static_rental_body(_rentals(same, same, other)) is None


def test_rentals_recorded_without_their_body_do_not_count_towards_a_static_body() -> None:
    same = rental().response_body
    rentals = _rentals(same, same, same, b"")
    rentals[0].body_missing = True
    rentals[3].body_missing = True
    assert findings.static_rental_body(rentals) is None  # two bodies known: not enough to tell


def test_a_root_cause_explains_the_checks_of_what_a_rental_says_and_nothing_else() -> None:
    def violation(check: str) -> Violation:
        return Violation(check, "subject", SEED)

    root = violation("static_rental_body")
    explained = [violation(name) for name in ("rented_number_in_requested_country", "rentals_are_distinct_and_stable",
                                              "read_back_is_the_rental")]  # fmt: skip
    unrelated = [violation(name) for name in ("request_validation", "authentication", "release_releases")]
    findings.explain([root, *explained, *unrelated], root)
    assert [v.explained_by for v in explained] == ["static_rental_body: subject"] * 3
    assert [v.explained_by for v in unrelated] == [None] * 3
    assert root.explained_by is None
