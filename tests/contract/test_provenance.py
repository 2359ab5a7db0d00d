"""The contract's provenance markers are well-formed: every choice is declared, used and has other readings.

`x-choices` (root): choice id -> summary, reason, readings (the first is the contract's own),
optional statuses. `x-choice` names a choice on the node it constrains (or keyword -> choice on a
schema). `x-documented` on an operation names the source Close documents it in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance import contract

SOURCES = {"seed", "reference", "changelog", "status-codes", "errors", "official-client"}


def markers(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """(place, value) of every `x-choice` in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "x-choice":
                yield where, value
            else:
                yield from markers(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from markers(value, f"{where}/{index}")


def named_choices(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(choice) for choice in value.values()]
    return [str(choice) for choice in value]


CHOICES: dict[str, Any] = contract.load()["x-choices"]


@pytest.mark.parametrize("choice_id", sorted(CHOICES))
def test_a_choice_says_what_and_why_and_lists_other_readings(choice_id: str) -> None:
    choice = CHOICES[choice_id]
    assert set(choice) <= {"summary", "reason", "readings", "statuses"}
    assert isinstance(choice["summary"], str)
    assert "\n" not in choice["summary"].strip()
    assert isinstance(choice["reason"], str)
    assert "\n" not in choice["reason"].strip()
    readings = choice["readings"]
    assert len(readings) >= 2, "a choice without another reading is not a choice"
    assert all(isinstance(text, str) and text for text in readings.values())
    assert all(isinstance(code, int) and 100 <= code <= 599 for code in choice.get("statuses", []))


def test_every_marker_names_a_declared_choice_and_every_choice_is_marked() -> None:
    found = {name: place for place, value in markers(contract.load()) for name in named_choices(value)}
    assert set(found) - set(CHOICES) == set(), found
    assert set(CHOICES) - set(found) == set(), "declared but marked nowhere"


def test_the_number_operations_name_their_source() -> None:
    item = contract.load()["paths"]["/phone_number/{phone_number_id}/"]
    for method in ("get", "delete"):
        assert item[method]["x-documented"] in SOURCES


def test_the_rentals_links_reach_both_operations_with_the_new_id() -> None:
    links = contract.operation()["responses"]["201"]["links"]
    paths = contract.load()["paths"].values()
    ids = {op["operationId"] for item in paths for op in item.values() if isinstance(op, dict)}
    assert {link["operationId"] for link in links.values()} == {"get_phone_number", "delete_phone_number"} <= ids
    assert all(link["parameters"] == {"phone_number_id": "$response.body#/id"} for link in links.values())
