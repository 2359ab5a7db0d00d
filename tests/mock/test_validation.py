"""The validation stage: the contract's request schema, less exactly the rules a picked reading relaxes."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import contract
from conformance.mock import scenario as scenarios
from conformance.mock.choices import Choices
from conformance.mock.replies import Refused
from conformance.mock.validation import RequestRules, relaxed_schema

BOTH = {"assign-to-empty": "requester", "assign-to-null": "requester"}


def readings(**picked: str) -> Choices:
    return scenarios.load().with_choices(picked).readings()


def differences(left: Any, right: Any, at: str = "") -> list[str]:
    """Where two schemas differ, as paths."""
    if isinstance(left, dict) and isinstance(right, dict):
        keys = sorted(set(left) | set(right))
        return [found for key in keys for found in differences(left.get(key), right.get(key), f"{at}/{key}")]
    return [] if left == right else [at]


def test_with_the_contracts_readings_the_contracts_own_validator_is_used() -> None:
    found = RequestRules(contract.today(), readings())
    assert found.validator is contract.today().request_validator()
    assert found.omitting == frozenset()


@pytest.mark.parametrize(
    ("picked", "changed"),
    [
        ({"assign-to-empty": "requester"}, ["/properties/assign_to/minItems"]),
        ({"assign-to-null": "requester"}, ["/properties/assign_to/type"]),
        (BOTH, ["/properties/assign_to/minItems", "/properties/assign_to/type"]),
    ],
)
def test_only_the_keyword_the_contract_marks_with_the_choice_is_relaxed(
    picked: dict[str, str], changed: list[str]
) -> None:
    schema, fields = relaxed_schema(contract.today(), readings(**picked))
    assert differences(contract.today().request_schema(), schema) == changed
    assert fields == {"assign_to"}
    if "assign-to-null" in picked:
        assert schema["properties"]["assign_to"]["type"] == ["array", "null"]


@pytest.mark.parametrize(
    ("picked", "accepted", "still_refused"),
    [
        ({"assign-to-empty": "requester"}, [[]], [None, ["not a user"], "user_mockAdmin"]),
        ({"assign-to-null": "requester"}, [None], [[], ["not a user"]]),
        (BOTH, [[], None], [["not a user"], 5]),
    ],
)
def test_a_relaxed_rule_reads_what_it_refused_as_omitted_and_nothing_more(
    picked: dict[str, str], accepted: list[Any], still_refused: list[Any]
) -> None:
    found = RequestRules(contract.today(), readings(**picked))
    for value in accepted:
        assert found.validate({"country": "US", "assign_to": value}) == {"country": "US"}
    for value in still_refused:
        with pytest.raises(Refused) as refused:
            found.validate({"country": "US", "assign_to": value})
        assert set(refused.value.reply.body["field-errors"]) == {"assign_to"}
    assert found.validate({"country": "US", "assign_to": ["user_mockAdmin"]}) == {
        "country": "US",
        "assign_to": ["user_mockAdmin"],
    }


def test_other_faults_are_still_named_beside_a_relaxed_field() -> None:
    found = RequestRules(contract.today(), readings(**BOTH))
    with pytest.raises(Refused) as refused:
        found.validate({"country": "us", "assign_to": [], "colour": "red"})
    assert set(refused.value.reply.body["field-errors"]) == {"country", "colour"}
