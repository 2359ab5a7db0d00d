"""Scenario files: every consistency problem is reported at once, with its place and the bad value."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from conformance.errors import ScenarioError
from conformance.mock.scenario import parse


def default() -> dict[str, Any]:
    text = resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text("utf-8")
    return copy.deepcopy(yaml.safe_load(text))


def problems(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as raised:
        parse(data, "test.yaml")
    return str(raised.value)


def test_the_default_scenario_is_consistent() -> None:
    assert parse(default(), "default.yaml").users["user_mockInactive"].active is False


def test_every_problem_is_listed_at_once_with_its_place_and_value() -> None:
    data = default()
    data["users"]["user_mockMember"]["organization"] = "orga_nowhere"
    data["credentials"]["api_keys"]["mock_extra_key"] = "user_ghost"
    data["bundles"]["bund_mockDE"]["organization"] = "orga_elsewhere"
    data["countries"]["US"]["numbers"][0]["prefix"] = "099"
    data["countries"]["GB"]["numbers"][1]["mms"] = True  # a block without SMS
    data["countries"]["DK"]["numbers"][0]["carrier_type"] = "tollfree"
    text = problems(data)
    assert "at users/user_mockMember: names unknown 'orga_nowhere'" in text
    assert "names unknown 'user_ghost'" in text
    assert "mock_extra_key" not in text  # a secret is never printed
    assert "at bundles/bund_mockDE: names unknown 'orga_elsewhere'" in text
    assert "at countries/US/numbers/0: no valid local number of US starts with prefix '099'" in text
    assert "at countries/GB/numbers/1: offers MMS without SMS" in text
    assert "at countries/DK/numbers/0" in text


def test_a_shape_error_names_the_place_and_the_value() -> None:
    data = default()
    data["countries"]["US"]["numbers"][0]["count"] = -3
    data["generation"] = "tomorrow"
    text = problems(data)
    assert "countries/US/numbers/0/count" in text
    assert "-3" in text
    assert "tomorrow" in text


def test_no_credentials_at_all_is_refused() -> None:
    data = default()
    data["credentials"] = {}
    assert "every request would get 401" in problems(data)


def test_a_scenario_picks_readings_of_the_contracts_choices() -> None:
    data = default()
    data["choices"] = {"delete-success-body": "no-content", "forbidden-delete-code": "not-found"}
    picked = parse(data, "test.yaml").choices
    assert picked["delete-success-body"] == "no-content"
    assert picked["forbidden-delete-code"] == "not-found"
    assert picked["not-found-body"] == "error-message"  # not listed: the contract's own reading


def test_wrong_choices_are_listed_with_the_other_problems() -> None:
    data = default()
    data["choices"] = {"delete-success-body": "maybe", "no-such-choice": "x"}
    data["users"]["user_mockMember"]["organization"] = "orga_nowhere"
    text = problems(data)
    assert "at choices/delete-success-body: no reading 'maybe'; the readings are empty-object" in text
    assert "at choices/no-such-choice: the contract has no such choice" in text
    assert "names unknown 'orga_nowhere'" in text


def test_choices_must_be_a_mapping_of_ids_to_reading_ids() -> None:
    data = default()
    data["choices"] = {"delete-success-body": ["no-content"], "Not An Id": "x"}
    text = problems(data)
    assert "choices/delete-success-body" in text
    assert "Not An Id" in text
