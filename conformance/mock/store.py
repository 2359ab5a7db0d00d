"""Rental state: which numbers are rented, which were released, and what each organization has spent.

Two writes. `rent` takes one number out of the inventory and charges the budget in one atomic
step, so concurrent requests can neither rent a number twice nor overspend. `release` marks a
held number released in one atomic step, so releasing twice releases once; a released number
stays spent (the month billed is not refunded) and never goes back to the inventory.
Two stores share the rental algorithm: `MemoryStore` (default) and `SqliteStore` (`--state
FILE`, which survives restarts and is shared by several worker processes).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from conformance.errors import StateError as StateError  # noqa: PLC0414 - still importable from here
from conformance.mock import inventory
from conformance.mock.model import Offer, Outcome, OverBudget, Rental, Rented, SoldOut

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from conformance.mock.inventory import Candidate
    from conformance.mock.scenario import Block, Organization, Scenario


class Ledger(Protocol):
    """The operations one transaction needs; each store implements them over its storage."""

    def spent(self, organization_id: str) -> int:
        """Cents the organization has spent on rentals."""

    def used(self, block_id: str) -> int:
        """Numbers rented from the block."""

    def position(self, block_id: str, prefix: str) -> int:
        """Where the block's enumeration for this prefix continues."""

    def taken(self, number: str) -> bool:
        """Whether the number is already rented."""

    def record(self, rental: Rental, prefix: str, next_position: int) -> None:
        """Store the rental and move the counters."""


def rent_in(
    ledger: Ledger, organization: Organization, offers: list[Offer], make: Callable[[Block, Candidate], Rental]
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
                rental = make(block, candidate)
                ledger.record(rental, offer.prefix, position)
                return Rented(rental)
    return SoldOut()


class Store(ABC):
    """Where rentals live; see the module docstring."""

    @abstractmethod
    def rent(
        self, organization: Organization, offers: list[Offer], make: Callable[[Block, Candidate], Rental]
    ) -> Outcome:
        """Atomically rent one number for the organization, or say why not."""

    @abstractmethod
    def rentals(self) -> list[Rental]:
        """Return every rental, oldest first, released ones included (with `released_at`)."""

    @abstractmethod
    def find(self, organization_id: str, rental_id: str) -> Rental | None:
        """Return the organization's rental with this id (held or released), or None."""

    @abstractmethod
    def release(self, organization_id: str, rental_id: str, when: str) -> Rental | None:
        """Atomically release a number the organization holds; None when it holds none by that id.

        Of concurrent releases of one number exactly one gets the rental; the others get None.
        """

    @abstractmethod
    def accounts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Return the running totals: cents spent per organization, numbers rented per block."""

    @abstractmethod
    def releases(self) -> dict[str, int]:
        """Return the running total of numbers released per organization."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every rental."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def audit(self, scenario: Scenario) -> dict[str, Any]:
        """Compare the running totals with the rentals themselves; `consistent` is the verdict."""
        spent, used = self.accounts()
        released = self.releases()
        rentals = self.rentals()
        spent_by_rentals: dict[str, int] = {}
        used_by_rentals: dict[str, int] = {}
        rented_by_rentals: dict[str, int] = {}
        released_by_rentals: dict[str, int] = {}
        for rental in rentals:
            org = rental.organization_id
            # A released number stays spent (no refund) and used (it never goes back).
            spent_by_rentals[org] = spent_by_rentals.get(org, 0) + rental.price_cents
            used_by_rentals[rental.block_id] = used_by_rentals.get(rental.block_id, 0) + 1
            rented_by_rentals[org] = rented_by_rentals.get(org, 0) + 1
            if not rental.held:
                released_by_rentals[org] = released_by_rentals.get(org, 0) + 1
        numbers = [rental.number for rental in rentals]
        organizations = {
            org.id: {
                "budget": org.budget_cents / 100,
                "spent": spent.get(org.id, 0) / 100,
                "spent_by_rentals": spent_by_rentals.get(org.id, 0) / 100,
                "held": rented_by_rentals.get(org.id, 0) - released_by_rentals.get(org.id, 0),
                "released": released.get(org.id, 0),
                "released_by_rentals": released_by_rentals.get(org.id, 0),
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
            and all(o["released"] == o["released_by_rentals"] for o in organizations.values())
            and all(b["rented"] == b["rented_by_rentals"] and b["rented"] <= b["count"] for b in blocks.values())
        )
        return {
            "rentals": len(rentals),
            "held": sum(1 for rental in rentals if rental.held),
            "released": len(rentals) - sum(1 for rental in rentals if rental.held),
            "consistent": consistent,
            "organizations": organizations,
            "blocks": blocks,
        }


RentalRow = tuple[str, str, str, str, str | None, int, bytes]


def _row(rental: Rental) -> RentalRow:
    encoded = rental.encoded or json.dumps(rental.resource).encode()
    return (
        rental.id,
        rental.number,
        rental.block_id,
        rental.organization_id,
        rental.user_id,
        rental.price_cents,
        encoded,
    )


def _from_row(row: RentalRow, released_at: str | None = None) -> Rental:
    return Rental(
        id=row[0], number=row[1], block_id=row[2], organization_id=row[3], user_id=row[4],
        price_cents=row[5], resource=json.loads(row[6]), encoded=row[6], released_at=released_at,
    )  # fmt: skip


@dataclass
class Totals:
    """The running totals both stores keep: cents spent, numbers used, enumeration positions, releases."""

    spent: dict[str, int] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    positions: dict[tuple[str, str], int] = field(default_factory=dict)
    released: dict[str, int] = field(default_factory=dict)

    def add(self, rental: Rental, prefix: str, next_position: int) -> None:
        """Count one rental."""
        self.positions[(rental.block_id, prefix)] = next_position
        self.used[rental.block_id] = self.used.get(rental.block_id, 0) + 1
        self.spent[rental.organization_id] = self.spent.get(rental.organization_id, 0) + rental.price_cents

    def count_release(self, organization_id: str) -> None:
        """Count one release (spent and used stay as they are: no refund, no return to the inventory)."""
        self.released[organization_id] = self.released.get(organization_id, 0) + 1


class _CountingLedger:
    """Reads the totals from memory; `record` counts the rental and lets the store keep it."""

    def __init__(self, totals: Totals) -> None:
        self.totals = totals

    def spent(self, organization_id: str) -> int:
        return self.totals.spent.get(organization_id, 0)

    def used(self, block_id: str) -> int:
        return self.totals.used.get(block_id, 0)

    def position(self, block_id: str, prefix: str) -> int:
        return self.totals.positions.get((block_id, prefix), 0)

    def record(self, rental: Rental, prefix: str, next_position: int) -> None:
        self.totals.add(rental, prefix, next_position)
        self.keep(rental, prefix, next_position)

    @abstractmethod
    def keep(self, rental: Rental, prefix: str, next_position: int) -> None:
        """Store the rental (the totals are already counted)."""


class _MemoryLedger(_CountingLedger):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store.totals)
        self.store = store

    def taken(self, number: str) -> bool:
        return number in self.store.numbers

    def keep(self, rental: Rental, _prefix: str, _next_position: int) -> None:
        self.store.numbers.add(rental.number)
        self.store.index[rental.id] = len(self.store.log)
        self.store.log.append(_row(rental))


class MemoryStore(Store):
    """State in this process's memory; lost when it stops."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:  # noqa: D102
        # Rows of strings, ints and bytes rather than Rental objects holding dicts: the garbage
        # collector does not track them, so a million rentals add no GC pauses (p99 was 350 ms).
        self.log: list[RentalRow] = []
        self.numbers: set[str] = set()
        self.index: dict[str, int] = {}  # rental id -> its row in `log`
        self.released: dict[str, str] = {}  # rental id -> when it was released
        self.totals = Totals()

    def rent(
        self, organization: Organization, offers: list[Offer], make: Callable[[Block, Candidate], Rental]
    ) -> Outcome:
        """Rent under the process lock."""
        with self.lock:
            return rent_in(_MemoryLedger(self), organization, offers, make)

    def rentals(self) -> list[Rental]:  # noqa: D102
        with self.lock:
            rows, released = list(self.log), dict(self.released)
        return [_from_row(row, released.get(row[0])) for row in rows]

    def _held_row(self, organization_id: str, rental_id: str) -> RentalRow | None:
        """The organization's row of this id (call under the lock)."""
        position = self.index.get(rental_id)
        if position is None:
            return None
        row = self.log[position]
        return row if row[3] == organization_id else None

    def find(self, organization_id: str, rental_id: str) -> Rental | None:  # noqa: D102
        with self.lock:
            row = self._held_row(organization_id, rental_id)
            released_at = self.released.get(rental_id)
        return _from_row(row, released_at) if row is not None else None

    def release(self, organization_id: str, rental_id: str, when: str) -> Rental | None:
        """Release under the process lock."""
        with self.lock:
            row = self._held_row(organization_id, rental_id)
            if row is None or rental_id in self.released:
                return None
            self.released[rental_id] = when
            self.totals.count_release(organization_id)
        return _from_row(row, when)

    def accounts(self) -> tuple[dict[str, int], dict[str, int]]:  # noqa: D102
        with self.lock:
            return dict(self.totals.spent), dict(self.totals.used)

    def releases(self) -> dict[str, int]:  # noqa: D102
        with self.lock:
            return dict(self.totals.released)


SCHEMA_VERSION = 2
LOCK_WAIT_SECONDS = 30.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS rentals (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    block_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    user_id TEXT,
    price_cents INTEGER NOT NULL,
    resource BLOB NOT NULL,
    released_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS rentals_by_id ON rentals (id);
-- The running totals, one row each: 'spent <org>', 'used <block>', 'position <block> <prefix>',
-- 'released <org>'. One small table, so a rental rewrites one page of it, not three.
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""
# Each step takes a state file from the version before it to the next; run in the opening transaction.
MIGRATIONS = {
    1: (  # 1 -> 2: releases (DELETE of a number)
        "ALTER TABLE rentals ADD COLUMN released_at TEXT",
        "CREATE UNIQUE INDEX IF NOT EXISTS rentals_by_id ON rentals (id)",
    ),
}
_COLUMNS = "id, number, block_id, organization_id, user_id, price_cents, resource, released_at"


class _SqliteLedger(_CountingLedger):
    """Totals from the store's cache (valid inside the write lock); rentals written through to SQLite."""

    def __init__(self, db: sqlite3.Connection, totals: Totals) -> None:
        super().__init__(totals)
        self.db = db

    def taken(self, number: str) -> bool:
        return self.db.execute("SELECT 1 FROM rentals WHERE number = ?", (number,)).fetchone() is not None

    def keep(self, rental: Rental, prefix: str, next_position: int) -> None:
        db, totals = self.db, self.totals
        db.execute(
            "INSERT INTO rentals (id, number, block_id, organization_id, user_id, price_cents, resource)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rental.id, rental.number, rental.block_id, rental.organization_id, rental.user_id,
             rental.price_cents, rental.encoded or json.dumps(rental.resource).encode()),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT DO UPDATE SET value = excluded.value",
            [
                (f"position {rental.block_id} {prefix}", next_position),
                (f"used {rental.block_id}", totals.used[rental.block_id]),
                (f"spent {rental.organization_id}", totals.spent[rental.organization_id]),
            ],
        )


def _read_counters(db: sqlite3.Connection) -> Totals:
    counters = Totals()
    for name, value in db.execute("SELECT name, value FROM counters"):
        kind, _, key = name.partition(" ")
        if kind == "spent":
            counters.spent[key] = value
        elif kind == "used":
            counters.used[key] = value
        elif kind == "released":
            counters.released[key] = value
        else:
            block, _, prefix = key.partition(" ")
            counters.positions[(block, prefix)] = value
    return counters


class SqliteStore(Store):
    """State in a SQLite file (WAL): survives a crash of the process and is shared by workers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode loses nothing when the process dies (only on power loss).
            self.db.execute("PRAGMA synchronous=NORMAL")
            # No busy handler: SQLite's sleeps 1 ms, then up to 100 ms, while another worker holds
            # the write lock for ~50 µs. `_begin` retries itself, starting at 50 µs.
            self.db.execute("PRAGMA busy_timeout=0")
            self._cache: Totals | None = None
            self._cache_version = -1
            with self._transaction() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables and version != SCHEMA_VERSION and version not in MIGRATIONS:
                    raise StateError(
                        f"{path} holds another program's data or another version's (user_version {version})"
                    )
                while tables and version in MIGRATIONS:  # an older mock's file: upgraded in place, nothing lost
                    for statement in MIGRATIONS[version]:
                        db.execute(statement)
                    version += 1
                for statement in filter(str.strip, SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as error:
            raise StateError(f"cannot use {path} as the state file: {error}") from None

    def _begin(self) -> None:
        """Take the write lock, waiting (briefly, then longer, up to 30 s) while another worker holds it."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        pause = 0.00005
        while True:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if ("locked" not in str(error) and "busy" not in str(error)) or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.005)
            else:
                return

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._begin()
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                self._cache = None  # it may hold changes that were rolled back
                raise
            self.db.execute("COMMIT")

    def rent(
        self, organization: Organization, offers: list[Offer], make: Callable[[Block, Candidate], Rental]
    ) -> Outcome:
        """Rent in one IMMEDIATE transaction: other workers wait, nothing is half-written."""
        with self._transaction() as db:
            return rent_in(_SqliteLedger(db, self._counters(db)), organization, offers, make)

    def _counters(self, db: sqlite3.Connection) -> Totals:
        """The totals; re-read only when another connection (worker) committed since we last looked."""
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if self._cache is None or version != self._cache_version:
            self._cache = _read_counters(db)
            self._cache_version = version
        return self._cache

    def rentals(self) -> list[Rental]:  # noqa: D102
        with self.lock:
            rows = self.db.execute(f"SELECT {_COLUMNS} FROM rentals ORDER BY seq").fetchall()  # noqa: S608
        return [_from_row(row[:7], row[7]) for row in rows]

    def find(self, organization_id: str, rental_id: str) -> Rental | None:  # noqa: D102
        with self.lock:
            row = self.db.execute(
                f"SELECT {_COLUMNS} FROM rentals WHERE id = ? AND organization_id = ?",  # noqa: S608
                (rental_id, organization_id),
            ).fetchone()
        return _from_row(row[:7], row[7]) if row is not None else None

    def release(self, organization_id: str, rental_id: str, when: str) -> Rental | None:
        """Release in one IMMEDIATE transaction: of concurrent releases (any worker) one wins."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE rentals SET released_at = ? WHERE id = ? AND organization_id = ? AND released_at IS NULL",
                (when, rental_id, organization_id),
            ).rowcount
            if changed != 1:
                return None
            totals = self._counters(db)
            totals.count_release(organization_id)
            db.execute(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT DO UPDATE SET value = excluded.value",
                (f"released {organization_id}", totals.released[organization_id]),
            )
            row = db.execute(f"SELECT {_COLUMNS} FROM rentals WHERE id = ?", (rental_id,)).fetchone()  # noqa: S608
        return _from_row(row[:7], row[7])

    def accounts(self) -> tuple[dict[str, int], dict[str, int]]:  # noqa: D102
        with self.lock:
            counters = _read_counters(self.db)
        return counters.spent, counters.used

    def releases(self) -> dict[str, int]:  # noqa: D102
        with self.lock:
            return _read_counters(self.db).released

    def reset(self) -> None:  # noqa: D102
        with self._transaction() as db:
            for table in ("rentals", "counters"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self._cache = None

    def close(self) -> None:  # noqa: D102
        with self.lock:
            self.db.close()
