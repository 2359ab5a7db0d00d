"""The mock follows the contract's reading of each choice, or the one a scenario picks.

Readings come from the contract's `x-choices`; `choices.ANSWERS` says what each answers.
"""

from __future__ import annotations

import httpx
import pytest

from conformance import contract
from conformance.mock import ScenarioError, build
from conformance.mock import choices as chosen
from conformance.mock import scenario as scenarios
from conformance.mock.server import MockServer
from tests.conftest import ADMIN, ENDPOINT, MEMBER
from tests.mock.answers import documented, number_url

CONTRACT_CHOICES = contract.load()["x-choices"]


def test_the_mock_emulates_every_reading_of_the_contracts_number_choices() -> None:
    for choice_id in ("delete-success-body", "not-found-body", "forbidden-delete-code"):
        assert tuple(chosen.ANSWERS[choice_id]) == tuple(CONTRACT_CHOICES[choice_id]["readings"]), choice_id


def test_the_catalogue_is_read_from_the_contract_with_its_own_reading_first() -> None:
    known = chosen.catalogue(contract.today())
    assert known["delete-success-body"] == ("empty-object", "success-flag", "no-content")
    assert known["forbidden-delete-code"][0] == "forbidden"
    assert chosen.catalogue(contract.seed()) == {}  # the seed-era baseline has no choices


def test_by_default_the_mock_follows_the_contracts_readings() -> None:
    readings = scenarios.load().readings()
    assert readings.differing() == {}
    assert {choice: readings.reading(choice) for choice in chosen.ANSWERS} == {
        choice: next(iter(CONTRACT_CHOICES[choice]["readings"])) for choice in chosen.ANSWERS
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
        {"delete-success-body": "success-flag", "not-found-body": "refusal-shape", "forbidden-delete-code": "not-found"}
    )
    assert answers["released"].json() == {"success": True}
    assert answers["unknown"].json() == {
        "status": "error",
        "error": "No phone number phon_unknown in this organization.",
    }
    hidden = answers["forbidden"]
    assert hidden.status_code == 404
    assert hidden.json()["status"] == "error"  # the not-found body of the reading in force
    assert "phon_" in hidden.json()["error"]


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
            {"delete-succes-body": "success-flag"},
            ["at choices/delete-succes-body: the contract has no such choice; it has ", "delete-success-body"],
        ),
        (
            {"delete-success-body": "teapot"},
            ["at choices/delete-success-body: no reading 'teapot'; the readings are empty-object, success-flag"],
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
    known = {"delete-success-body": ("empty-object", "success-flag", "no-content", "redirect")}
    _picked, problems = chosen.pick({"delete-success-body": "redirect"}, known)
    expected = (
        "at choices/delete-success-body: the mock does not emulate 'redirect' yet; "
        "it emulates empty-object, success-flag, no-content"
    )
    assert problems == [expected]


def test_a_choice_the_mock_has_no_answers_for_still_loads_with_the_contracts_reading() -> None:
    known = {"duplicate-keys": ("refused", "last-wins")}
    picked, problems = chosen.pick({}, known)
    assert (picked, problems) == ({"duplicate-keys": "refused"}, [])
    _picked, problems = chosen.pick({"duplicate-keys": "last-wins"}, known)
    assert "does not emulate 'last-wins' yet; it emulates refused" in problems[0]
