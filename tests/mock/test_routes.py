"""A number's route is read from the contract: its path, methods and the id's pattern."""

from __future__ import annotations

import pytest

from conformance import contract
from conformance.mock.routes import ID_LIMIT, number_route, shown, today_route


def test_the_route_is_the_contracts() -> None:
    route = today_route()
    assert (route.prefix, route.suffix, route.parameter) == ("/api/v1/phone_number/", "/", "phone_number_id")
    assert route.methods == ("DELETE", "GET")


@pytest.mark.parametrize(
    ("path", "number_id"),
    [
        ("/api/v1/phone_number/phon_abc/", "phon_abc"),
        ("/api/v1/phone_number/a/b/", None),  # an id is one path segment
        ("/api/v1/phone_number//", None),
        ("/api/v1/phone_number/", None),
        ("/api/v1/phone_number/phon_abc", None),
        ("/phone_number/phon_abc/", None),
    ],
)
def test_the_id_is_what_lies_between_prefix_and_suffix(path: str, number_id: str | None) -> None:
    assert today_route().number_id(path) == number_id


@pytest.mark.parametrize(
    ("number_id", "valid"),
    [("phon_4XrFk2P0e8bV1cQz9mWyTn", True), ("phon_", False), ("phon_a-b", False), ("\ud800", False), ("x", False)],
)
def test_ids_are_checked_with_the_contracts_pattern(number_id: str, valid: bool) -> None:
    assert today_route().is_valid(number_id) is valid


def test_a_contract_without_the_numbers_operations_is_refused() -> None:
    with pytest.raises(ValueError, match="describes no get_phone_number"):
        number_route(contract.seed())


def test_ids_are_shown_in_ascii_and_bounded() -> None:
    assert shown("phon_☃") == "phon_\\u2603"
    assert shown("x" * (ID_LIMIT + 50)) == "x" * ID_LIMIT + "..."
