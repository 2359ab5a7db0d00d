"""The endpoint's business rules: which inventory may serve a valid request, or why none may.

Pure functions of the scenario, the request and the readings of the contract's choices in
force (a refusal's code, who a rented number names); the store then rents atomically.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.mock import inventory
from conformance.mock.model import Offer, Rental
from conformance.mock.replies import encode, refusal

if TYPE_CHECKING:
    from conformance.mock.choices import Choices
    from conformance.mock.inventory import Candidate
    from conformance.mock.scenario import Block, Scenario, User


@dataclass(frozen=True)
class Order:
    """A request body that passed validation against the contract."""

    country: str
    sharing: str
    prefix: str
    carrier_type: str | None
    bundle_id: str | None
    with_sms: bool | None
    with_mms: bool | None
    assign_to: tuple[str, ...] | None = None  # None: the requesting user

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Order:
        """Read a validated body; absent optional fields are None (prefix: empty, sharing: personal)."""
        assign_to = body.get("assign_to")
        return cls(
            country=body["country"],
            sharing=body.get("sharing", "personal"),
            prefix=body.get("prefix", ""),
            carrier_type=body.get("carrier_type"),
            bundle_id=body.get("bundle_id"),
            with_sms=body.get("with_sms"),
            with_mms=body.get("with_mms"),
            assign_to=tuple(dict.fromkeys(assign_to)) if assign_to is not None else None,
        )


def describe(order: Order) -> str:
    """Say what was asked for, e.g. `local number in US with prefix 650`."""
    kind = f"{order.carrier_type} " if order.carrier_type else ""
    prefix = f" with prefix {order.prefix}" if order.prefix else ""
    return f"{kind}number in {order.country}{prefix}"


PERMISSION = '"Manage Team Phone Numbers"'


def assignees(scenario: Scenario, user: User, order: Order, choices: Choices) -> tuple[User, ...]:
    """Return the users the number goes to (the requester when `assign_to` is omitted), or refuse.

    The permission is checked first (403: `permission-code`), then every listed user (400 naming
    `assign_to`: `assignee-code`).
    """
    if order.sharing == "group" and not user.can_manage_group_numbers:
        raise choices.refused("permission-code", message=f"Renting a group number needs the {PERMISSION} permission.")
    if order.assign_to is None:
        return (user,)
    if any(user_id != user.id for user_id in order.assign_to) and not user.can_manage_group_numbers:
        message = f"Assigning a number to other users needs the {PERMISSION} permission."
        raise choices.refused("permission-code", message=message)
    found: list[User] = []
    for user_id in order.assign_to:
        member = scenario.users.get(user_id)
        problem = None
        if member is None or member.organization.id != user.organization.id:
            problem = f"{user_id} is not a member of this organization."
        elif not member.active:
            problem = f"{user_id} is not an active member of this organization."
        elif not member.can_call:
            problem = f"{user_id} is not allowed to make calls."
        if problem is not None or member is None:
            raise choices.refused("assignee-code", problem=str(problem))
        found.append(member)
    return tuple(found)


def plan(scenario: Scenario, user: User, order: Order, choices: Choices | None = None) -> list[Offer]:
    """Return the blocks that may serve the order, best first, or raise the refusal.

    Refusals come in the order a client pays least for: a final answer (no numbers,
    `needs-more-info`) before one that invites a retry (`has-voice-only`); a business refusal's
    code is the `refusal-codes` reading's (default: the scenario's).
    """
    choices = choices or scenario.readings()
    country = scenario.countries.get(order.country)
    if country is None:
        raise refusal(404, f"Close has no numbers to rent in {order.country}.")
    offers = [
        Offer(block, prefix)
        for block in country.blocks
        if order.carrier_type in (None, block.carrier_type)
        and (prefix := inventory.effective_prefix(block, order.prefix)) is not None
    ]
    if not offers:
        raise refusal(404, f"No {describe(order)} is available.")
    if country.requires_bundle and scenario.bundles.get(order.bundle_id or "") != (
        user.organization.id,
        country.code,
    ):
        raise choices.refused(
            "refusal-codes",
            status="needs-more-info",
            message=f"Renting a number in {country.code} needs an approved regulatory bundle (bundle_id); "
            "contact Close support.",
        )
    if order.with_mms is True:
        offers = [offer for offer in offers if offer.block.mms]
        if not offers:
            raise refusal(400, f"MMS-capable numbers are not offered for a {describe(order)}.")
    if order.with_sms is not False:
        offers = [offer for offer in offers if offer.block.sms]
        if not offers:
            raise choices.refused(
                "refusal-codes",
                status="has-voice-only",
                message=f"Only numbers without SMS are available for a {describe(order)}; "
                "retry with with_sms set to false.",
            )
    # Prefer what was asked for: capable numbers by default, plain ones when capability is declined.
    return sorted(
        offers,
        key=lambda offer: (
            offer.block.sms == (order.with_sms is False),
            offer.block.mms == (order.with_mms is False),
        ),
    )


def _new_id(kind: str) -> str:
    """`kind_` and 22 random base62 characters (131 bits), like Close's ids.

    URL-safe base64 characters with `-` and `_` dropped are uniform over the 62 others; 32
    characters almost always leave 22 (drawn again in the rare case they do not).
    """
    while True:
        characters = secrets.token_urlsafe(24).replace("-", "").replace("_", "")
        if len(characters) >= 22:
            return kind + "_" + characters[:22]


def _next_month(moment: dt.datetime) -> dt.datetime:
    year, month = divmod(moment.month, 12)
    return moment.replace(year=moment.year + year, month=month + 1, day=min(moment.day, 28))


def rental_factory(user: User, order: Order, owners: tuple[User, ...], generation: str, choices: Choices) -> Any:
    """Return a function that builds the Rental of a number in a block for this order.

    `owners` are the users the number is assigned to; `generation` shapes the resource
    (the seed-era endpoint had no `participant_groups` and listed participants of group
    numbers only); so do the readings of `user-id-first-assignee`, `participants-requester`
    and `number-formatted-international`.
    """
    owner_id = choices.setting("user-id-first-assignee")(user.id, [owner.id for owner in owners])
    formatted = choices.setting("number-formatted-international")
    lists_requester = generation != "seed" and choices.setting("participants-requester")

    def make(block: Block, candidate: Candidate) -> Rental:
        parsed, e164 = candidate.parsed, candidate.e164
        now = dt.datetime.now(dt.UTC)
        created = now.isoformat()
        group = order.sharing == "group"
        participants = [owner.id for owner in owners]
        listed = group or (generation != "seed" and order.assign_to is not None) or lists_requester
        resource: dict[str, Any] = {
            "id": _new_id("phon"),
            "number": e164,
            "number_formatted": formatted(parsed),
            "country": block.country,
            "type": "internal",
            "carrier": block.carrier,
            "carrier_type": block.carrier_type,
            "sms_enabled": block.sms,
            "mms_enabled": block.mms,
            "is_premium": False,
            "is_verified": True,
            "is_group_number": group,
            "user_id": None if group else owner_id,
            "organization_id": user.organization.id,
            "label": None,
            "address_id": None,
            "bundle_id": order.bundle_id,
            "last_billed_price": block.price_cents / 100,
            "next_billing_on": _next_month(now).isoformat(),
            "date_created": created,
            "date_updated": created,
            "supports_sms_to_countries": [block.country] if block.sms else [],
            "supports_mms_to_countries": [block.country] if block.mms else [],
            "forward_to": None,
            "forward_to_formatted": None,
            "forward_to_enabled": False,
            "press_1_to_accept": False,
            "was_ported": False,
            "inbound_ring_duration": None,
            "voicemail_greeting_url": None,
            "participants": participants if listed else [],
            "phone_numbers": [],
            "phone_numbers_formatted": [],
        }
        if generation != "seed":
            resource["participant_groups"] = []
        return Rental(
            id=resource["id"],
            number=e164,
            block_id=block.id,
            organization_id=user.organization.id,
            user_id=resource["user_id"],
            price_cents=block.price_cents,
            resource=resource,
            encoded=encode(resource),
        )

    return make


def release_refusal(user: User, rental: Rental) -> str | None:
    """Why the user may not release (delete) this number of their organization, or None if they may.

    Close: deleting a group number needs "Manage Team Phone Numbers"; a user can only delete
    their own personal numbers (those assigned to them), whatever their permissions.
    """
    if rental.resource.get("is_group_number"):
        if not user.can_manage_group_numbers:
            return f"Deleting a group number needs the {PERMISSION} permission."
        return None
    if not rental.owned_by(user.id):
        return "Only the user a personal number belongs to can delete it."
    return None
