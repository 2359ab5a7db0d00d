"""The mock follows the contract's reading of each choice, or the one a scenario picks.

Readings come from the contract's `x-choices`; `choices.ANSWERS` says what each answers and
`choices.SETTINGS` what each changes in a stage. Every reading of every choice is served here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest

from conformance import contract
from conformance.mock import ScenarioError, build
from conformance.mock import choices as chosen
from conformance.mock import scenario as scenarios
from conformance.mock.server import MockServer
from tests.conftest import ADMIN, ENDPOINT, MEMBER
from tests.mock.answers import documented, number_url

CONTRACT_CHOICES = contract.load()["x-choices"]


@pytest.mark.parametrize("choice_id", list(CONTRACT_CHOICES))
def test_the_mock_emulates_every_reading_of_every_choice_of_the_contract(choice_id: str) -> None:
    assert tuple(chosen.emulated(choice_id)) == tuple(CONTRACT_CHOICES[choice_id]["readings"])
    assert (choice_id in chosen.ANSWERS) != (choice_id in chosen.SETTINGS), "a reading is written once"


def test_every_reading_of_every_choice_can_be_served() -> None:
    for choice_id, choice in CONTRACT_CHOICES.items():
        for reading in choice["readings"]:
            assert build(choices={choice_id: reading}).pipeline.choices.reading(choice_id) == reading


def test_the_catalogue_is_read_from_the_contract_with_its_own_reading_first() -> None:
    known = chosen.catalogue(contract.today())
    assert known["delete-success-body"] == ("empty-object", "no-content")
    assert known["forbidden-delete-code"][0] == "forbidden"
    assert chosen.catalogue(contract.seed()) == {}  # the seed-era baseline has no choices


def test_by_default_the_mock_follows_the_contracts_readings() -> None:
    readings = scenarios.load().readings()
    assert readings.differing() == {}
    assert {choice: readings.reading(choice) for choice in CONTRACT_CHOICES} == {
        choice: next(iter(CONTRACT_CHOICES[choice]["readings"])) for choice in CONTRACT_CHOICES
    }


def exchange(choices: dict[str, str]) -> dict[str, httpx.Response]:
    """Rent as the admin; delete it as the member (refused), as the admin, and again; get an unknown id."""
    with MockServer(build(choices=choices)) as mock, httpx.Client(base_url=mock.origin, auth=ADMIN) as http:
        number = http.post(ENDPOINT, json={"country": "US"}).json()
        return {
            "forbidden": http.delete(number_url(number["id"]), auth=MEMBER),
            "released": http.delete(number_url(number["id"])),
            "again": http.delete(number_url(number["id"])),
            "unknown": http.get(number_url("phon_unknown")),
        }


def test_the_contracts_readings_answer_as_documented() -> None:
    answers = exchange({})
    assert (answers["released"].status_code, answers["released"].json()) == (200, {})
    assert answers["forbidden"].status_code == 403
    assert answers["again"].status_code == answers["unknown"].status_code == 404
    assert set(answers["unknown"].json()) == {"error"}
    for response in answers.values():
        assert documented(response.request.method, response.status_code) is not None


def test_other_readings_answer_as_their_servers_would() -> None:
    answers = exchange(
        {
            "delete-success-body": "no-content",
            "not-found-body": "detail-message",
            "forbidden-delete-code": "not-found",
        }
    )
    assert (answers["released"].status_code, answers["released"].content) == (204, b"")
    assert answers["unknown"].json() == {"detail": "Not found."}
    hidden = answers["forbidden"]
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "Not found."}  # the not-found body of the reading in force


@pytest.mark.parametrize(
    ("reading", "status"), [("unauthorized", 401), ("bad-request", 400), ("forbidden", 403), ("not-found", 404)]
)
def test_every_reading_of_the_forbidden_code(reading: str, status: int) -> None:
    refused = exchange({"forbidden-delete-code": reading})["forbidden"]
    assert refused.status_code == status
    assert status in {403, *CONTRACT_CHOICES["forbidden-delete-code"].get("statuses", [])}
    if status == 401:
        assert "Basic" in refused.headers["www-authenticate"]


def test_no_content_is_a_204_without_a_body_or_its_headers() -> None:
    released = exchange({"delete-success-body": "no-content"})["released"]
    assert released.status_code == 204
    assert released.content == b""
    assert "content-type" not in released.headers
    assert "content-length" not in released.headers
    assert 204 in CONTRACT_CHOICES["delete-success-body"]["statuses"]


@pytest.mark.parametrize(
    ("choices", "named"),
    [
        (
            {"delete-succes-body": "no-content"},
            ["at choices/delete-succes-body: the contract has no such choice; it has ", "delete-success-body"],
        ),
        (
            {"delete-success-body": "teapot"},
            ["at choices/delete-success-body: no reading 'teapot'; the readings are empty-object, no-content"],
        ),
    ],
)
def test_a_choice_or_reading_the_contract_does_not_list_is_refused_naming_the_allowed_ones(
    choices: dict[str, str], named: list[str]
) -> None:
    with pytest.raises(ScenarioError, match="choices are not valid") as raised:
        build(choices=choices)
    for text in named:
        assert text in str(raised.value)


def test_a_reading_the_mock_cannot_emulate_is_refused_naming_those_it_can() -> None:
    known = {"delete-success-body": ("empty-object", "no-content", "redirect")}
    _picked, problems = chosen.pick({"delete-success-body": "redirect"}, known)
    expected = (
        "at choices/delete-success-body: the mock does not emulate 'redirect' yet; it emulates empty-object, no-content"
    )
    assert problems == [expected]


def test_a_choice_the_mock_has_no_answers_for_still_loads_with_the_contracts_reading() -> None:
    known = {"colour-of-the-answer": ("plain", "loud")}  # a choice a newer contract might add
    picked, problems = chosen.pick({}, known)
    assert (picked, problems) == ({"colour-of-the-answer": "plain"}, [])
    _picked, problems = chosen.pick({"colour-of-the-answer": "loud"}, known)
    assert "does not emulate 'loud' yet; it emulates plain" in problems[0]


# -- the rental's choices, reading by reading --------------------------------------------------

DECLINED = ("mock_declined_key", "")  # an organization whose card is declined: every rental is billing-error


@contextlib.contextmanager
def served(choices: dict[str, str], **options: Any) -> Iterator[httpx.Client]:
    """A client of the mock following these readings, as the admin."""
    with MockServer(build(choices=choices, **options)) as mock, httpx.Client(base_url=mock.origin, auth=ADMIN) as http:
        yield http


def post_raw(http: httpx.Client, raw: bytes, content_type: str | None = "application/json") -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    return http.post(ENDPOINT, content=raw, headers=headers)


@pytest.mark.parametrize(
    ("reading", "status", "prefix"), [("refused", 400, None), ("last-wins", 201, "415"), ("first-wins", 201, "650")]
)
def test_a_key_given_twice_is_refused_or_one_of_its_values_is_kept(reading: str, status: int, prefix: str) -> None:
    with served({"duplicate-keys": reading}) as http:
        answer = post_raw(http, b'{"country": "US", "prefix": "650", "prefix": "415"}')
    assert answer.status_code == status, answer.text
    if prefix is not None:
        assert answer.json()["number"].startswith("+1" + prefix)


@pytest.mark.parametrize("reading", ["last-wins", "first-wins"])
@pytest.mark.parametrize(
    "raw",
    [
        b'{"country": "US", "country": "US", "with_sms": NaN}',
        b'{"country": "US", "country": "\\ud800"}',  # the value first-wins drops
        b'{"country": "\\ud800", "country": "US"}',  # the value last-wins drops
        b"{",
    ],
    ids=["NaN", "lone-surrogate-dropped-second", "lone-surrogate-dropped-first", "truncated"],
)
def test_a_reading_that_keeps_one_value_still_refuses_what_strict_json_refuses(reading: str, raw: bytes) -> None:
    with served({"duplicate-keys": reading}) as http:
        answer = post_raw(http, raw)
    assert answer.status_code == 400
    assert answer.json()["status"] == "error"


@pytest.mark.parametrize(("choice", "value"), [("assign-to-empty", []), ("assign-to-null", None)])
def test_an_empty_or_null_assign_to_is_refused_or_means_the_requester(choice: str, value: object) -> None:
    with served({}) as http:
        refused = http.post(ENDPOINT, json={"country": "US", "assign_to": value})
    assert refused.status_code == 400
    assert "assign_to" in refused.json()["field-errors"]
    with served({choice: "requester"}) as http:
        rented = http.post(ENDPOINT, json={"country": "US", "assign_to": value})
    assert rented.status_code == 201, rented.text
    assert (rented.json()["user_id"], rented.json()["participants"]) == ("user_mockAdmin", ["user_mockAdmin"])


@pytest.mark.parametrize(
    ("choice", "other"),
    [("assign-to-empty", None), ("assign-to-null", []), ("assign-to-empty", ["not a user id"])],
)
def test_a_relaxed_rule_relaxes_that_rule_and_nothing_else(choice: str, other: object) -> None:
    with served({choice: "requester"}) as http:
        refused = http.post(ENDPOINT, json={"country": "US", "assign_to": other})
        unknown = http.post(ENDPOINT, json={"country": "US", "assign_to": [], "colour": "red"})
    assert refused.status_code == 400
    assert set(refused.json()["field-errors"]) == {"assign_to"}
    assert unknown.status_code == 400
    assert "colour" in unknown.json()["field-errors"]


VOICE_ONLY = {"country": "GB", "prefix": "20"}
NEEDS_BUNDLE = {"country": "DE", "carrier_type": "mobile"}


@pytest.mark.parametrize(
    ("reading", "voice_only", "needs_more_info", "billing_error"),
    [("contract", 400, 400, 400), ("payment-required", 400, 400, 402), ("unprocessable", 422, 422, 400)],
)
def test_each_business_refusal_comes_with_the_code_of_the_reading(
    reading: str, voice_only: int, needs_more_info: int, billing_error: int
) -> None:
    with served({"refusal-codes": reading}) as http:
        answers = {
            "has-voice-only": http.post(ENDPOINT, json=VOICE_ONLY),
            "needs-more-info": http.post(ENDPOINT, json=NEEDS_BUNDLE),
            "billing-error": http.post(ENDPOINT, json={"country": "US"}, auth=DECLINED),
            "no match": http.post(ENDPOINT, json={"country": "US", "prefix": "999"}),
        }
    codes = {name: answer.status_code for name, answer in answers.items()}
    expected = {"has-voice-only": voice_only, "needs-more-info": needs_more_info, "billing-error": billing_error}
    assert codes == {**expected, "no match": 404}
    for name in expected:
        assert answers[name].json()["status"] == name
    assert {voice_only, needs_more_info, billing_error} - {400} <= set(CONTRACT_CHOICES["refusal-codes"]["statuses"])


def test_a_scripted_refusal_and_429_follow_the_readings_too() -> None:
    from conformance.mock.script import odd_answer

    app = build(choices={"refusal-codes": "payment-required", "retry-after": "absent"})
    app.script.push(odd_answer("billing-error"), odd_answer("rate-limited", reset=0))
    with MockServer(app) as mock, httpx.Client(base_url=mock.origin, auth=ADMIN) as http:
        billing = http.post(ENDPOINT, json={"country": "US"})
        limited = http.post(ENDPOINT, json={"country": "US"})
    assert (billing.status_code, billing.json()["status"]) == (402, "billing-error")
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers
    assert limited.headers["ratelimit"] == "limit=20, remaining=0, reset=0"


@pytest.mark.parametrize(("reading", "status"), [("forbidden", 403), ("bad-request", 400)])
def test_a_missing_permission_is_refused_with_the_code_of_the_reading(reading: str, status: int) -> None:
    with served({"permission-code": reading}) as http:
        group = http.post(ENDPOINT, json={"country": "US", "sharing": "group"}, auth=MEMBER)
        others = http.post(ENDPOINT, json={"country": "US", "assign_to": ["user_mockCaller"]}, auth=MEMBER)
        rentals = http.get("/__mock__/rentals").json()["count"]
    for answer in (group, others):
        assert answer.status_code == status
        assert answer.json()["status"] == "error"
        assert "Manage Team Phone Numbers" in answer.json()["error"]
        assert "field-errors" not in answer.json()
    assert rentals == 0


@pytest.mark.parametrize(("reading", "status"), [("bad-request", 400), ("unprocessable", 422)])
def test_an_assignee_who_cannot_be_assigned_is_refused_with_the_code_of_the_reading(reading: str, status: int) -> None:
    with served({"assignee-code": reading}) as http:
        answer = http.post(ENDPOINT, json={"country": "US", "assign_to": ["user_mockInactive"]})
    assert answer.status_code == status
    assert answer.json()["field-errors"] == {
        "assign_to": "user_mockInactive is not an active member of this organization."
    }
    assert status == 400 or status in CONTRACT_CHOICES["assignee-code"]["statuses"]


@pytest.mark.parametrize(("reading", "challenged"), [("present", True), ("absent", False)])
def test_every_401_carries_the_challenge_or_none(reading: str, challenged: bool) -> None:
    choices = {"www-authenticate": reading, "forbidden-delete-code": "unauthorized"}
    with served(choices) as http:
        number = http.post(ENDPOINT, json={"country": "US"}).json()
        answers = [
            http.post(ENDPOINT, json={"country": "US"}, auth=("nobody_key", "")),
            http.get(number_url(number["id"]), auth=("nobody_key", "")),
            http.delete(number_url(number["id"]), auth=MEMBER),  # another user's number, refused with 401 here
        ]
    for answer in answers:
        assert answer.status_code == 401
        assert ("www-authenticate" in answer.headers) is challenged


@pytest.mark.parametrize(("reading", "retry_after"), [("present", "1"), ("absent", None)])
def test_a_429_carries_retry_after_or_only_ratelimit_and_rate_reset(reading: str, retry_after: str | None) -> None:
    with served({"retry-after": reading}, rate_limit=1) as http:
        http.post(ENDPOINT, json={"country": "US"})
        limited = http.post(ENDPOINT, json={"country": "US"})
    assert limited.status_code == 429
    assert limited.headers.get("retry-after") == retry_after
    assert limited.headers["ratelimit"].startswith("limit=1, remaining=0, reset=")
    assert limited.json()["error"]["rate_reset"] >= 0


@pytest.mark.parametrize(("reading", "limit"), [("64-kib", 64 * 1024), ("16-kib", 16 * 1024)])
def test_bodies_are_served_up_to_the_limit_of_the_reading(reading: str, limit: int) -> None:
    def body(size: int) -> bytes:
        padding = size - len(b'{"country": "US", "bundle_id": ""}')
        return b'{"country": "US", "bundle_id": "' + b"b" * padding + b'"}'

    with served({"body-limit": reading}) as http:
        at_limit, over = post_raw(http, body(limit)), post_raw(http, body(limit + 1))
    assert at_limit.status_code == 201
    assert (over.status_code, over.json()["error"]) == (413, f"The request body is larger than {limit} bytes.")


@pytest.mark.parametrize(("reading", "status"), [("refused", 415), ("read-as-json", 201)])
def test_a_body_without_a_content_type_is_refused_or_read_as_json(reading: str, status: int) -> None:
    with served({"content-type-missing": reading}) as http:
        missing = post_raw(http, b'{"country": "US"}', content_type=None)
        plain = post_raw(http, b'{"country": "US"}', content_type="text/plain")
    assert missing.status_code == status
    assert plain.status_code == 415  # a type that is not JSON is refused in every reading


@pytest.mark.parametrize(("reading", "owner"), [("first-assignee", "user_mockCaller"), ("requester", "user_mockAdmin")])
def test_a_personal_numbers_user_id_is_its_first_assignee_or_the_requester(reading: str, owner: str) -> None:
    with served({"user-id-first-assignee": reading}) as http:
        number = http.post(ENDPOINT, json={"country": "US", "assign_to": ["user_mockCaller"]}).json()
        mine = http.post(ENDPOINT, json={"country": "US"}).json()
    assert (number["user_id"], number["participants"]) == (owner, ["user_mockCaller"])
    assert mine["user_id"] == "user_mockAdmin"


@pytest.mark.parametrize(("reading", "listed"), [("requester", ["user_mockAdmin"]), ("empty", [])])
def test_a_number_rented_without_assign_to_lists_the_requester_or_nobody(reading: str, listed: list[str]) -> None:
    with served({"participants-requester": reading}) as http:
        personal = http.post(ENDPOINT, json={"country": "US"}).json()
        assigned = http.post(ENDPOINT, json={"country": "US", "assign_to": ["user_mockAdmin", "user_mockCaller"]})
        group = http.post(ENDPOINT, json={"country": "US", "sharing": "group"}).json()
        released = http.delete(number_url(personal["id"]))
    assert personal["participants"] == listed
    assert assigned.json()["participants"] == ["user_mockAdmin", "user_mockCaller"]
    assert group["participants"] == ["user_mockAdmin"]
    assert released.status_code == 200  # still the requester's own number to release


@pytest.mark.parametrize(
    ("reading", "pattern"), [("international", r"^\+1 650-\d{3}-\d{4}$"), ("national", r"^\(650\) \d{3}-\d{4}$")]
)
def test_number_formatted_is_written_as_the_reading_says(reading: str, pattern: str) -> None:
    with served({"number-formatted-international": reading}) as http:
        number = http.post(ENDPOINT, json={"country": "US", "prefix": "650"}).json()
        again = http.get(number_url(number["id"])).json()
    assert re.match(pattern, number["number_formatted"]), number["number_formatted"]
    assert again["number_formatted"] == number["number_formatted"]
    parsed = phonenumbers.parse(number["number_formatted"], "US")
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number["number"]


def test_a_scenario_file_picks_readings_of_the_rentals_choices(tmp_path: Path) -> None:
    from importlib import resources

    text = resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text("utf-8")
    scenario = tmp_path / "otherwise.yaml"
    scenario.write_text(text + "\nchoices:\n  body-limit: 16-kib\n  duplicate-keys: first-wins\n", encoding="utf-8")
    readings = scenarios.load(scenario).readings()
    assert readings.differing() == {"body-limit": "16-kib", "duplicate-keys": "first-wins"}
    assert build(scenario, choices={"body-limit": "64-kib"}).pipeline.body_limit == 64 * 1024  # build() wins
