"""The mock's domain: what a rental is, how an attempt to rent ends, and a release.

Shared by the business rules (which make rentals) and the stores (which keep them), so
neither imports the other for its types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.mock.scenario import Block


@dataclass(frozen=True)
class Offer:
    """An inventory block that may serve a request, with the prefix its number must start with."""

    block: Block
    prefix: str


@dataclass(frozen=True)
class Rental:
    """A rented number: the bookkeeping fields and the Phone Number resource sent to the client."""

    id: str
    number: str
    block_id: str
    organization_id: str
    user_id: str | None
    price_cents: int
    resource: dict[str, Any]
    encoded: bytes = b""  # the resource as sent (JSON), kept so it is serialized once
    released_at: str | None = None  # when the number was released (DELETE); None while it is held

    @property
    def held(self) -> bool:
        """Whether the organization still holds the number (it was not released)."""
        return self.released_at is None

    def owned_by(self, user_id: str) -> bool:
        """Whether the number is assigned to this user (its `user_id`, or one of its `participants`)."""
        return user_id == self.user_id or user_id in self.resource.get("participants", ())

    def as_json(self) -> dict[str, Any]:
        """The rental as the test controls show it."""
        return {
            "id": self.id, "number": self.number, "block_id": self.block_id, "organization_id": self.organization_id,
            "user_id": self.user_id, "price_cents": self.price_cents, "resource": self.resource,
            "released_at": self.released_at,
        }  # fmt: skip


@dataclass(frozen=True)
class Rented:
    """The rental succeeded."""

    rental: Rental


@dataclass(frozen=True)
class OverBudget:
    """The organization cannot pay for the number."""

    reason: str


@dataclass(frozen=True)
class SoldOut:
    """Every matching block is used up."""


Outcome = Rented | OverBudget | SoldOut
