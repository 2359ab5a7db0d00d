"""Rental state: which numbers are rented and what each organization has spent.

`rent` is the only write. It takes one number out of the inventory and charges the budget
in one atomic step, so concurrent requests can neither rent a number twice nor overspend.
Two stores share that algorithm: `MemoryStore` (default) and `SqliteStore` (`--state FILE`,
which survives restarts and is shared by several worker processes).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.mock import inventory

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from conformance.mock.scenario import Block, Organization, Scenario


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


class Ledger(ABC):
    """The operations one transaction needs; each store implements them over its storage."""

    @abstractmethod
    def spent(self, organization_id: str) -> int:
        """Cents the organization has spent on rentals."""

    @abstractmethod
    def used(self, block_id: str) -> int:
        """Numbers rented from the block."""

    @abstractmethod
    def position(self, block_id: str, prefix: str) -> int:
        """Where the block's enumeration for this prefix continues."""

    @abstractmethod
    def taken(self, number: str) -> bool:
        """Whether the number is already rented."""

    @abstractmethod
    def record(self, rental: Rental, prefix: str, next_position: int) -> None:
        """Store the rental and move the counters."""


def rent_in(
    ledger: Ledger, organization: Organization, offers: list[Offer], make: Callable[[Block, str], Rental]
) -> Outcome:
    """Rent the first number the offers allow, charging the organization; all inside one transaction."""
    if organization.recharge_fails:
        return OverBudget("Recharging the telephony balance failed: the payment method was declined.")
    spent = ledger.spent(organization.id)
    for offer in offers:
        block = offer.block
        if ledger.used(block.id) >= block.count:
            continue
        if spent + block.price_cents > organization.budget_cents:
            return OverBudget(
                f"Renting this number (${block.price_cents / 100:.2f}/month) would exceed the "
                f"organization's telephony budget (${organization.budget_cents / 100:.2f}, "
                f"${spent / 100:.2f} spent)."
            )
        position = ledger.position(block.id, offer.prefix)
        while (candidate := inventory.next_number(block, offer.prefix, position)) is not None:
            position = candidate.next_position
            if not ledger.taken(candidate.e164):
                rental = make(block, candidate.e164)
                ledger.record(rental, offer.prefix, position)
                return Rented(rental)
    return SoldOut()


class Store(ABC):
    """Where rentals live; see the module docstring."""

    @abstractmethod
    def rent(self, organization: Organization, offers: list[Offer], make: Callable[[Block, str], Rental]) -> Outcome:
        """Atomically rent one number for the organization, or say why not."""

    @abstractmethod
    def rentals(self) -> list[Rental]:
        """Return every rental, oldest first."""

    @abstractmethod
    def accounts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Return the running totals: cents spent per organization, numbers rented per block."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every rental."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def audit(self, scenario: Scenario) -> dict[str, Any]:
        """Compare the running totals with the rentals themselves; `consistent` is the verdict."""
        spent, used = self.accounts()
        rentals = self.rentals()
        spent_by_rentals: dict[str, int] = {}
        used_by_rentals: dict[str, int] = {}
        for rental in rentals:
            spent_by_rentals[rental.organization_id] = (
                spent_by_rentals.get(rental.organization_id, 0) + rental.price_cents
            )
            used_by_rentals[rental.block_id] = used_by_rentals.get(rental.block_id, 0) + 1
        numbers = [rental.number for rental in rentals]
        organizations = {
            org.id: {
                "budget": org.budget_cents / 100,
                "spent": spent.get(org.id, 0) / 100,
                "spent_by_rentals": spent_by_rentals.get(org.id, 0) / 100,
            }
            for org in scenario.organizations.values()
        }
        blocks = {
            block.id: {
                "count": block.count,
                "rented": used.get(block.id, 0),
                "rented_by_rentals": used_by_rentals.get(block.id, 0),
            }
            for block in scenario.blocks()
        }
        consistent = (
            len(set(numbers)) == len(numbers)
            and all(o["spent"] == o["spent_by_rentals"] and o["spent"] <= o["budget"] for o in organizations.values())
            and all(b["rented"] == b["rented_by_rentals"] and b["rented"] <= b["count"] for b in blocks.values())
        )
        return {
            "rentals": len(rentals),
            "consistent": consistent,
            "organizations": organizations,
            "blocks": blocks,
        }


class _MemoryLedger(Ledger):
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def spent(self, organization_id: str) -> int:
        return self.store.spent.get(organization_id, 0)

    def used(self, block_id: str) -> int:
        return self.store.used.get(block_id, 0)

    def position(self, block_id: str, prefix: str) -> int:
        return self.store.positions.get((block_id, prefix), 0)

    def taken(self, number: str) -> bool:
        return number in self.store.numbers

    def record(self, rental: Rental, prefix: str, next_position: int) -> None:
        store = self.store
        store.positions[(rental.block_id, prefix)] = next_position
        store.numbers.add(rental.number)
        store.log.append(rental)
        store.used[rental.block_id] = store.used.get(rental.block_id, 0) + 1
        store.spent[rental.organization_id] = store.spent.get(rental.organization_id, 0) + rental.price_cents


class MemoryStore(Store):
    """State in this process's memory; lost when it stops."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:  # noqa: D102
        self.log: list[Rental] = []
        self.numbers: set[str] = set()
        self.positions: dict[tuple[str, str], int] = {}
        self.used: dict[str, int] = {}
        self.spent: dict[str, int] = {}

    def rent(self, organization: Organization, offers: list[Offer], make: Callable[[Block, str], Rental]) -> Outcome:
        """Rent under the process lock."""
        with self.lock:
            return rent_in(_MemoryLedger(self), organization, offers, make)

    def rentals(self) -> list[Rental]:  # noqa: D102
        with self.lock:
            return list(self.log)

    def accounts(self) -> tuple[dict[str, int], dict[str, int]]:  # noqa: D102
        with self.lock:
            return dict(self.spent), dict(self.used)


SCHEMA = """
CREATE TABLE IF NOT EXISTS rentals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL UNIQUE,
    block_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    user_id TEXT,
    price_cents INTEGER NOT NULL,
    resource TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    block_id TEXT NOT NULL, prefix TEXT NOT NULL, next_position INTEGER NOT NULL,
    PRIMARY KEY (block_id, prefix)
);
CREATE TABLE IF NOT EXISTS usage (block_id TEXT PRIMARY KEY, rented INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spending (organization_id TEXT PRIMARY KEY, spent_cents INTEGER NOT NULL);
"""


class _SqliteLedger(Ledger):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def _scalar(self, sql: str, *args: object) -> int:
        row = self.db.execute(sql, args).fetchone()
        return int(row[0]) if row else 0

    def spent(self, organization_id: str) -> int:
        return self._scalar("SELECT spent_cents FROM spending WHERE organization_id = ?", organization_id)

    def used(self, block_id: str) -> int:
        return self._scalar("SELECT rented FROM usage WHERE block_id = ?", block_id)

    def position(self, block_id: str, prefix: str) -> int:
        return self._scalar("SELECT next_position FROM positions WHERE block_id = ? AND prefix = ?", block_id, prefix)

    def taken(self, number: str) -> bool:
        return self.db.execute("SELECT 1 FROM rentals WHERE number = ?", (number,)).fetchone() is not None

    def record(self, rental: Rental, prefix: str, next_position: int) -> None:
        db = self.db
        db.execute(
            "INSERT INTO rentals (id, number, block_id, organization_id, user_id, price_cents, resource)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rental.id, rental.number, rental.block_id, rental.organization_id, rental.user_id,
             rental.price_cents, json.dumps(rental.resource)),
        )  # fmt: skip
        db.execute(
            "INSERT INTO positions VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET next_position = excluded.next_position",
            (rental.block_id, prefix, next_position),
        )
        db.execute(
            "INSERT INTO usage VALUES (?, 1) ON CONFLICT DO UPDATE SET rented = rented + 1",
            (rental.block_id,),
        )
        db.execute(
            "INSERT INTO spending VALUES (?, ?)"
            " ON CONFLICT DO UPDATE SET spent_cents = spent_cents + excluded.spent_cents",
            (rental.organization_id, rental.price_cents),
        )


class SqliteStore(Store):
    """State in a SQLite file (WAL): survives a crash of the process and is shared by workers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode loses nothing when the process dies (only on power loss).
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        with self._transaction():
            for statement in filter(str.strip, SCHEMA.split(";")):
                self.db.execute(statement)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def rent(self, organization: Organization, offers: list[Offer], make: Callable[[Block, str], Rental]) -> Outcome:
        """Rent in one IMMEDIATE transaction: other workers wait, nothing is half-written."""
        with self._transaction() as db:
            return rent_in(_SqliteLedger(db), organization, offers, make)

    def rentals(self) -> list[Rental]:  # noqa: D102
        with self.lock:
            rows = self.db.execute(
                "SELECT id, number, block_id, organization_id, user_id, price_cents, resource FROM rentals ORDER BY seq"
            ).fetchall()
        return [
            Rental(
                id=row[0], number=row[1], block_id=row[2], organization_id=row[3], user_id=row[4],
                price_cents=row[5], resource=json.loads(row[6]),
            )
            for row in rows
        ]  # fmt: skip

    def accounts(self) -> tuple[dict[str, int], dict[str, int]]:  # noqa: D102
        with self.lock:
            spent = dict(self.db.execute("SELECT organization_id, spent_cents FROM spending").fetchall())
            used = dict(self.db.execute("SELECT block_id, rented FROM usage").fetchall())
        return spent, used

    def reset(self) -> None:  # noqa: D102
        with self._transaction() as db:
            for table in ("rentals", "positions", "usage", "spending"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:  # noqa: D102
        with self.lock:
            self.db.close()
