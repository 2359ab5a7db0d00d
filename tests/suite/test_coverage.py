"""Coverage: the contract's items, what one exchange exercises of them, `--require-coverage` and its gate."""

from __future__ import annotations

import pytest

from conformance import contract as contracts
from conformance.errors import UsageError
from conformance.suite import coverage
from conformance.suite.coverage import Coverage, Item, Observed, Requirement
from conformance.suite.exchange import INVALID, NONE
from tests.suite.views import CONTRACT, REFUSED, answer, judged, read, release, rental, rented, sent


def items(observed: Observed, judged_counts: dict[str, int] | None = None) -> dict[str, int]:
    return {item.id: item.count for item in coverage.build(CONTRACT, observed, judged_counts or {}).items}


def observed(*exchanges) -> Observed:
    return judged(*exchanges).verdicts.observed


# -- the items of the contract ----------------------------------------------------------------


def test_the_items_are_every_documented_status_refusal_field_value_response_field_and_scheme() -> None:
    found = items(Observed(), {"request_validation": 0})
    statuses = {key for key in found if key.startswith("status:")}
    assert statuses == {
        "status:rent:201", "status:rent:400", "status:rent:401", "status:rent:403", "status:rent:404",
        "status:rent:413", "status:rent:415", "status:rent:429",
        "status:read:200", "status:read:401", "status:read:404", "status:read:429",
        "status:release:200", "status:release:401", "status:release:403", "status:release:404", "status:release:429",
    }  # fmt: skip
    assert {key for key in found if key.startswith("refusal:")} == {
        f"refusal:{status}" for status in CONTRACT.refusal_statuses
    }
    for name in CONTRACT.request_schema()["properties"]:
        assert {f"field:{name}", f"field:{name}:invalid"} <= set(found)
    assert {"enum:sharing=personal", "enum:sharing=group"} <= set(found)
    assert {"enum:carrier_type=tollfree", "enum:carrier_type=null"} <= set(found)  # nullable: null is a value
    assert {"enum:with_sms=true", "enum:with_sms=false", "enum:with_sms=null"} <= set(found)
    assert "enum:sharing=null" not in found
    assert {f"response-field:{name}" for name in CONTRACT.schemas["PhoneNumber"]["properties"]} <= set(found)
    assert {"auth:basic", "auth:bearer", "auth:none"} <= set(found)
    assert "check:request_validation" in found
    assert set(found.values()) == {0}


def test_the_seed_era_contract_has_only_the_rental() -> None:
    seed = {item.id for item in coverage.build(contracts.seed(), Observed(), {}).items}
    assert not any(key.startswith(("status:read:", "status:release:")) for key in seed)
    assert "field:assign_to" not in seed


def test_items_fall_into_groups_in_a_fixed_order() -> None:
    built = coverage.build(CONTRACT, Observed(), {"authentication": 1})
    assert list(built.groups()) == ["status", "refusal", "field", "enum", "response-field", "auth", "check"]
    record = built.record()
    assert record["items"] == len(built.items)
    assert record["groups"]["check"]["items"] == {"check:authentication": {"count": 1}}
    assert record["groups"]["auth"]["items"]["auth:none"]["detail"] == "requests without valid credentials judged"


def test_the_fraction_counts_items_exercised() -> None:
    assert Coverage([Item("a:1", 1), Item("a:2", 0), Item("a:3", 3), Item("a:4", 0)]).fraction == 0.5
    assert Coverage([]).fraction == 1.0


# -- what one exchange exercises ----------------------------------------------------------------


def test_a_rental_exercises_its_status_its_fields_values_and_the_rented_numbers_fields() -> None:
    request = {"country": "US", "prefix": "650", "sharing": "personal", "with_sms": True, "carrier_type": None}
    found = observed(rental(request))
    assert found.statuses[(contracts.RENT, 201)] == 1
    assert [found.fields_valid[name] for name in request] == [1] * 5
    assert found.values[("sharing", "personal")] == 1
    assert found.values[("with_sms", "true")] == 1
    assert found.values[("carrier_type", "null")] == 1
    assert found.values[("prefix", "650")] == 1
    assert found.numbers_seen == 1
    assert found.response_present["number"] == 1
    assert found.response_null["label"] == 1
    assert found.auth["basic"] == 1


def test_an_invalid_body_exercises_its_fields_as_invalid_and_no_value() -> None:
    found = observed(rental({"country": "us", "sharing": "group"}, 400, {"status": "error", "error": "x"}))
    assert found.fields_invalid["country"] == found.fields_invalid["sharing"] == 1
    assert found.fields_valid["sharing"] == 0
    assert found.values[("sharing", "group")] == 0


def test_a_refusal_exercises_its_status_and_a_rental_none() -> None:
    found = observed(rental({"country": "GB"}, 400, {"status": "has-voice-only", "error": "x"}), rental())
    assert found.refusals == {"has-voice-only": 1}
    assert found.refusals_unknown(CONTRACT) == {}
    drifted = observed(rental({"country": "GB"}, 400, {"status": "brand-new-refusal"}))
    assert drifted.refusals_unknown(CONTRACT) == {"brand-new-refusal": 1}
    assert items(drifted)["refusal:brand-new-refusal"] == 1  # listed, as drift


def test_a_scheme_counts_as_accepted_only_when_it_was_not_refused() -> None:
    found = observed(
        rental(),
        rental(scheme="bearer"),
        rental(None, 401, REFUSED, scheme="bearer"),
        rental(None, 401, REFUSED, auth=NONE),
        rental(None, 401, REFUSED, auth=INVALID),
    )
    assert dict(found.auth) == {"basic": 1, "bearer": 1, "none": 2}


def test_a_read_exercises_the_numbers_fields_and_a_release_does_not() -> None:
    found = observed(read("phon_a1", 200, rented(id="phon_a1")), release("phon_a1"))
    assert found.statuses[(contracts.READ, 200)] == found.statuses[(contracts.RELEASE, 200)] == 1
    assert found.numbers_seen == 1


def test_absent_and_null_fields_of_the_numbers_seen_are_shown_beside_the_item() -> None:
    without_label = rented()
    del without_label["label"]
    found = coverage.build(CONTRACT, observed(rental(), rental(response=without_label)), {})
    label = next(item for item in found.items if item.id == "response-field:label")
    assert (label.count, label.detail) == (0, "present 0, null 1, absent 1")


def test_another_endpoint_exercises_nothing() -> None:
    found = observed(answer(sent("GET", "/api/v1/me/"), 200, {}))
    assert found.statuses == {}


# -- --require-coverage -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "wanted"),
    [
        (["0.8"], Requirement((), 0.8)),
        (["80%"], Requirement((), 0.8)),
        (["0.5", "90%"], Requirement((), 0.9)),  # the strictest fraction wins
        (["status:rent:429,refusal:*"], Requirement(("status:rent:429", "refusal:*"), None)),
        (["auth:bearer", " 0.25 , field:assign_to "], Requirement(("auth:bearer", "field:assign_to"), 0.25)),
        (["", ","], Requirement((), None)),
    ],
)
def test_require_coverage_reads_fractions_percentages_and_item_names(values: list[str], wanted: Requirement) -> None:
    assert coverage.requirement(values) == wanted


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("everything", "give a fraction (0.8, 80%) or item names such as status:rent:429"),
        ("1.5", "a fraction must be between 0 and 1"),
        ("150%", "a fraction must be between 0 and 1"),
        ("-0.1", "a fraction must be between 0 and 1"),
    ],
)
def test_a_mistake_in_require_coverage_is_a_usage_error_that_says_what_is_accepted(value: str, said: str) -> None:
    with pytest.raises(UsageError, match=said.replace("(", r"\(").replace(")", r"\)")):
        coverage.requirement([value])


ITEMS = Coverage([Item("status:rent:201", 2), Item("status:rent:429", 0), Item("refusal:error", 1),
                  Item("refusal:billing-error", 0)])  # fmt: skip


def test_the_gate_lists_every_named_item_never_exercised() -> None:
    assert coverage.gate(ITEMS, Requirement(("status:rent:*", "refusal:*"))) == [
        "status:rent:429 was never exercised",
        "refusal:billing-error was never exercised",
    ]
    assert coverage.gate(ITEMS, Requirement(("status:rent:201", "refusal:error"))) == []


def test_the_gate_says_when_the_fraction_is_short() -> None:
    assert coverage.gate(ITEMS, Requirement((), 0.75)) == ["2 of 4 items exercised (50%), below the 75% required"]
    assert coverage.gate(ITEMS, Requirement((), 0.5)) == []


def test_a_pattern_no_item_has_is_a_usage_mistake_not_a_gap() -> None:
    with pytest.raises(UsageError, match="status:rent:299: no coverage item is called that"):
        coverage.gate(ITEMS, Requirement(("status:rent:299",)))
