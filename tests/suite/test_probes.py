"""The fixed probes: derived from the contract, each invalid one invalid and each valid one valid by the
contract's own reading of a request, and none naming a country with numbers unless rentals are allowed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from conformance import contract as contracts
from conformance import jsonbody
from conformance.suite import checks, probes, safety, wire
from conformance.suite.guard import Guard
from conformance.suite.probes import Probe

CONTRACTS = [pytest.param(contracts.today(), id="today"), pytest.param(contracts.seed(), id="seed")]
FIXED_VALID = {
    "no credentials", "unknown API key", "malformed Basic credentials", "unknown OAuth token", "unsupported scheme",
    "API key (Basic) is accepted", "OAuth token (Bearer) is accepted",
    "valid body surrounded by whitespace (JSON allows it)", "valid body as application/json; charset=utf-8",
    "large but allowed body (a 60 KiB bundle_id)",
    "API key (Basic) reaches the business rules", "OAuth token (Bearer) reaches the business rules",
}  # fmt: skip
FIXED_INVALID = {
    "malformed JSON", "valid JSON followed by garbage", "two JSON documents", "body is not an object",
    "unknown field", "country in lower case", "country of three letters", "country of the wrong type",
    "NaN in the body", "the same key twice", "body over 64 KiB", "with_mms: true without with_sms: true",
    "missing required country", "valid body sent as text/plain", "valid body without a content type",
}  # fmt: skip
INVALID_FIELD_PROBES = ("of the wrong type", "outside its enum", "one past maxLength", "below minItems",
                        "with an item of the wrong form")  # fmt: skip


def faults(contract: contracts.Contract, probe: Probe) -> list[checks.Fault]:
    """Why the contract forbids the probe's request, read as the judge reads any rental request."""
    headers = [("content-type", probe.content_type)] if probe.content_type else []
    exchange, _ = wire.exchange(1, contract, "POST", contract.rental.path, headers=headers, body=probe.body)
    return checks.request_faults(contract, exchange)[1]


def expected_valid(probe: Probe) -> bool | None:
    """What the probe's name says of its request (None: a field probe whose validity the schema decides)."""
    if probe.name in FIXED_VALID or " at maxLength (" in probe.name:
        return True
    if (
        probe.name in FIXED_INVALID
        or probe.name.startswith("missing required ")
        or any(marker in probe.name for marker in INVALID_FIELD_PROBES)
    ):
        return False
    return None


def names_a_real_country(body: bytes) -> bool:
    """Whether any lenient reading of the body names a country other than the unrentable one."""
    parsed = jsonbody.read_lenient(body)
    if not isinstance(parsed, dict):
        return False
    readings = parsed.get(jsonbody.DUPLICATES, {}).get("country") or [parsed.get("country")]
    letters = [safety.lenient_country({"country": reading}) for reading in readings]
    return any(found is not None and found[:2] != safety.UNRENTABLE_COUNTRY for found in letters)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_every_probe_is_valid_or_invalid_as_its_name_says_by_the_contracts_reading(
    contract: contracts.Contract,
) -> None:
    wrong = []
    for probe in probes.probes(contract, rentals_allowed=True):
        found = [fault.subject for fault in faults(contract, probe)]
        expected = expected_valid(probe)
        if expected is None:  # an empty value: valid where the schema allows it, and then sent as a valid body
            expected = probe.may_rent
        if (not found) is not expected:
            wrong.append(f"{probe.name}: expected {'valid' if expected else 'invalid'}, faults {found}")
    assert wrong == []


@pytest.mark.parametrize("contract", CONTRACTS)
def test_every_fixed_probe_is_there_and_every_field_has_its_boundaries(contract: contracts.Contract) -> None:
    names = {probe.name for probe in probes.probes(contract)}
    properties = contract.request_schema()["properties"]
    optional = {"with_mms: true without with_sms: true", "large but allowed body (a 60 KiB bundle_id)"}
    assert (FIXED_VALID | FIXED_INVALID) - optional <= names
    assert {f"missing required {name}" for name in contract.request_schema()["required"]} <= names
    for name in set(properties) - {"country"}:
        assert f"{name} of the wrong type" in names
    limit = properties["prefix"]["maxLength"]
    assert {f"prefix at maxLength ({limit})", f"prefix one past maxLength ({limit + 1})"} <= names
    assert ("assign_to below minItems" in names) is ("assign_to" in properties)


def test_probes_follow_the_contracts_limits(tmp_path: Path) -> None:
    document = copy.deepcopy(contracts.today().document)
    document["components"]["schemas"]["PhoneNumberRequest"]["properties"]["prefix"]["maxLength"] = 8
    (tmp_path / "contract.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    names = {probe.name for probe in probes.probes(contracts.Contract(tmp_path / "contract.yaml"))}
    assert {"prefix at maxLength (8)", "prefix one past maxLength (9)"} <= names
    assert "prefix one past maxLength (6)" not in names


@pytest.mark.parametrize("contract", CONTRACTS)
def test_in_safe_mode_no_probe_names_a_country_with_numbers(contract: contracts.Contract) -> None:
    found = probes.probes(contract, rentals_allowed=False)
    naming = [probe.name for probe in found if not probe.may_rent and names_a_real_country(probe.body)]
    assert naming == []
    # The only probe some lenient server could rent on names no country at all: the guard holds it back.
    could_rent = [probe.name for probe in found if not probe.may_rent and safety.could_rent(probe.body)]
    assert could_rent == ["missing required country"]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_only_probes_marked_may_rent_name_a_real_country(contract: contracts.Contract) -> None:
    for rentals_allowed in (False, True):
        for probe in probes.probes(contract, rentals_allowed=rentals_allowed):
            if names_a_real_country(probe.body):
                assert probe.may_rent, probe.name
            if probe.may_rent and not probe.name.endswith("reaches the business rules"):
                assert rentals_allowed, probe.name  # boundary values go to a real country only where one may rent


class Forwarded:
    """Stands in for the guard: records what the probes send."""

    upstream_prefix = "/api/v1"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[tuple[str, str]], bytes, str | None]] = []

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes, *, probe: str) -> None:
        self.sent.append((method, path, headers, body, probe))


def _run(have: set[str], *, rentals_allowed: bool) -> tuple[Forwarded, list[str]]:
    guard = Forwarded()
    skipped = probes.run(
        cast(Guard, guard), contracts.today(), have=have, rentals_allowed=rentals_allowed, progress=lambda _: None
    )
    return guard, skipped


def test_every_probe_goes_to_the_rental_with_its_headers_and_name() -> None:
    guard, skipped = _run({"key", "token"}, rentals_allowed=True)
    assert skipped == []
    by_name = {probe: (method, path, dict(headers), body) for method, path, headers, body, probe in guard.sent}
    assert {method for method, *_ in by_name.values()} == {"POST"}
    assert {path for _, path, *_ in by_name.values()} == {"/api/v1/phone_number/request/internal/"}
    assert "authorization" not in by_name["no credentials"][2]
    assert by_name["unsupported scheme"][2]["authorization"] == "Token conformance-unknown"
    assert "content-type" not in by_name["valid body without a content type"][2]
    assert by_name["valid body sent as text/plain"][2]["content-type"] == "text/plain"
    assert len(by_name) == len(probes.probes(contracts.today(), rentals_allowed=True))


def test_probes_that_need_a_missing_credential_or_could_rent_in_safe_mode_are_skipped_and_say_why() -> None:
    guard, skipped = _run({"key"}, rentals_allowed=False)
    assert "OAuth token (Bearer) is accepted: no CLOSE_BEARER_TOKEN given" in skipped
    assert (
        "API key (Basic) reaches the business rules: aimed at a real country, so it could rent (safe mode)" in skipped
    )
    sent = {probe for *_, probe in guard.sent}
    assert "OAuth token (Bearer) is accepted" not in sent
    assert "API key (Basic) is accepted" in sent
    assert not any(names_a_real_country(body) for _, _, _, body, _ in guard.sent)


def test_a_probe_body_is_derived_from_the_contracts_first_example() -> None:
    contract = contracts.today()
    core: dict[str, Any] = safety.aim_at_unrentable(contract.example_request())
    (unknown,) = [probe for probe in probes.probes(contract) if probe.name == "unknown field"]
    assert jsonbody.read_strict(unknown.body) == {**core, probes.UNKNOWN_FIELD: True}
