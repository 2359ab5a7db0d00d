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


# -- every rule has a basis, and every rule without a documented one is a marked choice ------------

TODAY = contract.today()
KEYWORDS = {
    "type", "enum", "const", "pattern", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minimum",
    "maximum", "required", "additionalProperties", "maxProperties", "format", "anyOf", "if", "then",
}  # fmt: skip


def rules(node: Any, pointer: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(pointer of the schema node, keyword) of every JSON Schema rule the contract states."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in KEYWORDS and not str(pointer[-1:][0] if pointer else "").startswith("x-"):
                yield pointer, key
            if key not in ("examples", "example") and not key.startswith("x-"):
                yield from rules(value, (*pointer, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from rules(value, (*pointer, index))


def _basis_is_known(basis: contract.Basis) -> bool:
    if basis.kind == "documented":
        return basis.ref in TODAY.sources
    return basis.kind == "chosen" and basis.ref in TODAY.choices


def test_every_schema_rule_stands_on_a_documented_source_or_a_marked_choice() -> None:
    schemas = [(("components", "schemas"), TODAY.document["components"]["schemas"])]
    unknown = [
        f"{'/'.join(map(str, pointer))} {keyword}: {TODAY.basis(pointer, keyword)}"
        for base, node in schemas
        for pointer, keyword in rules(node, base)
        if not _basis_is_known(TODAY.basis(pointer, keyword))
    ]
    assert unknown == []


def test_every_response_of_every_operation_has_a_basis() -> None:
    unknown = []
    for operation in TODAY.operations.values():
        for status in operation.document["responses"]:
            pointer = (*operation.pointer, "responses", status)
            basis = TODAY.basis(pointer)
            if not _basis_is_known(basis):
                unknown.append(f"{operation.id} {status}: {basis}")
            if not _basis_is_known(TODAY.status_basis(operation, 599)):
                unknown.append(f"{operation.id}: undocumented statuses have no basis")
    assert unknown == []


# What Close is silent on (close-api-facts.md, "Documented, or chosen by the contract"): each must be a choice.
SILENT = [
    (("components", "schemas", "PhoneNumberRequest", "properties", "assign_to"), "minItems", "assign-to-empty"),
    (("components", "schemas", "PhoneNumberRequest", "properties", "assign_to"), "type:null", "assign-to-null"),
    (("paths", contract.OPERATION_PATH, "post", "responses", "403"), None, "permission-code"),
    (("paths", contract.OPERATION_PATH, "post", "responses", "400"), None, "refusal-codes"),
    (("paths", contract.OPERATION_PATH, "post", "responses", "404"), None, "refusal-codes"),
    (("paths", contract.OPERATION_PATH, "post", "requestBody", "content", "application/json"), None, "duplicate-keys"),
    (("paths", "/phone_number/{phone_number_id}/", "delete", "responses", "200"), None, "delete-success-body"),
    (("components", "schemas", "NotFound"), "required", "not-found-body"),
    (("paths", "/phone_number/{phone_number_id}/", "delete", "responses", "403"), None, "forbidden-delete-code"),
]


@pytest.mark.parametrize(
    ("pointer", "keyword", "choice"), SILENT, ids=[item[2] + " " + str(item[1]) for item in SILENT]
)
def test_what_close_is_silent_on_is_marked_as_a_choice(pointer, keyword, choice) -> None:
    assert TODAY.basis(pointer, keyword) == TODAY.chosen(choice)


def test_every_source_and_choice_the_code_names_is_in_the_contract() -> None:
    import re
    from pathlib import Path

    root = Path(contract.__file__).parent
    code = "\n".join(path.read_text() for path in (root / "suite").glob("*.py"))
    named_sources = set(re.findall(r'documented\("([a-z-]+)"\)', code))
    named_choices = set(re.findall(r'chosen\("([a-z-]+)"\)', code))
    assert named_sources, "the suite names no source: the pattern above is stale"
    assert named_sources - set(TODAY.sources) == set()
    assert named_choices - set(TODAY.choices) == set()


def test_every_probe_and_check_judges_on_a_known_basis() -> None:
    from conformance.suite import checks, probes
    from conformance.suite.exchange import Exchange

    for probe in probes.probes(TODAY, rentals_allowed=True):
        headers = [("content-type", probe.content_type)] if probe.content_type else []
        exchange = Exchange(1, "POST", "/api/v1" + contract.OPERATION_PATH, headers, probe.body)
        _body, faults = checks.request_faults(TODAY, exchange)
        for fault in faults:
            assert _basis_is_known(fault.basis), f"probe {probe.name!r}: {fault.subject} stands on {fault.basis}"
