"""Every business outcome of the mock, each consistent with the request and the inventory."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import httpx
import phonenumbers
import pytest

from conformance import numbers
from tests.conftest import MEMBER, rent
from tests.mock import answers


def accounts(client: httpx.Client) -> dict:
    return client.get("/__mock__/accounts").json()


@pytest.mark.parametrize(
    ("country", "prefix", "carrier_type"),
    [
        ("US", "650", "local"),
        ("US", "917", "mobile"),
        ("US", "800", "tollfree"),
        ("CA", "416", "local"),
        ("GB", "7", "mobile"),
        ("AU", "4", "mobile"),
        ("US", "6502", None),
        ("DK", "", None),
    ],
)
def test_a_rental_is_a_real_number_of_the_requested_kind(
    client: httpx.Client, country: str, prefix: str, carrier_type: str | None
) -> None:
    body = {"country": country, "sharing": "personal", "prefix": prefix}
    if carrier_type:
        body["carrier_type"] = carrier_type
    response = rent(client, body)
    assert response.status_code == 201, response.text
    number = response.json()
    parsed = phonenumbers.parse(number["number"], None)
    assert numbers.is_valid_for_country(parsed, country)
    assert str(parsed.national_number).startswith(prefix)
    assert number["country"] == country
    assert number["number_formatted"] == numbers.international_format(parsed)
    if carrier_type:
        assert number["carrier_type"] == carrier_type
    assert numbers.kind_matches(parsed, number["carrier_type"])
    assert number["type"] == "internal"
    assert number["is_group_number"] is False
    assert number["user_id"] == "user_mockAdmin"
    assert dt.datetime.fromisoformat(number["next_billing_on"]) > dt.datetime.fromisoformat(number["date_created"])


def test_numbers_are_unique_across_rentals(client: httpx.Client) -> None:
    rented = {
        rent(client, {"country": "US", "sharing": "personal", "prefix": "65"}).json()["number"] for _ in range(40)
    }
    rented |= {
        rent(client, {"country": "US", "sharing": "personal", "prefix": "650"}).json()["number"] for _ in range(40)
    }
    assert len(rented) == 80


def test_group_numbers_need_the_permission(client: httpx.Client) -> None:
    response = rent(client, {"country": "US", "sharing": "group"}, auth=MEMBER)
    assert response.status_code == 403
    assert accounts(client)["rentals"] == 0
    granted = rent(client, {"country": "US", "sharing": "group"}).json()
    assert granted["is_group_number"] is True
    assert granted["user_id"] is None


def test_sms_and_mms_follow_the_request_and_the_inventory(client: httpx.Client) -> None:
    both = rent(client, {"country": "US", "sharing": "personal", "with_sms": True, "with_mms": True}).json()
    assert both["sms_enabled"]
    assert both["mms_enabled"]
    gb = rent(client, {"country": "GB", "sharing": "personal", "carrier_type": "mobile"}).json()
    assert gb["sms_enabled"] is True
    assert gb["mms_enabled"] is False


def test_voice_only_prefixes_answer_has_voice_only_until_with_sms_is_false(client: httpx.Client) -> None:
    body = {"country": "GB", "sharing": "personal", "prefix": "20"}
    refused = rent(client, body)
    assert refused.status_code == 400
    assert refused.json()["status"] == "has-voice-only"
    rented = rent(client, {**body, "with_sms": False})
    assert rented.status_code == 201
    assert rented.json()["sms_enabled"] is False
    assert accounts(client)["rentals"] == 1


def test_countries_without_sms_are_voice_only(client: httpx.Client) -> None:
    for country in ("NL", "SE", "MX", "BR", "NZ"):
        assert rent(client, {"country": country, "sharing": "personal"}).json()["status"] == "has-voice-only"


def test_countries_needing_documents_need_an_approved_bundle(client: httpx.Client) -> None:
    body = {"country": "DE", "sharing": "personal", "with_sms": False}
    assert rent(client, body).json()["status"] == "needs-more-info"
    assert rent(client, {**body, "bundle_id": "bund_unknown"}).json()["status"] == "needs-more-info"
    assert rent(client, {**body, "bundle_id": "bund_mockFR"}).json()["status"] == "needs-more-info"
    rented = rent(client, {**body, "bundle_id": "bund_mockDE"})
    assert rented.status_code == 201
    assert rented.json()["bundle_id"] == "bund_mockDE"


def test_budget_exhaustion_is_a_billing_error_and_charges_nothing(client: httpx.Client) -> None:
    broke = ("mock_broke_key", "")
    first = rent(client, {"country": "US", "sharing": "personal"}, auth=broke)  # $1 of $2.50
    second = rent(client, {"country": "US", "sharing": "personal"}, auth=broke)  # $2 of $2.50
    third = rent(client, {"country": "US", "sharing": "personal"}, auth=broke)
    assert [first.status_code, second.status_code, third.status_code] == [201, 201, 400]
    assert third.json()["status"] == "billing-error"
    audit = accounts(client)
    assert audit["organizations"]["orga_mockBroke"]["spent"] == 2.0
    assert audit["consistent"]


def test_a_failing_recharge_is_a_billing_error(client: httpx.Client) -> None:
    response = rent(client, {"country": "US", "sharing": "personal"}, auth=("mock_declined_key", ""))
    assert response.json()["status"] == "billing-error"


@pytest.mark.parametrize(
    "body",
    [
        {"country": "XX", "sharing": "personal"},
        {"country": "US", "sharing": "personal", "prefix": "999"},
        {"country": "US", "sharing": "personal", "prefix": "65a"},
        {"country": "GB", "sharing": "personal", "carrier_type": "national", "prefix": "7"},
    ],
)
def test_nothing_matching_is_404(client: httpx.Client, body: dict) -> None:
    assert rent(client, body).status_code == 404


def test_mms_where_it_is_not_offered_is_an_error_refusal(client: httpx.Client) -> None:
    response = rent(client, {"country": "GB", "sharing": "personal", "with_sms": True, "with_mms": True})
    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert "MMS" in response.json()["error"]


def test_the_accounts_add_up_after_a_mix_of_outcomes(client: httpx.Client) -> None:
    for body in (
        {"country": "US", "sharing": "personal"},
        {"country": "GB", "sharing": "personal", "prefix": "20"},
        {"country": "XX", "sharing": "personal"},
        {"country": "AU", "sharing": "group", "with_sms": False},
    ):
        rent(client, body)
    audit = accounts(client)
    assert audit["consistent"]
    assert audit["rentals"] == 2
    assert audit["organizations"]["orga_mockAdmin"]["spent"] == 1.0 + 2.5


def test_reset_forgets_every_rental(client: httpx.Client) -> None:
    rent(client, {"country": "US", "sharing": "personal"})
    assert client.post("/__mock__/reset").status_code == 200
    assert accounts(client)["rentals"] == 0


# -- today's endpoint: assign_to, sharing's default, and the order of refusals -------------


def test_without_sharing_a_number_is_personal_and_assigned_to_the_requester(client: httpx.Client) -> None:
    response = rent(client, {"country": "US", "prefix": "650"})
    assert response.status_code == 201, response.text
    number = response.json()
    assert number["is_group_number"] is False
    assert number["user_id"] == "user_mockAdmin"
    assert number["participants"] == ["user_mockAdmin"]
    assert number["participant_groups"] == []


def test_assign_to_names_the_owners_and_user_id_is_the_first(client: httpx.Client) -> None:
    response = rent(client, {"country": "US", "assign_to": ["user_mockCaller", "user_mockMember"]})
    assert response.status_code == 201, response.text
    number = response.json()
    assert number["participants"] == ["user_mockCaller", "user_mockMember"]
    assert number["user_id"] == "user_mockCaller"


def test_assigning_to_oneself_needs_no_permission(client: httpx.Client) -> None:
    response = rent(client, {"country": "US", "assign_to": ["user_mockMember"]}, auth=MEMBER)
    assert response.status_code == 201, response.text
    assert response.json()["participants"] == ["user_mockMember"]


@pytest.mark.parametrize(
    ("assignee", "status", "words"),
    [
        ("user_mockCaller", 403, "Manage Team Phone Numbers"),  # the member may not assign to others
    ],
)
def test_assigning_to_others_without_the_permission_is_403(client, assignee, status, words) -> None:
    before = accounts(client)
    response = rent(client, {"country": "US", "assign_to": [assignee]}, auth=MEMBER)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert accounts(client) == before


@pytest.mark.parametrize(
    ("assignee", "reason"),
    [
        ("user_mockInactive", "not an active member"),
        ("user_mockNoCalls", "not allowed to make calls"),
        ("user_mockBroke", "not a member of this organization"),  # another organization's user
        ("user_nobody", "not a member of this organization"),
    ],
)
def test_an_assignee_who_cannot_take_the_number_is_400_naming_assign_to(client, assignee, reason) -> None:
    before = accounts(client)
    response = rent(client, {"country": "US", "assign_to": ["user_mockCaller", assignee]})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert reason in body["field-errors"]["assign_to"]
    assert accounts(client) == before


def test_a_bundle_country_answers_needs_more_info_before_has_voice_only(client: httpx.Client) -> None:
    # DE has only voice numbers and needs a bundle: the final answer comes first, so no retry is wasted.
    response = rent(client, {"country": "DE"})
    assert response.status_code == 400
    assert response.json()["status"] == "needs-more-info"


def test_the_seed_generation_requires_sharing_and_refuses_assign_to() -> None:
    from conformance.mock import build
    from tests.conftest import ADMIN, ENDPOINT

    app = build(generation="seed")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    async def call(body: dict) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as async_client:
            return await async_client.post(ENDPOINT, json=body, auth=ADMIN)

    import asyncio

    assert set(asyncio.run(call({"country": "US"})).json()["field-errors"]) == {"sharing"}
    refused = asyncio.run(call({"country": "US", "sharing": "personal", "assign_to": ["user_mockAdmin"]}))
    assert "assign_to" in refused.json()["field-errors"]
    rented = asyncio.run(call({"country": "US", "sharing": "personal"})).json()
    assert "participant_groups" not in rented
    assert rented["participants"] == []


def test_ids_look_like_close_s_and_are_spread_over_all_62_characters() -> None:
    from conformance.mock.rules import _new_id

    ids = [_new_id("phon") for _ in range(2000)]
    assert all(re.fullmatch(r"phon_[A-Za-z0-9]{22}", one) for one in ids)
    assert len(set(ids)) == len(ids)
    used = Counter(char for one in ids for char in one[5:])
    assert len(used) == 62  # 44,000 draws: each character about 710 times
    assert min(used.values()) > 500


# -- releasing (DELETE): who may, and what a release changes ------------------------------------


def test_the_owner_releases_a_personal_number_and_it_is_gone(client: httpx.Client) -> None:
    number = answers.rented(client)
    released = answers.delete(client, number["id"])
    assert released.status_code == 200
    assert released.json() == {}
    answers.assert_number_answer(released)
    for again in (answers.get(client, number["id"]), answers.delete(client, number["id"])):
        assert again.status_code == 404
        assert again.json() == {"error": f"No phone number {number['id']} in this organization."}
        answers.assert_number_answer(again)


def test_a_member_may_not_release_another_users_personal_number(client: httpx.Client) -> None:
    number = answers.rented(client)  # the admin's
    refused = answers.delete(client, number["id"], auth=MEMBER)
    assert refused.status_code == 403
    assert refused.json()["status"] == "error"
    answers.assert_number_answer(refused)
    assert answers.get(client, number["id"], auth=MEMBER).status_code == 200  # still held, and visible
    assert accounts(client)["released"] == 0


def test_a_member_releases_their_own_number(client: httpx.Client) -> None:
    number = answers.rented(client, auth=MEMBER)
    assert answers.delete(client, number["id"], auth=MEMBER).status_code == 200


def test_a_number_assigned_to_a_member_is_theirs_to_release_not_the_admins(client: httpx.Client) -> None:
    number = answers.rented(client, {"country": "US", "assign_to": ["user_mockMember"]})
    assert answers.delete(client, number["id"]).status_code == 403  # Close: only one's own personal numbers
    assert answers.delete(client, number["id"], auth=MEMBER).status_code == 200


def test_a_group_number_needs_the_permission_to_release(client: httpx.Client) -> None:
    number = answers.rented(client, {"country": "US", "sharing": "group"})
    refused = answers.delete(client, number["id"], auth=MEMBER)
    assert refused.status_code == 403
    assert "Manage Team Phone Numbers" in refused.json()["error"]
    assert answers.delete(client, number["id"]).status_code == 200


def test_another_organizations_number_does_not_exist_for_you(client: httpx.Client) -> None:
    number = answers.rented(client)
    broke = ("mock_broke_key", "")
    assert answers.get(client, number["id"], auth=broke).status_code == 404
    assert answers.delete(client, number["id"], auth=broke).status_code == 404
    assert answers.get(client, number["id"]).status_code == 200


def test_a_release_refunds_nothing_and_the_number_never_comes_back(tmp_path) -> None:
    from importlib import resources

    from conformance.mock import build
    from conformance.mock.server import MockServer
    from tests.conftest import ENDPOINT

    default = resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text("utf-8")
    pr_block = '{prefix: "787", carrier_type: local, sms: true, mms: false, count: 1000, price: 1.00}'
    assert pr_block in default
    scenario = tmp_path / "small.yaml"
    scenario.write_text(default.replace(pr_block, pr_block.replace("count: 1000", "count: 2")), encoding="utf-8")
    body = {"country": "PR"}  # the scenario's only PR block now holds two numbers
    with MockServer(build(scenario)) as mock, httpx.Client(base_url=mock.origin, auth=("mock_admin_key", "")) as http:
        first, second = (http.post(ENDPOINT, json=body) for _ in range(2))
        assert [first.status_code, second.status_code] == [201, 201]
        before = http.get("/__mock__/accounts").json()
        assert http.delete(answers.number_url(first.json()["id"])).status_code == 200
        after = http.get("/__mock__/accounts").json()
        assert after["organizations"]["orga_mockAdmin"]["spent"] == before["organizations"]["orga_mockAdmin"]["spent"]
        assert after["organizations"]["orga_mockAdmin"]["held"] == 1
        assert after["organizations"]["orga_mockAdmin"]["released"] == 1
        assert after["consistent"]
        again = http.post(ENDPOINT, json=body)
        assert again.status_code == 404  # the released number did not go back to the inventory


def test_release_refusal_rules() -> None:
    from conformance.mock import scenario as scenarios
    from conformance.mock.model import Rental
    from conformance.mock.rules import release_refusal

    world = scenarios.load()
    admin, member = world.users["user_mockAdmin"], world.users["user_mockMember"]

    def number(user_id: str | None, group: bool = False, participants: tuple[str, ...] = ()) -> Rental:
        resource = {"is_group_number": group, "user_id": user_id, "participants": list(participants)}
        return Rental("phon_x", "+16505550100", "b", "orga_mockAdmin", user_id, 100, resource)

    assert release_refusal(admin, number("user_mockAdmin")) is None
    assert release_refusal(member, number("user_mockAdmin")) is not None
    assert release_refusal(admin, number("user_mockMember")) is not None
    assert release_refusal(member, number("user_mockAdmin", participants=("user_mockAdmin", "user_mockMember"))) is None
    assert release_refusal(admin, number(None, group=True)) is None
    assert release_refusal(member, number(None, group=True)) is not None
